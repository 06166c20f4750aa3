/* tests/send: real peers for the SCU and sender tests (DCMTK storescp, Orthanc) as child
 * processes on free ports, test objects made with the project's tools and DCMTK, and a
 * comparison of the data sets they received. Header-only so that each test executable
 * stays one source file. Needs _XOPEN_SOURCE 700 before the first include. */
#ifndef CN_TESTS_SEND_PEER_H
#define CN_TESTS_SEND_PEER_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "send/meta.h"

#define PEER_SKIP 77
#define PEER_START_TIMEOUT_MS 30000
#define PEER_POLL_MS 20

/* A port nobody listens on right now (bound then released). */
static uint16_t peer_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    close(fd);
    return ntohs(addr.sin_port);
}

static int peer_port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void peer_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts argv[0] (searched in PATH) with stdout and stderr to log_path and waits until
 * port accepts connections. Returns the pid, or -1. */
static pid_t peer_spawn(char *const argv[], const char *log_path, uint16_t port)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    for (long waited = 0; waited < PEER_START_TIMEOUT_MS; waited += PEER_POLL_MS) {
        if (peer_port_open(port))
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        peer_sleep_ms(PEER_POLL_MS);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void peer_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (long waited = 0; waited < PEER_START_TIMEOUT_MS; waited += PEER_POLL_MS) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        peer_sleep_ms(PEER_POLL_MS);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int peer_have(const char *program)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
    return system(cmd) == 0;
}

/* storescp on port writing into dir, accepting every transfer syntax it knows and
 * keeping each data set's bytes as received. extra: one more option or NULL. */
static pid_t peer_start_storescp(uint16_t port, const char *aet, const char *dir, const char *extra,
                                 const char *log_path)
{
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    char *argv[] = {"storescp",
                    "-aet",
                    (char *)aet,
                    "-od",
                    (char *)dir,
                    "+xa",
                    "+B",
                    (char *)(extra ? extra : port_text),
                    extra ? port_text : NULL,
                    NULL};
    return peer_spawn(argv, log_path, port);
}

static int peer_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void peer_remove_tree(const char *dir)
{
    nftw(dir, peer_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file into a new buffer (free it). */
static uint8_t *peer_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* 1 when the data sets (the bytes after the meta headers) of the two files are equal;
 * the SOP Instance UIDs of both meta headers are returned through meta_a. */
static int peer_same_data_set(const char *a, const char *b, struct cn_send_meta *meta_a)
{
    size_t la, lb;
    uint8_t *da = peer_read_file(a, &la), *db = peer_read_file(b, &lb);
    struct cn_send_meta mb;
    char err[256];
    int same = da != NULL && db != NULL &&
               cn_send_meta_parse(da, la, 1, meta_a, err, sizeof err) == 0 &&
               cn_send_meta_parse(db, lb, 1, &mb, err, sizeof err) == 0 &&
               la - meta_a->data_set_offset == lb - mb.data_set_offset &&
               memcmp(da + meta_a->data_set_offset, db + mb.data_set_offset,
                      la - meta_a->data_set_offset) == 0 &&
               strcmp(meta_a->sop_instance_uid, mb.sop_instance_uid) == 0;
    free(da);
    free(db);
    return same;
}

/* The number of regular files in dir (storescp's received objects). */
static int peer_count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Finds the file storescp wrote for sop_instance_uid (named MODALITY.UID). */
static int peer_find_received(const char *dir, const char *sop_instance_uid, char *out,
                              size_t out_len)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d)) != NULL) {
        const char *dot = strchr(e->d_name, '.');
        if (dot != NULL && strcmp(dot + 1, sop_instance_uid) == 0) {
            snprintf(out, out_len, "%s/%s", dir, e->d_name);
            found = 0;
        }
    }
    closedir(d);
    return found;
}

/* Makes the self-contained test objects in dir: three Digital Mammography images from
 * tools/make-test-images (Explicit VR LE), the second converted to Implicit VR LE and the
 * third to JPEG Lossless (dcmcjpeg). Returns 0, or -1 when a tool failed. */
static int peer_make_objects(const char *dir, int seed, char paths[3][512])
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; /usr/bin/python3 '%s/tools/make-test-images' . 3 --seed %d "
             "--rows 64 --columns 48 >/dev/null; "
             "dcmconv +ti mg_%d_0002.dcm implicit.dcm; mv implicit.dcm mg_%d_0002.dcm; "
             "dcmcjpeg mg_%d_0003.dcm jpeg.dcm; mv jpeg.dcm mg_%d_0003.dcm",
             dir, CALCNODE_SOURCE_DIR, seed, seed, seed, seed, seed);
    if (system(cmd) != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        snprintf(paths[i], 512, "%s/mg_%d_%04d.dcm", dir, seed, i + 1);
    return 0;
}

#endif

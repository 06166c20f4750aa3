/* The start-up sweep of STATE/spool (see cn_spool_sweep in spool.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/spool_internal.h"

#define SPOOL_SUBDIR "spool"
#define PART_SUFFIX ".part"

static int has_part_suffix(const char *name)
{
    size_t n = strlen(name), k = sizeof PART_SUFFIX - 1;
    return n > k && memcmp(name + n - k, PART_SUFFIX, k) == 0;
}

static int sweep_fail(char *err, size_t err_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int sweep_fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int cn_spool_sweep(const char *state_dir, size_t *removed_count, char *err, size_t err_len)
{
    char spool_dir[CN_SPOOL_PATH_SIZE];
    if (removed_count != NULL)
        *removed_count = 0;
    if (state_dir == NULL)
        return sweep_fail(err, err_len, CN_SPOOL_ESTATE, "no state folder given");
    if (cn_spool_join_path(spool_dir, sizeof spool_dir, state_dir, SPOOL_SUBDIR) < 0)
        return sweep_fail(err, err_len, CN_SPOOL_ESTATE, "state folder path too long");
    int dir_fd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        if (errno == ENOENT)
            return 0; /* nothing was ever spooled */
        return sweep_fail(err, err_len, CN_SPOOL_EIO, "could not open directory \"%s\": %s",
                          spool_dir, strerror(errno));
    }
    DIR *dir = fdopendir(dir_fd);
    if (dir == NULL) {
        int saved = errno;
        close(dir_fd);
        return sweep_fail(err, err_len, CN_SPOOL_EIO, "could not read directory \"%s\": %s",
                          spool_dir, strerror(saved));
    }
    size_t removed = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (e == NULL) {
            if (errno != 0)
                rc = sweep_fail(err, err_len, CN_SPOOL_EIO, "could not read directory \"%s\": %s",
                                spool_dir, strerror(errno));
            break;
        }
        if (!has_part_suffix(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        /* A second link means the commit linked the file under its final (or conflict)
         * name and made that name durable before dropping this one. */
        if (!S_ISREG(st.st_mode) || st.st_nlink < 2)
            continue;
        if (unlinkat(dir_fd, e->d_name, 0) != 0) {
            if (errno == ENOENT)
                continue;
            rc = sweep_fail(err, err_len, CN_SPOOL_EIO, "could not remove spool file \"%s/%s\": %s",
                            spool_dir, e->d_name, strerror(errno));
            break;
        }
        removed++;
    }
    if (rc == 0 && removed > 0 && fsync(dir_fd) != 0)
        rc = sweep_fail(err, err_len, CN_SPOOL_EIO, "could not fsync directory \"%s\": %s",
                        spool_dir, strerror(errno));
    closedir(dir);
    if (removed_count != NULL)
        *removed_count = removed;
    return rc;
}

/* node/db/embedded: the private PostgreSQL cluster (embedded.h).
 *
 * Authentication: initdb is run with --auth-local=trust and --auth-host=reject, and the
 * server with listen_addresses='' (no TCP at all). The only way in is the unix socket in
 * STATE/run, a 0700 directory owned by the server's user, so only that user and root can
 * reach the socket; trust therefore grants nothing beyond what peer authentication would,
 * and it lets calcnode, running as root, connect as the cluster's superuser "postgres"
 * (peer would refuse root's OS name). */
#include "db/embedded.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <libpq-fe.h>

#include "db/db.h"
#include "db/util.h"

/* The server's port only names its socket file (STATE/run/.s.PGSQL.5432); no TCP. */
#define EMBEDDED_PORT "5432"
#define SOCKET_FILE_NAME ".s.PGSQL." EMBEDDED_PORT
#define POSTGRES_SYSTEM_USER "postgres"
#define POLL_INTERVAL_MS 50
#define SIGQUIT_WAIT_MS 5000
#define LOG_TAIL_LEN 1024
#define LOG_TAIL_LINES 4
#define MAX_GROUPS 64
#define PG_LIB_DIR "/usr/lib/postgresql"

struct cn_pg_embedded {
    pid_t pid;
    char conninfo[PATH_MAX + 128];
};

/* Who the children run as: when calcnode is root, the postgres system user. */
struct run_as {
    int drop; /* 1: setgroups/setgid/setuid in the child */
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int group_count;
    char name[64]; /* the cluster's bootstrap superuser */
};

struct paths {
    char state[PATH_MAX];
    char pg[PATH_MAX];
    char run[PATH_MAX];
    char log_dir[PATH_MAX];
    char log[PATH_MAX];
    char bindir[PATH_MAX];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_executable(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return 0;
    return access(path, X_OK) == 0;
}

/* CALCNODE_PG_BINDIR, else the highest /usr/lib/postgresql/<major>/bin holding initdb,
 * else `pg_config --bindir`. */
static int find_bindir(char *out, size_t out_len, char *err, size_t err_len)
{
    const char *env = getenv("CALCNODE_PG_BINDIR");
    if (env != NULL && env[0] != '\0') {
        if (!is_executable(env, "initdb") || !is_executable(env, "postgres"))
            return cn_db_errorf(CN_DB_ENOTFOUND, err, err_len,
                                "CALCNODE_PG_BINDIR \"%s\" has no initdb and postgres", env);
        snprintf(out, out_len, "%s", env);
        return 0;
    }
    long best = -1;
    DIR *dir = opendir(PG_LIB_DIR);
    if (dir != NULL) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            char *end;
            errno = 0;
            long major = strtol(entry->d_name, &end, 10);
            if (errno != 0 || end == entry->d_name || *end != '\0' || major <= best)
                continue;
            char bin[PATH_MAX];
            if (snprintf(bin, sizeof bin, "%s/%ld/bin", PG_LIB_DIR, major) >= (int)sizeof bin)
                continue;
            if (is_executable(bin, "initdb") && is_executable(bin, "postgres")) {
                best = major;
                snprintf(out, out_len, "%s", bin);
            }
        }
        closedir(dir);
    }
    if (best >= 0)
        return 0;
    FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
    if (p != NULL) {
        char line[PATH_MAX];
        int ok = fgets(line, sizeof line, p) != NULL;
        pclose(p);
        if (ok) {
            line[strcspn(line, "\n")] = '\0';
            if (is_executable(line, "initdb") && is_executable(line, "postgres")) {
                snprintf(out, out_len, "%s", line);
                return 0;
            }
        }
    }
    return cn_db_errorf(
        CN_DB_ENOTFOUND, err, err_len,
        "could not find the PostgreSQL server binaries (initdb, postgres) in " PG_LIB_DIR
        "/<version>/bin or through pg_config; install the "
        "postgresql package or set CALCNODE_PG_BINDIR");
}

static int resolve_run_as(struct run_as *ru, char *err, size_t err_len)
{
    memset(ru, 0, sizeof *ru);
    const struct passwd *pw;
    if (geteuid() == 0) {
        pw = getpwnam(POSTGRES_SYSTEM_USER);
        if (pw == NULL)
            return cn_db_errorf(CN_DB_ENOTFOUND, err, err_len,
                                "cannot run the embedded PostgreSQL as root and there is no "
                                "\"" POSTGRES_SYSTEM_USER "\" system user to run it as; "
                                "install the postgresql package, run calcnode as an "
                                "unprivileged user, or configure a database URL");
        ru->drop = 1;
        ru->uid = pw->pw_uid;
        ru->gid = pw->pw_gid;
        int count = MAX_GROUPS;
        if (getgrouplist(pw->pw_name, pw->pw_gid, ru->groups, &count) < 0) {
            ru->groups[0] = pw->pw_gid;
            count = 1;
        }
        ru->group_count = count;
    } else {
        pw = getpwuid(geteuid());
        if (pw == NULL)
            return cn_db_errorf(CN_DB_ENOTFOUND, err, err_len,
                                "could not look up the name of user %ld", (long)geteuid());
        ru->uid = geteuid();
        ru->gid = getegid();
    }
    if (snprintf(ru->name, sizeof ru->name, "%s", pw->pw_name) >= (int)sizeof ru->name)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "user name \"%s\" is too long",
                            pw->pw_name);
    return 0;
}

/* In a forked child: become ru. Only async-signal-safe calls. */
static int drop_privileges(const struct run_as *ru)
{
    if (!ru->drop)
        return 0;
    if (setgroups((size_t)ru->group_count, ru->groups) != 0 || setgid(ru->gid) != 0 ||
        setuid(ru->uid) != 0)
        return -1;
    return 0;
}

static int make_dir(const char *path, mode_t mode, char *err, size_t err_len)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not create directory \"%s\": %s", path,
                            strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "\"%s\" is not a directory", path);
    return 0;
}

/* A directory the server owns: created 0700, chowned to ru when dropping privileges. */
static int make_server_dir(const char *path, const struct run_as *ru, char *err, size_t err_len)
{
    int rc = make_dir(path, 0700, err, err_len);
    if (rc != 0)
        return rc;
    if (ru->drop && chown(path, ru->uid, ru->gid) != 0)
        return cn_db_errorf(CN_DB_ESYS, err, err_len,
                            "could not give directory \"%s\" to user \"%s\": %s", path, ru->name,
                            strerror(errno));
    if (chmod(path, 0700) != 0)
        return cn_db_errorf(CN_DB_ESYS, err, err_len,
                            "could not set mode 0700 on directory \"%s\": %s", path,
                            strerror(errno));
    return 0;
}

static int build_paths(const char *state_dir, struct paths *p, char *err, size_t err_len)
{
    if (state_dir == NULL || state_dir[0] == '\0')
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no state directory");
    int rc = make_dir(state_dir, 0755, err, err_len);
    if (rc != 0)
        return rc;
    if (realpath(state_dir, p->state) == NULL)
        return cn_db_errorf(CN_DB_ESYS, err, err_len,
                            "could not resolve state directory \"%s\": %s", state_dir,
                            strerror(errno));
    if (snprintf(p->pg, sizeof p->pg, "%s/pg", p->state) >= (int)sizeof p->pg ||
        snprintf(p->run, sizeof p->run, "%s/run", p->state) >= (int)sizeof p->run ||
        snprintf(p->log_dir, sizeof p->log_dir, "%s/log", p->state) >= (int)sizeof p->log_dir ||
        snprintf(p->log, sizeof p->log, "%s/log/postgres.log", p->state) >= (int)sizeof p->log)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "state directory \"%s\" is too long",
                            p->state);
    /* The socket's path must fit in sockaddr_un.sun_path. */
    struct sockaddr_un sun;
    if (strlen(p->run) + 1 + strlen(SOCKET_FILE_NAME) + 1 > sizeof sun.sun_path)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "state directory \"%s\" is too long for a unix socket path (at "
                            "most %zu bytes for \"%s/%s\")",
                            p->state, sizeof sun.sun_path - 1, p->run, SOCKET_FILE_NAME);
    return 0;
}

/* When dropping privileges: check in a child running as ru that every directory down to
 * STATE/pg can be searched, and name the first that cannot. */
static int check_traversable(const struct paths *p, const struct run_as *ru, char *err,
                             size_t err_len)
{
    if (!ru->drop)
        return 0;
    int fds[2];
    if (pipe(fds) != 0)
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not create a pipe: %s",
                            strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        if (drop_privileges(ru) != 0)
            _exit(2);
        /* Walk each prefix of STATE/pg ending at a '/'; report the first refused one. */
        char prefix[PATH_MAX];
        size_t len = strlen(p->pg);
        for (size_t i = 1; i <= len; i++) {
            if (i < len && p->pg[i] != '/')
                continue;
            memcpy(prefix, p->pg, i);
            prefix[i] = '\0';
            if (access(prefix, X_OK) != 0) {
                ssize_t w = write(fds[1], prefix, i);
                (void)w;
                _exit(1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    char refused[PATH_MAX];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fds[0], refused + got, sizeof refused - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            if (got == sizeof refused - 1)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    refused[got] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
        return cn_db_errorf(CN_DB_ESYS, err, err_len,
                            "user \"%s\" cannot enter directory \"%s\"; PostgreSQL runs as "
                            "that user (it refuses to run as root), so every parent of the "
                            "state directory must be searchable by it (for example mode 0755)",
                            ru->name, refused);
    return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not switch to user \"%s\"", ru->name);
}

/* The last lines of the server log, on one line, for error messages. */
static void log_tail(const char *log_path, char *out, size_t out_len)
{
    out[0] = '\0';
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[LOG_TAIL_LEN + 1];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t start = size > LOG_TAIL_LEN ? size - LOG_TAIL_LEN : 0;
    ssize_t n = pread(fd, buf, LOG_TAIL_LEN, start);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    /* Keep the last LOG_TAIL_LINES lines. */
    const char *from = buf;
    int lines = 0;
    for (ssize_t i = n - 1; i >= 0; i--) {
        if (buf[i] == '\n' && ++lines == LOG_TAIL_LINES) {
            from = buf + i + 1;
            break;
        }
    }
    size_t o = 0;
    for (const char *c = from; *c != '\0' && o + 3 < out_len; c++) {
        if (*c == '\n') {
            out[o++] = ' ';
            out[o++] = '|';
            out[o++] = ' ';
        } else if (*c != '\r') {
            out[o++] = *c;
        }
    }
    out[o] = '\0';
}

/* Forks and execs argv (argv[0] a full path) as ru, stdout and stderr appended to the
 * log, in its own process group (so a terminal's Ctrl-C reaches calcnode, which then
 * stops the server in order). Returns 0 and the child's pid, or CN_DB_ESYS. */
static int spawn(char *const argv[], const struct run_as *ru, const char *log_path,
                 int die_with_parent, pid_t *pid_out, char *err, size_t err_len)
{
    int log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd < 0)
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not open log file \"%s\": %s",
                            log_path, strerror(errno));
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        close(log_fd);
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not open /dev/null: %s",
                            strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        close(null_fd);
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
            dup2(log_fd, STDERR_FILENO) < 0)
            _exit(127);
        /* calcnode's sockets and files are none of the server's business. */
        closefrom(STDERR_FILENO + 1);
        setpgid(0, 0);
        if (drop_privileges(ru) != 0) {
            static const char msg[] = "calcnode: could not switch to the server's user\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)w;
            _exit(127);
        }
#ifdef __linux__
        /* After the credential change (which clears it): if calcnode dies without
         * stopping the server, the server gets a fast shutdown instead of holding the
         * cluster as an orphan. Set by the thread that forks: start from the main thread. */
        if (die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGINT);
            if (getppid() != parent)
                _exit(127);
        }
#else
        (void)die_with_parent;
        (void)parent;
#endif
        execv(argv[0], argv);
        static const char msg[] = "calcnode: could not execute a PostgreSQL binary\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    *pid_out = pid;
    return 0;
}

static int run_initdb(const struct paths *p, const struct run_as *ru, char *err, size_t err_len)
{
    char initdb[PATH_MAX + 16], user_opt[96];
    char pgdata[PATH_MAX];
    snprintf(initdb, sizeof initdb, "%s/initdb", p->bindir);
    snprintf(user_opt, sizeof user_opt, "--username=%s", ru->name);
    snprintf(pgdata, sizeof pgdata, "%s", p->pg);
    char *argv[] = {initdb,
                    "-D",
                    pgdata,
                    user_opt,
                    "--auth-local=trust",
                    "--auth-host=reject",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions",
                    NULL};
    pid_t pid;
    int rc = spawn(argv, ru, p->log, 0, &pid, err, err_len);
    if (rc != 0)
        return rc;
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not wait for initdb: %s",
                                strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char tail[LOG_TAIL_LEN];
    log_tail(p->log, tail, sizeof tail);
    return cn_db_errorf(CN_DB_ESYS, err, err_len, "initdb failed for \"%s\" (see \"%s\"): %s",
                        p->pg, p->log, tail);
}

static int process_is_postgres(pid_t pid)
{
    char path[64], cmd[256];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1; /* no /proc: trust the pid file, as postgres itself does */
    ssize_t n = read(fd, cmd, sizeof cmd - 1);
    close(fd);
    if (n <= 0)
        return 0;
    cmd[n] = '\0';
    return strstr(cmd, "postgres") != NULL || strstr(cmd, "postmaster") != NULL;
}

/* A postmaster.pid naming a live postmaster means the cluster is in use: refuse with its
 * pid. A dead pid is left for postgres, which removes a stale file itself. A live pid
 * that is not a postgres process (reused after a crash or reboot) would make postgres
 * refuse too, so the stale lock files are removed here. */
static int check_not_in_use(const struct paths *p, char *err, size_t err_len)
{
    char pidfile[PATH_MAX + 32];
    snprintf(pidfile, sizeof pidfile, "%s/postmaster.pid", p->pg);
    FILE *f = fopen(pidfile, "re");
    if (f == NULL)
        return 0;
    char line[64];
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return 0;
    char *end;
    errno = 0;
    long pid = strtol(line, &end, 10);
    if (errno != 0 || end == line || pid <= 0 || pid > INT_MAX)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    if (process_is_postgres((pid_t)pid))
        return cn_db_errorf(CN_DB_EBUSY, err, err_len, "database in \"%s\" is in use by pid %ld",
                            p->pg, pid);
    char lockfile[PATH_MAX + 32];
    snprintf(lockfile, sizeof lockfile, "%s/%s.lock", p->run, SOCKET_FILE_NAME);
    if (unlink(pidfile) != 0 && errno != ENOENT)
        return cn_db_errorf(CN_DB_ESYS, err, err_len, "could not remove stale lock file \"%s\": %s",
                            pidfile, strerror(errno));
    unlink(lockfile);
    return 0;
}

/* The socket directory's path is bounded by sun_path (checked in build_paths), so the
 * result always fits; were it truncated, it is replaced by a string libpq rejects rather
 * than one that would fall back to the default server. */
static void build_conninfo(const struct paths *p, const struct run_as *ru, const char *dbname,
                           char *out, size_t out_len)
{
    char host[PATH_MAX * 2 + 3], user[160];
    cn_db_conninfo_quote(p->run, host, sizeof host);
    cn_db_conninfo_quote(ru->name, user, sizeof user);
    if (snprintf(out, out_len, "host=%s port=" EMBEDDED_PORT " dbname=%s user=%s", host, dbname,
                 user) >= (int)out_len)
        snprintf(out, out_len, "%s", "=");
}

/* Stops pid: SIGINT, bounded wait, SIGQUIT, bounded wait, SIGKILL. Returns 0 when it
 * exited after SIGINT, CN_DB_ETIMEOUT otherwise. */
static int stop_pid(pid_t pid)
{
    static const int signals[] = {SIGINT, SIGQUIT, SIGKILL};
    static const int64_t waits_ms[] = {CN_PG_EMBEDDED_STOP_TIMEOUT_MS, SIGQUIT_WAIT_MS, -1};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (kill(pid, signals[i]) != 0 && errno == ESRCH) {
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            return i == 0 ? 0 : CN_DB_ETIMEOUT;
        }
        int64_t deadline = now_ms() + waits_ms[i];
        for (;;) {
            pid_t r = waitpid(pid, NULL, waits_ms[i] < 0 ? 0 : WNOHANG);
            if (r == pid || (r < 0 && errno == ECHILD))
                return i == 0 ? 0 : CN_DB_ETIMEOUT;
            if (r < 0 && errno == EINTR)
                continue;
            if (waits_ms[i] >= 0 && now_ms() >= deadline)
                break;
            sleep_ms(POLL_INTERVAL_MS);
        }
    }
    return CN_DB_ETIMEOUT;
}

/* Polls until the server accepts connections. When the child exits meanwhile it is
 * reaped and *pid set to 0. */
static int wait_ready(const struct paths *p, pid_t *pid, const char *conninfo, char *err,
                      size_t err_len)
{
    int64_t deadline = now_ms() + CN_PG_EMBEDDED_START_TIMEOUT_MS;
    char tail[LOG_TAIL_LEN];
    for (;;) {
        PGPing ping = PQping(conninfo);
        if (ping == PQPING_OK)
            return 0;
        if (ping == PQPING_NO_ATTEMPT)
            return cn_db_errorf(CN_DB_EINVAL, err, err_len, "invalid connection string %s",
                                conninfo);
        int status;
        pid_t r = waitpid(*pid, &status, WNOHANG);
        if (r == *pid) {
            *pid = 0;
            log_tail(p->log, tail, sizeof tail);
            return cn_db_errorf(CN_DB_ESYS, err, err_len,
                                "PostgreSQL server for \"%s\" exited during start-up (see "
                                "\"%s\"): %s",
                                p->pg, p->log, tail);
        }
        if (now_ms() >= deadline) {
            log_tail(p->log, tail, sizeof tail);
            return cn_db_errorf(CN_DB_ETIMEOUT, err, err_len,
                                "PostgreSQL server for \"%s\" did not accept connections "
                                "within %d ms (see \"%s\"): %s",
                                p->pg, CN_PG_EMBEDDED_START_TIMEOUT_MS, p->log, tail);
        }
        sleep_ms(POLL_INTERVAL_MS);
    }
}

static int create_database(const struct paths *p, const struct run_as *ru, char *err,
                           size_t err_len)
{
    char conninfo[PATH_MAX + 128], line[CN_DB_ERR_SIZE];
    build_conninfo(p, ru, "postgres", conninfo, sizeof conninfo);
    PGconn *conn = cn_db_connect_blocking(conninfo, err, err_len);
    if (conn == NULL)
        return CN_DB_ECONNECT;
    int rc = 0;
    const char *params[1] = {CN_DB_DATABASE_NAME};
    PGresult *res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL,
                                 params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not look up database \"%s\": %s",
                          CN_DB_DATABASE_NAME,
                          cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
    } else if (PQntuples(res) == 0) {
        PQclear(res);
        res = PQexec(conn, "CREATE DATABASE " CN_DB_DATABASE_NAME);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not create database \"%s\": %s",
                              CN_DB_DATABASE_NAME,
                              cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int start_server(const struct paths *p, const struct run_as *ru, pid_t *pid_out, char *err,
                        size_t err_len)
{
    char postgres[PATH_MAX + 16], pgdata[PATH_MAX], run[PATH_MAX];
    snprintf(postgres, sizeof postgres, "%s/postgres", p->bindir);
    snprintf(pgdata, sizeof pgdata, "%s", p->pg);
    snprintf(run, sizeof run, "%s", p->run);
    char *argv[] = {postgres,
                    "-D",
                    pgdata,
                    "-k",
                    run,
                    "-p",
                    EMBEDDED_PORT,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "unix_socket_permissions=0700",
                    "-c",
                    "logging_collector=off",
                    NULL};
    return spawn(argv, ru, p->log, 1, pid_out, err, err_len);
}

int cn_pg_embedded_start(const char *state_dir, struct cn_pg_embedded **out, char *err,
                         size_t err_len)
{
    if (out == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no handle to return");
    *out = NULL;
    struct paths *p = calloc(1, sizeof *p);
    struct cn_pg_embedded *pg = calloc(1, sizeof *pg);
    struct run_as ru;
    int rc = CN_DB_ENOMEM;
    if (p == NULL || pg == NULL) {
        cn_db_errorf(rc, err, err_len, "out of memory");
        goto fail;
    }
    if ((rc = build_paths(state_dir, p, err, err_len)) != 0 ||
        (rc = find_bindir(p->bindir, sizeof p->bindir, err, err_len)) != 0 ||
        (rc = resolve_run_as(&ru, err, err_len)) != 0 ||
        (rc = make_dir(p->log_dir, 0750, err, err_len)) != 0 ||
        (rc = make_server_dir(p->pg, &ru, err, err_len)) != 0 ||
        (rc = make_server_dir(p->run, &ru, err, err_len)) != 0 ||
        (rc = check_traversable(p, &ru, err, err_len)) != 0)
        goto fail;

    char version_file[PATH_MAX + 16];
    snprintf(version_file, sizeof version_file, "%s/PG_VERSION", p->pg);
    if (access(version_file, F_OK) != 0) {
        if ((rc = run_initdb(p, &ru, err, err_len)) != 0)
            goto fail;
    } else if ((rc = check_not_in_use(p, err, err_len)) != 0) {
        goto fail;
    }

    char ping_conninfo[PATH_MAX + 128];
    build_conninfo(p, &ru, "postgres", ping_conninfo, sizeof ping_conninfo);
    if ((rc = start_server(p, &ru, &pg->pid, err, err_len)) != 0)
        goto fail;
    if ((rc = wait_ready(p, &pg->pid, ping_conninfo, err, err_len)) != 0 ||
        (rc = create_database(p, &ru, err, err_len)) != 0) {
        if (pg->pid > 0)
            stop_pid(pg->pid);
        goto fail;
    }
    build_conninfo(p, &ru, CN_DB_DATABASE_NAME, pg->conninfo, sizeof pg->conninfo);
    free(p);
    *out = pg;
    return 0;
fail:
    free(p);
    free(pg);
    return rc;
}

const char *cn_pg_embedded_conninfo(const struct cn_pg_embedded *pg)
{
    return pg->conninfo;
}

pid_t cn_pg_embedded_pid(const struct cn_pg_embedded *pg)
{
    return pg->pid;
}

int cn_pg_embedded_stop(struct cn_pg_embedded *pg)
{
    if (pg == NULL)
        return 0;
    int rc = stop_pid(pg->pid);
    free(pg);
    return rc;
}

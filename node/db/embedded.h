/* node/db/embedded: a private PostgreSQL cluster under calcnode's state directory
 * (DESIGN.md section 3, "Embedded default"), so one command starts a working node on a
 * fresh machine.
 *
 * Layout under STATE (created when missing):
 *   STATE/pg                 the cluster (initdb'd on first start), mode 0700
 *   STATE/run                the unix socket directory, mode 0700; no TCP listener
 *   STATE/log/postgres.log   the server's stdout and stderr
 *
 * When calcnode runs as root, initdb and postgres run as the "postgres" system user
 * (PostgreSQL refuses to run as root); STATE/pg and STATE/run are then owned by it, and
 * every parent of STATE must be searchable by it.
 *
 * Both functions block (initdb, server start-up, shutdown take seconds): call them from
 * the main thread before the loop runs or after it stopped, never from the loop thread.
 * The caller must call cn_pg_embedded_stop on every exit path after a successful start,
 * or the server keeps running after calcnode exits (it holds STATE/pg until stopped). */
#ifndef CN_DB_EMBEDDED_H
#define CN_DB_EMBEDDED_H

#include <stddef.h>
#include <sys/types.h>

struct cn_pg_embedded;

/* Milliseconds the start waits for the server to accept connections, and the stop for it to
 * exit after SIGINT (fast shutdown) before it sends SIGQUIT. */
#define CN_PG_EMBEDDED_START_TIMEOUT_MS 60000
#define CN_PG_EMBEDDED_STOP_TIMEOUT_MS 30000

/* Initialises STATE/pg when it has no PG_VERSION, starts the server as a child process,
 * waits until it accepts connections and creates the database "calcnode" when missing.
 * The PostgreSQL binaries are taken from the environment variable CALCNODE_PG_BINDIR when
 * set, else the highest /usr/lib/postgresql/<major>/bin, else `pg_config --bindir`.
 *
 * Returns 0 and a new handle in *out (the caller owns it; cn_pg_embedded_stop frees it),
 * or a negative cn_db_error with err filled:
 *   CN_DB_EBUSY      STATE/pg is in use by a live postmaster (the message names its pid)
 *   CN_DB_ENOTFOUND  no PostgreSQL binaries; running as root without a "postgres" user
 *   CN_DB_ESYS       a directory could not be created, chowned or traversed; fork failed
 *   CN_DB_ETIMEOUT   the server did not accept connections in time (the message ends
 *                    with the last lines of the log); the child has been stopped
 *   CN_DB_ECONNECT / CN_DB_EQUERY  creating the database failed */
int cn_pg_embedded_start(const char *state_dir, struct cn_pg_embedded **out, char *err,
                         size_t err_len);

/* The libpq connection string of the running cluster, e.g.
 * "host=STATE/run port=5432 dbname=calcnode user=postgres". Borrowed: valid until
 * cn_pg_embedded_stop. */
const char *cn_pg_embedded_conninfo(const struct cn_pg_embedded *pg);

/* The postmaster's process id (the child calcnode started). */
pid_t cn_pg_embedded_pid(const struct cn_pg_embedded *pg);

/* Stops the server: SIGINT (fast shutdown: active sessions are rolled back), waits up to
 * CN_PG_EMBEDDED_STOP_TIMEOUT_MS, then SIGQUIT (immediate shutdown; recovery runs at the
 * next start) and reaps the child. Frees pg (NULL is accepted). Returns 0 when the server
 * exited after SIGINT, CN_DB_ETIMEOUT when SIGQUIT was needed. */
int cn_pg_embedded_stop(struct cn_pg_embedded *pg);

#endif

/* node/db: what every part of the database layer shares: the error codes, the NOTIFY
 * channel names, and a blocking connection helper.
 *
 * Errors follow the node's convention: 0 ok, a negative cn_db_error on failure, with a
 * one-line message (PostgreSQL style: lower case, no trailing period) written into the
 * caller's err[err_len] when err is not NULL. */
#ifndef CN_DB_DB_H
#define CN_DB_DB_H

#include <stddef.h>

#include <libpq-fe.h>

/* Append only: values are never renumbered. */
enum cn_db_error {
    CN_DB_OK = 0,
    CN_DB_EINVAL = -1,    /* bad argument (NULL, empty, too long) */
    CN_DB_ENOMEM = -2,    /* out of memory */
    CN_DB_ESYS = -3,      /* a system call failed (fork, exec, mkdir, chown, ...) */
    CN_DB_ECONNECT = -4,  /* could not connect, or the connection was lost */
    CN_DB_EQUERY = -5,    /* the server answered a statement with an error */
    CN_DB_EBUSY = -6,     /* the cluster is in use by another process; the queue is full */
    CN_DB_ETIMEOUT = -7,  /* a bounded wait expired */
    CN_DB_ECLOSED = -8,   /* the async connection is closing; the request was not run */
    CN_DB_ENOTFOUND = -9, /* a binary, user, file or directory does not exist */
    CN_DB_EFORMAT = -10,  /* a migration file or a server answer is malformed */
};

/* Returns the static name-and-reason text of a cn_db_error ("unknown error" otherwise). */
const char *cn_db_strerror(int error);

/* Room for one error message; every function of this layer writes at most this much. */
#define CN_DB_ERR_SIZE 512

/* LISTEN/NOTIFY channels. Triggers in sql/ notify them (payload: the row id as text)
 * whenever a row enters the state "queued"; workers and senders LISTEN on them to wake. */
#define CN_DB_CHANNEL_JOBS "calcnode_jobs"
#define CN_DB_CHANNEL_OUTBOUND "calcnode_outbound"

/* The name of the database calcnode uses inside a cluster it manages itself. */
#define CN_DB_DATABASE_NAME "calcnode"

/* Opens a blocking connection from a URL ("postgresql://...") or a key=value conninfo.
 * Returns a new connection (free with PQfinish) or NULL with err filled. Blocks: for the
 * main thread before the loop runs, worker threads and CLI commands; never call it on the
 * libuv loop thread. */
PGconn *cn_db_connect_blocking(const char *conninfo, char *err, size_t err_len);

#endif

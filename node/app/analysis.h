/* The analysis process of `calcnode serve`: the analysis workers run as ONE supervised
 * child process, `calcnode worker`, so that a crash in decoding or analysis (a corrupt
 * JPEG 2000, a bug in a kernel) ends that process and not the DICOM receiver.
 *
 * The child gets serve's configuration: the same file (-c), state directory, workers,
 * model, lease, log level and migrations, and the database serve uses (the embedded
 * cluster's conninfo or the configured URL) through its environment
 * (CALCNODE_DATABASE_URL), never on its command line. Its log lines go to serve's
 * stderr tagged "[analysis PID]". It is started again after a death with the backoff of
 * work/supervisor.h; the jobs it held are failed at once with the reason ("the analysis
 * process died (signal 11)") and retried or dead by the normal accounting
 * (work/release.h). Its results reach serve's sender through the outbound table's NOTIFY.
 *
 * Loop thread only. */
#ifndef CN_APP_ANALYSIS_H
#define CN_APP_ANALYSIS_H

#include <stddef.h>
#include <uv.h>

#include "app/conf.h"

struct cn_app_analysis;
struct cn_db_async;

/* Starts the analysis process of conf (conf->workers >= 0) on loop. db (borrowed, must
 * stay open until cn_app_analysis_stop's done) receives the release of a dead child's
 * jobs; conninfo (copied) is the database the child opens. Returns 0 and *out, or -1 with
 * err filled (this executable not found, configuration too long). */
int cn_app_analysis_start(uv_loop_t *loop, struct cn_db_async *db, const struct cn_conf *conf,
                          const char *conninfo, struct cn_app_analysis **out, char *err,
                          size_t err_len);

/* The pid of the running analysis process, 0 while it is being restarted. */
long cn_app_analysis_pid(const struct cn_app_analysis *a);

/* SIGTERM to the process (it hands its jobs back), SIGKILL after
 * CN_SUPERVISOR_STOP_TIMEOUT_MS; the release of the jobs of a killed process is queued
 * on db before done(user) (may be NULL) runs. Frees a. */
void cn_app_analysis_stop(struct cn_app_analysis *a, void (*done)(void *user), void *user);

#endif

/* node/work: study completion (DESIGN.md section 6). A study is analysed when all four
 * screening views are present, or when no instance of it arrived for the quiet period of
 * the AE that sent it. The decision on each arrival is made in PostgreSQL
 * (calcnode_note_instance, sql/003_work.sql); this module keeps the quiet-period timers
 * and queues the study when one expires. Timers are not durable: at start, studies still
 * receiving are found in the database and their timers armed with what remains, so a
 * restart never forgets a study.
 *
 * Loop thread only; database calls through node/db/async. */
#ifndef CN_WORK_COMPLETION_H
#define CN_WORK_COMPLETION_H

#include <stdint.h>
#include <uv.h>

struct cn_db_async;
struct cn_completion;

/* The quiet period, in ms, for studies sent by calling_ae. */
typedef uint32_t (*cn_quiet_period_fn)(void *user, const char *calling_ae);

/* Starts the module and the recovery of studies still receiving. db is borrowed and must
 * outlive it. Returns 0 and *out, or UV_ENOMEM. */
int cn_completion_start(uv_loop_t *loop, struct cn_db_async *db, cn_quiet_period_fn quiet,
                        void *quiet_user, struct cn_completion **out);

/* A new instance was catalogued. */
void cn_completion_note(struct cn_completion *c, const char *study_instance_uid,
                        const char *calling_ae, const char *sop_class_uid, uint32_t rows);

/* Studies waiting for their quiet period to end. */
unsigned cn_completion_waiting(const struct cn_completion *c);

/* Stops the timers (waiting studies stay "receiving" in the database and are recovered at
 * the next start), frees c when its handles are closed, then calls done(user). */
void cn_completion_stop(struct cn_completion *c, void (*done)(void *user), void *user);

#endif

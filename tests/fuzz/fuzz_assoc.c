/* Association fuzz target: arbitrary bytes into an acceptor (after its
 * transport connected), in chunks whose sizes come from the input; ops
 * only record. The first byte gives the chunk size, the second how often
 * the ARTIM timer fires. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ul/assoc.h"
#include "ul/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct record {
    struct cn_assoc_config config;
    size_t sent_len;
    int timer_running;
    int closed;
    size_t pdv_bytes;
};

static void on_send(void *user, const uint8_t *bytes, size_t len)
{
    struct record *r = user;
    if (len < CN_PDU_HEADER_LEN || bytes[0] < CN_PDU_ASSOCIATE_RQ || bytes[0] > CN_PDU_ABORT)
        abort(); /* we only ever send well-formed PDUs */
    r->sent_len += len;
}
static void on_close(void *user) { (void)user; }
static void on_timer_start(void *user, uint32_t ms)
{
    (void)ms;
    ((struct record *)user)->timer_running = 1;
}
static void on_timer_stop(void *user) { ((struct record *)user)->timer_running = 0; }
static int on_associate(void *user, const struct cn_assoc_rq *rq, struct cn_assoc_ac *ac,
                        struct cn_assoc_rj *rj)
{
    struct record *r = user;
    return cn_negotiate(&r->config, rq, ac, rj);
}
static void on_confirm(void *user, const struct cn_assoc_ac *ac, const struct cn_assoc_rj *rj)
{
    (void)user;
    (void)ac;
    (void)rj;
}
static int on_pdv(void *user, uint8_t pc_id, int is_command, int is_last, const uint8_t *d,
                  size_t len)
{
    (void)pc_id;
    (void)is_command;
    (void)is_last;
    struct record *r = user;
    for (size_t i = 0; i < len; i++)
        r->pdv_bytes += d[i] != 0;
    return 0;
}
static void on_release_indication(void *user) { (void)user; }
static void on_release_confirm(void *user) { (void)user; }
static void on_abort(void *user, int source, int reason)
{
    (void)user;
    (void)source;
    (void)reason;
}
static void on_closed(void *user) { ((struct record *)user)->closed++; }

static const struct cn_assoc_ops ops = {
    on_send, on_close, on_timer_start, on_timer_stop, on_associate, on_confirm, on_pdv,
    on_release_indication, on_release_confirm, on_abort, on_closed,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct record r;
    memset(&r, 0, sizeof r);
    cn_assoc_config_init(&r.config);
    r.config.max_pdu_len = CN_ASSOC_MIN_PDU_LEN;
    struct cn_assoc *a = cn_assoc_new(CN_ASSOC_ACCEPTOR, &r.config, &ops, &r);
    if (a == NULL)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    unsigned timer_every = data[1];
    data += 2;
    size -= 2;
    cn_assoc_transport_connected(a);
    unsigned step = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (cn_assoc_receive(a, data + off, n) != 0)
            abort();
        step++;
        if (timer_every != 0 && step % timer_every == 0 && r.timer_running) {
            r.timer_running = 0;
            cn_assoc_timer_expired(a);
        }
    }
    if (r.closed > 1)
        abort(); /* closed is the last callback, once */
    cn_assoc_transport_closed(a);
    if (r.closed != 1)
        abort();
    cn_assoc_free(a);
    return 0;
}

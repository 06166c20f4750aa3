-- 002: the outbound queue as the sender uses it (node/send/sender.h).
-- An object is pending at most once per destination: enqueueing the same SOP Instance UID
-- for the same AE while a row for it is queued, sending or failed (waiting for a retry)
-- adds nothing (cn_send_enqueue uses ON CONFLICT on this index). Once sent or dead, a new
-- enqueue is a deliberate resend and gets a new row.
CREATE UNIQUE INDEX outbound_pending_once ON outbound (sop_instance_uid, destination_ae)
    WHERE state IN ('queued', 'sending', 'failed');

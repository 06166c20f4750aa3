-- 004: the audit trail (issue 7): who did what, when, with which outcome.
--
-- Rows of their own (associations, instances, outbound) are audited by triggers, so the
-- audit row commits in the same transaction as the change it describes and no code path
-- can forget it. Events that leave no other row (an association refused, the node
-- starting or stopping, an operator's command) are inserted by node/db/audit.h.
--
-- Vocabulary (node/audit/event.c maps each action to its PS3.15 A.5.3 event):
--   actor    the AE title, operator or process that acted
--   action   'association accepted', 'association released', 'association aborted',
--            'instance stored', 'result sent', 'result dead', and those of
--            node/db/audit.h
--   object   the SOP Instance UID, association id or queue row the action concerns
--   outcome  PS3.15 A.5.2 EventOutcomeIndicator in words: 'success' (0),
--            'minor failure' (4), 'serious failure' (8), 'major failure' (12)
--   detail   addresses, UIDs, sizes and statuses, as jsonb

-- Forwarding to syslog (node/audit/forward.h): a row is claimed by setting
-- forward_lease_until (FOR UPDATE SKIP LOCKED, so two processes never send the same row)
-- and marked with forwarded_at once sent; a claim whose process died expires.
ALTER TABLE audit ADD COLUMN forwarded_at timestamptz;
ALTER TABLE audit ADD COLUMN forward_lease_until timestamptz;
CREATE INDEX audit_unforwarded ON audit (id) WHERE forwarded_at IS NULL;

-- PS3.15 A.5.3.12 User Authentication, Login (110122): a peer's association accepted.
CREATE FUNCTION calcnode_audit_association_accepted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit (actor, action, object, outcome, detail)
    VALUES (NEW.calling_ae, 'association accepted', NEW.id::text, 'success',
            jsonb_build_object('association_id', NEW.id, 'calling_ae', NEW.calling_ae,
                               'called_ae', NEW.called_ae, 'address', NEW.peer_address));
    RETURN NULL;
END
$$;

CREATE TRIGGER associations_audit_accepted
    AFTER INSERT ON associations
    FOR EACH ROW EXECUTE FUNCTION calcnode_audit_association_accepted();

-- PS3.15 A.5.3.12 User Authentication, Logout (110123): the association ended, released
-- (success) or aborted (minor failure), with the number of instances it stored.
CREATE FUNCTION calcnode_audit_association_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit (actor, action, object, outcome, detail)
    VALUES (NEW.calling_ae, 'association ' || NEW.outcome, NEW.id::text,
            CASE NEW.outcome WHEN 'released' THEN 'success' ELSE 'minor failure' END,
            jsonb_build_object('association_id', NEW.id, 'calling_ae', NEW.calling_ae,
                               'called_ae', NEW.called_ae, 'address', NEW.peer_address,
                               'instances_stored', NEW.instances_stored,
                               'duration_s', extract(epoch FROM NEW.ended_at - NEW.started_at)));
    RETURN NULL;
END
$$;

CREATE TRIGGER associations_audit_ended
    AFTER UPDATE OF ended_at ON associations
    FOR EACH ROW WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION calcnode_audit_association_ended();

-- PS3.15 A.5.3.7 DICOM Instances Transferred, Create: an instance catalogued (a repeated
-- SOP Instance UID inserts no row, so it is audited once).
CREATE FUNCTION calcnode_audit_instance_stored() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit (actor, action, object, outcome, detail)
    SELECT NEW.calling_ae, 'instance stored', NEW.sop_instance_uid, 'success',
           jsonb_build_object('sop_class_uid', NEW.sop_class_uid,
                              'study_instance_uid', NEW.study_instance_uid,
                              'patient_id', s.patient_id,
                              'size_bytes', NEW.size_bytes,
                              'transfer_syntax_uid', NEW.transfer_syntax_uid,
                              'called_ae', NEW.called_ae,
                              'association_id', NEW.association_id,
                              'address', a.peer_address)
      FROM (SELECT 1) one
      LEFT JOIN studies s ON s.study_instance_uid = NEW.study_instance_uid
      LEFT JOIN associations a ON a.id = NEW.association_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER instances_audit_stored
    AFTER INSERT ON instances
    FOR EACH ROW EXECUTE FUNCTION calcnode_audit_instance_stored();

-- PS3.15 A.5.3.7 DICOM Instances Transferred, Read: a result object reached its
-- destination ('sent', success) or was given up ('dead', serious failure: after its
-- last attempt, or cancelled by an operator).
CREATE FUNCTION calcnode_audit_outbound_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit (actor, action, object, outcome, detail)
    SELECT NEW.destination_ae, 'result ' || NEW.state, NEW.sop_instance_uid,
           CASE NEW.state WHEN 'sent' THEN 'success' ELSE 'serious failure' END,
           jsonb_build_object('outbound_id', NEW.id,
                              'destination_ae', NEW.destination_ae,
                              'sop_class_uid', NEW.sop_class_uid,
                              'study_instance_uid', j.study_instance_uid,
                              'patient_id', s.patient_id,
                              'status', NEW.last_status,
                              'error', NEW.last_error,
                              'attempts', NEW.attempts)
      FROM (SELECT 1) one
      LEFT JOIN jobs j ON j.id = NEW.job_id
      LEFT JOIN studies s ON s.study_instance_uid = j.study_instance_uid;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbound_audit_final_insert
    AFTER INSERT ON outbound
    FOR EACH ROW WHEN (NEW.state IN ('sent', 'dead'))
    EXECUTE FUNCTION calcnode_audit_outbound_final();

CREATE TRIGGER outbound_audit_final_update
    AFTER UPDATE OF state ON outbound
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.state IN ('sent', 'dead'))
    EXECUTE FUNCTION calcnode_audit_outbound_final();

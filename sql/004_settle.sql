-- A study being received is analysed once its arrivals settle, and one run at a time.
-- calcnode_note_instance answers 'joined' when the image joins a run already waiting.
--
-- With all four views present a study is queued at once, but due only after a short
-- settle time (calcnode_settle_interval) that every further arrival pushes back: the
-- images a modality sends together become one run, not one run per image. A job is not
-- claimed while another run of the same study is running with a live lease: arrivals
-- during a run make one more run, after it.

CREATE FUNCTION calcnode_settle_interval() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '500 milliseconds' $$;

CREATE OR REPLACE FUNCTION calcnode_enqueue_study(p_study text, p_reason text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE jobs SET next_attempt_at = greatest(next_attempt_at,
                                               now() + calcnode_settle_interval()),
                    updated_at = now()
     WHERE study_instance_uid = p_study AND state = 'queued'
    RETURNING id INTO v_id;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO jobs (study_instance_uid, reason, run_number, next_attempt_at)
    VALUES (p_study, p_reason,
            coalesce((SELECT max(run_number) FROM jobs WHERE study_instance_uid = p_study), 0) + 1,
            now() + calcnode_settle_interval())
    ON CONFLICT (study_instance_uid) WHERE state = 'queued' DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        SELECT id INTO v_id FROM jobs WHERE study_instance_uid = p_study AND state = 'queued';
    END IF;
    UPDATE studies SET state = 'queued' WHERE study_instance_uid = p_study;
    RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION calcnode_note_instance(p_study text, p_sop_class_uid text,
                                                  p_rows integer)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF NOT calcnode_is_analysable(p_sop_class_uid, p_rows) THEN
        RETURN 'ignore';
    END IF;
    -- a waiting run takes the new image: it only needs to settle again (cheap: no scan)
    UPDATE jobs SET next_attempt_at = greatest(next_attempt_at,
                                               now() + calcnode_settle_interval()),
                    updated_at = now()
     WHERE study_instance_uid = p_study AND state = 'queued';
    IF FOUND THEN
        RETURN 'joined';
    END IF;
    IF calcnode_study_has_four_views(p_study) THEN
        PERFORM calcnode_enqueue_study(p_study, 'all four views present');
        RETURN 'complete';
    END IF;
    UPDATE studies SET state = 'receiving'
     WHERE study_instance_uid = p_study AND state <> 'queued';
    RETURN 'wait';
END
$$;

CREATE OR REPLACE FUNCTION calcnode_claim_job(p_worker text, p_lease_seconds integer)
RETURNS TABLE (id bigint, study_instance_uid text, run_number integer, attempts integer)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    UPDATE jobs j
       SET state = 'running', worker = p_worker, attempts = j.attempts + 1,
           lease_until = now() + make_interval(secs => p_lease_seconds),
           started_at = now(), updated_at = now(), error = NULL
     WHERE j.id = (SELECT c.id FROM jobs c
                    WHERE ((c.state IN ('queued', 'failed') AND c.next_attempt_at <= now())
                           OR (c.state = 'running' AND c.lease_until < now()))
                      AND NOT EXISTS (SELECT 1 FROM jobs r
                                       WHERE r.study_instance_uid = c.study_instance_uid
                                         AND r.id <> c.id AND r.state = 'running'
                                         AND r.lease_until >= now())
                    ORDER BY c.next_attempt_at, c.id
                    FOR UPDATE SKIP LOCKED
                    LIMIT 1)
    RETURNING j.id, j.study_instance_uid, j.run_number, j.attempts;
END
$$;

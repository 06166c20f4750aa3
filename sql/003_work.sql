-- Study completion, the analysis job queue and the workers (DESIGN.md sections 5, 6, 9).

-- Images the analysis reads: mammography (For Presentation and For Processing), digital
-- X-ray, CR and Secondary Capture (digitised film). Our own results (SEG, SR, GSPS) are
-- never analysed, so a PACS that routes them back cannot start a loop.
CREATE FUNCTION calcnode_is_analysable(p_sop_class_uid text, p_rows integer)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_rows IS NOT NULL AND p_rows > 1 AND p_sop_class_uid IN (
        '1.2.840.10008.5.1.4.1.1.1.2',   -- Digital Mammography X-Ray, For Presentation
        '1.2.840.10008.5.1.4.1.1.1.2.1', -- Digital Mammography X-Ray, For Processing
        '1.2.840.10008.5.1.4.1.1.1.1',   -- Digital X-Ray, For Presentation
        '1.2.840.10008.5.1.4.1.1.1.1.1', -- Digital X-Ray, For Processing
        '1.2.840.10008.5.1.4.1.1.1',     -- Computed Radiography
        '1.2.840.10008.5.1.4.1.1.7')     -- Secondary Capture
$$;

-- The four standard screening views (L and R, CC and MLO) present among the study's
-- analysable images.
CREATE FUNCTION calcnode_study_has_four_views(p_study text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT count(DISTINCT (upper(image_laterality), upper(view_position))) = 4
      FROM instances
     WHERE study_instance_uid = p_study
       AND calcnode_is_analysable(sop_class_uid, rows)
       AND upper(image_laterality) IN ('L', 'R')
       AND upper(view_position) IN ('CC', 'MLO')
$$;

-- What an arriving instance means for its study (called by the receiver after each new
-- instance): 'ignore' (not an image we analyse), 'joined' (a run of the study is waiting
-- and takes the image), 'complete' (all four views are present: the study was queued
-- now), or 'wait' (the study is receiving; the receiver queues it when no instance
-- arrived for the quiet period).
CREATE FUNCTION calcnode_note_instance(p_study text, p_sop_class_uid text,
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

ALTER TABLE jobs ADD COLUMN reason text;
ALTER TABLE jobs ADD COLUMN started_at timestamptz;
ALTER TABLE jobs ADD COLUMN finished_at timestamptz;
ALTER TABLE jobs ADD COLUMN retried integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN results_dir text;
ALTER TABLE jobs ADD COLUMN instances_analysed integer;
-- at most one job waiting per study: a newer arrival joins it
CREATE UNIQUE INDEX jobs_one_queued_per_study ON jobs (study_instance_uid)
    WHERE state = 'queued';
-- a failed job waiting for its retry wakes the workers when it is due; the receiver's
-- timer covers the quiet period, so no trigger is needed for that

-- Queues an analysis of the study, unless one is already waiting. A study analysed
-- before gets the next run number (its new report supersedes the previous one).
-- Returns the id of the waiting job.
CREATE FUNCTION calcnode_enqueue_study(p_study text, p_reason text)
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

CREATE TABLE workers (
    id          text PRIMARY KEY,        -- host:pid:thread
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    jobs_done   bigint NOT NULL DEFAULT 0,
    jobs_failed bigint NOT NULL DEFAULT 0,
    current_job bigint
);

-- Claims the oldest job that is due (queued, or failed and due for its retry), or whose
-- worker's lease expired (a crashed worker), for p_worker, with SKIP LOCKED so that
-- concurrent workers never take the same job.
CREATE FUNCTION calcnode_claim_job(p_worker text, p_lease_seconds integer)
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

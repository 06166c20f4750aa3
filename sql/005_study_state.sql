-- The state of a study follows its analysis jobs, in one place for every path a job
-- takes (claimed, done, failed and retried, dead, taken over after a lost lease, requeued
-- by an operator):
--   receiving  instances arriving (calcnode_note_instance)
--   queued     a run is waiting (calcnode_enqueue_study)
--   analysing  a run is running
--   analysed   the latest run is done
--   retrying   the latest run failed and will be retried
--   failed     the latest run is dead (no attempts left, or cancelled)
-- A waiting run, or instances still arriving, take precedence over what an older run did.
CREATE FUNCTION calcnode_study_follows_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS NOT DISTINCT FROM OLD.state THEN
        RETURN NULL;
    END IF;
    -- only the study's latest run speaks for it: an older run's late retry or death
    -- does not overwrite what a newer run did
    IF NEW.id <> (SELECT max(id) FROM jobs WHERE study_instance_uid = NEW.study_instance_uid) THEN
        RETURN NULL;
    END IF;
    IF NEW.state <> 'queued' AND EXISTS (
           SELECT 1 FROM jobs
            WHERE study_instance_uid = NEW.study_instance_uid AND state = 'queued') THEN
        RETURN NULL;
    END IF;
    UPDATE studies
       SET state = CASE NEW.state WHEN 'queued' THEN 'queued'
                                  WHEN 'running' THEN 'analysing'
                                  WHEN 'done' THEN 'analysed'
                                  WHEN 'failed' THEN 'retrying'
                                  ELSE 'failed' END
     WHERE study_instance_uid = NEW.study_instance_uid
       AND state <> 'receiving';
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_study_state AFTER UPDATE OF state ON jobs
    FOR EACH ROW EXECUTE FUNCTION calcnode_study_follows_job();

-- Studies left 'queued' by earlier versions, whose latest run has ended.
UPDATE studies s
   SET state = CASE j.state WHEN 'done' THEN 'analysed'
                            WHEN 'failed' THEN 'retrying'
                            WHEN 'running' THEN 'analysing'
                            ELSE 'failed' END
  FROM (SELECT DISTINCT ON (study_instance_uid) study_instance_uid, state
          FROM jobs ORDER BY study_instance_uid, id DESC) j
 WHERE s.study_instance_uid = j.study_instance_uid
   AND s.state IN ('queued', 'done') AND j.state <> 'queued';

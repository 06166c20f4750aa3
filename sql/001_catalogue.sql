-- 001: the catalogue and the queues (DESIGN.md section 5).
-- Applied by node/db/migrate.c inside one transaction with its schema_version row; no
-- BEGIN/COMMIT here. Times are timestamptz; UIDs are text of at most 64 characters
-- (PS3.5 9.1), checked on the way in by the store layer.

CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per association (PS3.8): who talked to us, when, and how it ended.
CREATE TABLE associations (
    id                bigserial PRIMARY KEY,
    calling_ae        text NOT NULL,
    called_ae         text NOT NULL,
    peer_address      text,
    started_at        timestamptz NOT NULL DEFAULT now(),
    ended_at          timestamptz,
    outcome           text CHECK (outcome IN ('released', 'aborted', 'rejected')),
    instances_stored  bigint NOT NULL DEFAULT 0
);

-- Study level. state: receiving (instances arriving), then what the work layer sets
-- (complete, analysing, analysed, failed); left unconstrained here on purpose so that
-- the work layer's migration owns its vocabulary.
CREATE TABLE studies (
    study_instance_uid     text PRIMARY KEY,
    patient_id             text,
    patient_name           text,
    patient_birth_date     text,
    patient_sex            text,
    study_date             text,
    study_time             text,
    accession_number       text,
    study_description      text,
    specific_character_set text,
    calling_ae             text,
    first_received_at      timestamptz NOT NULL DEFAULT now(),
    last_received_at       timestamptz NOT NULL DEFAULT now(),
    instance_count         integer NOT NULL DEFAULT 0,
    state                  text NOT NULL DEFAULT 'receiving'
);
CREATE INDEX studies_last_received_at ON studies (state, last_received_at);

CREATE TABLE series (
    series_instance_uid text PRIMARY KEY,
    study_instance_uid  text NOT NULL REFERENCES studies ON DELETE CASCADE,
    modality            text,
    series_number       text
);
CREATE INDEX series_study ON series (study_instance_uid);

CREATE TABLE instances (
    sop_instance_uid     text PRIMARY KEY,
    sop_class_uid        text NOT NULL,
    series_instance_uid  text NOT NULL REFERENCES series ON DELETE CASCADE,
    study_instance_uid   text NOT NULL REFERENCES studies ON DELETE CASCADE,
    instance_number      text,
    path                 text NOT NULL,
    size_bytes           bigint NOT NULL CHECK (size_bytes >= 0),
    sha256               text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    transfer_syntax_uid  text NOT NULL,
    calling_ae           text NOT NULL,
    called_ae            text NOT NULL,
    association_id       bigint REFERENCES associations ON DELETE SET NULL,
    image_laterality     text,
    view_position        text,
    rows                 integer,
    columns              integer,
    received_at          timestamptz NOT NULL DEFAULT now(),
    aborted_association  boolean NOT NULL DEFAULT false
);
CREATE INDEX instances_study ON instances (study_instance_uid, received_at);
CREATE INDEX instances_association ON instances (association_id);

-- The same SOP Instance UID received again with different bytes: the first stored
-- object stays catalogued; the differing bytes are kept at path (DESIGN.md section 4).
CREATE TABLE conflicts (
    id                bigserial PRIMARY KEY,
    sop_instance_uid  text NOT NULL,
    path              text NOT NULL,
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    calling_ae        text,
    association_id    bigint REFERENCES associations ON DELETE SET NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conflicts_sop ON conflicts (sop_instance_uid);

-- Analysis jobs, claimed with SELECT ... FOR UPDATE SKIP LOCKED in state/next_attempt_at
-- order; a running job whose lease_until has passed is reclaimed.
CREATE TABLE jobs (
    id                  bigserial PRIMARY KEY,
    study_instance_uid  text NOT NULL REFERENCES studies ON DELETE CASCADE,
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead')),
    run_number          integer NOT NULL DEFAULT 1,
    attempts            integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    lease_until         timestamptz,
    worker              text,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_claim ON jobs (state, next_attempt_at);
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_study ON jobs (study_instance_uid);

-- Analysis results, per image (cluster_index NULL) and per cluster.
CREATE TABLE results (
    id                  bigserial PRIMARY KEY,
    job_id              bigint NOT NULL REFERENCES jobs ON DELETE CASCADE,
    study_instance_uid  text NOT NULL REFERENCES studies ON DELETE CASCADE,
    sop_instance_uid    text REFERENCES instances ON DELETE CASCADE,
    cluster_index       integer,
    features            jsonb NOT NULL DEFAULT '{}',
    score               double precision,
    category            text,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX results_job ON results (job_id);
CREATE INDEX results_study ON results (study_instance_uid);

-- Result objects to send back (C-STORE SCU), retried with backoff, dead after N.
CREATE TABLE outbound (
    id                  bigserial PRIMARY KEY,
    job_id              bigint REFERENCES jobs ON DELETE SET NULL,
    path                text NOT NULL,
    sop_class_uid       text NOT NULL,
    sop_instance_uid    text NOT NULL,
    destination_ae      text NOT NULL,
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    attempts            integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    lease_until         timestamptz,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_status         integer,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbound_claim ON outbound (state, next_attempt_at);

CREATE TABLE audit (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    object   text,
    outcome  text NOT NULL,
    detail   jsonb
);
CREATE INDEX audit_at ON audit (at);

-- Wake sleepers: a row entering 'queued' notifies its channel with the row id. The
-- channel names are CN_DB_CHANNEL_JOBS and CN_DB_CHANNEL_OUTBOUND in node/db/db.h.
CREATE FUNCTION calcnode_notify_queued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_queued
    AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued')
    EXECUTE FUNCTION calcnode_notify_queued('calcnode_jobs');

CREATE TRIGGER outbound_notify_queued
    AFTER INSERT OR UPDATE OF state ON outbound
    FOR EACH ROW WHEN (NEW.state = 'queued')
    EXECUTE FUNCTION calcnode_notify_queued('calcnode_outbound');

-- Catalogue one instance in one statement (node/db/catalogue.h). Empty texts become NULL
-- for optional attributes. The study row is created with instance_count 0 and bumped
-- only when the instance row is new, so a repeated SOP Instance UID changes nothing.
-- Returns whether the instance was new and the stored row's sha256 and path.
CREATE FUNCTION calcnode_store_instance(
    p_sop_class_uid text, p_sop_instance_uid text, p_study_instance_uid text,
    p_series_instance_uid text, p_transfer_syntax_uid text,
    p_specific_character_set text, p_patient_id text, p_patient_name text,
    p_patient_birth_date text, p_patient_sex text, p_study_date text, p_study_time text,
    p_accession_number text, p_study_description text,
    p_modality text, p_series_number text,
    p_instance_number text, p_image_laterality text, p_view_position text,
    p_rows integer, p_columns integer, p_path text, p_size_bytes bigint, p_sha256 text,
    p_calling_ae text, p_called_ae text, p_association_id bigint,
    OUT is_new boolean, OUT stored_sha256 text, OUT stored_path text)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO studies (study_instance_uid, patient_id, patient_name, patient_birth_date,
                         patient_sex, study_date, study_time, accession_number,
                         study_description, specific_character_set, calling_ae)
    VALUES (p_study_instance_uid, nullif(p_patient_id, ''), nullif(p_patient_name, ''),
            nullif(p_patient_birth_date, ''), nullif(p_patient_sex, ''),
            nullif(p_study_date, ''), nullif(p_study_time, ''),
            nullif(p_accession_number, ''), nullif(p_study_description, ''),
            nullif(p_specific_character_set, ''), p_calling_ae)
    ON CONFLICT (study_instance_uid) DO NOTHING;

    INSERT INTO series (series_instance_uid, study_instance_uid, modality, series_number)
    VALUES (p_series_instance_uid, p_study_instance_uid, nullif(p_modality, ''),
            nullif(p_series_number, ''))
    ON CONFLICT (series_instance_uid) DO NOTHING;

    INSERT INTO instances (sop_instance_uid, sop_class_uid, series_instance_uid,
                           study_instance_uid, instance_number, path, size_bytes, sha256,
                           transfer_syntax_uid, calling_ae, called_ae, association_id,
                           image_laterality, view_position, rows, columns)
    VALUES (p_sop_instance_uid, p_sop_class_uid, p_series_instance_uid,
            p_study_instance_uid, nullif(p_instance_number, ''), p_path, p_size_bytes,
            p_sha256, p_transfer_syntax_uid, p_calling_ae, p_called_ae, p_association_id,
            nullif(p_image_laterality, ''), nullif(p_view_position, ''), p_rows, p_columns)
    ON CONFLICT (sop_instance_uid) DO NOTHING;
    is_new := FOUND;

    IF is_new THEN
        UPDATE studies
           SET last_received_at = now(),
               instance_count = instance_count + 1
         WHERE study_instance_uid = p_study_instance_uid;
        stored_sha256 := p_sha256;
        stored_path := p_path;
    ELSE
        SELECT i.sha256, i.path INTO stored_sha256, stored_path
          FROM instances i WHERE i.sop_instance_uid = p_sop_instance_uid;
    END IF;
END
$$;

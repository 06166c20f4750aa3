-- The calcnode_analysis_seconds histogram of /metrics (node/work/analysis_time.h), kept
-- here so that it covers every worker process sharing the database: the analysis
-- process of each `calcnode serve` and every `calcnode worker` elsewhere.
--
-- One row per bucket, added to by the worker in the transaction that marks a job done
-- (node/work/job.c), so a run that crashed and was retried counts its images once.
-- Counts are per bucket, not cumulative: an image touches one row, and /metrics sums the
-- rows at or below each bound (node/http/query.c). The bounds are the C array
-- cn_analysis_time_bounds_s; rows appear as they are first used.
CREATE TABLE analysis_time (
    le      double precision PRIMARY KEY,  -- upper bound (seconds, inclusive); 'Infinity'
                                           -- for the images above the last finite bound
    images  bigint NOT NULL DEFAULT 0 CHECK (images >= 0),
    seconds double precision NOT NULL DEFAULT 0 CHECK (seconds >= 0) -- summed time
);

-- Ten-minute rollups between the minute and the day ones, same two halves as 0005:
-- * fingerprint_count_10m, ordered by (family, bucket, fingerprint): event counts, for the top-N
--   ranking;
-- * fingerprint_sketch_10m, ordered by (family, fingerprint, bucket): counts, distinct-count
--   sketches, first / last seen, for the N kept.
-- A minute-grain window reads the ten-minute buckets wholly inside it and minute rows only for the
-- edges: an hour that does not start on a boundary is at most 9 + 9 minute rows and 5 bucket rows
-- per fingerprint, where it was 60 minute rows (ranking and sketch merging both scale with that).
--
-- Both are filled by views over the rows written to fingerprint_sketch_minute, like the day
-- tables; they fire with it and deduplicate with the raw insert. The rows kept so far are
-- aggregated from the minute tables first; nothing writes to the store while migrations run, and
-- the tables are emptied before they are filled, so a run that failed can be run again.

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_sketch_10m
(
    family LowCardinality(String),
    fingerprint String,
    bucket DateTime('UTC'),
    events SimpleAggregateFunction(sum, UInt64),
    src_ips AggregateFunction(uniqCombined(12), String),
    hosts AggregateFunction(uniqCombined(12), String),
    user_agents AggregateFunction(uniqCombined(12), String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(bucket)
ORDER BY (family, fingerprint, bucket)
TTL bucket + INTERVAL {retention_days} DAY
SETTINGS index_granularity = 256, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_count_10m
(
    family LowCardinality(String),
    bucket DateTime('UTC'),
    fingerprint LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(bucket)
ORDER BY (family, bucket, fingerprint)
TTL bucket + INTERVAL {retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_sketch_10m;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_count_10m;
TRUNCATE TABLE {db_processing}.fingerprint_sketch_10m;
TRUNCATE TABLE {db_processing}.fingerprint_count_10m;

INSERT INTO {db_processing}.fingerprint_sketch_10m
SELECT
    family,
    fingerprint,
    toStartOfTenMinutes(minute) AS bucket,
    sum(events),
    uniqCombinedMergeState(12)(src_ips),
    uniqCombinedMergeState(12)(hosts),
    uniqCombinedMergeState(12)(user_agents),
    min(first_seen),
    max(last_seen)
FROM {db_processing}.fingerprint_sketch_minute
GROUP BY family, fingerprint, bucket;

INSERT INTO {db_processing}.fingerprint_count_10m
SELECT family, toStartOfTenMinutes(minute) AS bucket, fingerprint, sum(events)
FROM {db_processing}.fingerprint_count_minute
GROUP BY family, bucket, fingerprint;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_fingerprint_sketch_10m
TO {db_processing}.fingerprint_sketch_10m
AS SELECT
    family,
    fingerprint,
    toStartOfTenMinutes(minute) AS bucket,
    sum(events) AS events,
    uniqCombinedMergeState(12)(src_ips) AS src_ips,
    uniqCombinedMergeState(12)(hosts) AS hosts,
    uniqCombinedMergeState(12)(user_agents) AS user_agents,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen
FROM {db_processing}.fingerprint_sketch_minute
GROUP BY family, fingerprint, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_fingerprint_count_10m
TO {db_processing}.fingerprint_count_10m
AS SELECT family, toStartOfTenMinutes(minute) AS bucket, fingerprint, sum(events) AS events
FROM {db_processing}.fingerprint_sketch_minute
GROUP BY family, bucket, fingerprint
HAVING events > 0;

-- Each rollup split in two, each half ordered for the read that uses it:
-- * fingerprint_sketch_minute / fingerprint_sketch_day, ordered by (family, fingerprint, time):
--   counts, distinct-count sketches, first / last seen. The second pass of a top-N read (the
--   sketches of the N kept fingerprints), a fingerprint's summary and its timeline read only the
--   key ranges of their fingerprints; 0004 read and merged every sketch of the window. Small
--   granules: a busy fingerprint has one row per minute (or day) and its sketches are kilobytes,
--   so an 8192-row granule would bring thousands of other fingerprints' sketches along.
-- * fingerprint_count_minute / fingerprint_count_day, ordered by (family, time, fingerprint):
--   event counts only, for the first pass (the top N of a window by events). LowCardinality
--   fingerprints, as in the raw tables: the pass groups the window's rows by fingerprint.
--
-- Only the per-minute sketches are aggregated from raw events (three views, where 0004 had six).
-- The day sketches and both count tables are filled by views over the rows written to
-- fingerprint_sketch_minute (at most one per family, fingerprint and minute of an insert); those
-- fire with it and deduplicate with the raw insert (same insert_deduplication_token). Rows of
-- sessions carry user agents only (events = 0): the sketch tables keep them, the counts skip them.
--
-- http_events gets a projection ordered by ts: "the newest requests" read the end of it, where the
-- table ordered by (ja4h, ts) has some of them in every granule of the window.
--
-- The rows kept by 0004's rollups are copied (day rows older than the raw events included), then
-- 0004's tables are dropped, last: until then a run that failed can be run again (the new tables
-- are emptied before they are filled, and nothing writes to them until the copy is done).

-- Every column (SELECT *): a listing of the newest requests is read from the projection alone.
ALTER TABLE {db_logs}.http_events ADD PROJECTION IF NOT EXISTS by_ts (SELECT * ORDER BY ts);
-- The events stored so far (a background mutation; new parts get the projection when written).
ALTER TABLE {db_logs}.http_events MATERIALIZE PROJECTION by_ts;

DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_sketch_day;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_count_minute;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_count_day;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_sketch_minute
(
    family LowCardinality(String),
    fingerprint String,
    minute DateTime('UTC'),
    events SimpleAggregateFunction(sum, UInt64),
    src_ips AggregateFunction(uniqCombined(12), String),
    hosts AggregateFunction(uniqCombined(12), String),
    user_agents AggregateFunction(uniqCombined(12), String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (family, fingerprint, minute)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS index_granularity = 256, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- Day rows are kept past the raw events' retention, as in 0004.
CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_sketch_day
(
    family LowCardinality(String),
    fingerprint String,
    day Date,
    events SimpleAggregateFunction(sum, UInt64),
    src_ips AggregateFunction(uniqCombined(12), String),
    hosts AggregateFunction(uniqCombined(12), String),
    user_agents AggregateFunction(uniqCombined(12), String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (family, fingerprint, day)
SETTINGS index_granularity = 32, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_count_minute
(
    family LowCardinality(String),
    minute DateTime('UTC'),
    fingerprint LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (family, minute, fingerprint)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_count_day
(
    family LowCardinality(String),
    day Date,
    fingerprint LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (family, day, fingerprint)
SETTINGS non_replicated_deduplication_window = 1000;

TRUNCATE TABLE {db_processing}.fingerprint_sketch_minute;
TRUNCATE TABLE {db_processing}.fingerprint_sketch_day;
TRUNCATE TABLE {db_processing}.fingerprint_count_minute;
TRUNCATE TABLE {db_processing}.fingerprint_count_day;

DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_day;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_day;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_day;

-- Same columns and sketch types as 0004's rollups: a copy, not a new aggregation.
INSERT INTO {db_processing}.fingerprint_sketch_minute
SELECT family, fingerprint, minute, events, src_ips, hosts, user_agents, first_seen, last_seen
FROM {db_processing}.fingerprint_minute;

INSERT INTO {db_processing}.fingerprint_sketch_day
SELECT family, fingerprint, day, events, src_ips, hosts, user_agents, first_seen, last_seen
FROM {db_processing}.fingerprint_day;

INSERT INTO {db_processing}.fingerprint_count_minute
SELECT family, minute, fingerprint, events
FROM {db_processing}.fingerprint_sketch_minute
WHERE events > 0;

INSERT INTO {db_processing}.fingerprint_count_day
SELECT family, day, fingerprint, events
FROM {db_processing}.fingerprint_sketch_day
WHERE events > 0;

-- Views over fingerprint_sketch_minute first, so every row the raw views write reaches them.
CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_fingerprint_sketch_day
TO {db_processing}.fingerprint_sketch_day
AS SELECT
    family,
    fingerprint,
    toDate(minute) AS day,
    sum(events) AS events,
    uniqCombinedMergeState(12)(src_ips) AS src_ips,
    uniqCombinedMergeState(12)(hosts) AS hosts,
    uniqCombinedMergeState(12)(user_agents) AS user_agents,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen
FROM {db_processing}.fingerprint_sketch_minute
GROUP BY family, fingerprint, day;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_fingerprint_count_minute
TO {db_processing}.fingerprint_count_minute
AS SELECT family, minute, fingerprint, events
FROM {db_processing}.fingerprint_sketch_minute
WHERE events > 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_fingerprint_count_day
TO {db_processing}.fingerprint_count_day
AS SELECT family, toDate(minute) AS day, fingerprint, sum(events) AS events
FROM {db_processing}.fingerprint_sketch_minute
GROUP BY family, day, fingerprint
HAVING events > 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_tls_fingerprint_sketch_minute
TO {db_processing}.fingerprint_sketch_minute
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toStartOfMinute(ts) AS minute,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(sni), isNotNull(sni)) AS hosts,
    uniqCombinedStateIf(12)('', 0) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.tls_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_http_fingerprint_sketch_minute
TO {db_processing}.fingerprint_sketch_minute
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toStartOfMinute(ts) AS minute,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(host), isNotNull(host)) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.http_events
ARRAY JOIN [('ja4h', ja4h), ('tfh', tfh)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_session_fingerprint_sketch_minute
TO {db_processing}.fingerprint_sketch_minute
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toStartOfMinute(ts) AS minute,
    toUInt64(0) AS events,
    uniqCombinedStateIf(12)(src_ip, 0) AS src_ips,
    uniqCombinedStateIf(12)('', 0) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.session_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, minute;

DROP TABLE IF EXISTS {db_processing}.fingerprint_minute;
DROP TABLE IF EXISTS {db_processing}.fingerprint_day;

-- The sketch rollups rebuilt with granules bounded by bytes as well as rows
-- (index_granularity_bytes = 64 KiB; table settings that cannot be altered in place).
-- A busy fingerprint's row carries three HyperLogLog states of ~2.5 KiB each, so 256-row granules
-- were ~2 MiB: the second pass of a top-N read (the sketches of N fingerprints over an hour) read
-- five rows for each one it used, and a day's row dragged 31 others along. With 64 KiB granules,
-- rows with large sketches sit a few to a granule and small ones still 256 (or 32) to one. Measured
-- on 10M events (bench/store-query.ts data, idle): top ja4 over 1 h, p50 51-53 -> 44-48 ms,
-- p90 70 -> 49-56 ms; rows read by the sketch pass 6,656 -> 3,366.
--
-- CREATE OR REPLACE … AS SELECT swaps a full copy in atomically: a run stopped anywhere leaves
-- either table whole, and running again copies again. The views that write to or read from the
-- two tables are dropped first (nothing reaches the rollups while the copy runs; migrations run
-- before the sources start) and created again, as in 0005, last.

DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_sketch_minute;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_sketch_day;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_count_minute;
DROP VIEW IF EXISTS {db_processing}.mv_fingerprint_count_day;

CREATE OR REPLACE TABLE {db_processing}.fingerprint_sketch_minute
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
SETTINGS index_granularity = 256, index_granularity_bytes = 65536, ttl_only_drop_parts = 1,
    non_replicated_deduplication_window = 1000
AS SELECT * FROM {db_processing}.fingerprint_sketch_minute;

CREATE OR REPLACE TABLE {db_processing}.fingerprint_sketch_day
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
SETTINGS index_granularity = 32, index_granularity_bytes = 65536,
    non_replicated_deduplication_window = 1000
AS SELECT * FROM {db_processing}.fingerprint_sketch_day;

-- The views of 0005, unchanged: those over fingerprint_sketch_minute first.
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

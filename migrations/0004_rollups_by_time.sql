-- Rollups rebuilt for the dashboard's reads:
-- * ordered by (family, time, fingerprint): "top fingerprints in this window" reads only the
--   window's rows (the timeline of one fingerprint reads the raw table, ordered by it);
-- * distinct counts as uniqCombined sketches (fixed-size HyperLogLog past a few thousand values)
--   instead of uniq: merging the states of a busy fingerprint over a day was most of a query's
--   time.
-- The old tables and views are dropped and the new rollups are filled again from the raw events.

DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_minute;
DROP VIEW IF EXISTS {db_processing}.mv_tls_fingerprint_day;
DROP VIEW IF EXISTS {db_processing}.mv_http_fingerprint_day;
DROP VIEW IF EXISTS {db_processing}.mv_session_fingerprint_day;
DROP TABLE IF EXISTS {db_processing}.fingerprint_minute;
DROP TABLE IF EXISTS {db_processing}.fingerprint_day;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_minute
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
ORDER BY (family, minute, fingerprint)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_day
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
ORDER BY (family, day, fingerprint)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_tls_fingerprint_minute
TO {db_processing}.fingerprint_minute
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_http_fingerprint_minute
TO {db_processing}.fingerprint_minute
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_session_fingerprint_minute
TO {db_processing}.fingerprint_minute
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_tls_fingerprint_day
TO {db_processing}.fingerprint_day
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(sni), isNotNull(sni)) AS hosts,
    uniqCombinedStateIf(12)('', 0) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.tls_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_http_fingerprint_day
TO {db_processing}.fingerprint_day
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(host), isNotNull(host)) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.http_events
ARRAY JOIN [('ja4h', ja4h), ('tfh', tfh)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_session_fingerprint_day
TO {db_processing}.fingerprint_day
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    toUInt64(0) AS events,
    uniqCombinedStateIf(12)(src_ip, 0) AS src_ips,
    uniqCombinedStateIf(12)('', 0) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.session_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

-- Backfill from the raw events kept so far.
INSERT INTO {db_processing}.fingerprint_minute
SELECT
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

INSERT INTO {db_processing}.fingerprint_minute
SELECT
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

INSERT INTO {db_processing}.fingerprint_minute
SELECT
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

INSERT INTO {db_processing}.fingerprint_day
SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(sni), isNotNull(sni)) AS hosts,
    uniqCombinedStateIf(12)('', 0) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.tls_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

INSERT INTO {db_processing}.fingerprint_day
SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    count() AS events,
    uniqCombinedState(12)(src_ip) AS src_ips,
    uniqCombinedStateIf(12)(assumeNotNull(host), isNotNull(host)) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.http_events
ARRAY JOIN [('ja4h', ja4h), ('tfh', tfh)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

INSERT INTO {db_processing}.fingerprint_day
SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toDate(ts) AS day,
    toUInt64(0) AS events,
    uniqCombinedStateIf(12)(src_ip, 0) AS src_ips,
    uniqCombinedStateIf(12)('', 0) AS hosts,
    uniqCombinedStateIf(12)(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.session_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

-- Per-fingerprint rollups, per minute and per day, filled by materialized views from the raw
-- tables. One row per (family, fingerprint, bucket): event count, distinct client addresses,
-- distinct hosts (SNI for tls, Host for http), distinct user agents, first and last seen.
--
-- Families: tls → ja4, ja4_stable, ja3, ja4s, ja3s, ja4t, tft; http → ja4h, tfh. A session adds
-- only the user agents of its tls fingerprints (its handshake and request are already counted
-- in tls and http), which is where "which clients use this JA4" comes from. JA3/JA4 values that
-- an http log carries are not rolled up: they would count requests as handshakes.
--
-- Minute rows expire with the raw events; day rows hold only counts and sketches and are kept.
-- The rollups deduplicate with the raw insert (same insert_deduplication_token).

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_minute
(
    family LowCardinality(String),
    fingerprint String,
    minute DateTime('UTC'),
    events SimpleAggregateFunction(sum, UInt64),
    src_ips AggregateFunction(uniq, String),
    hosts AggregateFunction(uniq, String),
    user_agents AggregateFunction(uniq, String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (family, fingerprint, minute)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_processing}.fingerprint_day
(
    family LowCardinality(String),
    fingerprint String,
    day Date,
    events SimpleAggregateFunction(sum, UInt64),
    src_ips AggregateFunction(uniq, String),
    hosts AggregateFunction(uniq, String),
    user_agents AggregateFunction(uniq, String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (family, fingerprint, day)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db_processing}.mv_tls_fingerprint_minute
TO {db_processing}.fingerprint_minute
AS SELECT
    fp.1 AS family,
    assumeNotNull(fp.2) AS fingerprint,
    toStartOfMinute(ts) AS minute,
    count() AS events,
    uniqState(src_ip) AS src_ips,
    uniqStateIf(assumeNotNull(sni), isNotNull(sni)) AS hosts,
    uniqStateIf('', 0) AS user_agents,
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
    uniqState(src_ip) AS src_ips,
    uniqStateIf(assumeNotNull(host), isNotNull(host)) AS hosts,
    uniqStateIf(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
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
    uniqStateIf(src_ip, 0) AS src_ips,
    uniqStateIf('', 0) AS hosts,
    uniqStateIf(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
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
    uniqState(src_ip) AS src_ips,
    uniqStateIf(assumeNotNull(sni), isNotNull(sni)) AS hosts,
    uniqStateIf('', 0) AS user_agents,
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
    uniqState(src_ip) AS src_ips,
    uniqStateIf(assumeNotNull(host), isNotNull(host)) AS hosts,
    uniqStateIf(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
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
    uniqStateIf(src_ip, 0) AS src_ips,
    uniqStateIf('', 0) AS hosts,
    uniqStateIf(assumeNotNull(user_agent), isNotNull(user_agent)) AS user_agents,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {db_logs}.session_events
ARRAY JOIN [('ja4', ja4), ('ja4_stable', ja4_stable), ('ja3', ja3), ('ja4s', ja4s), ('ja3s', ja3s), ('ja4t', ja4t), ('tft', tft)] AS fp
WHERE fp.2 IS NOT NULL
GROUP BY family, fingerprint, day;

-- Raw event tables, one per event type. Columns follow the event field lists in src/events/
-- (src/store/schema.ts maps them; a test checks they agree).
--
-- ORDER BY (fingerprint, ts): the common read is "this fingerprint over this window". Other
-- families and addresses get bloom-filter skip indexes. Fingerprint keys are Nullable
-- (allow_nullable_key) so an event without a fingerprint stays null rather than ''.
-- Daily partitions let the retention TTL drop whole parts (ttl_only_drop_parts).
-- non_replicated_deduplication_window: every insert carries its batch id as
-- insert_deduplication_token, so a batch replayed from the spool after a crash is not stored twice.

CREATE TABLE IF NOT EXISTS {db_logs}.tls_events
(
    ts DateTime64(6, 'UTC'),
    sensor LowCardinality(String),
    src_ip String,
    src_port UInt16,
    dst_ip String,
    dst_port UInt16,
    transport LowCardinality(String),
    hello_index UInt16,
    sni Nullable(String),
    alpn Array(LowCardinality(String)),
    tls_version LowCardinality(Nullable(String)),
    tls_version_negotiated LowCardinality(Nullable(String)),
    ja3 LowCardinality(Nullable(String)),
    ja3_str LowCardinality(Nullable(String)),
    ja4 LowCardinality(Nullable(String)),
    ja4_r LowCardinality(Nullable(String)),
    ja4_o LowCardinality(Nullable(String)),
    ja4_ro LowCardinality(Nullable(String)),
    ja4_stable LowCardinality(Nullable(String)),
    resumption Array(LowCardinality(String)),
    ja3s LowCardinality(Nullable(String)),
    ja3s_str LowCardinality(Nullable(String)),
    ja4s LowCardinality(Nullable(String)),
    ja4s_r LowCardinality(Nullable(String)),
    ja4t LowCardinality(Nullable(String)),
    ja4ts LowCardinality(Nullable(String)),
    ja4l_c Nullable(String),
    ja4l_s Nullable(String),
    anomalies Array(LowCardinality(String)),
    tft LowCardinality(Nullable(String)),
    tft_stable LowCardinality(Nullable(String)),
    cf_ciphers_sha1 LowCardinality(Nullable(String)),
    cf_extensions_sha1 LowCardinality(Nullable(String)),
    hello_length Nullable(UInt32),
    -- Validity stays text: RFC 5280 §4.1.2.5 allows 99991231235959Z, beyond DateTime64.
    certs Array(Tuple(
        role LowCardinality(String),
        index UInt16,
        subject String,
        subject_cn Nullable(String),
        issuer String,
        issuer_cn Nullable(String),
        sans Array(String),
        not_before Nullable(String),
        not_after Nullable(String),
        serial String,
        sha256 String,
        self_signed Bool,
        ja4x Nullable(String),
        ja4x_r Nullable(String),
        anomalies Array(LowCardinality(String)))),
    INDEX idx_ja3 ja3 TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja4_stable ja4_stable TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja4s ja4s TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja4t ja4t TYPE bloom_filter GRANULARITY 4,
    INDEX idx_tft tft TYPE bloom_filter GRANULARITY 4,
    INDEX idx_src_ip src_ip TYPE bloom_filter GRANULARITY 4,
    INDEX idx_sni sni TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (ja4, ts)
TTL toDateTime(ts) + INTERVAL {retention_days} DAY
SETTINGS allow_nullable_key = 1, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_logs}.http_events
(
    ts DateTime64(6, 'UTC'),
    sensor LowCardinality(String),
    source LowCardinality(String),
    src_ip String,
    src_port Nullable(UInt16),
    dst_ip Nullable(String),
    dst_port Nullable(UInt16),
    host Nullable(String),
    method LowCardinality(String),
    path String,
    status Nullable(UInt16),
    user_agent Nullable(String),
    request_time_ms Nullable(Float64),
    ja4h LowCardinality(Nullable(String)),
    ja4h_r LowCardinality(Nullable(String)),
    ja4h_ro LowCardinality(Nullable(String)),
    tfh LowCardinality(Nullable(String)),
    ja3 LowCardinality(Nullable(String)),
    ja4 LowCardinality(Nullable(String)),
    cf_ciphers_sha1 LowCardinality(Nullable(String)),
    cf_extensions_sha1 LowCardinality(Nullable(String)),
    hello_length Nullable(UInt32),
    tls_version LowCardinality(Nullable(String)),
    sni Nullable(String),
    INDEX idx_tfh tfh TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja3 ja3 TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja4 ja4 TYPE bloom_filter GRANULARITY 4,
    INDEX idx_src_ip src_ip TYPE bloom_filter GRANULARITY 4,
    INDEX idx_host host TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (ja4h, ts)
TTL toDateTime(ts) + INTERVAL {retention_days} DAY
SETTINGS allow_nullable_key = 1, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db_logs}.session_events
(
    ts DateTime64(6, 'UTC'),
    src_ip String,
    src_port UInt16,
    dst_ip String,
    dst_port UInt16,
    transport LowCardinality(String),
    hello_index UInt16,
    sni Nullable(String),
    alpn Array(LowCardinality(String)),
    tls_version LowCardinality(Nullable(String)),
    tls_version_negotiated LowCardinality(Nullable(String)),
    ja3 LowCardinality(Nullable(String)),
    ja3_str LowCardinality(Nullable(String)),
    ja4 LowCardinality(Nullable(String)),
    ja4_r LowCardinality(Nullable(String)),
    ja4_o LowCardinality(Nullable(String)),
    ja4_ro LowCardinality(Nullable(String)),
    ja4_stable LowCardinality(Nullable(String)),
    resumption Array(LowCardinality(String)),
    ja3s LowCardinality(Nullable(String)),
    ja3s_str LowCardinality(Nullable(String)),
    ja4s LowCardinality(Nullable(String)),
    ja4s_r LowCardinality(Nullable(String)),
    ja4t LowCardinality(Nullable(String)),
    ja4ts LowCardinality(Nullable(String)),
    ja4l_c Nullable(String),
    ja4l_s Nullable(String),
    anomalies Array(LowCardinality(String)),
    sensor LowCardinality(String),
    tft LowCardinality(Nullable(String)),
    tft_stable LowCardinality(Nullable(String)),
    cf_ciphers_sha1 LowCardinality(Nullable(String)),
    cf_extensions_sha1 LowCardinality(Nullable(String)),
    hello_length Nullable(UInt32),
    certs Array(Tuple(
        role LowCardinality(String),
        index UInt16,
        subject String,
        subject_cn Nullable(String),
        issuer String,
        issuer_cn Nullable(String),
        sans Array(String),
        not_before Nullable(String),
        not_after Nullable(String),
        serial String,
        sha256 String,
        self_signed Bool,
        ja4x Nullable(String),
        ja4x_r Nullable(String),
        anomalies Array(LowCardinality(String)))),
    source LowCardinality(String),
    host Nullable(String),
    method LowCardinality(String),
    path String,
    status Nullable(UInt16),
    user_agent Nullable(String),
    request_time_ms Nullable(Float64),
    ja4h LowCardinality(Nullable(String)),
    ja4h_r LowCardinality(Nullable(String)),
    ja4h_ro LowCardinality(Nullable(String)),
    tfh LowCardinality(Nullable(String)),
    lag_ms Float64,
    join LowCardinality(String),
    INDEX idx_ja3 ja3 TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ja4h ja4h TYPE bloom_filter GRANULARITY 4,
    INDEX idx_tfh tfh TYPE bloom_filter GRANULARITY 4,
    INDEX idx_src_ip src_ip TYPE bloom_filter GRANULARITY 4,
    INDEX idx_host host TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (ja4, ts)
TTL toDateTime(ts) + INTERVAL {retention_days} DAY
SETTINGS allow_nullable_key = 1, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- The two databases: raw events (subject to retention) and everything derived from them.
CREATE DATABASE IF NOT EXISTS {db_logs};
CREATE DATABASE IF NOT EXISTS {db_processing};

-- Login limits (issue 11): one row per username ('u:…') and client address ('a:…') bucket. Each
-- login attempt updates its buckets' rows first, in the transaction that counts and records the
-- attempt before the password is verified, so concurrent attempts are counted one after the other
-- on both engines (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock). `failures` and
-- `blocked_until` are the username's backoff: consecutive failures since its last success.
-- Kept in step with ../postgres/0007_login_throttle.sql.
CREATE TABLE login_throttle (
    bucket TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    blocked_until TEXT,
    touched_at TEXT NOT NULL
);
CREATE INDEX login_throttle_touched ON login_throttle(touched_at);

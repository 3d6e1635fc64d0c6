-- Bearer tokens (issue 11): an expiry (NULL: a device's token, valid until revoked) and when a
-- token was last used (kept to about ten minutes). Tokens made before tokens expired get the
-- default lifetime, 90 days from their creation. Kept in step with ../postgres/0008_token_expiry.sql.
ALTER TABLE api_token ADD COLUMN expires_at TEXT;
ALTER TABLE api_token ADD COLUMN last_used_at TEXT;
CREATE INDEX api_token_user ON api_token(user_id);
CREATE INDEX device_user ON device(user_id);
-- times are stored as RFC 3339 text in UTC (sqlx's encoding), which strftime reads and writes
UPDATE api_token SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+90 days')
WHERE user_id NOT IN (SELECT user_id FROM device WHERE user_id IS NOT NULL);

-- Bearer tokens (issue 11): an expiry (NULL: a device's token, valid until revoked) and when a
-- token was last used (kept to about ten minutes). Tokens made before tokens expired get the
-- default lifetime, 90 days from their creation. Kept in step with ../sqlite/0008_token_expiry.sql.
ALTER TABLE api_token ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_token ADD COLUMN last_used_at TIMESTAMPTZ;
CREATE INDEX api_token_user ON api_token(user_id);
CREATE INDEX device_user ON device(user_id);
UPDATE api_token SET expires_at = created_at + INTERVAL '90 days'
WHERE user_id NOT IN (SELECT user_id FROM device WHERE user_id IS NOT NULL);

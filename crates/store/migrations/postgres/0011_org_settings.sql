-- Settings an org sets for its subtree: the thresholds domain-rules tags [U]/[L] are deployment
-- settings, "per organization subtree where it makes sense". The nearest org up the tree that
-- sets a key wins, else the deployment's value (store/src/settings/subtree.rs). Keys are checked
-- by the code, not here, so a module adds its keys without rebuilding the table. The one key
-- dues_setting held (the arrears reminder) moves here.
CREATE TABLE org_setting (
    org_id BIGINT NOT NULL REFERENCES org(id),
    org_path TEXT COLLATE "C" NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_by BIGINT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX org_setting_path ON org_setting (org_path);

INSERT INTO org_setting (org_id, org_path, key, value, updated_by, updated_at)
SELECT org_id, org_path, 'dues.reminder_months', CAST(reminder_months AS TEXT), updated_by, updated_at
FROM dues_setting;

DROP TABLE dues_setting;

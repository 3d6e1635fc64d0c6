-- One audit chain per top-level org: each row links to the previous row of its chain, and each
-- chain has its own head row, so appenders in different top-level orgs never lock the same row.
-- Existing rows keep NULLs here until the start-up conversion (`audit::upgrade_to_chains`)
-- re-links them, once, if the old single chain verifies.
ALTER TABLE audit ADD COLUMN chain INTEGER;
ALTER TABLE audit ADD COLUMN chain_seq INTEGER;
CREATE UNIQUE INDEX audit_chain_seq ON audit(chain, chain_seq);

CREATE TABLE audit_chain_head (
    chain INTEGER PRIMARY KEY,
    chain_seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

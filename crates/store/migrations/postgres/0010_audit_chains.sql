-- One audit chain per top-level org: each row links to the previous row of its chain, and each
-- chain has its own head row, so appenders in different top-level orgs never lock the same row.
-- Existing rows keep NULLs here until the start-up conversion (`audit::upgrade_to_chains`)
-- re-links them, once, if the old single chain verifies.
ALTER TABLE audit ADD COLUMN chain BIGINT;
ALTER TABLE audit ADD COLUMN chain_seq BIGINT;
CREATE UNIQUE INDEX audit_chain_seq ON audit(chain, chain_seq);

CREATE TABLE audit_chain_head (
    chain BIGINT PRIMARY KEY,
    chain_seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- Row numbers stay one sequence for all chains (newest first in the list), taken without a
-- lock: after every existing row and after the old head (which may count rows cut off its end).
CREATE SEQUENCE audit_seq;
SELECT setval('audit_seq', GREATEST(
    COALESCE((SELECT MAX(seq) FROM audit), 0),
    COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0)) + 1, false);

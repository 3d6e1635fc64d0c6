-- 党费 (issue 6, first increment): the yearly base and monthly amount per member, and the monthly
-- bills. Money in integer 分 only. Kept in step with ../postgres/0003_dues.sql (a test compares
-- tables and columns).

CREATE TABLE dues_base (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_path TEXT NOT NULL,
    year INTEGER NOT NULL,
    category TEXT NOT NULL,
    base_fen INTEGER,
    monthly_fen INTEGER NOT NULL CHECK (monthly_fen >= 0),
    rule_set TEXT NOT NULL,
    override_reason TEXT,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL,
    UNIQUE (person_id, year)
);
CREATE INDEX dues_base_year ON dues_base(year, org_path);

CREATE TABLE dues_bill (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_path TEXT NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    status TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due','paid','waived')),
    created_at TEXT NOT NULL,
    UNIQUE (person_id, year, month)
);
CREATE INDEX dues_bill_org_path ON dues_bill(org_path, year, month);

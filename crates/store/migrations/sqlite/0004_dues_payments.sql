-- 党费 (issue 6, second increment): payments (by hand or online), online orders, hardship
-- applications, arrears cases, 上缴 remittances and per-subtree settings. Money in integer 分;
-- a month is the integer yyyymm (202603). Kept in step with ../postgres/0004_dues_payments.sql.

-- what a hardship waiver or reduction takes off a bill, the payment that settled it (lookups by
-- person use the UNIQUE (person_id, year, month) index; no further index slows generation)
ALTER TABLE dues_bill ADD COLUMN relief_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dues_bill ADD COLUMN hardship_id INTEGER;
ALTER TABLE dues_bill ADD COLUMN payment_id INTEGER;
ALTER TABLE dues_bill ADD COLUMN paid_at TEXT;

CREATE TABLE dues_order (
    id INTEGER PRIMARY KEY,
    order_no TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES person(id),
    payer_person_id INTEGER REFERENCES person(id),
    org_path TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    months TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','paid')),
    provider_txn TEXT,
    payment_id INTEGER,
    answer TEXT,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    paid_at TEXT
);
CREATE INDEX dues_order_person ON dues_order(person_id);

CREATE TABLE dues_payment (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_path TEXT NOT NULL,
    payer_person_id INTEGER REFERENCES person(id),
    payer_name TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('regular','voluntary')),
    method TEXT NOT NULL CHECK (method IN ('cash','transfer','online')),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    large INTEGER NOT NULL DEFAULT 0,
    months TEXT NOT NULL DEFAULT '',
    month_count INTEGER NOT NULL DEFAULT 0,
    paid_on TEXT NOT NULL,
    order_id INTEGER REFERENCES dues_order(id),
    note TEXT,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX dues_payment_org ON dues_payment(org_path, paid_on);
CREATE INDEX dues_payment_person ON dues_payment(person_id);

CREATE TABLE dues_hardship (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_path TEXT NOT NULL,
    branch_id INTEGER NOT NULL REFERENCES org(id),
    from_ym INTEGER NOT NULL,
    to_ym INTEGER NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('waive','reduce')),
    reduced_fen INTEGER CHECK (reduced_fen >= 0),
    reason TEXT NOT NULL,
    retiree INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('applied','discussed','approved','rejected')),
    applied_by INTEGER,
    applied_at TEXT NOT NULL,
    branch_agreed INTEGER,
    branch_meeting_on TEXT,
    branch_note TEXT,
    discussed_by INTEGER,
    discussed_at TEXT,
    approver_org_id INTEGER REFERENCES org(id),
    approval_note TEXT,
    decided_by INTEGER,
    decided_at TEXT
);
CREATE INDEX dues_hardship_person ON dues_hardship(person_id, status);
CREATE INDEX dues_hardship_org ON dues_hardship(org_path, status);

CREATE TABLE dues_arrears_case (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_path TEXT NOT NULL,
    months_unpaid INTEGER NOT NULL,
    first_unpaid_ym INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open','justified','removal_proposed','kept')),
    opened_by INTEGER,
    opened_at TEXT NOT NULL,
    meeting_on TEXT,
    decision_note TEXT,
    decided_by INTEGER,
    decided_at TEXT
);
CREATE INDEX dues_arrears_case_person ON dues_arrears_case(person_id, status);

CREATE TABLE dues_remittance (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    org_path TEXT NOT NULL,
    to_org_id INTEGER REFERENCES org(id),
    year INTEGER NOT NULL,
    month INTEGER CHECK (month BETWEEN 1 AND 12),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    large_fen INTEGER NOT NULL DEFAULT 0 CHECK (large_fen >= 0),
    remitted_on TEXT NOT NULL,
    note TEXT,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX dues_remittance_org ON dues_remittance(org_path, year);

CREATE TABLE dues_setting (
    org_id INTEGER PRIMARY KEY REFERENCES org(id),
    org_path TEXT NOT NULL,
    reminder_months INTEGER NOT NULL CHECK (reminder_months BETWEEN 1 AND 5),
    updated_by INTEGER,
    updated_at TEXT NOT NULL
);

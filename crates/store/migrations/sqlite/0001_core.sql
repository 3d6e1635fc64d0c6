-- Core schema: org tree, people and their status events, accounts, sessions, audit.
-- Kept in step with ../postgres/0001_core.sql (a test compares tables and columns).

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE org (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES org(id),
    root_id INTEGER,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('committee','working_committee','general_branch','branch','group')),
    branch_type TEXT CHECK (branch_type IN ('regular','joint','temporary','mobile')),
    category TEXT NOT NULL,
    established_on TEXT,
    term_started_on TEXT,
    term_years INTEGER,
    joint_units INTEGER,
    member_count INTEGER NOT NULL DEFAULT 0,
    formal_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX org_path ON org(path);
CREATE INDEX org_parent ON org(parent_id);

CREATE TABLE org_history (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    change TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    effective_on TEXT NOT NULL,
    reason TEXT,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX org_history_org ON org_history(org_id);

CREATE TABLE person (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    root_id INTEGER NOT NULL,
    org_path TEXT NOT NULL,
    name TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('male','female')),
    ethnicity TEXT,
    birth_date TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_index TEXT NOT NULL UNIQUE,
    id_number_masked TEXT NOT NULL,
    phone_enc TEXT,
    phone_masked TEXT,
    education TEXT,
    category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('formal','probationary','applicant','activist','candidate','left','suspended','deceased','transferred_out')),
    joined_on TEXT,
    regularized_on TEXT,
    work_unit TEXT,
    card_uid TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX person_org_path ON person(org_path, status);
CREATE INDEX person_org ON person(org_id);
CREATE INDEX person_name ON person(name);

CREATE TABLE person_event (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_id INTEGER NOT NULL REFERENCES org(id),
    kind TEXT NOT NULL,
    event_date TEXT NOT NULL,
    status_before TEXT,
    status_after TEXT NOT NULL,
    org_before INTEGER,
    org_after INTEGER NOT NULL,
    reason TEXT,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX person_event_person ON person_event(person_id);

CREATE TABLE committee_post (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    post TEXT NOT NULL,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX committee_post_org ON committee_post(org_id);

CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    person_id INTEGER REFERENCES person(id),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    created_at TEXT NOT NULL,
    password_changed_at TEXT
);
CREATE UNIQUE INDEX app_user_person ON app_user(person_id);

CREATE TABLE role_grant (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    role TEXT NOT NULL CHECK (role IN ('admin','org_admin','secretary','committee','staff','member','device')),
    org_id INTEGER NOT NULL REFERENCES org(id),
    created_at TEXT NOT NULL
);
CREATE INDEX role_grant_user ON role_grant(user_id);

CREATE TABLE session (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    name TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE login_failure (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    minute TEXT NOT NULL
);
CREATE INDEX login_failure_bucket ON login_failure(bucket, minute);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    org_path TEXT,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit(entity, entity_id);

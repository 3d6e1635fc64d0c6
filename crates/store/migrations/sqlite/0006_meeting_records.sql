-- Meeting records (issue 5): minutes with 决议 items, attachments (stored in the database, so a
-- backup holds them and every PostgreSQL node serves them), amendments after close (minutes and
-- one person's attendance, each with a reason), the expected list frozen at close, and seat
-- plans per venue with the seats of each meeting. Host, recorder and agenda are 0005's columns.
-- Kept in step with ../postgres/0006_meeting_records.sql.

CREATE TABLE meeting_minutes (
    meeting_id INTEGER PRIMARY KEY REFERENCES meeting(id),
    minutes TEXT NOT NULL DEFAULT '',
    decisions_json TEXT NOT NULL DEFAULT '[]',
    updated_by INTEGER,
    updated_at TEXT NOT NULL
);

CREATE TABLE meeting_attachment (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_attachment_meeting ON meeting_attachment(meeting_id);

CREATE TABLE meeting_amendment (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    target TEXT NOT NULL CHECK (target IN ('minutes','attendance')),
    person_id INTEGER REFERENCES person(id),
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    reason TEXT NOT NULL,
    amended_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_amendment_meeting ON meeting_amendment(meeting_id, person_id);

CREATE TABLE meeting_expected (
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    org_id INTEGER NOT NULL,
    guest INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, person_id)
);

CREATE TABLE seat_plan (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    org_path TEXT NOT NULL,
    venue TEXT NOT NULL,
    seat_rows INTEGER NOT NULL CHECK (seat_rows BETWEEN 1 AND 100),
    seats_per_row INTEGER NOT NULL CHECK (seats_per_row BETWEEN 1 AND 200),
    blocks_json TEXT NOT NULL DEFAULT '[]',
    reserved_json TEXT NOT NULL DEFAULT '[]',
    updated_by INTEGER,
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, venue)
);

CREATE TABLE meeting_seat (
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    seat_row INTEGER NOT NULL,
    seat_no INTEGER NOT NULL,
    by_hand INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, person_id),
    UNIQUE (meeting_id, seat_row, seat_no)
);

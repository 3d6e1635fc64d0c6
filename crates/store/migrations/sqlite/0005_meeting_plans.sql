-- Meeting planning (issue 5): host, recorder, agenda, the wall's text, cancel and reschedule,
-- recurring series, notices to attendees and members' leave requests. New columns and tables
-- only: SQLite cannot alter a CHECK, so a cancelled meeting is stored `closed` with
-- `cancelled_at`, and a member's leave request lives in `leave_request` until approved (then a
-- row in meeting_leave, which attendance reads). Kept in step with ../postgres/0005_meeting_plans.sql.

ALTER TABLE meeting ADD COLUMN host TEXT;
ALTER TABLE meeting ADD COLUMN recorder TEXT;
ALTER TABLE meeting ADD COLUMN agenda TEXT;
ALTER TABLE meeting ADD COLUMN cancelled_at TEXT;
ALTER TABLE meeting ADD COLUMN cancel_reason TEXT;
ALTER TABLE meeting ADD COLUMN series_id INTEGER;
ALTER TABLE meeting ADD COLUMN wall_title TEXT;
ALTER TABLE meeting ADD COLUMN wall_text TEXT;

CREATE TABLE meeting_series (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    org_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    every TEXT NOT NULL CHECK (every IN ('week','month')),
    count INTEGER NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_series_id ON meeting(series_id);

CREATE TABLE meeting_notice (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    event TEXT NOT NULL CHECK (event IN ('planned','rescheduled','cancelled')),
    starts_at TEXT NOT NULL,
    venue TEXT,
    reason TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_notice_person ON meeting_notice(person_id, created_at);
CREATE INDEX meeting_notice_meeting ON meeting_notice(meeting_id);

CREATE TABLE leave_request (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','refused')),
    decided_by INTEGER,
    decided_at TEXT,
    decision_note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX leave_request_meeting ON leave_request(meeting_id, person_id);

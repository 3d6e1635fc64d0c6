-- Meetings and check-in (issue 5, first increment): meetings, invitees, leaves, check-in events
-- (idempotent by (meeting_id, event_id), with the stored answer for replays), unknown cards, and
-- devices. Kept in step with ../postgres/0002_meetings.sql (a test compares tables and columns).

CREATE TABLE meeting (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org(id),
    org_path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('branch_congress','committee','group','party_lecture','theme_day','life_meeting','evaluation','other')),
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    venue TEXT,
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned','open','closed')),
    closed_at TEXT,
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_org_path ON meeting(org_path, starts_at);

CREATE TABLE meeting_invitee (
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    role TEXT NOT NULL CHECK (role IN ('guest','attendee_extra')),
    PRIMARY KEY (meeting_id, person_id)
);

CREATE TABLE meeting_leave (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    person_id INTEGER NOT NULL REFERENCES person(id),
    reason TEXT,
    status TEXT NOT NULL DEFAULT 'approved' CHECK (status IN ('approved')),
    recorded_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_leave_meeting ON meeting_leave(meeting_id, person_id);

CREATE TABLE checkin_event (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    event_id TEXT NOT NULL CHECK (length(event_id) <= 64),
    body_hash TEXT NOT NULL,
    person_id INTEGER REFERENCES person(id),
    card_uid TEXT,
    method TEXT NOT NULL CHECK (method IN ('qr','card','manual','face','infrared','proxy')),
    direction TEXT NOT NULL CHECK (direction IN ('in','out')),
    device_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    reason TEXT,
    recorded_by INTEGER,
    answer_json TEXT NOT NULL,
    UNIQUE (meeting_id, event_id)
);
CREATE INDEX checkin_event_person ON checkin_event(meeting_id, person_id);

CREATE TABLE unresolved_card (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meeting(id),
    event_id TEXT NOT NULL,
    card_uid TEXT NOT NULL,
    device_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (meeting_id, event_id)
);

CREATE TABLE device (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rfid_gate','presence','kiosk')),
    org_id INTEGER NOT NULL REFERENCES org(id),
    user_id INTEGER REFERENCES app_user(id),
    created_at TEXT NOT NULL
);
CREATE INDEX device_org ON device(org_id);

CREATE INDEX person_card_uid ON person(card_uid);

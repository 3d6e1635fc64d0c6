//! The in-memory roster of a meeting taking check-ins (DESIGN.md "Live check-in", step 2): who
//! is expected or invited, their cards and names, every stored event id with its answer (for
//! replays), and each person's events and state, so deciding a check-in reads no table.
//!
//! The roster belongs to the node's check-in writer alone (no lock). It is a cache the writer
//! re-validates in every batch's transaction, after locking the meeting row: leaves and invitees
//! are re-read (small), events other nodes stored since the roster's watermark are applied, and
//! a person or card the roster does not know is looked up in the database before it is refused —
//! so members who joined the org after the roster was loaded can still check in.

use std::collections::{HashMap, HashSet};

use dangjian_rules::meeting::{self, AttendanceState, Counts, Event, Window};
use time::{Duration, OffsetDateTime};

use super::{MeetingRow, committee_only};
use crate::db::Tx;
use crate::error::StoreResult;
use crate::paths::upper_bound;

/// A stored event as replays see it.
pub(super) struct Stored {
    pub hash: String,
    pub answer: String,
}

pub(super) struct Roster {
    pub meeting: MeetingRow,
    expected: HashSet<i64>,
    guests: HashSet<i64>,
    leaves: HashSet<i64>,
    names: HashMap<i64, String>,
    cards: HashMap<String, i64>,
    seats: HashMap<i64, String>,
    /// The writer's seat generation the seats were loaded at.
    pub seats_version: u64,
    events: HashMap<i64, Vec<Event>>,
    pub stored: HashMap<String, Stored>,
    /// Unknown-card events kept for staff: event_id → card.
    pub unresolved: HashMap<String, String>,
    /// The highest `checkin_event.id` applied.
    watermark: i64,
    counts: Counts,
    /// The late grace of the meeting's subtree, and when it was read (`GRACE_TTL`).
    grace: Duration,
    grace_read: std::time::Instant,
}

/// How long a roster trusts the grace it read: a change of the subtree's setting (on any node)
/// reaches the check-in answers of a meeting under way within this time.
const GRACE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// (id, event_id, body_hash, answer_json, person_id, direction, counted_at)
type EventRow = (i64, String, String, String, Option<i64>, String, OffsetDateTime);

const EVENT_COLS: &str = "id, event_id, body_hash, answer_json, person_id, direction, counted_at";

impl Roster {
    pub fn grace_is_stale(&self) -> bool {
        self.grace_read.elapsed() > GRACE_TTL
    }

    pub fn set_grace(&mut self, grace: Duration) {
        self.grace = grace;
        self.grace_read = std::time::Instant::now();
    }

    /// Loads the roster of a locked meeting inside the batch's transaction.
    pub async fn load(tx: &mut Tx, meeting: MeetingRow, grace: Duration) -> StoreResult<Self> {
        let sql = format!(
            "SELECT id, name, card_uid FROM person WHERE org_path >= $1 AND org_path < $2 \
             AND status IN ('formal','probationary'){}",
            committee_only(meeting.kind, meeting.org_id, "person")
        );
        let people: Vec<(i64, String, Option<String>)> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&meeting.org_path).bind(upper_bound(&meeting.org_path)).fetch_all(c).await)?;
        let unresolved: Vec<(String, String)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT event_id, card_uid FROM unresolved_card WHERE meeting_id = $1")
            .bind(meeting.id).fetch_all(c).await)?;
        let mut r = Self {
            meeting,
            expected: HashSet::with_capacity(people.len()),
            guests: HashSet::new(),
            leaves: HashSet::new(),
            names: HashMap::with_capacity(people.len()),
            cards: HashMap::new(),
            seats: HashMap::new(),
            seats_version: 0,
            events: HashMap::new(),
            stored: HashMap::new(),
            unresolved: unresolved.into_iter().collect(),
            watermark: 0,
            counts: Counts::default(),
            grace,
            grace_read: std::time::Instant::now(),
        };
        for (id, name, card) in people {
            r.expected.insert(id);
            r.names.insert(id, name);
            if let Some(card) = card.filter(|c| !c.is_empty()) {
                r.cards.entry(card).or_insert(id);
            }
        }
        r.refresh(tx).await?;
        r.recount();
        Ok(r)
    }

    /// Brings the roster up to date inside a batch's transaction (the meeting row is locked):
    /// the meeting row itself, leaves, invitees and events stored by other nodes.
    pub async fn refresh(&mut self, tx: &mut Tx) -> StoreResult<()> {
        let leaves: Vec<i64> = with_tx!(tx, c => sqlx::query_scalar(
            "SELECT person_id FROM meeting_leave WHERE meeting_id = $1")
            .bind(self.meeting.id).fetch_all(c).await)?;
        let guests: Vec<(i64, String, Option<String>)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT p.id, p.name, p.card_uid FROM meeting_invitee i JOIN person p ON p.id = i.person_id \
             WHERE i.meeting_id = $1")
            .bind(self.meeting.id).fetch_all(c).await)?;
        let sql =
            format!("SELECT {EVENT_COLS} FROM checkin_event WHERE meeting_id = $1 AND id > $2 ORDER BY id");
        let newer: Vec<EventRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.meeting.id).bind(self.watermark).fetch_all(c).await)?;
        let leaves: HashSet<i64> = leaves.into_iter().collect();
        // counts change only when leaves or someone's events do (guests are not counted)
        let stale = leaves != self.leaves || !newer.is_empty();
        self.leaves = leaves;
        self.guests.clear();
        for (id, name, card) in guests {
            self.guests.insert(id);
            self.names.entry(id).or_insert(name);
            if let Some(card) = card.filter(|c| !c.is_empty()) {
                self.cards.entry(card).or_insert(id);
            }
        }
        for (id, event_id, hash, answer, person, direction, at) in newer {
            self.watermark = self.watermark.max(id);
            self.stored.insert(event_id, Stored { hash, answer });
            if let Some(p) = person {
                self.events.entry(p).or_default().push(Event {
                    direction: crate::error::decode(&direction)?,
                    at,
                });
            }
        }
        if stale {
            self.recount();
        }
        Ok(())
    }

    /// Seat labels of the meeting's people (shown in the check-in answer).
    pub fn set_seats(&mut self, seats: HashMap<i64, String>, version: u64) {
        self.seats = seats;
        self.seats_version = version;
    }

    pub fn seat(&self, person: i64) -> Option<&str> {
        self.seats.get(&person).map(String::as_str)
    }

    fn window(&self) -> Window {
        Window {
            starts_at: self.meeting.starts_at,
            ends_at: self.meeting.ends_at,
            grace: self.grace,
        }
    }

    fn recount(&mut self) {
        let w = self.window();
        let mut counts = Counts::default();
        for p in &self.expected {
            let evs = self.events.get(p).map_or(&[][..], Vec::as_slice);
            counts.add(meeting::person_attendance(evs, self.leaves.contains(p), &w).state);
        }
        self.counts = counts;
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    pub fn name(&self, person: i64) -> &str {
        self.names.get(&person).map_or("", String::as_str)
    }

    /// Whether the person may check in (expected or invited), asking the database when the
    /// roster does not know them (joined since it was loaded).
    pub async fn admits(&mut self, tx: &mut Tx, person: i64) -> StoreResult<bool> {
        if self.expected.contains(&person) || self.guests.contains(&person) {
            return Ok(true);
        }
        let sql = format!(
            "SELECT name FROM person WHERE id = $1 AND org_path >= $2 AND org_path < $3 \
             AND status IN ('formal','probationary'){}",
            committee_only(self.meeting.kind, self.meeting.org_id, "person")
        );
        let row: Option<String> = with_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(person).bind(&self.meeting.org_path).bind(upper_bound(&self.meeting.org_path))
            .fetch_optional(c).await)?;
        Ok(match row {
            Some(name) => {
                self.expected.insert(person);
                self.names.insert(person, name);
                self.recount();
                true
            }
            None => false,
        })
    }

    /// The person a card belongs to among the expected and invited, asking the database when
    /// the roster does not know the card (assigned since it was loaded).
    pub async fn card_holder(&mut self, tx: &mut Tx, card: &str) -> StoreResult<Option<i64>> {
        if let Some(p) = self.cards.get(card) {
            return Ok(Some(*p));
        }
        let sql = format!(
            "SELECT p.id FROM person p WHERE p.card_uid = $1 AND ((p.org_path >= $2 AND p.org_path < $3 \
             AND p.status IN ('formal','probationary'){}) \
             OR EXISTS (SELECT 1 FROM meeting_invitee i WHERE i.meeting_id = $4 AND i.person_id = p.id)) \
             ORDER BY p.id LIMIT 1",
            committee_only(self.meeting.kind, self.meeting.org_id, "p")
        );
        let found: Option<i64> = with_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(card).bind(&self.meeting.org_path).bind(upper_bound(&self.meeting.org_path))
            .bind(self.meeting.id).fetch_optional(c).await)?;
        if let Some(p) = found {
            self.admits(tx, p).await?;
            self.cards.insert(card.to_owned(), p);
        }
        Ok(found)
    }

    /// Adds one event of a person; returns their attendance after it and the meeting's counts.
    pub fn apply(&mut self, person: i64, ev: Event) -> meeting::PersonAttendance {
        let w = self.window();
        let on_leave = self.leaves.contains(&person);
        let evs = self.events.entry(person).or_default();
        let before = meeting::person_attendance(evs, on_leave, &w).state;
        evs.push(ev);
        let after = meeting::person_attendance(evs, on_leave, &w);
        if self.expected.contains(&person) {
            let c = &mut self.counts;
            for (state, delta) in [(before, -1i64), (after.state, 1)] {
                let n = match state {
                    AttendanceState::Present => &mut c.present,
                    AttendanceState::Leave => &mut c.leave,
                    AttendanceState::Absent => &mut c.absent,
                    AttendanceState::LeftEarly => &mut c.left_early,
                };
                *n = n.saturating_add_signed(delta);
            }
        }
        after
    }

    /// Marks the stored events' ids as applied (after the batch's insert returned them).
    pub fn advance(&mut self, seq: i64) {
        self.watermark = self.watermark.max(seq);
    }
}

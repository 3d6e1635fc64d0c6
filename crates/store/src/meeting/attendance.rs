//! The attendance sheet, and closing a meeting (after which attendance is read-only).
//!
//! Closing freezes the expected list (`meeting_expected`): a member transferred out after the
//! meeting stays on its 应到, one transferred in is not added. After close the sheet is the
//! check-in events' result with the attendance amendments applied (`records.rs`), the latest
//! amendment of a person winning.

use std::collections::HashMap;

use dangjian_rules::meeting::{self, AttendanceState, Counts, Event, MeetingStatus, Sheet};
use serde_json::json;
use time::OffsetDateTime;

use super::records::AmendedAttendance;
use super::{AttendanceLine, AttendanceView, MEETING_COLS, MeetingRow, closed, lock_meeting};
use crate::Meetings;
use crate::audit::Actor;
use crate::error::StoreResult;
use crate::paths::upper_bound;
use crate::scope::Scope;

impl Meetings<'_> {
    /// Closes the meeting: its attendance becomes read-only and its expected list is frozen.
    /// Closing twice → 409 `meeting_closed`.
    pub async fn close_meeting(&self, scope: &Scope, actor: &Actor, id: i64) -> StoreResult<MeetingRow> {
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_meeting(&mut tx, scope, id).await?;
        if m.stored_status() == MeetingStatus::Closed {
            return Err(closed());
        }
        let sql = format!(
            "UPDATE meeting SET status = 'closed', closed_at = $1 WHERE id = $2 RETURNING {MEETING_COLS}"
        );
        let row: MeetingRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(id).fetch_one(c).await)?;
        let sql = format!(
            "INSERT INTO meeting_expected (meeting_id, person_id, org_id, guest) \
             SELECT $1, id, org_id, $4 FROM person WHERE org_path >= $2 AND org_path < $3 \
             AND status IN ('formal','probationary'){}",
            super::committee_only(m.kind, m.org_id, "person")
        );
        let expected = with_tx!(&mut tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id).bind(&m.org_path).bind(upper_bound(&m.org_path)).bind(false)
            .execute(c).await.map(|r| r.rows_affected()))?;
        let guests = with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO meeting_expected (meeting_id, person_id, org_id, guest) \
             SELECT $1, p.id, p.org_id, $2 FROM meeting_invitee i JOIN person p ON p.id = i.person_id \
             WHERE i.meeting_id = $1 ON CONFLICT (meeting_id, person_id) DO NOTHING")
            .bind(id).bind(true).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .on("close", "meeting", id, &m.org_path)
            .before(json!({"status": m.status}))
            .after(json!({"status": "closed", "expected": expected, "guests": guests}))
            .commit()
            .await?;
        Ok(row)
    }

    /// The expected people (id, name) and the guests: frozen at close, else as of now.
    async fn expected_and_guests(
        &self,
        m: &MeetingRow,
    ) -> StoreResult<(Vec<(i64, String)>, Vec<(i64, String)>)> {
        let frozen: Vec<(i64, String, bool)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT e.person_id, p.name, e.guest FROM meeting_expected e JOIN person p ON p.id = e.person_id \
             WHERE e.meeting_id = $1 ORDER BY e.person_id")
            .bind(m.id).fetch_all(p).await)?;
        if !frozen.is_empty() {
            let (guests, expected): (Vec<_>, Vec<_>) = frozen.into_iter().partition(|(_, _, g)| *g);
            let strip = |v: Vec<(i64, String, bool)>| v.into_iter().map(|(i, n, _)| (i, n)).collect();
            return Ok((strip(expected), strip(guests)));
        }
        let sql = format!(
            "SELECT id, name FROM person WHERE org_path >= $1 AND org_path < $2 \
             AND status IN ('formal','probationary'){} ORDER BY id",
            super::committee_only(m.kind, m.org_id, "person")
        );
        let expected: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&m.org_path).bind(upper_bound(&m.org_path)).fetch_all(p).await)?;
        let guests: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT p.id, p.name FROM meeting_invitee i JOIN person p ON p.id = i.person_id WHERE i.meeting_id = $1 ORDER BY p.id")
            .bind(m.id).fetch_all(p).await)?;
        Ok((expected, guests))
    }

    /// The latest attendance amendment of each person of the meeting.
    pub(crate) async fn attendance_amendments(
        &self,
        meeting_id: i64,
    ) -> StoreResult<HashMap<i64, AmendedAttendance>> {
        let rows: Vec<(Option<i64>, String, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, after_json, reason, created_at FROM meeting_amendment \
             WHERE meeting_id = $1 AND target = 'attendance' ORDER BY id")
            .bind(meeting_id).fetch_all(p).await)?;
        let mut out = HashMap::new();
        for (person, after, reason, at) in rows {
            let after: serde_json::Value = serde_json::from_str(&after).unwrap_or_default();
            let (Some(person), Some(state)) =
                (person, after["state"].as_str().and_then(AttendanceState::parse))
            else {
                continue;
            };
            out.insert(
                person,
                AmendedAttendance {
                    state,
                    late: after["late"].as_bool().unwrap_or(false),
                    reason,
                    amended_at: at,
                },
            );
        }
        Ok(out)
    }

    /// The attendance sheet: expected people (by id), then guests, with the counts; after close,
    /// with the amendments applied.
    pub async fn attendance(&self, scope: &Scope, meeting_id: i64) -> StoreResult<AttendanceView> {
        let m = self.meeting(scope, meeting_id).await?;
        let grace = self.settings_at(&m.org_path).await?.grace();
        let (expected, guests) = self.expected_and_guests(&m).await?;
        let leaves: Vec<i64> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT person_id FROM meeting_leave WHERE meeting_id = $1").bind(m.id).fetch_all(p).await)?;
        let events: Vec<(i64, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, direction, counted_at FROM checkin_event WHERE meeting_id = $1 AND person_id IS NOT NULL ORDER BY id")
            .bind(m.id).fetch_all(p).await)?;
        let events: Vec<(i64, Event)> = events
            .into_iter()
            .map(|(p, d, at)| {
                Ok((
                    p,
                    Event {
                        direction: crate::error::decode(&d)?,
                        at,
                    },
                ))
            })
            .collect::<StoreResult<_>>()?;
        let expected_ids: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();
        let guest_ids: Vec<i64> = guests.iter().map(|(id, _)| *id).collect();
        let Sheet {
            mut lines,
            mut counts,
        } = meeting::attendance(&expected_ids, &guest_ids, &leaves, &events, &m.window(grace));
        let amended = self.attendance_amendments(m.id).await?;
        if !amended.is_empty() {
            counts = Counts::default();
            for l in &mut lines {
                if let Some(a) = amended.get(&l.person_id) {
                    l.state = a.state;
                    l.late = a.late && a.state == AttendanceState::Present;
                }
                if !l.guest {
                    counts.add(l.state);
                }
            }
        }
        let names: HashMap<i64, String> = expected.into_iter().chain(guests).collect();
        Ok(AttendanceView {
            lines: lines
                .into_iter()
                .map(|line| AttendanceLine {
                    name: names.get(&line.person_id).cloned().unwrap_or_default(),
                    line,
                })
                .collect(),
            counts,
        })
    }
}

impl Meetings<'_> {
    /// Whether the meeting's decisions had their quorum (`rules::meeting::quorum`), from its
    /// sheet: at a 支部党员大会 those entitled to vote are the expected formal members (by their
    /// status now), at a 支委会 the committee; present means present at the end. None for kinds
    /// that decide nothing by vote.
    pub async fn quorum_of(
        &self,
        kind: meeting::MeetingKind,
        view: &AttendanceView,
    ) -> StoreResult<Option<meeting::Quorum>> {
        let expected: Vec<&AttendanceLine> = view.lines.iter().filter(|l| !l.line.guest).collect();
        if meeting::quorum(kind, 1, 0).is_none() || expected.is_empty() {
            return Ok(None);
        }
        let voting: std::collections::HashSet<i64> = if kind == meeting::MeetingKind::Committee {
            expected.iter().map(|l| l.line.person_id).collect()
        } else {
            let sql = format!(
                "SELECT id FROM person WHERE status = 'formal' AND id IN ({})",
                crate::db::id_list(expected.iter().map(|l| l.line.person_id))
            );
            let rows: Vec<i64> =
                with_db!(&self.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
            rows.into_iter().collect()
        };
        let present = expected
            .iter()
            .filter(|l| voting.contains(&l.line.person_id) && l.line.state == AttendanceState::Present)
            .count();
        Ok(meeting::quorum(
            kind,
            u64::try_from(voting.len()).unwrap_or(0),
            u64::try_from(present).unwrap_or(0),
        ))
    }
}

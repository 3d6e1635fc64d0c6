//! The attendance sheet, and closing a meeting (after which attendance is read-only).

use dangjian_rules::meeting::{self, Direction, Event, MeetingStatus, Sheet};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{AttendanceLine, AttendanceView, MEETING_COLS, MeetingRow, closed, lock_meeting, upper};
use crate::Store;
use crate::audit::{self, Actor, Entry};
use crate::error::StoreResult;
use crate::scope::Scope;

impl Store {
    /// Closes the meeting: its attendance becomes read-only. Closing twice → 409 `meeting_closed`.
    pub async fn close_meeting(&self, scope: &Scope, actor: &Actor, id: i64) -> StoreResult<MeetingRow> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let m = lock_meeting(&mut tx, scope, id).await?;
        if m.stored_status() == MeetingStatus::Closed {
            return Err(closed());
        }
        let sql = format!(
            "UPDATE meeting SET status = 'closed', closed_at = $1 WHERE id = $2 RETURNING {MEETING_COLS}"
        );
        let row: MeetingRow = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(id).fetch_one(c).await)?;
        audit::append(
            &mut tx,
            now,
            actor,
            Entry {
                action: "close",
                entity: "meeting",
                entity_id: Some(id.to_string()),
                org_path: Some(m.org_path.clone()),
                before: Some(json!({"status": m.status})),
                after: Some(json!({"status": "closed"})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The attendance sheet: expected people (by id), then guests, with the counts.
    pub async fn attendance(
        &self,
        scope: &Scope,
        meeting_id: i64,
        grace: Duration,
    ) -> StoreResult<AttendanceView> {
        let m = self.meeting(scope, meeting_id).await?;
        let expected: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, name FROM person WHERE org_path >= $1 AND org_path < $2 AND status IN ('formal','probationary') ORDER BY id")
            .bind(&m.org_path).bind(upper(&m.org_path)).fetch_all(p).await)?;
        let guests: Vec<(i64, String)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT p.id, p.name FROM meeting_invitee i JOIN person p ON p.id = i.person_id WHERE i.meeting_id = $1 ORDER BY p.id")
            .bind(m.id).fetch_all(p).await)?;
        let leaves: Vec<i64> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT person_id FROM meeting_leave WHERE meeting_id = $1").bind(m.id).fetch_all(p).await)?;
        let events: Vec<(i64, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT person_id, direction, device_at FROM checkin_event WHERE meeting_id = $1 AND person_id IS NOT NULL ORDER BY id")
            .bind(m.id).fetch_all(p).await)?;
        let events: Vec<(i64, Event)> = events
            .into_iter()
            .map(|(p, d, at)| {
                (
                    p,
                    Event {
                        direction: Direction::parse(&d).unwrap_or(Direction::In),
                        at,
                    },
                )
            })
            .collect();
        let expected_ids: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();
        let guest_ids: Vec<i64> = guests.iter().map(|(id, _)| *id).collect();
        let Sheet { lines, counts } =
            meeting::attendance(&expected_ids, &guest_ids, &leaves, &events, &m.window(grace));
        let names: std::collections::HashMap<i64, String> = expected.into_iter().chain(guests).collect();
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

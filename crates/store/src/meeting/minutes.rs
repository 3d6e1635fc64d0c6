//! Minutes (text and 决议 items) and attachments of a meeting. Both are edited freely until the
//! meeting closes; after that they are read-only and corrections go through amendments
//! (`records.rs`). Attachments are stored in the database (`meeting_attachment.data`): a backup
//! holds them and every node serves them; the web layer limits their size and checks their type.

use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::MeetingStatus;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{MeetingRow, lock_meeting};
use crate::Meetings;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::scope::Scope;

/// The minutes of a meeting (empty until written).
#[derive(Debug, Clone, Default)]
pub struct Minutes {
    pub minutes: String,
    pub decisions: Vec<String>,
    pub updated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub meeting_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: OffsetDateTime,
}

/// A new attachment as uploaded (its type already checked).
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

pub(crate) fn sha256_hex(s: &[u8]) -> String {
    hex::encode(Sha256::digest(s))
}

/// After close, minutes and attachments change only by amendment → 409 naming the way.
fn closed_records() -> StoreError {
    StoreError::Conflict(RuleViolation::new("meeting_records_closed"))
}

pub(crate) async fn minutes_in_tx(tx: &mut Tx, meeting_id: i64) -> StoreResult<Minutes> {
    let row: Option<(String, String, OffsetDateTime)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT minutes, decisions_json, updated_at FROM meeting_minutes WHERE meeting_id = $1")
        .bind(meeting_id).fetch_optional(c).await)?;
    Ok(row.map_or_else(Minutes::default, |(minutes, d, at)| Minutes {
        minutes,
        decisions: serde_json::from_str(&d).unwrap_or_default(),
        updated_at: Some(at),
    }))
}

pub(crate) async fn write_minutes(
    tx: &mut Tx,
    meeting_id: i64,
    minutes: &str,
    decisions: &[String],
    user: Option<i64>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let d = serde_json::to_string(decisions).map_err(|e| StoreError::Internal(e.into()))?;
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO meeting_minutes (meeting_id, minutes, decisions_json, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (meeting_id) DO UPDATE SET minutes = excluded.minutes, decisions_json = excluded.decisions_json, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at")
        .bind(meeting_id).bind(minutes).bind(&d).bind(user).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What the audit trail keeps of minutes: their size and fingerprint, and the decisions.
pub(crate) fn minutes_audit(minutes: &str, decisions: &[String]) -> serde_json::Value {
    json!({"minutes_chars": minutes.chars().count(), "minutes_sha256": sha256_hex(minutes.as_bytes()), "decisions": decisions})
}

async fn open_for_records(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<MeetingRow> {
    let m = lock_meeting(tx, scope, id).await?;
    if m.stored_status() == MeetingStatus::Closed {
        return Err(closed_records());
    }
    Ok(m)
}

impl Meetings<'_> {
    pub async fn minutes(&self, scope: &Scope, meeting_id: i64) -> StoreResult<Minutes> {
        let m = self.meeting(scope, meeting_id).await?;
        let row: Option<(String, String, OffsetDateTime)> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT minutes, decisions_json, updated_at FROM meeting_minutes WHERE meeting_id = $1")
            .bind(m.id).fetch_optional(p).await)?;
        Ok(row.map_or_else(Minutes::default, |(minutes, d, at)| Minutes {
            minutes,
            decisions: serde_json::from_str(&d).unwrap_or_default(),
            updated_at: Some(at),
        }))
    }

    /// Writes the minutes and decisions of a meeting that is not closed (after close → 409
    /// `meeting_records_closed`: amend instead).
    pub async fn set_minutes(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        minutes: &str,
        decisions: &[String],
    ) -> StoreResult<Minutes> {
        let (mut tx, now) = self.begin_now().await?;
        let m = open_for_records(&mut tx, scope, meeting_id).await?;
        let before = minutes_in_tx(&mut tx, m.id).await?;
        write_minutes(&mut tx, m.id, minutes, decisions, actor.user_id, now).await?;
        tx.into_audit(actor, now)
            .on("minutes", "meeting", m.id, &m.org_path)
            .before(minutes_audit(&before.minutes, &before.decisions))
            .after(minutes_audit(minutes, decisions))
            .commit()
            .await?;
        Ok(Minutes {
            minutes: minutes.to_owned(),
            decisions: decisions.to_vec(),
            updated_at: Some(now),
        })
    }

    pub async fn attachments(&self, scope: &Scope, meeting_id: i64) -> StoreResult<Vec<AttachmentRow>> {
        let m = self.meeting(scope, meeting_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, meeting_id, file_name, content_type, size_bytes, sha256, created_at FROM meeting_attachment \
             WHERE meeting_id = $1 ORDER BY id")
            .bind(m.id).fetch_all(p).await)?)
    }

    /// One attachment with its bytes.
    pub async fn attachment(
        &self,
        scope: &Scope,
        meeting_id: i64,
        attachment_id: i64,
    ) -> StoreResult<(AttachmentRow, Vec<u8>)> {
        let m = self.meeting(scope, meeting_id).await?;
        let row: Option<AttachmentRow> = with_db!(&self.db, p => sqlx::query_as(
            "SELECT id, meeting_id, file_name, content_type, size_bytes, sha256, created_at FROM meeting_attachment \
             WHERE meeting_id = $1 AND id = $2")
            .bind(m.id).bind(attachment_id).fetch_optional(p).await)?;
        let row = row.ok_or(StoreError::NotFound)?;
        let data: Vec<u8> = with_db!(&self.db, p => sqlx::query_scalar(
            "SELECT data FROM meeting_attachment WHERE id = $1").bind(row.id).fetch_one(p).await)?;
        Ok((row, data))
    }

    /// Stores an attachment of a meeting that is not closed.
    pub async fn add_attachment(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        new: NewAttachment,
    ) -> StoreResult<AttachmentRow> {
        let now = self.now();
        let size = i64::try_from(new.data.len()).unwrap_or(i64::MAX);
        let sha = sha256_hex(&new.data);
        let mut tx = self.begin().await?;
        let m = open_for_records(&mut tx, scope, meeting_id).await?;
        let row: AttachmentRow = with_tx!(&mut tx, c => sqlx::query_as(
            "INSERT INTO meeting_attachment (meeting_id, file_name, content_type, size_bytes, sha256, data, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id, meeting_id, file_name, content_type, size_bytes, sha256, created_at")
            .bind(m.id).bind(&new.file_name).bind(new.content_type).bind(size).bind(&sha).bind(&new.data)
            .bind(actor.user_id).bind(now).fetch_one(c).await)?;
        tx.into_audit(actor, now)
            .on("attach", "meeting", m.id, &m.org_path)
            .after(json!({
                "attachment_id": row.id, "file_name": row.file_name, "content_type": row.content_type,
                "size_bytes": size, "sha256": sha,
            }))
            .commit()
            .await?;
        Ok(row)
    }

    /// Removes an attachment of a meeting that is not closed.
    pub async fn remove_attachment(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        attachment_id: i64,
    ) -> StoreResult<()> {
        let (mut tx, now) = self.begin_now().await?;
        let m = open_for_records(&mut tx, scope, meeting_id).await?;
        let gone: Option<(String, String)> = with_tx!(&mut tx, c => sqlx::query_as(
            "DELETE FROM meeting_attachment WHERE meeting_id = $1 AND id = $2 RETURNING file_name, sha256")
            .bind(m.id).bind(attachment_id).fetch_optional(c).await)?;
        let (name, sha) = gone.ok_or(StoreError::NotFound)?;
        tx.into_audit(actor, now)
            .on("detach", "meeting", m.id, &m.org_path)
            .before(json!({"attachment_id": attachment_id, "file_name": name, "sha256": sha}))
            .commit()
            .await?;
        Ok(())
    }
}

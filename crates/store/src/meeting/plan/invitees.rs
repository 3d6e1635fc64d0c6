//! Invited guests (来宾) and 列席 people: listed in attendance, not counted in `expected`.

use dangjian_rules::RuleViolation;
use serde_json::json;

use super::{check_changeable, lock_plan};
use crate::Store;
use crate::audit::Actor;
use crate::error::{StoreError, StoreResult};
use crate::scope::Scope;

/// An invited guest (来宾) or 列席 person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteeRow {
    pub person_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: dangjian_rules::meeting::InviteeRole,
}

impl Store {
    /// The meeting's invited guests and 列席 people.
    pub async fn invitees(&self, scope: &Scope, meeting_id: i64) -> StoreResult<Vec<InviteeRow>> {
        let m = self.meeting_plan(scope, meeting_id).await?;
        Ok(with_db!(&self.db, p => sqlx::query_as(
            "SELECT i.person_id, p.name, i.role FROM meeting_invitee i JOIN person p ON p.id = i.person_id \
             WHERE i.meeting_id = $1 ORDER BY p.id")
            .bind(m.id).fetch_all(p).await)?)
    }

    /// Invites a person of the scope as a guest (`guest`) or 列席 (`attendee_extra`); people
    /// expected anyway are refused (409 `already_expected`), as is inviting twice.
    pub async fn invite(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        person_id: i64,
        role: &str,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let m = lock_plan(&mut tx, scope, meeting_id).await?;
        check_changeable(&m)?;
        let person: Option<(String, String)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT org_path, status FROM person WHERE id = $1").bind(person_id).fetch_optional(c).await)?;
        let Some((path, status)) = person else {
            return Err(RuleViolation::field("person_unknown", "person_id").into());
        };
        if !scope.sees_person(person_id, &path) {
            return Err(RuleViolation::field("person_unknown", "person_id").into());
        }
        if path.starts_with(&m.org_path) && matches!(status.as_str(), "formal" | "probationary") {
            // at a 支委会 only the committee is expected: other members may sit in (列席)
            let sql = format!(
                "SELECT COUNT(*) FROM person WHERE id = $1{}",
                crate::meeting::committee_only(m.kind, m.org_id, "person")
            );
            let expected: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(person_id).fetch_one(c).await)?;
            if expected > 0 {
                return Err(StoreError::Conflict(RuleViolation::field(
                    "already_expected",
                    "person_id",
                )));
            }
        }
        let n = with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO meeting_invitee (meeting_id, person_id, role) VALUES ($1, $2, $3) ON CONFLICT (meeting_id, person_id) DO NOTHING")
            .bind(m.id).bind(person_id).bind(role).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Conflict(RuleViolation::field(
                "already_invited",
                "person_id",
            )));
        }
        tx.audit(actor, now)
            .act("invite", "meeting")
            .id(m.id)
            .org(m.org_path.clone())
            .after(json!({"person_id": person_id, "role": role}))
            .append()
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws an invitation nobody has used to check in yet.
    pub async fn uninvite(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        person_id: i64,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let m = lock_plan(&mut tx, scope, meeting_id).await?;
        check_changeable(&m)?;
        let used: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM checkin_event WHERE meeting_id = $1 AND person_id = $2")
            .bind(m.id).bind(person_id).fetch_one(c).await)?;
        if used > 0 {
            return Err(StoreError::Conflict(RuleViolation::field(
                "invitee_checked_in",
                "person_id",
            )));
        }
        let n = with_tx!(&mut tx, c => sqlx::query("DELETE FROM meeting_invitee WHERE meeting_id = $1 AND person_id = $2")
            .bind(m.id).bind(person_id).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(actor, now)
            .act("uninvite", "meeting")
            .id(m.id)
            .org(m.org_path.clone())
            .before(json!({"person_id": person_id}))
            .append()
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

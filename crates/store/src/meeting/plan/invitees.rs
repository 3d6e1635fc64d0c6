//! Invited guests (来宾) and 列席 people: listed in attendance, not counted in `expected`.

use dangjian_rules::meeting::plan::{self, Invitee};
use serde_json::json;

use super::leave::expected_path;
use super::{lock_plan, on_committee_if_asked, plan_facts};
use crate::Meetings;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreResult, decode};
use crate::scope::Scope;

/// An invited guest (来宾) or 列席 person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteeRow {
    pub person_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: dangjian_rules::meeting::InviteeRole,
}

impl Meetings<'_> {
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
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, meeting_id).await?;
        let facts = plan_facts(&mut tx, &m).await?;
        let person: Option<(String, String)> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT org_path, status FROM person WHERE id = $1").bind(person_id).fetch_optional(c).await)?;
        let invitee = match person {
            Some((path, status)) if scope.sees_person(person_id, &path) => Some(Invitee {
                visible: true,
                expected: expected_path(&m.org_path, &path, decode(&status)?)
                    && on_committee_if_asked(&mut tx, &m, person_id).await?,
                invited_before: invited(&mut tx, m.id, person_id).await?,
            }),
            Some(_) => Some(Invitee {
                visible: false,
                expected: false,
                invited_before: false,
            }),
            None => None,
        };
        plan::may_invite(&facts, invitee)?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO meeting_invitee (meeting_id, person_id, role) VALUES ($1, $2, $3)")
            .bind(m.id).bind(person_id).bind(role).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .on("invite", "meeting", m.id, &m.org_path)
            .after(json!({"person_id": person_id, "role": role}))
            .commit()
            .await?;
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
        let (mut tx, now) = self.begin_now().await?;
        let m = lock_plan(&mut tx, scope, meeting_id).await?;
        let used: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM checkin_event WHERE meeting_id = $1 AND person_id = $2")
            .bind(m.id).bind(person_id).fetch_one(c).await)?;
        let invited = invited(&mut tx, m.id, person_id).await?;
        plan::may_uninvite(&plan_facts(&mut tx, &m).await?, invited, used > 0)?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM meeting_invitee WHERE meeting_id = $1 AND person_id = $2")
            .bind(m.id).bind(person_id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.into_audit(actor, now)
            .on("uninvite", "meeting", m.id, &m.org_path)
            .before(json!({"person_id": person_id}))
            .commit()
            .await?;
        Ok(())
    }
}

/// Whether the person is on the meeting's invitation list.
async fn invited(tx: &mut Tx, meeting_id: i64, person_id: i64) -> StoreResult<bool> {
    let n: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM meeting_invitee WHERE meeting_id = $1 AND person_id = $2")
        .bind(meeting_id).bind(person_id).fetch_one(c).await)?;
    Ok(n > 0)
}

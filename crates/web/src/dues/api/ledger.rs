//! Hardship applications, arrears (reminders and cases) and the per-subtree reminder setting.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::dues::arrears::CaseOutcome;
use dangjian_store::dues::hardship::NewHardship;
use serde::Deserialize;
use time::Date;
use utoipa::ToSchema;

use super::fields::{self, Loose};
use super::payments::own_or_collector;
use super::views::{ArrearsCaseView, ArrearsView, HardshipView, SettingsView};
use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};

/// An application for the months `from`..=`to` (`YYYY-MM`): reduced to `reduced_to_fen` a
/// month, or waived without it; `reason` required.
#[derive(Deserialize, ToSchema)]
pub struct HardshipBody {
    #[schema(value_type = String)]
    from: Loose,
    #[schema(value_type = String)]
    to: Loose,
    #[schema(value_type = Option<i64>)]
    reduced_to_fen: Loose,
    #[schema(value_type = String)]
    reason: Loose,
}

impl HardshipBody {
    fn parse(self, person_id: i64) -> AppResult<NewHardship> {
        Ok(NewHardship {
            person_id,
            from_ym: fields::month("from", &self.from)?,
            to_ym: fields::month("to", &self.to)?,
            reduced_to_fen: fields::fen("reduced_to_fen", "amount_fen_invalid", &self.reduced_to_fen)?,
            reason: fields::text("reason", &self.reason, 500)?.unwrap_or_default(),
        })
    }
}

/// `POST /api/v1/members/{id}/dues-hardships`: the member applies (or the collector records it
/// for them).
pub async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HardshipBody>,
) -> AppResult<(StatusCode, Json<HardshipView>)> {
    let scope = own_or_collector(&auth, id)?;
    let new = body.parse(id)?;
    let h = state
        .store
        .dues()
        .apply_dues_hardship(&scope, &auth.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(h.into())))
}

/// The branch's discussion: agreed or not, at the meeting of `meeting_on` (`YYYY-MM-DD`).
#[derive(Deserialize, ToSchema)]
pub struct DiscussionBody {
    #[schema(value_type = bool)]
    agreed: Loose,
    #[schema(value_type = String, format = Date)]
    meeting_on: Loose,
    #[schema(value_type = Option<String>)]
    note: Loose,
}

/// What the branch's discussion decided.
pub struct Discussion {
    pub agreed: bool,
    pub meeting_on: Date,
    pub note: Option<String>,
}

impl TryFrom<DiscussionBody> for Discussion {
    type Error = AppError;
    fn try_from(b: DiscussionBody) -> AppResult<Self> {
        Ok(Self {
            agreed: fields::required_bool("agreed", &b.agreed)?,
            meeting_on: fields::date("meeting_on", &b.meeting_on)?
                .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "meeting_on")))?,
            note: fields::text("note", &b.note, 500)?,
        })
    }
}

/// `POST /api/v1/dues-hardships/{id}/discussion`: the branch's discussion (a retiree's
/// application is decided here).
pub async fn discuss(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DiscussionBody>,
) -> AppResult<Json<HardshipView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let d = Discussion::try_from(body)?;
    let h = state
        .store
        .dues()
        .discuss_dues_hardship(&scope, &auth.actor(), id, d.agreed, d.meeting_on, d.note)
        .await?;
    Ok(Json(h.into()))
}

/// The higher 党委's decision: approved or not.
#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    #[schema(value_type = bool)]
    approved: Loose,
    #[schema(value_type = Option<String>)]
    note: Loose,
}

/// What the 党委 decided.
pub struct Decision {
    pub approved: bool,
    pub note: Option<String>,
}

impl TryFrom<DecisionBody> for Decision {
    type Error = AppError;
    fn try_from(b: DecisionBody) -> AppResult<Self> {
        Ok(Self {
            approved: fields::required_bool("approved", &b.approved)?,
            note: fields::text("note", &b.note, 500)?,
        })
    }
}

/// `POST /api/v1/dues-hardships/{id}/decision`: the higher 党委's decision.
pub async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> AppResult<Json<HardshipView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    // an application the caller does not see does not exist for them, whatever the body says
    state.store.dues().dues_hardship_visible(&scope, id).await?;
    let d = Decision::try_from(body)?;
    let h = state
        .store
        .dues()
        .decide_dues_hardship(&scope, &auth.actor(), id, d.approved, d.note)
        .await?;
    Ok(Json(h.into()))
}

/// `GET /api/v1/orgs/{id}/dues-hardships`.
pub async fn list_hardships(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<HardshipView>>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let items = state.store.dues().dues_hardships(&scope, id).await?;
    Ok(Json(List::of(items)))
}

/// `GET /api/v1/orgs/{id}/dues-arrears`: members at or past the reminder, as of this month.
pub async fn arrears(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ArrearsView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    Ok(Json(state.store.dues().dues_arrears(&scope, id).await?.into()))
}

/// `POST /api/v1/members/{id}/dues-arrears-case`: opens the case for the 支部大会 (6 months).
pub async fn open_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<(StatusCode, Json<ArrearsCaseView>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let c = state
        .store
        .dues()
        .open_arrears_case(&scope, &auth.actor(), id)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// The decision on an arrears case: `outcome` `justified` (正当理由), `removal_proposed` or
/// `kept` (these two by the 支部大会 of `meeting_on`).
#[derive(Deserialize, ToSchema)]
pub struct CaseDecisionBody {
    #[schema(value_type = String)]
    outcome: Loose,
    #[schema(value_type = Option<String>, format = Date)]
    meeting_on: Loose,
    #[schema(value_type = Option<String>)]
    note: Loose,
}

/// What was decided on an arrears case.
pub struct CaseDecision {
    pub outcome: CaseOutcome,
    pub meeting_on: Option<Date>,
    pub note: Option<String>,
}

impl TryFrom<CaseDecisionBody> for CaseDecision {
    type Error = AppError;
    fn try_from(b: CaseDecisionBody) -> AppResult<Self> {
        let outcome = fields::required_text("outcome", &b.outcome, 30)?;
        let outcome = CaseOutcome::parse(&outcome).ok_or_else(|| {
            AppError::Invalid(RuleViolation::field("value_unknown", "outcome").arg("value", &outcome))
        })?;
        Ok(Self {
            outcome,
            meeting_on: fields::date("meeting_on", &b.meeting_on)?,
            note: fields::text("note", &b.note, 500)?,
        })
    }
}

/// `POST /api/v1/dues-arrears-cases/{id}/decision`.
pub async fn decide_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CaseDecisionBody>,
) -> AppResult<Json<ArrearsCaseView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    state.store.dues().arrears_case_visible(&scope, id).await?;
    let d = CaseDecision::try_from(body)?;
    let c = state
        .store
        .dues()
        .decide_arrears_case(&scope, &auth.actor(), id, d.outcome, d.meeting_on, d.note)
        .await?;
    Ok(Json(c.into()))
}

/// `GET /api/v1/orgs/{id}/dues-settings`: the reminder in force for the org.
pub async fn settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SettingsView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let org = state.store.orgs().org(&scope, id).await?;
    let n = state.store.dues().dues_reminder_months(&org.path).await?;
    Ok(Json(SettingsView {
        org_id: org.id,
        reminder_months: n,
    }))
}

/// The arrears reminder for the org's subtree: after `reminder_months` (1..5) consecutive unpaid
/// months.
#[derive(Deserialize, ToSchema)]
pub struct SettingsBody {
    #[schema(value_type = i64, minimum = 1, maximum = 5)]
    reminder_months: Loose,
}

/// `PUT /api/v1/orgs/{id}/dues-settings`: for the org's subtree.
pub async fn set_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> AppResult<Json<SettingsView>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let n = fields::required_int(
        "reminder_months",
        "dues_reminder_months_invalid",
        &body.reminder_months,
        1..=5,
    )?;
    let n = state
        .store
        .dues()
        .set_dues_reminder_months(&scope, &auth.actor(), id, n)
        .await?;
    Ok(Json(SettingsView {
        org_id: id,
        reminder_months: n,
    }))
}

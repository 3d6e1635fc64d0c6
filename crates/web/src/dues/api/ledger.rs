//! Hardship applications, arrears (reminders and cases) and the per-subtree reminder setting.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ledger::parse_ym;
use dangjian_store::Cap;
use dangjian_store::dues::arrears::CaseOutcome;
use dangjian_store::dues::hardship::NewHardship;
use serde_json::{Map, Value, json};

use super::json_fen;
use super::payments::{json_text, own_or_collector};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, parse_date};

fn required_ym(b: &Map<String, Value>, field: &'static str) -> AppResult<i64> {
    let s = json_text(b, field, 10)?
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", field)))?;
    parse_ym(field, &s).map_err(AppError::Invalid)
}

fn required_bool(b: &Map<String, Value>, field: &'static str) -> AppResult<bool> {
    b.get(field)
        .and_then(Value::as_bool)
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", field)))
}

/// `POST /api/v1/members/{id}/dues-hardships` {"from":"2026-03","to":"2026-08","reduced_to_fen"?,
/// "reason"}: the member applies (or the collector records it for them); without
/// `reduced_to_fen` the months are waived.
pub async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = own_or_collector(&auth, id)?;
    let h = state
        .store
        .apply_dues_hardship(
            &scope,
            &auth.actor(),
            NewHardship {
                person_id: id,
                from_ym: required_ym(&b, "from")?,
                to_ym: required_ym(&b, "to")?,
                reduced_to_fen: json_fen("reduced_to_fen", "amount_fen_invalid", b.get("reduced_to_fen"))?,
                reason: json_text(&b, "reason", 500)?.unwrap_or_default(),
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(h).unwrap_or_default()),
    ))
}

/// `POST /api/v1/dues-hardships/{id}/discussion` {"agreed","meeting_on","note"?}: the branch's
/// discussion (a retiree's application is decided here).
pub async fn discuss(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let agreed = required_bool(&b, "agreed")?;
    let meeting_on = parse_date(
        "meeting_on",
        &json_text(&b, "meeting_on", 10)?
            .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "meeting_on")))?,
    )?;
    let h = state
        .store
        .discuss_dues_hardship(
            &scope,
            &auth.actor(),
            id,
            agreed,
            meeting_on,
            json_text(&b, "note", 500)?,
        )
        .await?;
    Ok(Json(serde_json::to_value(h).unwrap_or_default()))
}

/// `POST /api/v1/dues-hardships/{id}/decision` {"approved","note"?}: the higher 党委's decision.
pub async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let approved = required_bool(&b, "approved")?;
    let h = state
        .store
        .decide_dues_hardship(&scope, &auth.actor(), id, approved, json_text(&b, "note", 500)?)
        .await?;
    Ok(Json(serde_json::to_value(h).unwrap_or_default()))
}

/// `GET /api/v1/orgs/{id}/dues-hardships`.
pub async fn list_hardships(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let items = state.store.dues_hardships(&scope, id).await?;
    let n = i64::try_from(items.len()).unwrap_or(0);
    Ok(crate::extract::list(items, n))
}

/// `GET /api/v1/orgs/{id}/dues-arrears`: members at or past the reminder, as of this month.
pub async fn arrears(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let list = state.store.dues_arrears(&scope, id).await?;
    let mut v = serde_json::to_value(&list).unwrap_or_default();
    v["total"] = json!(list.items.len());
    Ok(Json(v))
}

/// `POST /api/v1/members/{id}/dues-arrears-case`: opens the case for the 支部大会 (6 months).
pub async fn open_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let c = state.store.open_arrears_case(&scope, &auth.actor(), id).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(c).unwrap_or_default()),
    ))
}

/// `POST /api/v1/dues-arrears-cases/{id}/decision` {"outcome":"justified"|"removal_proposed"|"kept",
/// "meeting_on"?,"note"?}.
pub async fn decide_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let outcome = json_text(&b, "outcome", 30)?
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "outcome")))?;
    let outcome = CaseOutcome::parse(&outcome).ok_or_else(|| {
        AppError::Invalid(RuleViolation::field("value_unknown", "outcome").arg("value", &outcome))
    })?;
    let meeting_on = match json_text(&b, "meeting_on", 10)? {
        Some(s) => Some(parse_date("meeting_on", &s)?),
        None => None,
    };
    let c = state
        .store
        .decide_arrears_case(
            &scope,
            &auth.actor(),
            id,
            outcome,
            meeting_on,
            json_text(&b, "note", 500)?,
        )
        .await?;
    Ok(Json(serde_json::to_value(c).unwrap_or_default()))
}

/// `GET /api/v1/orgs/{id}/dues-settings`: {"reminder_months"} in force for the org.
pub async fn settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let org = state.store.org(&scope, id).await?;
    let n = state.store.dues_reminder_months(&org.path).await?;
    Ok(Json(json!({"org_id": org.id, "reminder_months": n})))
}

/// `PUT /api/v1/orgs/{id}/dues-settings` {"reminder_months":1..5}: for the org's subtree.
pub async fn set_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let n = super::json_int(
        "reminder_months",
        "dues_reminder_months_invalid",
        b.get("reminder_months"),
        1..=5,
    )?;
    let n = state
        .store
        .set_dues_reminder_months(&scope, &auth.actor(), id, n)
        .await?;
    Ok(Json(json!({"org_id": id, "reminder_months": n})))
}

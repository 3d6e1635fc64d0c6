//! Payments: recorded by hand by the branch's collector, or online through a provider with a
//! signed, idempotent callback.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ledger::parse_ym;
use dangjian_store::dues::payment::{NewPayment, PayMethod};
use dangjian_store::{Cap, Scope};
use serde_json::{Map, Value, json};

use super::json_fen;
use super::provider::{default_provider, handle_callback};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ConfirmQuery, parse_date};

fn invalid(v: RuleViolation) -> AppError {
    AppError::Invalid(v)
}

/// `"months": ["2026-01", …]` → month keys; a bad one → 422 naming `months`.
pub(crate) fn json_months(v: Option<&Value>) -> AppResult<Vec<i64>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| match m {
                Value::String(s) => parse_ym("months", s).map_err(invalid),
                other => Err(invalid(
                    RuleViolation::field("dues_month_invalid", "months").arg("value", other.to_string()),
                )),
            })
            .collect(),
        Some(other) => Err(invalid(
            RuleViolation::field("dues_month_invalid", "months").arg("value", other.to_string()),
        )),
    }
}

/// A string field: absent, null or blank → None; not a string → 422.
pub(crate) fn json_text(
    b: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> AppResult<Option<String>> {
    match b.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(invalid(
                    RuleViolation::field("text_too_long", field).arg("max", max),
                ));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(other) => Err(invalid(
            RuleViolation::field("value_unknown", field).arg("value", other.to_string()),
        )),
    }
}

/// The payment method. Payroll deduction (扣缴) and 垫交 are refused naming the rule; online
/// payments come only through a provider.
fn parse_method(v: Option<String>) -> AppResult<PayMethod> {
    let Some(m) = v else {
        return Err(invalid(RuleViolation::field("field_required", "method")));
    };
    match m.as_str() {
        "cash" => Ok(PayMethod::Cash),
        "transfer" => Ok(PayMethod::Transfer),
        "payroll" | "deduction" => Err(invalid(RuleViolation::field("dues_payroll_forbidden", "method"))),
        "advance" => Err(invalid(RuleViolation::field("dues_advance_forbidden", "method"))),
        "online" => Err(invalid(RuleViolation::field("dues_online_by_provider", "method"))),
        other => Err(invalid(
            RuleViolation::field("value_unknown", "method").arg("value", other),
        )),
    }
}

/// `POST /api/v1/members/{id}/dues-payments`: a payment recorded by hand by the collector.
/// `{"method":"cash"|"transfer","months":["2026-01",…],"amount_fen"?,"kind":"regular"|"voluntary",
/// "payer_person_id"?,"payer_name"?,"paid_on"?,"note"?,"confirm"?}` → 201 the payment.
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(cq): ApiQuery<ConfirmQuery>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let method = parse_method(json_text(&b, "method", 20)?)?;
    let voluntary = match json_text(&b, "kind", 20)?.as_deref() {
        None | Some("regular") => false,
        Some("voluntary") => true,
        Some("special") => return Err(invalid(RuleViolation::field("dues_special_forbidden", "kind"))),
        Some(other) => {
            return Err(invalid(
                RuleViolation::field("value_unknown", "kind").arg("value", other),
            ));
        }
    };
    let payer_person_id = match b.get("payer_person_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            invalid(RuleViolation::field("value_unknown", "payer_person_id").arg("value", v.to_string()))
        })?),
    };
    let paid_on = match json_text(&b, "paid_on", 10)? {
        Some(s) => Some(parse_date("paid_on", &s)?),
        None => None,
    };
    let confirmed = cq.confirm.unwrap_or(false) || b.get("confirm").and_then(Value::as_bool).unwrap_or(false);
    let payment = state
        .store
        .record_dues_payment(
            &scope,
            &auth.actor(),
            NewPayment {
                person_id: id,
                method,
                months: json_months(b.get("months"))?,
                amount_fen: json_fen("amount_fen", "amount_fen_invalid", b.get("amount_fen"))?,
                voluntary,
                payer_person_id,
                payer_name: json_text(&b, "payer_name", 50)?,
                paid_on,
                note: json_text(&b, "note", 500)?,
                confirmed,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(payment).unwrap_or_default()),
    ))
}

/// The scope for acting on a member's own dues: their own record, or the collector's subtree.
pub(crate) fn own_or_collector(auth: &Auth, person_id: i64) -> AppResult<Scope> {
    if auth.principal.person_id == Some(person_id) {
        auth.scope(Cap::ReadMembers)
    } else {
        auth.scope(Cap::CollectDues)
    }
}

/// `POST /api/v1/members/{id}/dues-orders` {"months":[…]}: an online payment order for the
/// member's due months, by the member or by someone paying for them (代缴 when the caller is
/// another person) → 201 {"order_no","amount_fen","months","provider","pay_url"}.
pub async fn create_order(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = own_or_collector(&auth, id)?;
    let months = json_months(b.get("months"))?;
    let provider = default_provider(&state)
        .ok_or_else(|| AppError::Conflict(RuleViolation::new("dues_online_unavailable")))?;
    let order = state
        .store
        .create_dues_order(
            &scope,
            &auth.actor(),
            id,
            auth.principal.person_id,
            months,
            provider.name(),
        )
        .await?;
    let info = provider.create_order(&order)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"order_no": order.order_no, "amount_fen": order.amount_fen, "months": order.months,
            "provider": order.provider, "status": order.status, "pay_url": info.pay_url}),
        ),
    ))
}

/// `POST /api/v1/dues/providers/{provider}/callback`: the provider's signed notice that an
/// order was paid. No session: the signature is the proof. A replay answers the same.
pub async fn callback(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    Ok(Json(handle_callback(&state, &name, &headers, &body).await?))
}

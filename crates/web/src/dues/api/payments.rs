//! Payments: recorded by hand by the branch's collector, or online through a provider with a
//! signed, idempotent callback.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use dangjian_rules::RuleViolation;
use dangjian_store::dues::payment::{NewPayment, PayMethod};
use dangjian_store::{Cap, Scope};
use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{self, Loose};
use super::provider::{default_provider, handle_callback};
use super::views::{OrderView, PaymentView, SettledView};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ConfirmQuery};

fn invalid(v: RuleViolation) -> AppError {
    AppError::Invalid(v)
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

/// A payment recorded by hand: `method` `cash` or `transfer`; `months` (`YYYY-MM`) for regular
/// dues, or `kind` `voluntary` with `amount_fen`; 代缴 by `payer_person_id` or `payer_name`;
/// `paid_on` (default today); `confirm` past the warnings (months paid late or ahead).
#[derive(Deserialize, ToSchema)]
pub struct PaymentBody {
    /// `cash`, `transfer`
    #[schema(value_type = String)]
    method: Loose,
    #[schema(value_type = Option<Vec<String>>)]
    months: Loose,
    #[schema(value_type = Option<i64>)]
    amount_fen: Loose,
    /// `regular` (default), `voluntary`
    #[schema(value_type = Option<String>)]
    kind: Loose,
    #[schema(value_type = Option<i64>)]
    payer_person_id: Loose,
    #[schema(value_type = Option<String>)]
    payer_name: Loose,
    #[schema(value_type = Option<String>, format = Date)]
    paid_on: Loose,
    #[schema(value_type = Option<String>)]
    note: Loose,
    #[schema(value_type = Option<bool>)]
    confirm: Loose,
}

impl PaymentBody {
    fn parse(self, person_id: i64, confirm_query: ConfirmQuery) -> AppResult<NewPayment> {
        let method = parse_method(fields::text("method", &self.method, 20)?)?;
        let voluntary = match fields::text("kind", &self.kind, 20)?.as_deref() {
            None | Some("regular") => false,
            Some("voluntary") => true,
            Some("special") => return Err(invalid(RuleViolation::field("dues_special_forbidden", "kind"))),
            Some(other) => {
                return Err(invalid(
                    RuleViolation::field("value_unknown", "kind").arg("value", other),
                ));
            }
        };
        let payer_person_id = fields::id("payer_person_id", &self.payer_person_id)?;
        let paid_on = fields::date("paid_on", &self.paid_on)?;
        let confirmed = confirm_query.confirm.unwrap_or(false) || fields::confirmed(&self.confirm);
        Ok(NewPayment {
            person_id,
            method,
            months: fields::months(&self.months)?,
            amount_fen: fields::fen("amount_fen", "amount_fen_invalid", &self.amount_fen)?,
            voluntary,
            payer_person_id,
            payer_name: fields::text("payer_name", &self.payer_name, 50)?,
            paid_on,
            note: fields::text("note", &self.note, 500)?,
            confirmed,
        })
    }
}

/// `POST /api/v1/members/{id}/dues-payments`: a payment recorded by hand by the collector → 201.
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(cq): ApiQuery<ConfirmQuery>,
    ApiJson(body): ApiJson<PaymentBody>,
) -> AppResult<(StatusCode, Json<PaymentView>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let new = body.parse(id, cq)?;
    let payment = state
        .store
        .dues()
        .record_dues_payment(&scope, &auth.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(payment.into())))
}

/// The scope for acting on a member's own dues: their own record, or the collector's subtree.
pub(crate) fn own_or_collector(auth: &Auth, person_id: i64) -> AppResult<Scope> {
    if auth.principal.person_id == Some(person_id) {
        auth.scope(Cap::ReadMembers)
    } else {
        auth.scope(Cap::CollectDues)
    }
}

/// The months (`YYYY-MM`) to pay online.
#[derive(Deserialize, ToSchema)]
pub struct OrderBody {
    #[schema(value_type = Vec<String>)]
    months: Loose,
}

/// `POST /api/v1/members/{id}/dues-orders`: an online payment order for the member's due
/// months, by the member or by someone paying for them (代缴 when the caller is another person)
/// → 201 with where to pay.
pub async fn create_order(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OrderBody>,
) -> AppResult<(StatusCode, Json<OrderView>)> {
    let scope = own_or_collector(&auth, id)?;
    // a member the caller does not see does not exist for them, provider or not
    state.store.members().person_row(&scope, id).await?;
    let months = fields::months(&body.months)?;
    let provider = default_provider(&state)
        .ok_or_else(|| AppError::Conflict(RuleViolation::new("dues_online_unavailable")))?;
    let order = state
        .store
        .dues()
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
        Json(OrderView {
            order_no: order.order_no,
            amount_fen: order.amount_fen,
            months: order.months,
            provider: order.provider,
            status: order.status.as_str(),
            pay_url: info.pay_url,
        }),
    ))
}

/// `POST /api/v1/dues/providers/{provider}/callback`: the provider's signed notice that an
/// order was paid. No session: the signature over the raw body is the proof, so the body is
/// read as bytes and parsed only once verified. A replay answers the same.
pub async fn callback(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<SettledView>> {
    Ok(Json(handle_callback(&state, &name, &headers, &body).await?))
}

//! Online payment providers. A provider turns an order into what the payer follows to pay, and
//! proves its callbacks: a callback whose signature does not verify is refused before anything
//! is read from it. The fake provider (demo mode only) signs with the deployment's signing key
//! and has a page on this server where the demo "pays".

use std::sync::Arc;

use axum::http::HeaderMap;
use dangjian_store::Keys;
use dangjian_store::dues::payment::{DuesOrder, ProviderCallback};
use serde::Deserialize;

use super::views::SettledView;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// The header carrying a callback's signature (hex HMAC-SHA256 over the raw body).
pub const SIGNATURE_HEADER: &str = "x-dangjian-signature";

/// What the payer is sent to, to pay an order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PayInfo {
    pub pay_url: String,
}

pub trait PaymentProvider: Send + Sync {
    /// The name in paths and on orders (`/api/v1/dues/providers/{name}/callback`).
    fn name(&self) -> &'static str;
    /// Registers the order with the provider and says where the payer goes.
    fn create_order(&self, order: &DuesOrder) -> AppResult<PayInfo>;
    /// Checks a callback's signature and reads it; unsigned, forged or altered → 403.
    fn verify_callback(&self, headers: &HeaderMap, body: &[u8]) -> AppResult<ProviderCallback>;
}

/// The provider for demos and tests: callbacks are HMAC-signed with the deployment's signing
/// key (purpose `dues-callback:fake`), so only this deployment can make a valid one.
pub struct FakeProvider {
    keys: Arc<Keys>,
}

const FAKE_PURPOSE: &str = "dues-callback:fake";

/// What a provider's callback says, signed over its raw bytes (`X-Dangjian-Signature`, hex
/// HMAC-SHA256): the order, the amount paid in 分, the provider's transaction, and `paid`.
#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct CallbackBody {
    pub order_no: String,
    pub amount_fen: i64,
    pub txn_id: String,
    pub status: String,
}

impl FakeProvider {
    pub fn new(keys: Arc<Keys>) -> Self {
        Self { keys }
    }

    /// The callback the fake provider sends when the demo pays: body and signature.
    pub fn signed_callback(&self, order: &DuesOrder) -> (Vec<u8>, String) {
        let body = CallbackBody {
            order_no: order.order_no.clone(),
            amount_fen: order.amount_fen,
            txn_id: format!("FAKE-{}", order.order_no),
            status: "paid".into(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let sig = hex::encode(self.keys.sign(FAKE_PURPOSE, &bytes));
        (bytes, sig)
    }
}

impl PaymentProvider for FakeProvider {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn create_order(&self, order: &DuesOrder) -> AppResult<PayInfo> {
        Ok(PayInfo {
            pay_url: format!("/dues/pay/{}", order.order_no),
        })
    }

    fn verify_callback(&self, headers: &HeaderMap, body: &[u8]) -> AppResult<ProviderCallback> {
        let sig = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| hex::decode(s.trim()).ok())
            .ok_or(AppError::Forbidden("dues_callback_signature_invalid"))?;
        if !self.keys.verify(FAKE_PURPOSE, body, &sig) {
            return Err(AppError::Forbidden("dues_callback_signature_invalid"));
        }
        let b: CallbackBody =
            serde_json::from_slice(body).map_err(|e| AppError::Malformed(None, e.to_string()))?;
        if b.status != "paid" {
            return Err(AppError::Invalid(
                dangjian_rules::RuleViolation::field("dues_callback_not_paid", "status")
                    .arg("value", b.status),
            ));
        }
        Ok(ProviderCallback {
            order_no: b.order_no,
            amount_fen: b.amount_fen,
            txn_id: b.txn_id,
        })
    }
}

/// The provider of that name, if this deployment has it. The fake provider exists only in demo
/// mode: it lets anyone "pay" without money.
pub fn provider(state: &AppState, name: &str) -> Option<Box<dyn PaymentProvider>> {
    match name {
        "fake" if state.cfg.demo => Some(Box::new(FakeProvider::new(state.store.keys.clone()))),
        _ => None,
    }
}

/// The provider new orders go to, if any.
pub fn default_provider(state: &AppState) -> Option<Box<dyn PaymentProvider>> {
    provider(state, "fake")
}

/// Verifies and settles a callback: the answer, the same for a replay.
pub async fn handle_callback(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<SettledView> {
    let p = provider(state, name).ok_or(AppError::NotFound)?;
    let cb = p.verify_callback(headers, body)?;
    tracing::info!(provider = name, "dues payment callback verified");
    // the store keeps the first answer as JSON, to replay it as it was
    let answer = state.store.dues().settle_dues_order(p.name(), &cb).await?;
    serde_json::from_value(answer).map_err(|e| AppError::Internal(e.into()))
}

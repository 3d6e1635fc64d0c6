//! Dues through the API: the fixtures most dues tests start from (bases, a year's bills), then
//! one module per part of the feature.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::Client;

mod bases;
mod ledger;
mod outsiders;
mod pages;
mod payments;
mod quote;

/// Sets an in-service member's dues base for `year` as `c`: 200 or the test fails; the answer.
pub async fn set_base(c: &Client, person: i64, year: i32, base_fen: i64) -> Value {
    let (s, b) = c
        .put(
            &format!("/api/v1/members/{person}/dues-base/{year}"),
            json!({"category": "in_service", "base_fen": base_fen}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b
}

/// Starts an online payment of `months` (`YYYY-MM`) of `person`'s dues as `c`: 201 or the
/// test fails; the order (`order_no`, `amount_fen`, `pay_url`).
pub async fn order(c: &Client, person: i64, months: &[&str]) -> Value {
    let (s, b) = c
        .post(
            &format!("/api/v1/members/{person}/dues-orders"),
            json!({"months": months}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b
}

/// Generates the bills of `year` (one `month`, or all twelve) for `org`'s subtree as `c`: 201
/// or the test fails; the answer (`created`).
pub async fn generate_bills(c: &Client, org: i64, year: i32, month: Option<u8>) -> Value {
    let body = match month {
        Some(m) => json!({"year": year, "month": m}),
        None => json!({"year": year}),
    };
    let (s, b) = c.post(&format!("/api/v1/orgs/{org}/dues-bills"), body).await;
    assert_eq!(s, 201, "{b}");
    b
}

impl Client {
    /// `POST /api/v1/members/{person}/dues-hardships` (an application): status and answer.
    pub async fn apply_hardship(&self, person: i64, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/members/{person}/dues-hardships"), body)
            .await
    }
    /// `POST /api/v1/dues-hardships/{id}/{step}` (`discussion`, `decision`): status and answer.
    pub async fn on_hardship(
        &self,
        id: impl std::fmt::Display,
        step: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/dues-hardships/{id}/{step}"), body)
            .await
    }
    /// `GET /api/v1/orgs/{org}/dues-report?{query}`: status and the report.
    pub async fn dues_report(&self, org: impl std::fmt::Display, query: &str) -> (StatusCode, Value) {
        self.get(&format!("/api/v1/orgs/{org}/dues-report?{query}")).await
    }
}

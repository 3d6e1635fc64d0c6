//! A caller outside the subtree gets 404 before anything in the request is judged (issue #20):
//! the thing does not exist for them, so neither does a bad year, a missing provider or a bad
//! body.

use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

use super::payments::app_with_bills;
use crate::helpers::{TestApp, refused};

#[tokio::test]
async fn a_bases_import_into_an_org_not_seen_is_not_found_before_its_year_is_judged() {
    let app = TestApp::spawn().await;
    let secb = app.login("secb").await;
    let path = format!("/api/v1/orgs/{}/dues-bases/import?year=abc", app.tree.branch_a);
    let (s, b) = secb.multipart(&path, &[], "payroll.xlsx", b"not a sheet").await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    // inside the subtree the year is judged as before
    let sec = app.login("sec").await;
    let (s, b) = sec.multipart(&path, &[], "payroll.xlsx", b"not a sheet").await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "year_invalid");
}

#[tokio::test]
async fn an_order_for_a_member_not_seen_is_not_found_though_no_provider_is_configured() {
    let app = TestApp::spawn().await;
    let secb = app.login("secb").await;
    let path = format!("/api/v1/members/{}/dues-orders", app.tree.a1);
    let (s, b) = secb.post(&path, json!({"months": ["2026-01"]})).await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = secb.post(&path, json!({"months": 5})).await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    // the member themself still hears there is no online payment
    let mem = app.login("mem").await;
    let (s, b) = mem.post(&path, json!({"months": ["2026-01"]})).await;
    refused(s, &b, StatusCode::CONFLICT, "dues_online_unavailable");
}

#[tokio::test]
async fn a_decision_on_a_hardship_not_seen_is_not_found_before_its_body_is_judged() {
    let app = app_with_bills().await;
    let mem = app.login("mem").await;
    let (s, h) = mem
        .apply_hardship(
            app.tree.a1,
            json!({"from": "2026-01", "to": "2026-02", "reason": "大病住院"}),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    let path = format!("/api/v1/dues-hardships/{}/decision", h["id"]);
    let secb = app.login("secb").await;
    let (s, b) = secb.post(&path, json!({})).await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = secb
        .post("/api/v1/dues-hardships/99999/decision", json!({}))
        .await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let admin = app.login("admin").await;
    let (s, b) = admin.post(&path, json!({})).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "field_required");
}

#[tokio::test]
async fn a_decision_on_an_arrears_case_not_seen_is_not_found_before_its_body_is_judged() {
    let app = app_with_bills().await;
    // January to June unpaid by July: a case
    app.clock.set(datetime!(2026-07-15 02:00 UTC));
    let sec = app.login("sec").await;
    let (s, c) = sec
        .post(
            &format!("/api/v1/members/{}/dues-arrears-case", app.tree.a1),
            json!({}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let path = format!("/api/v1/dues-arrears-cases/{}/decision", c["id"]);
    let secb = app.login("secb").await;
    for body in [json!({"outcome": "removal_proposed"}), json!({"outcome": 5})] {
        let (s, b) = secb.post(&path, body).await;
        refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    }
    let (s, b) = sec
        .post(
            "/api/v1/dues-arrears-cases/99999/decision",
            json!({"outcome": "kept"}),
        )
        .await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = sec.post(&path, json!({"outcome": "removal_proposed"})).await;
    refused(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_case_needs_congress",
    );
}

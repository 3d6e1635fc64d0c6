//! Stored statuses and kinds are decoded into the rules' enums when rows are read: what a
//! meeting shows comes from its row, never from a fallback.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_cancelled_meeting_reads_as_cancelled_not_closed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let start = app.store.now().replace_nanosecond(0).unwrap_or(app.store.now()) + Duration::hours(24);
    let at = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let (s, m) = sec
        .post(
            "/api/v1/meetings",
            json!({"org_id": app.tree.branch_a, "kind": "committee", "title": "支委会",
                   "starts_at": at(start), "ends_at": at(start + Duration::hours(2))}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(
        (m["status"].as_str(), m["kind"].as_str()),
        (Some("planned"), Some("committee"))
    );
    let id = m["id"].as_i64().unwrap_or_default();

    let (s, c) = sec
        .on_meeting(id, "cancel", json!({"reason": "与上级会议冲突"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");

    // stored `closed` with a cancellation time: both views say `cancelled`
    let (s, one) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["status"].as_str(), Some("cancelled"), "{one}");
    assert_eq!(one["kind"].as_str(), Some("committee"));
    assert_eq!(one["kind_label"].as_str(), Some("支委会"));
    let (_, plan) = sec.get(&format!("/api/v1/meetings/{id}/plan")).await;
    assert_eq!(plan["status"].as_str(), Some("cancelled"), "{plan}");
}

#[tokio::test]
async fn a_closed_meeting_still_reads_as_closed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let start = app.store.now().replace_nanosecond(0).unwrap_or(app.store.now()) - Duration::hours(1);
    let at = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let (s, m) = sec
        .post(
            "/api/v1/meetings",
            json!({"org_id": app.tree.branch_a, "kind": "party_lecture", "title": "党课",
                   "starts_at": at(start), "ends_at": at(start + Duration::hours(2))}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap_or_default();
    // started an hour ago, nobody checked in: shown `open`
    assert_eq!(m["status"].as_str(), Some("open"), "{m}");
    let (s, c) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (_, one) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(one["status"].as_str(), Some("closed"), "{one}");
}

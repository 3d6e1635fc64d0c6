//! Status events that span time and status (issue #20; domain-rules §1, §6, edge cases 1,
//! 13–15): 转正 only once probation has ended and dated at its end, one extension of 6–12 months,
//! no 劝退 of a probationer, 自行脱党 two years after 停止党籍, restorations and transfers that
//! keep the status, age on applying and joining, and the API refusing what the import refuses.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use super::member;
use crate::helpers::{Client, TestApp, id_number, refused, refused_on};

/// A probationary member of branch A admitted by the 支部大会 on `joined` (born 1990).
async fn probationer(app: &TestApp, c: &Client, joined: &str, seq: u32) -> i64 {
    let m = member(app.tree.branch_a, &id_number("1990-03-01", seq))
        .with("status", json!("probationary"))
        .with("joined_on", json!(joined))
        .with("regularized_on", Value::Null)
        .created(c)
        .await;
    m["id"].as_i64().unwrap_or_default()
}

async fn event(c: &Client, id: i64, body: Value) -> (StatusCode, Value) {
    c.member_event(id, body).await
}

#[tokio::test]
async fn regularizing_waits_for_the_end_of_probation_and_dates_it_there() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2025-12-01 02:00 UTC));
    let sec = app.login("sec").await;
    let id = probationer(&app, &sec, "2025-06-15", 201).await;
    let (s, b) = event(&sec, id, json!({"kind": "regularize", "date": "2025-12-01"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "probation_not_over",
        "date",
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2026-06-15"),
        "{b}"
    );
    let (s, b) = event(&sec, id, json!({"kind": "regularize", "date": "2025-01-01"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "probation_not_over",
        "date",
    );

    // the 支部大会 votes on 2026-06-20: the member is formal from the end of probation
    app.clock.set(datetime!(2026-07-01 02:00 UTC));
    let sec = app.login("sec").await;
    let (s, b) = event(&sec, id, json!({"kind": "regularize", "date": "2026-06-20"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, m) = sec.get_member(id).await;
    assert_eq!(
        (m["status"].as_str(), m["regularized_on"].as_str()),
        (Some("formal"), Some("2026-06-15")),
        "{m}"
    );
}

#[tokio::test]
async fn one_extension_of_six_to_twelve_months_moves_the_regularization() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-06-20 02:00 UTC));
    let sec = app.login("sec").await;
    let id = probationer(&app, &sec, "2025-06-15", 203).await;
    let (_, m) = sec.get_member(id).await;
    assert_eq!(m["probation_ends_on"], "2026-06-15", "{m}");
    for months in [json!(5), json!(13), json!("六"), Value::Null] {
        let (s, b) = event(&sec, id, json!({"kind": "extend_probation", "date": "2026-06-20", "reason": "支部大会决定", "months": months})).await;
        refused_on(
            s,
            &b,
            StatusCode::UNPROCESSABLE_ENTITY,
            "probation_extension_range",
            "months",
        );
    }
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "extend_probation", "date": "2026-06-20", "reason": "支部大会决定", "months": 6}),
    )
    .await;
    assert_eq!((s, b["months"].as_i64()), (StatusCode::CREATED, Some(6)), "{b}");
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "extend_probation", "date": "2026-06-20", "reason": "再次", "months": 6}),
    )
    .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "probation_extended_once");
    // the end of probation moves with the extension
    let (_, m) = sec.get_member(id).await;
    assert_eq!(m["probation_ends_on"], "2026-12-15", "{m}");

    // edge case 15: 转正 six months after the original end
    app.clock.set(datetime!(2027-01-10 02:00 UTC));
    let sec = app.login("sec").await;
    let (s, b) = event(&sec, id, json!({"kind": "regularize", "date": "2026-12-01"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "probation_not_over",
        "date",
    );
    let (s, b) = event(&sec, id, json!({"kind": "regularize", "date": "2027-01-05"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, m) = sec.get_member(id).await;
    assert_eq!(m["regularized_on"], "2026-12-15", "{m}");
    assert_eq!(m["probation_ends_on"], Value::Null, "formal now: {m}");
}

#[tokio::test]
async fn a_probationer_is_not_asked_to_leave_and_keeps_the_status_through_suspension_and_transfer() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-06-10 02:00 UTC));
    let sec = app.login("sec").await;
    let id = probationer(&app, &sec, "2026-01-10", 205).await;
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "leave", "date": "2026-06-01", "reason": "劝退"}),
    )
    .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "probationary_cannot_leave",
        "kind",
    );

    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "suspend", "date": "2026-03-01", "reason": "失联"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // 自行脱党 only once two years of 停止党籍 have passed
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "leave", "date": "2026-03-02", "reason": "自行脱党"}),
    )
    .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "suspension_under_two_years",
        "date",
    );
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "restore", "date": "2026-04-01", "reason": "恢复联系", "status": "formal"}),
    )
    .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "status_not_allowed",
        "status",
    );
    let (s, b) = event(
        &sec,
        id,
        json!({"kind": "restore", "date": "2026-04-01", "reason": "恢复联系"}),
    )
    .await;
    assert_eq!(
        (s, b["status_after"].as_str()),
        (StatusCode::CREATED, Some("probationary")),
        "{b}"
    );

    let (s, b) = event(&sec, id, json!({"kind": "transfer_out", "date": "2026-05-01"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let back = |status: Value| json!({"kind": "transfer_in", "date": "2026-05-10", "org_id": app.tree.branch_b, "status": status});
    let (s, b) = event(&sec, id, back(json!("formal"))).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "status_not_allowed",
        "status",
    );
    let admin = app.login("admin").await;
    let (s, b) = event(&admin, id, back(Value::Null)).await;
    assert_eq!(
        (s, b["status_after"].as_str()),
        (StatusCode::CREATED, Some("probationary")),
        "{b}"
    );
}

#[tokio::test]
async fn the_api_refuses_what_the_import_refuses_and_a_minor_neither_applies_nor_joins() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-06-10 02:00 UTC));
    let sec = app.login("sec").await;
    let a = app.tree.branch_a;
    // a probationary member has no 转正 date yet
    let (s, b) = member(a, &id_number("1990-03-01", 207))
        .with("status", json!("probationary"))
        .with("joined_on", json!("2026-01-10"))
        .with("regularized_on", json!("2026-02-01"))
        .post(&sec)
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "import_regularized_for_probationary",
        "regularized_on",
    );
    // sequence 207 is odd: a man
    let (s, b) = member(a, &id_number("1990-03-01", 207))
        .with("gender", json!("female"))
        .post(&sec)
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "import_gender_mismatch",
        "gender",
    );
    // joined at 9
    let (s, b) = member(a, &id_number("2010-03-01", 209))
        .with("joined_on", json!("2019-07-01"))
        .with("regularized_on", json!("2020-07-01"))
        .post(&sec)
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "joined_under_18",
        "joined_on",
    );

    // born 2010: no application before 2028-03-01
    let young = member(a, &id_number("2010-03-01", 211))
        .with("status", json!("left"))
        .with("joined_on", Value::Null)
        .with("regularized_on", Value::Null)
        .created(&sec)
        .await;
    let id = young["id"].as_i64().unwrap_or_default();
    let (s, b) = event(&sec, id, json!({"kind": "apply", "date": "2026-06-01"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "applicant_under_18",
        "date",
    );
}

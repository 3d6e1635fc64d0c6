//! What a check-in proves (issue 11, item 4; API.md "Meetings and check-in", revised
//! 2026-12-03): a member checks themself in only with the hall's rotating code, inside the
//! check-in window (from two hours before the start to the end), on the server's clock; staff
//! and devices before the window must confirm; a device clock that strays is recorded but the
//! server's time decides lateness.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::meeting;
use crate::helpers::{Client, FIXED_NOW, TestApp, refused, refused_on};

fn t(x: OffsetDateTime) -> String {
    x.format(&Rfc3339).unwrap_or_default()
}

async fn plan(c: &Client, org: i64, start: OffsetDateTime) -> i64 {
    meeting(org).starting_at(start).plan_as(c).await
}

async fn status(c: &Client, id: i64) -> Value {
    let (_, m) = c.get(&format!("/api/v1/meetings/{id}")).await;
    m["status"].clone()
}

async fn qr(c: &Client, id: i64) -> Value {
    let (s, b) = c.get(&format!("/api/v1/meetings/{id}/qr")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["token"].clone()
}

#[tokio::test]
async fn a_members_own_check_in_needs_the_halls_code_inside_the_window_and_the_servers_clock() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let sec = app.login("sec").await;
    let mem = app.login("mem").await;
    let start = FIXED_NOW + Duration::days(1);
    let id = plan(&sec, app.tree.branch_a, start).await;

    // tomorrow's meeting, the member's own id and a made-up time: refused, saying why
    let body = json!({"event_id": "m1", "person_id": app.tree.a1, "method": "manual", "at": t(start)});
    let (s, b) = mem.check_in(id, body).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "checkin_needs_qr",
        "qr_token",
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("二维码"),
        "{b}"
    );
    // with the hall's code, but a day early: outside the window
    let body = json!({"event_id": "m2", "qr_token": qr(&sec, id).await, "method": "qr"});
    let (s, b) = mem.check_in(id, body).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "checkin_outside_window");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("120 分钟"),
        "{b}"
    );
    // staff a day early: confirm first; unconfirmed, the meeting stays planned
    let staff = app.login("staff").await;
    let body = json!({"event_id": "s1", "person_id": app.tree.a2, "method": "manual"});
    let (s, b) = staff.check_in(id, body).await;
    refused(s, &b, StatusCode::CONFLICT, "confirmation_required");
    assert_eq!(b["error"]["warnings"][0]["code"], "checkin_before_window");
    assert_eq!(status(&sec, id).await, "planned");

    // 20 minutes after the start, the member claims to have come on time: the server's clock says late
    app.clock.set(start + Duration::minutes(20));
    let sec = app.login("sec").await;
    let mem = app.login("mem").await;
    let body = json!({"event_id": "m3", "qr_token": qr(&sec, id).await, "method": "qr", "at": t(start - Duration::minutes(10))});
    let (s, b) = mem.check_in(id, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["state"].as_str(), b["late"].as_bool()),
        (Some("present"), Some(true))
    );

    // after the end: the member is refused, the secretary may still record it
    app.clock.set(start + Duration::hours(2) + Duration::minutes(1));
    let sec = app.login("sec").await;
    let mem = app.login("mem").await;
    let body = json!({"event_id": "m4", "qr_token": qr(&sec, id).await, "method": "qr", "direction": "out"});
    let (s, b) = mem.check_in(id, body).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "checkin_outside_window");
    let body = json!({"event_id": "s2", "person_id": app.tree.a2, "method": "manual", "at": t(start - Duration::minutes(3))});
    let (s, b) = sec.check_in(id, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        b["late"], false,
        "staff recording afterwards keep their time: {b}"
    );
}

#[tokio::test]
async fn a_device_clock_that_strays_is_recorded_but_the_server_decides_lateness() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let sec = app.login("sec").await;
    let start = FIXED_NOW + Duration::minutes(30);
    let id = plan(&sec, app.tree.branch_a, start).await;
    let (_, gate) = super::register_gate(&app, &sec, app.tree.branch_a).await;

    // ten minutes after the start: a gate whose clock says 20 minutes before it is not believed
    app.clock.set(start + Duration::minutes(10));
    let body = json!({"event_id": "g1", "person_id": app.tree.a1, "method": "card", "at": t(start - Duration::minutes(20))});
    let (s, b) = gate.check_in(id, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["late"], true, "{b}");
    // a gate a minute behind the server is believed: in at 00:03 after the start, on time
    app.clock.set(start + Duration::minutes(4));
    let body = json!({"event_id": "g2", "person_id": app.tree.a2, "method": "card", "at": t(start + Duration::minutes(3))});
    let (s, b) = gate.check_in(id, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["late"], false, "{b}");
    // the gate's own clock stays on record beside the time that counted
    let (device_at, counted_at): (OffsetDateTime, OffsetDateTime) = dangjian_store::with_db!(&app.store.db, p =>
        sqlx::query_as("SELECT device_at, counted_at FROM checkin_event WHERE event_id = 'g1'").fetch_one(p).await)
    .unwrap_or((FIXED_NOW, FIXED_NOW));
    assert_eq!(device_at, start - Duration::minutes(20));
    assert_eq!(counted_at, start + Duration::minutes(10));
}

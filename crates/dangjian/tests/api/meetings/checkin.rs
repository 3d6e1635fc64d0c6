//! Meetings and check-in (API.md "Meetings and check-in"): planning, expected attendees,
//! idempotent check-ins, cards, leaves, attendance arithmetic, closing, devices, scope.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use super::{MeetingPlan, Planned, attendance, checkins as checkin_path, local as t, meeting};
use crate::helpers::{TestApp, audit_count, entry, field, ids, ints, refused, refused_on};

/// The meeting most tests here plan: 五月支部党员大会 of `org`, an hour from now.
fn congress(org: i64) -> MeetingPlan {
    meeting(org)
        .title("五月支部党员大会")
        .starting_in(Duration::hours(1))
}

fn state_of(a: &Value, person: i64) -> (String, bool) {
    let p = entry(a, "people", "person_id", person);
    (
        p["state"].as_str().unwrap_or("").to_owned(),
        p["late"].as_bool().unwrap_or(false),
    )
}

fn assert_adds_up(a: &Value) {
    let n = |k: &str| a[k].as_i64().unwrap_or(-1);
    assert_eq!(
        n("present") + n("leave") + n("absent") + n("left_early"),
        n("expected"),
        "{a}"
    );
}

#[tokio::test]
async fn planning_a_meeting_and_its_expected_attendees() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let (s, m) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["status"], "planned");
    assert_eq!(m["kind"], "branch_congress");
    assert_eq!(m["starts_at"], t(start));

    // ends before it starts
    let (s, b) = sec
        .post(
            "/api/v1/meetings",
            json!({"org_id": app.tree.branch_a, "kind": "committee", "title": "支委会",
                   "starts_at": t(start), "ends_at": t(start - Duration::minutes(30))}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "meeting_ends_before_start",
        "ends_at",
    );

    // expected: formal and probationary members of branch A, its 党小组 included
    let a = attendance(&sec, id).await;
    assert_eq!(a["expected"], 2, "{a}");
    assert_eq!(a["absent"], 2);
    assert_eq!(ids(&a, "people", "person_id"), [app.tree.a1, app.tree.a2]);
    assert_adds_up(&a);

    // a planned meeting shows open once its start time has passed
    app.clock.set(start + Duration::minutes(1));
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(m["status"], "open");
}

#[tokio::test]
async fn check_in_by_person_on_time_and_late_and_replays() {
    let (app, staff) = TestApp::spawn_as("staff").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &staff).await;
    let body = json!({"event_id": "e-1", "person_id": app.tree.a1, "method": "manual", "at": t(start)});
    let (s, b) = staff.post(&checkin_path(id), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        b,
        json!({"event_id": "e-1", "person_id": app.tree.a1, "state": "present", "late": false, "seat": null})
    );
    let (_, m) = staff.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(m["status"], "open", "open from its first check-in");

    // the same body again: 200, same answer, nothing added
    let audits = audit_count(&app.store).await;
    let (s, again) = staff.post(&checkin_path(id), body).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, b);
    assert_eq!(audit_count(&app.store).await, audits, "a replay changes nothing");

    // the same event id with another body
    let (s, c) = staff.check_in_at(id, "e-1", app.tree.a2, &t(start)).await;
    refused(s, &c, StatusCode::CONFLICT, "event_id_conflict");

    // ten minutes after the start is late (grace 5 minutes)
    let (s, b) = staff
        .check_in_at(id, "e-2", app.tree.a2, &t(start + Duration::minutes(10)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["state"].as_str(), b["late"].as_bool()),
        (Some("present"), Some(true))
    );
    let a = attendance(&staff, id).await;
    assert_eq!(ints(&a, ["expected", "present"]), [Some(2), Some(2)]);
    assert_eq!(state_of(&a, app.tree.a2), ("present".into(), true));
    assert_adds_up(&a);
}

#[tokio::test]
async fn refusals_not_expected_proxy_without_reason_and_bad_bodies() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let audits = audit_count(&app.store).await;
    let (s, b) = sec.check_in_by_hand(id, "x1", app.tree.b1).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_expected");
    let (s, b) = sec
        .check_in(
            id,
            json!({"event_id": "x2", "person_id": app.tree.a1, "method": "proxy"}),
        )
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "reason_required");
    let (s, b) = sec
        .check_in(id, json!({"person_id": app.tree.a1, "method": "manual"}))
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_required",
        "event_id",
    );
    let long = "x".repeat(65);
    let (s, b) = sec
        .check_in(id, json!({"event_id": long, "person_id": app.tree.a1}))
        .await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "event_id"));
    let (s, b) = sec
        .check_in(id, json!({"event_id": "x3", "qr_token": "abc"}))
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "qr_token_invalid");
    assert_eq!(audit_count(&app.store).await, audits, "refusals change nothing");
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}")).await;
    assert_eq!(m["status"], "planned");
    // proxy with a reason is fine
    let (s, b) = sec
        .check_in(id, json!({"event_id": "x4", "person_id": app.tree.a1, "method": "proxy", "reason": "在外出差，委托代签", "at": t(start)})).await;
    assert_eq!((s, b["state"].as_str()), (StatusCode::CREATED, Some("present")));
}

#[tokio::test]
async fn cards_known_and_unknown() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let (s, b) = sec
        .check_in(
            id,
            json!({"event_id": "c1", "card_uid": "DEADBEEF", "method": "card", "at": t(start)}),
        )
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_card");
    let (s, list) = sec.get(&format!("/api/v1/meetings/{id}/unresolved-cards")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1, "the raw event is kept: {list}");
    assert_eq!(list["items"][0]["card_uid"], "DEADBEEF");
    // a replay of the same unknown card keeps one row
    let (s, _) = sec
        .check_in(
            id,
            json!({"event_id": "c1", "card_uid": "DEADBEEF", "method": "card", "at": t(start)}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = sec.get(&format!("/api/v1/meetings/{id}/unresolved-cards")).await;
    assert_eq!(list["total"], 1);

    let (s, b) = sec
        .patch(
            &format!("/api/v1/members/{}", app.tree.a1),
            json!({"card_uid": "04A1B2C3"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = sec
        .check_in(
            id,
            json!({"event_id": "c2", "card_uid": "04A1B2C3", "method": "card", "at": t(start)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["person_id"].as_i64(), b["state"].as_str()),
        (Some(app.tree.a1), Some("present"))
    );
}

#[tokio::test]
async fn in_out_sequences_leaves_and_the_arithmetic() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let post = |n: &str, p: i64, dir: &str, mins: i64| json!({"event_id": n, "person_id": p, "method": "infrared", "direction": dir, "at": t(start + Duration::minutes(mins))});
    // a1: in, out, in → present
    for (n, dir, m) in [("i1", "in", 0), ("i2", "out", 30), ("i3", "in", 40)] {
        let (s, b) = sec.post(&checkin_path(id), post(n, app.tree.a1, dir, m)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    // a2: in then out before the end → left early
    sec.post(&checkin_path(id), post("j1", app.tree.a2, "in", 0))
        .await;
    let (_, b) = sec
        .post(&checkin_path(id), post("j2", app.tree.a2, "out", 60))
        .await;
    assert_eq!(b["state"], "left_early");
    let a = attendance(&sec, id).await;
    assert_eq!(state_of(&a, app.tree.a1), ("present".into(), false));
    assert_eq!(state_of(&a, app.tree.a2).0, "left_early");
    assert_eq!(a["left_early"], 1);
    assert_adds_up(&a);

    // leaves: a2 of a second meeting is on leave and does not come; a1 is on leave and comes
    let Planned {
        id: id2,
        starts_at: start2,
    } = congress(app.tree.branch_a).plan(&app, &sec).await;
    for p in [app.tree.a1, app.tree.a2] {
        let (s, b) = sec
            .on_meeting(id2, "leaves", json!({"person_id": p, "reason": "出差"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["status"], "approved");
    }
    let (s, b) = sec
        .on_meeting(id2, "leaves", json!({"person_id": app.tree.b1, "reason": "x"}))
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_expected");
    let a = attendance(&sec, id2).await;
    assert_eq!(a["leave"], 2);
    let (_, b) = sec.check_in_at(id2, "k1", app.tree.a1, &t(start2)).await;
    assert_eq!(b["state"], "present", "someone on leave who comes is present");
    let a = attendance(&sec, id2).await;
    assert_eq!(
        ints(&a, ["expected", "present", "leave", "absent"]),
        [Some(2), Some(1), Some(1), Some(0)]
    );
    assert_eq!(state_of(&a, app.tree.a2).0, "leave");
    assert_adds_up(&a);
}

#[tokio::test]
async fn a_closed_meeting_refuses_check_ins() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let body = json!({"event_id": "z1", "person_id": app.tree.a1, "method": "manual", "at": t(start)});
    let (s, _) = sec.post(&checkin_path(id), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, m) = sec.close_meeting(id).await;
    assert_eq!((s, m["status"].as_str()), (StatusCode::OK, Some("closed")));
    let (s, b) = sec.check_in_by_hand(id, "z2", app.tree.a2).await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_closed");
    // a replay of an event stored before the close still gets its answer
    let (s, _) = sec.post(&checkin_path(id), body).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = sec.close_meeting(id).await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_closed");
}

#[tokio::test]
async fn a_device_checks_in_by_card_in_its_subtree_only() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    sec.patch(
        &format!("/api/v1/members/{}", app.tree.a2),
        json!({"card_uid": "CARD-A2"}),
    )
    .await;
    let (d, device) = super::register_gate(&app, &sec, app.tree.branch_a).await;
    assert!(d["id"].is_i64());
    let (s, b) = device
        .check_in(
            id,
            json!({"event_id": "d1", "card_uid": "CARD-A2", "at": t(start)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["person_id"].as_i64(), b["state"].as_str()),
        (Some(app.tree.a2), Some("present"))
    );
    // nothing else
    let (s, _) = device.get("/api/v1/members").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = device.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // a meeting of branch B is not visible to a device of branch A
    let admin = app.login("admin").await;
    let Planned { id: idb, .. } = congress(app.tree.branch_b).plan(&app, &admin).await;
    let (s, _) = device
        .check_in(idb, json!({"event_id": "d2", "person_id": app.tree.b1}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // a device kind outside the list
    let (s, b) = sec
        .post(
            "/api/v1/devices",
            json!({"name": "x", "kind": "toaster", "org_id": app.tree.branch_a}),
        )
        .await;
    assert_eq!((s, field(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "kind"));
}

#[tokio::test]
async fn another_branch_does_not_see_the_meeting() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, .. } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let secb = app.login("secb").await;
    for path in [
        format!("/api/v1/meetings/{id}"),
        format!("/api/v1/meetings/{id}/attendance"),
    ] {
        let (s, _) = secb.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = secb
        .check_in(id, json!({"event_id": "s1", "person_id": app.tree.a1}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = secb.close_meeting(id).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // secb cannot plan a meeting for branch A either
    let (s, _) = secb
        .post(
            "/api/v1/meetings",
            json!({"org_id": app.tree.branch_a, "kind": "other", "title": "x",
                   "starts_at": "2026-05-01T09:00:00+08:00", "ends_at": "2026-05-01T10:00:00+08:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_member_checks_only_themself_in() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let Planned { id, starts_at: start } = congress(app.tree.branch_a).plan(&app, &sec).await;
    let mem = app.login("mem").await;
    let (s, b) = mem
        .check_in(
            id,
            json!({"event_id": "m1", "person_id": app.tree.a2, "method": "qr", "at": t(start)}),
        )
        .await;
    refused(s, &b, StatusCode::FORBIDDEN, "checkin_self_only");
    // their own id proves nothing: a member checks in with the hall's rotating code
    let (s, b) = mem.check_in_at(id, "m2", app.tree.a1, &t(start)).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "checkin_needs_qr",
        "qr_token",
    );
    let (_, qr) = sec.get(&format!("/api/v1/meetings/{id}/qr")).await;
    let (s, b) = mem
        .check_in(
            id,
            json!({"event_id": "m3", "qr_token": qr["token"], "method": "qr", "at": t(start)}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::CREATED, Some("present")),
        "{b}"
    );
    let (s, _) = mem.post("/api/v1/meetings", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_meeting_moves_with_its_org() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (s, m) = admin
        .post("/api/v1/meetings", serde_json::json!({"org_id": app.tree.branch_a, "kind": "theme_day", "title": "主题党日",
            "starts_at": "2026-01-05T09:00:00+08:00", "ends_at": "2026-01-05T11:00:00+08:00", "venue": "会议室"}))
        .await;
    assert_eq!(s, 201, "{m}");
    let (s, _) = admin
        .patch(
            &format!("/api/v1/orgs/{}", app.tree.branch_a),
            serde_json::json!({"parent_id": app.tree.root}),
        )
        .await;
    assert_eq!(s, 200);
    // the secretary of branch A still sees it, with the same expected people
    let (s, att) = app
        .login("sec")
        .await
        .get(&format!("/api/v1/meetings/{}/attendance", m["id"]))
        .await;
    assert_eq!(s, 200, "{att}");
    assert_eq!(att["expected"], 2);
}

//! Planning meetings: the list and its filters, planning fields, invitees, notices, cancel,
//! reschedule, recurring series, members' leave requests and a member's own meetings.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{attendance, cst, local as t, meeting};
use crate::helpers::{
    Client, FIXED_NOW, TestApp, audit_count, entries, field, ids, ints, message, refused, refused_on, strs,
};

mod pages;

/// A 支部党员大会-kind meeting of `org` titled `title`, starting `hours` from now.
async fn plan_at(app: &TestApp, c: &Client, org: i64, title: &str, hours: i64) -> (i64, OffsetDateTime) {
    let m = meeting(org)
        .title(title)
        .starting_in(Duration::hours(hours))
        .plan(app, c)
        .await;
    (m.id, m.starts_at)
}

#[tokio::test]
async fn the_list_filters_by_org_status_and_dates_within_the_scope() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let admin = app.login("admin").await;
    let (a, _) = plan_at(&app, &sec, app.tree.branch_a, "支委会", 24).await;
    let (g, _) = plan_at(&app, &sec, app.tree.group_a1, "党小组会", 48).await;
    let (b, _) = plan_at(&app, &admin, app.tree.branch_b, "二支部支委会", 24).await;

    // the secretary of branch A sees A's meetings, not B's
    let (s, l) = sec.get("/api/v1/meetings").await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(ids(&l, "items", "id"), vec![g, a], "newest first, scope only");
    assert_eq!(l["total"], 2);
    let (_, l) = sec
        .get(&format!("/api/v1/meetings?org={}", app.tree.branch_a))
        .await;
    assert_eq!(ids(&l, "items", "id"), vec![a]);
    let (_, l) = sec
        .get(&format!(
            "/api/v1/meetings?org={}&subtree=true",
            app.tree.branch_a
        ))
        .await;
    assert_eq!(ids(&l, "items", "id"), vec![g, a]);
    let (s, _) = sec
        .get(&format!("/api/v1/meetings?org={}", app.tree.branch_b))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another branch is outside the scope");
    let (_, l) = admin.get("/api/v1/meetings").await;
    assert_eq!(ids(&l, "items", "id"), vec![g, b, a]);

    // dates are local days, both ends included
    let tomorrow = (app.store.now().to_offset(cst()) + Duration::hours(24)).date();
    let (_, l) = sec
        .get(&format!("/api/v1/meetings?from={tomorrow}&to={tomorrow}"))
        .await;
    assert_eq!(ids(&l, "items", "id"), vec![a]);

    // status: planned now; open once its start has passed
    let (_, l) = sec.get("/api/v1/meetings?status=open").await;
    assert_eq!(l["total"], 0, "{l}");
    app.clock.set(app.store.now() + Duration::hours(25));
    let sec = app.login("sec").await;
    let (_, l) = sec.get("/api/v1/meetings?status=open").await;
    assert_eq!(ids(&l, "items", "id"), vec![a]);
    let (_, l) = sec.get("/api/v1/meetings?status=planned").await;
    assert_eq!(ids(&l, "items", "id"), vec![g]);
    let (s, e) = sec.get("/api/v1/meetings?status=later").await;
    refused_on(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "value_unknown", "status");
    let (s, e) = sec.get("/api/v1/meetings?from=2026-13-01").await;
    assert_eq!((s, field(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "from"));
}

#[tokio::test]
async fn planning_fields_change_until_the_meeting_is_closed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (id, _) = plan_at(&app, &sec, app.tree.branch_a, "支委会", 1).await;
    let audits = audit_count(&app.store).await;
    let (s, m) = sec
        .patch(
            &format!("/api/v1/meetings/{id}"),
            json!({"host": "张书记", "recorder": "李委员", "agenda": "一、学习\n二、讨论发展对象", "wall_text": "选举办法全文"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(
        (m["host"].as_str(), m["recorder"].as_str(), m["venue"].as_str()),
        (Some("张书记"), Some("李委员"), Some("三楼会议室")),
        "fields not sent stay"
    );
    assert_eq!(audit_count(&app.store).await, audits + 1, "one audit row");
    let (s, m) = sec
        .patch(&format!("/api/v1/meetings/{id}"), json!({"venue": null}))
        .await;
    assert_eq!(
        (s, m["venue"].clone(), m["host"].as_str()),
        (StatusCode::OK, Value::Null, Some("张书记"))
    );
    let (s, e) = sec
        .patch(&format!("/api/v1/meetings/{id}"), json!({"title": ""}))
        .await;
    refused_on(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "field_required", "title");
    let (_, p) = sec.get(&format!("/api/v1/meetings/{id}/plan")).await;
    assert_eq!(p["agenda"], "一、学习\n二、讨论发展对象");
    assert_eq!(p["wall_text"], "选举办法全文");

    // a member may read it, not change it
    let mem = app.login("mem").await;
    let (s, _) = mem
        .patch(&format!("/api/v1/meetings/{id}"), json!({"host": "我"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = sec
        .patch(&format!("/api/v1/meetings/{id}"), json!({"host": "王"}))
        .await;
    refused(s, &e, StatusCode::CONFLICT, "meeting_closed");
}

#[tokio::test]
async fn invitees_are_listed_but_not_expected() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (id, _) = plan_at(&app, &admin, app.tree.branch_a, "支部党员大会", 1).await;
    let path = format!("/api/v1/meetings/{id}/invitees");
    let (s, b) = admin
        .post(&path, json!({"person_id": app.tree.b1, "role": "列席"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["role"], "attendee_extra");
    let (s, e) = admin.post(&path, json!({"person_id": app.tree.b1})).await;
    refused(s, &e, StatusCode::CONFLICT, "already_invited");
    let (s, e) = admin.post(&path, json!({"person_id": app.tree.a1})).await;
    refused(s, &e, StatusCode::CONFLICT, "already_expected");
    let (s, e) = admin
        .post(&path, json!({"person_id": app.tree.b1, "role": "boss"}))
        .await;
    assert_eq!((s, field(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "role"));

    let (_, l) = admin.get(&path).await;
    assert_eq!(l["items"][0]["name"], "王五");
    let a = attendance(&admin, id).await;
    assert_eq!(a["expected"], 2, "an invitee is not expected: {a}");
    assert_eq!(a["people"].as_array().map(Vec::len), Some(3), "but listed");

    // the secretary of branch A cannot invite someone outside the scope
    let sec = app.login("sec").await;
    let (s, e) = sec.post(&path, json!({"person_id": app.tree.b1})).await;
    refused(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "person_unknown");

    // the invitee sees the meeting among their own, as invited
    let secb = app.login("secb").await;
    let (_, my) = secb.get("/api/v1/me/meetings").await;
    assert_eq!(ids(&my, "upcoming", "id"), vec![id], "{my}");
    assert_eq!(my["upcoming"][0]["invited"], true);
    // and may not ask for leave: they are not expected
    let (s, _) = secb
        .on_meeting(id, "leave-requests", json!({"reason": "x"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _) = admin.delete(&format!("{path}/{}", app.tree.b1)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, my) = secb.get("/api/v1/me/meetings").await;
    assert_eq!(ids(&my, "upcoming", "id"), Vec::<i64>::new());
    let (s, _) = admin.delete(&format!("{path}/{}", app.tree.b1)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notice_cancel_and_reschedule_notify_the_attendees() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let mem = app.login("mem").await;
    let (id, start) = plan_at(&app, &sec, app.tree.branch_a, "支委会", 24).await;
    let (s, n) = sec.on_meeting(id, "notice", json!({})).await;
    assert_eq!((s, n["notices"].as_i64()), (StatusCode::OK, Some(2)), "{n}");
    let (_, n) = sec.on_meeting(id, "notice", json!({})).await;
    assert_eq!(n["notices"], 0, "each attendee gets the notice once");

    // reschedule: same id, new time, a notice
    let new_start = start + Duration::days(2);
    let (s, m) = sec
        .on_meeting(id, "reschedule", json!({"starts_at": t(new_start), "ends_at": t(new_start + Duration::hours(1)), "venue": "党员活动室"})).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(
        (m["id"].as_i64(), m["starts_at"].as_str()),
        (Some(id), Some(t(new_start).as_str()))
    );
    assert_eq!(m["venue"], "党员活动室");
    let (s, e) = sec
        .on_meeting(
            id,
            "reschedule",
            json!({"starts_at": t(new_start), "ends_at": t(new_start - Duration::hours(1))}),
        )
        .await;
    refused_on(
        s,
        &e,
        StatusCode::UNPROCESSABLE_ENTITY,
        "meeting_ends_before_start",
        "ends_at",
    );

    // cancel: a reason is required; then closed to check-ins and changes
    let (s, e) = sec.on_meeting(id, "cancel", json!({})).await;
    refused_on(
        s,
        &e,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancel_reason_required",
        "reason",
    );
    let (s, m) = sec.cancel_meeting(id, "与上级会议冲突").await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(
        (m["status"].as_str(), m["cancel_reason"].as_str()),
        (Some("cancelled"), Some("与上级会议冲突"))
    );
    let (s, e) = sec.check_in_by_hand(id, "late-1", app.tree.a1).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = sec.cancel_meeting(id, "再次").await;
    refused(s, &e, StatusCode::CONFLICT, "meeting_cancelled");
    let (_, l) = sec.get("/api/v1/meetings?status=cancelled").await;
    assert_eq!(ids(&l, "items", "id"), vec![id]);

    // the member sees the three notices, newest first, and the meeting as cancelled
    let (s, my) = mem.get("/api/v1/me/meetings").await;
    assert_eq!(s, StatusCode::OK, "{my}");
    assert_eq!(
        strs(&my, "notices", "event"),
        ["cancelled", "rescheduled", "planned"]
    );
    assert_eq!(my["notices"][0]["reason"], "与上级会议冲突");
    assert_eq!(my["upcoming"][0]["status"], "cancelled");

    // a meeting with check-ins cannot be cancelled or moved
    // (three days ahead: before the check-in window, so the secretary confirms)
    let (id2, _) = plan_at(&app, &sec, app.tree.branch_a, "党课", 3).await;
    let early = json!({"event_id": "c-1", "person_id": app.tree.a1, "method": "manual"});
    let (s, e) = sec
        .post(&format!("/api/v1/meetings/{id2}/checkins"), early.clone())
        .await;
    refused(s, &e, StatusCode::CONFLICT, "confirmation_required");
    assert_eq!(e["error"]["warnings"][0]["code"], "checkin_before_window", "{e}");
    let (s, _) = sec
        .post(&format!("/api/v1/meetings/{id2}/checkins?confirm=true"), early)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = sec.cancel_meeting(id2, "x").await;
    refused(s, &e, StatusCode::CONFLICT, "meeting_has_checkins");
    let (s, e) = sec
        .on_meeting(
            id2,
            "reschedule",
            json!({"starts_at": t(new_start), "ends_at": t(new_start + Duration::hours(1))}),
        )
        .await;
    refused(s, &e, StatusCode::CONFLICT, "meeting_has_checkins");
}

#[tokio::test]
async fn a_monthly_series_plans_linked_meetings() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let sec = app.login("sec").await;
    let first = OffsetDateTime::parse("2027-01-31T14:30:00+08:00", &Rfc3339).unwrap_or(app.store.now());
    let body = json!({"org_id": app.tree.branch_a, "kind": "theme_day", "title": "主题党日",
                      "starts_at": t(first), "ends_at": t(first + Duration::hours(2)), "venue": "活动室",
                      "every": "month", "count": 3});
    let (s, b) = sec.post("/api/v1/meeting-series", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let starts = strs(&b, "meetings", "starts_at");
    assert_eq!(
        starts,
        vec![
            "2027-01-31T14:30:00+08:00",
            "2027-02-28T14:30:00+08:00",
            "2027-03-31T14:30:00+08:00"
        ]
    );
    let series = b["series_id"].as_i64();
    assert!(series.is_some());
    assert!(
        entries(&b, "meetings")
            .iter()
            .all(|m| m["series_id"].as_i64() == series)
    );
    let (_, l) = sec
        .get(&format!("/api/v1/meetings?org={}", app.tree.branch_a))
        .await;
    assert_eq!(l["total"], 3);

    // every attendee has a notice of each
    let mem = app.login("mem").await;
    let (_, my) = mem.get("/api/v1/me/meetings").await;
    assert_eq!(my["notices"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        my["upcoming"][0]["starts_at"], "2027-01-31T14:30:00+08:00",
        "soonest first"
    );

    let mut bad = body.clone();
    bad["count"] = json!(25);
    let (s, e) = sec.post("/api/v1/meeting-series", bad).await;
    refused_on(
        s,
        &e,
        StatusCode::UNPROCESSABLE_ENTITY,
        "series_count_range",
        "count",
    );
    let mut bad = body.clone();
    bad["every"] = json!("daily");
    let (s, e) = sec.post("/api/v1/meeting-series", bad).await;
    assert_eq!((s, field(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "every"));
    let mut other = body;
    other["org_id"] = json!(app.tree.branch_b);
    let (s, _) = sec.post("/api/v1/meeting-series", other).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn leave_requests_from_members_approved_or_refused() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let mem = app.login("mem").await;
    let (id, _) = plan_at(&app, &sec, app.tree.branch_a, "支部党员大会", 24).await;
    let path = format!("/api/v1/meetings/{id}/leave-requests");

    let (s, e) = mem.post(&path, json!({"reason": " "})).await;
    refused_on(
        s,
        &e,
        StatusCode::UNPROCESSABLE_ENTITY,
        "leave_reason_required",
        "reason",
    );
    let (s, r) = mem.post(&path, json!({"reason": "出差"})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "pending");
    let (s, e) = mem.post(&path, json!({"reason": "出差"})).await;
    refused(s, &e, StatusCode::CONFLICT, "leave_already_requested");

    // a member of another branch is not expected: not their meeting
    let secb = app.login("secb").await;
    let (s, _) = secb.post(&path, json!({"reason": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // only meeting staff list and decide
    let (s, _) = mem.get(&path).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, l) = sec.get(&path).await;
    assert_eq!(l["items"][0]["name"], "张三");
    assert_eq!(l["items"][0]["reason"], "出差");

    // pending: not yet a leave
    let a = attendance(&sec, id).await;
    assert_eq!(ints(&a, ["leave", "absent"]), [Some(0), Some(2)]);
    let rid = r["id"].as_i64().unwrap_or_default();
    let (s, _) = secb
        .post(&format!("/api/v1/leave-requests/{rid}/approve"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another branch's secretary");
    let (s, d) = sec
        .post(
            &format!("/api/v1/leave-requests/{rid}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(
        (s, d["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{d}"
    );
    let a = attendance(&sec, id).await;
    assert_eq!(ints(&a, ["leave", "absent"]), [Some(1), Some(1)], "{a}");
    let (s, e) = sec
        .post(&format!("/api/v1/leave-requests/{rid}/refuse"), json!({}))
        .await;
    refused(s, &e, StatusCode::CONFLICT, "leave_request_decided");

    // the member's own page shows the meeting with the approved request and state leave
    let (_, my) = mem.get("/api/v1/me/meetings").await;
    let m = &my["upcoming"][0];
    assert_eq!(
        (m["id"].as_i64(), m["my_state"].as_str()),
        (Some(id), Some("leave")),
        "{my}"
    );
    assert_eq!(m["leave_request"]["status"], "approved");

    // refused: no leave, and the member may ask again
    let (id2, start2) = plan_at(&app, &sec, app.tree.branch_a, "支委会", 30).await;
    let path2 = format!("/api/v1/meetings/{id2}/leave-requests");
    let (_, r2) = mem.post(&path2, json!({"reason": "家中有事"})).await;
    let rid2 = r2["id"].as_i64().unwrap_or_default();
    let (s, d) = sec
        .post(
            &format!("/api/v1/leave-requests/{rid2}/refuse"),
            json!({"note": "会议重要，请调整"}),
        )
        .await;
    assert_eq!((s, d["status"].as_str()), (StatusCode::OK, Some("refused")));
    let a = attendance(&sec, id2).await;
    assert_eq!(a["leave"], 0);
    let (s, _) = mem.post(&path2, json!({"reason": "确实无法参加"})).await;
    assert_eq!(s, StatusCode::CREATED);

    // after the meeting: it moves to the member's past meetings with their state
    app.clock.set(start2 + Duration::hours(3));
    let mem = app.login("mem").await;
    let (_, my) = mem.get("/api/v1/me/meetings").await;
    assert_eq!(my["upcoming"].as_array().map(Vec::len), Some(0), "{my}");
    assert_eq!(ids(&my, "past", "id"), vec![id2, id]);
    assert_eq!(my["past"][0]["my_state"], "absent");
}

/// A meeting is held by an org that existed then (issue #20): the fixture's orgs were founded on
/// 2010-01-01.
#[tokio::test]
async fn a_meeting_before_the_org_was_founded_is_refused_when_planned_or_moved() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let a = app.tree.branch_a;
    let early = meeting(a).between("2009-12-31T09:00:00+08:00", "2009-12-31T11:00:00+08:00");
    let (s, b) = sec.post("/api/v1/meetings", early.body(app.store.now())).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "meeting_before_org_established",
        "starts_at",
    );
    assert!(message(&b).contains("2010-01-01"), "{b}");
    let id = meeting(a)
        .between("2010-01-01T09:00:00+08:00", "2010-01-01T11:00:00+08:00")
        .plan_as(&sec)
        .await;
    let (s, b) = sec
        .on_meeting(
            id,
            "reschedule",
            json!({"starts_at": "1990-03-01T09:00:00+08:00", "ends_at": "1990-03-01T11:00:00+08:00"}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "meeting_before_org_established",
        "starts_at",
    );
}

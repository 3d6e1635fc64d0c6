use serde_json::json;

use super::member;
use crate::helpers::{TestApp, audit_count, field, id_number, message, refused, refused_on};

#[tokio::test]
async fn a_secretary_creates_a_member_with_gender_and_birth_date_from_the_id_number() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let id = id_number("1992-11-20", 123);
    let m = member(app.tree.branch_a, &id).created(&sec).await;
    assert_eq!(m["birth_date"], "1992-11-20");
    assert_eq!(m["gender"], "male", "sequence 123 is odd");
    assert_eq!(m["id_number"], id);
    let (_, events) = sec.get(&format!("/api/v1/members/{}/events", m["id"])).await;
    assert_eq!(events["items"][0]["kind"], "register");
    let org = sec.get_org(app.tree.branch_a).await;
    assert_eq!(org["member_count"], 3);
    assert_eq!(org["formal_count"], 2);
    let root = app.login("admin").await.get_org(app.tree.root).await;
    assert_eq!(root["member_count"], 4, "subtree counts reach the top");
}

#[tokio::test]
async fn bad_id_numbers_are_refused_naming_the_field_and_the_rule() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let good = id_number("1992-11-20", 123);
    let mut bad_check = good.clone();
    let last = if bad_check.ends_with('1') { "2" } else { "1" };
    bad_check.replace_range(17..18, last);
    let cases = [
        (bad_check.as_str(), "id_number_checksum"),
        ("11010519921120123", "id_number_length"),
        ("11010519921320123X", "id_number_birth_date"),
        ("1101051992112012AX", "id_number_format"),
    ];
    let before = audit_count(&app.store).await;
    for (id, want) in cases {
        let (s, b) = member(app.tree.branch_a, id).post(&sec).await;
        assert_eq!(s, 422, "{id}");
        assert_eq!(crate::helpers::code(&b), want, "{id}: {b}");
        assert_eq!(field(&b), "id_number");
        assert!(message(&b).contains("身份证号"));
    }
    let mismatch = member(app.tree.branch_a, &good).with("birth_date", json!("1992-11-21"));
    let (s, b) = mismatch.post(&sec).await;
    refused(s, &b, 422u16, "id_number_birth_mismatch");
    assert_eq!(audit_count(&app.store).await, before, "nothing was recorded");
}

#[tokio::test]
async fn a_duplicate_id_number_is_a_conflict() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    // the same person as a1, typed into branch B
    let (s, b) = member(app.tree.branch_b, &id_number("1980-05-06", 11))
        .post(&admin)
        .await;
    refused_on(s, &b, 409u16, "id_number_duplicate", "id_number");
}

#[tokio::test]
async fn missing_and_unknown_fields_are_422_naming_them() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, b) = sec
        .post("/api/v1/members", json!({"org_id": app.tree.branch_a}))
        .await;
    refused_on(s, &b, 422u16, "field_required", "name");
    assert_eq!(b["error"]["message"], "请填写“姓名”");
    let zhao = member(app.tree.branch_a, &id_number("1992-11-20", 5));
    let (s, b) = zhao.clone().with("status", json!("委员")).post(&sec).await;
    assert_eq!((s.as_u16(), field(&b)), (422, "status"));
    let (s, b) = zhao
        .clone()
        .with("joined_on", json!("2018-13-01"))
        .post(&sec)
        .await;
    refused_on(s, &b, 422u16, "date_invalid", "joined_on");
    let admin = app.login("admin").await;
    let (s, b) = zhao.with("org_id", json!(app.tree.root)).post(&admin).await;
    refused(s, &b, 422u16, "org_holds_no_members");
}

#[tokio::test]
async fn the_status_is_changed_only_by_typed_events() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, b) = sec.patch_member(app.tree.a2, json!({"status": "formal"})).await;
    refused(s, &b, 422u16, "status_by_event_only");
    let today = app.store.today().to_string();
    let regularize = json!({"kind": "regularize", "date": today});
    let (s, ev) = sec.member_event(app.tree.a2, regularize.clone()).await;
    assert_eq!(s, 201, "{ev}");
    assert_eq!(ev["status_before"], "probationary");
    assert_eq!(ev["status_after"], "formal");
    // dates as API.md writes them (they were time's [year, ordinal] pairs)
    assert_eq!(ev["event_date"], today.as_str());
    assert_eq!(ev["kind_label"], "转为正式党员");
    let (_, m) = sec.get_member(app.tree.a2).await;
    assert_eq!(m["status"], "formal");
    // 转正 dates from the end of probation (admitted 2015-07-01), not from the day it is recorded
    assert_eq!(m["regularized_on"], "2016-07-01");
    assert_eq!(sec.get_org(app.tree.branch_a).await["formal_count"], 2);
    // regularizing twice is not a valid transition
    let (s, b) = sec.member_event(app.tree.a2, regularize).await;
    refused_on(s, &b, 422u16, "status_transition_invalid", "kind");
    assert!(message(&b).contains("正式党员"), "{b}");
}

#[tokio::test]
async fn suspension_needs_a_reason_and_keeps_the_record() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let today = app.store.today().to_string();
    let (s, b) = sec
        .member_event(app.tree.a1, json!({"kind": "suspend", "date": today}))
        .await;
    refused_on(s, &b, 422u16, "reason_required", "reason");
    let suspend = json!({"kind": "suspend", "date": today, "reason": "失联超过六个月"});
    let (s, _) = sec.member_event(app.tree.a1, suspend).await;
    assert_eq!(s, 201);
    let (_, m) = sec.get_member(app.tree.a1).await;
    assert_eq!(m["status"], "suspended");
    let org = sec.get_org(app.tree.branch_a).await;
    assert_eq!(
        org["member_count"], 1,
        "a suspended member leaves the roster counts"
    );
    let (_, events) = sec.get(&format!("/api/v1/members/{}/events", app.tree.a1)).await;
    assert_eq!(
        events["total"], 2,
        "register and suspend: history is never overwritten"
    );
    assert_eq!(sec.members_where("status=suspended").await["total"], 1);
}

#[tokio::test]
async fn moving_a_member_to_another_org_moves_the_counts() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let today = app.store.today().to_string();
    let to_b = json!({"kind": "move_within", "date": today, "org_id": app.tree.branch_b});
    let (s, b) = admin.member_event(app.tree.a1, to_b).await;
    assert_eq!(s, 201, "{b}");
    let a = admin.get_org(app.tree.branch_a).await;
    let bb = admin.get_org(app.tree.branch_b).await;
    assert_eq!(
        (a["member_count"].as_i64(), bb["member_count"].as_i64()),
        (Some(1), Some(2))
    );
    let (s, _) = app.login("sec").await.get_member(app.tree.a1).await;
    assert_eq!(s, 404, "no longer in the secretary's branch");
}

#[tokio::test]
async fn search_by_name_pinyin_initials_status_and_id_number() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let b = admin.members_where("q=张").await;
    assert_eq!(b["total"], 1);
    assert_eq!(b["items"][0]["name"], "张三");
    assert_eq!(admin.members_where("q=ls").await["items"][0]["name"], "李四");
    assert_eq!(admin.members_where("status=probationary").await["total"], 1);
    let by_id = format!("q={}", id_number("1990-02-03", 22).to_lowercase());
    assert_eq!(admin.members_where(&by_id).await["total"], 1);
    let b = admin.members_where(&format!("org={}", app.tree.branch_a)).await;
    assert_eq!(b["total"], 1, "without subtree only the branch's own members");
    let b = admin
        .members_where(&format!("org={}&subtree=true", app.tree.branch_a))
        .await;
    assert_eq!(b["total"], 2);
    let (s, b) = admin.get("/api/v1/members?status=bogus").await;
    assert_eq!((s.as_u16(), field(&b)), (422, "status"));
    let b = admin.members_where("limit=1&offset=1").await;
    assert_eq!(b["items"].as_array().unwrap().len(), 1);
    assert_eq!(b["total"], 3);
}

#[tokio::test]
async fn editing_a_record_checks_the_id_number_again_and_keeps_it_unique() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let a1 = app.tree.a1;
    // a corrected ID number for the same birth date
    let corrected = id_number("1980-05-06", 12);
    let (s, m) = sec
        .patch_member(
            a1,
            json!({"id_number": corrected, "phone": "13611112222", "name": "张叁"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["id_number"].as_str(), m["phone"].as_str(), m["name"].as_str()),
        (Some(corrected.as_str()), Some("13611112222"), Some("张叁"))
    );
    assert_eq!(m["version"], 2);
    // the old number is free again; a2's number is taken
    let (s, b) = sec
        .patch_member(a1, json!({"id_number": id_number("1990-02-03", 22)}))
        .await;
    assert_eq!(s, 422, "a2's number has another birth date: {b}");
    let (s, b) = sec.patch_member(a1, json!({"birth_date": "1980-05-07"})).await;
    refused(s, &b, 422u16, "id_number_birth_mismatch");
    let admin = app.login("admin").await;
    let (_, other) = member(app.tree.branch_b, &id_number("1980-05-06", 13))
        .post(&admin)
        .await;
    let (s, b) = admin
        .patch_member(&other["id"], json!({"id_number": corrected}))
        .await;
    refused(s, &b, 409u16, "id_number_duplicate");
    let found = admin.members_where("category=in_service&q=zs").await;
    assert_eq!(found["total"], 1, "pinyin initials follow the new name");
    let (s, b) = sec.patch_member(a1, json!({"phone": "12345"})).await;
    assert_eq!((s.as_u16(), field(&b)), (422, "phone"));
}

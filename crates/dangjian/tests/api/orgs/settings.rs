//! Settings per org subtree (`/api/v1/orgs/{id}/settings`, `/orgs/{id}/settings`): the nearest
//! org up the tree that sets a key wins, else the deployment's value; each key needs its own
//! capability; a refused change changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, code, field, post_form};

const GRACE: &str = "checkin.late_grace_minutes";
const ROUNDING: &str = "dues.rounding";

async fn settings(c: &Client, org: i64) -> Value {
    let (s, b) = c.get(&format!("/api/v1/orgs/{org}/settings")).await;
    assert_eq!(s, 200, "{b}");
    b
}

/// `PUT /api/v1/orgs/{org}/settings` as `c`: status and answer.
async fn put_settings(c: &Client, org: i64, values: Value) -> (StatusCode, Value) {
    c.put(
        &format!("/api/v1/orgs/{org}/settings"),
        json!({ "values": values }),
    )
    .await
}

/// `(value, set_by_org_id, set_here)` of `key` in an answer.
fn item(b: &Value, key: &str) -> (String, Option<i64>, bool) {
    let i = b["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["key"] == key))
        .unwrap_or_else(|| panic!("{key} in {b}"));
    (
        i["value"].as_str().unwrap_or_default().to_owned(),
        i["set_by_org_id"].as_i64(),
        i["set_here"].as_bool().unwrap_or(false),
    )
}

#[tokio::test]
async fn the_nearest_org_that_sets_a_key_wins_and_clearing_it_inherits_again() {
    let app = TestApp::spawn().await;
    let t = &app.tree;
    let admin = app.login("admin").await;
    let sec = app.login("sec").await;
    // nothing set: the deployment's value everywhere
    let b = settings(&sec, t.group_a1).await;
    assert_eq!(item(&b, GRACE), ("5".into(), None, false), "{b}");
    assert_eq!(b["items"][0]["deployment_value"], "5");

    let (s, b) = put_settings(&admin, t.root, json!({GRACE: 10})).await;
    assert_eq!(
        (s.as_u16(), item(&b, GRACE)),
        (200, ("10".into(), Some(t.root), true)),
        "{b}"
    );
    let (s, b) = put_settings(&sec, t.branch_a, json!({GRACE: "15"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        item(&settings(&sec, t.group_a1).await, GRACE),
        ("15".into(), Some(t.branch_a), false)
    );
    assert_eq!(
        item(&settings(&admin, t.branch_b).await, GRACE),
        ("10".into(), Some(t.root), false)
    );

    // cleared: the root's value holds again
    let (s, b) = put_settings(&sec, t.branch_a, json!({GRACE: null})).await;
    assert_eq!(
        (s.as_u16(), item(&b, GRACE)),
        (200, ("10".into(), Some(t.root), false)),
        "{b}"
    );

    // the dues reminder of dues-settings is the same setting
    let (s, _) = sec
        .put(
            &format!("/api/v1/orgs/{}/dues-settings", t.branch_a),
            json!({"reminder_months": 4}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        item(&settings(&sec, t.group_a1).await, "dues.reminder_months"),
        ("4".into(), Some(t.branch_a), false)
    );
    let (_, b) = admin.get("/api/v1/audit?entity=org_setting").await;
    assert_eq!(b["total"], 4, "one audit row per change: {b}");
}

#[tokio::test]
async fn a_refused_setting_names_the_key_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let t = &app.tree;
    let sec = app.login("sec").await;
    let path = format!("/api/v1/orgs/{}/settings", t.branch_a);
    for (body, want_code, want_field) in [
        (json!({"values": {GRACE: 1441}}), "setting_invalid", GRACE),
        (json!({"values": {GRACE: -1}}), "setting_invalid", GRACE),
        (json!({"values": {GRACE: 5.5}}), "setting_invalid", GRACE),
        (json!({"values": {GRACE: true}}), "setting_invalid", GRACE),
        (json!({"values": {ROUNDING: "up"}}), "setting_invalid", ROUNDING),
        (
            json!({"values": {"dues.reminder_months": 6}}),
            "setting_invalid",
            "dues.reminder_months",
        ),
        (
            json!({"values": {"meeting.colour": 1}}),
            "setting_unknown",
            "values",
        ),
        // one good key and one bad: all or nothing
        (
            json!({"values": {ROUNDING: "half_up_jiao", GRACE: 2000}}),
            "setting_invalid",
            GRACE,
        ),
    ] {
        let (s, b) = sec.put(&path, body.clone()).await;
        assert_eq!(
            (s.as_u16(), code(&b), field(&b)),
            (422, want_code, want_field),
            "{body}: {b}"
        );
        assert!(!b["error"]["message"].as_str().unwrap_or_default().is_empty());
    }
    let b = settings(&sec, t.branch_a).await;
    assert!(
        b["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i["set_by_org_id"].is_null())),
        "nothing was set: {b}"
    );
    // outside the subtree: not found; without the capability: forbidden
    let (s, _) = put_settings(&sec, t.branch_b, json!({GRACE: 1})).await;
    assert_eq!(s, 404);
    let staff = app.login("staff").await;
    let (s, _) = staff.put(&path, json!({"values": {GRACE: 1}})).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_members_dues_round_as_their_own_subtree_says() {
    let app = TestApp::spawn().await;
    let t = &app.tree;
    let admin = app.login("admin").await;
    let (s, b) = put_settings(&admin, t.branch_a, json!({ROUNDING: "half_up_jiao"})).await;
    assert_eq!(s, 200, "{b}");
    // 3005.00 元 in service: 1% is 3005 分, to the 角 3010 分
    let a = crate::dues::set_base(&admin, t.a1, 2026, 300_500).await;
    let b = crate::dues::set_base(&admin, t.b1, 2026, 300_500).await;
    assert_eq!(
        (a["monthly_fen"].as_i64(), b["monthly_fen"].as_i64()),
        (Some(3010), Some(3005)),
        "{a} {b}"
    );
}

#[tokio::test]
async fn the_settings_page_shows_where_each_value_comes_from_and_saves() {
    let app = TestApp::spawn().await;
    let t = &app.tree;
    let admin = app.login("admin").await;
    let (s, _) = put_settings(&admin, t.root, json!({GRACE: 10})).await;
    assert_eq!(s, 200);
    let sec = app.login("sec").await;
    let page = format!("/orgs/{}/settings", t.branch_a);
    let (s, html) = sec.page(&page).await;
    assert_eq!(s, 200);
    assert!(html.contains("迟到宽限"), "{html}");
    assert!(
        html.contains(&format!("href=\"/orgs/{}/settings\"", t.root)),
        "the root sets the grace"
    );
    // an empty field leaves the value above in force and writes nothing
    let (s, loc, _) = post_form(
        &sec,
        &page,
        &[(GRACE, "20"), (ROUNDING, ""), ("dues.reminder_months", "")],
    )
    .await;
    assert_eq!((s, loc.as_str()), (303, page.as_str()));
    let b = settings(&sec, t.branch_a).await;
    assert_eq!(item(&b, GRACE), ("20".into(), Some(t.branch_a), true));
    assert_eq!(item(&b, ROUNDING).1, None);
    let (_, audit) = admin.get("/api/v1/audit?entity=org_setting").await;
    assert_eq!(audit["total"], 2, "{audit}");
    // a bad value: the page again with the rule, nothing saved
    let (s, _, html) = post_form(&sec, &page, &[(GRACE, "9999")]).await;
    assert_eq!(s, 422);
    assert!(
        html.contains("迟到宽限（分钟）") && html.contains("9999"),
        "{html}"
    );
    assert_eq!(item(&settings(&sec, t.branch_a).await, GRACE).0, "20");
}

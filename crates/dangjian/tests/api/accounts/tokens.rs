//! Bearer tokens (issue 11): expiry, the owner's list, revoking (own, or by an admin of a login
//! they may manage), every token of a login revoked with its password or when it is disabled, and
//! devices that may not mint tokens.

use dangjian_web::WebConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, PASSWORD, TestApp, code, refused, user_id_of};
use crate::meetings::register_device;

/// A new bearer token of `c`'s login: (id, secret, answer).
async fn new_token(c: &Client, name: &str) -> (i64, String, Value) {
    let (s, body) = c.post("/api/v1/tokens", json!({"name": name})).await;
    assert_eq!(s, 201, "{body}");
    (
        body["id"].as_i64().unwrap_or_else(|| panic!("{body}")),
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned(),
        body,
    )
}

fn bearer(app: &TestApp, token: &str) -> Client {
    let mut c = app.client();
    c.bearer = Some(token.to_owned());
    c
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

#[tokio::test]
async fn tokens_expire_after_the_deployments_lifetime_and_device_tokens_do_not() {
    let app = TestApp::spawn().await;
    let start = app.store.now();
    let sec = app.login("sec").await;
    let (_, token, body) = new_token(&sec, "同步脚本").await;
    let expires = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires, start + days(90), "the default: 90 days");
    let (_, device) = register_device(&app, &sec, app.tree.branch_a, "东门闸机", "rfid_gate").await;
    let t = bearer(&app, &token);
    assert_eq!(t.get("/api/v1/me").await.0, 200);
    app.clock.set(start + days(90) - time::Duration::seconds(1));
    assert_eq!(t.get("/api/v1/me").await.0, 200, "still within its lifetime");
    app.clock.set(start + days(90));
    let (s, body) = t.get("/api/v1/me").await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "expired, even if cached"
    );
    app.clock.set(start + days(400));
    assert_eq!(
        device.get("/api/v1/me").await.0,
        200,
        "a device's token lives until revoked"
    );

    // the lifetime is a deployment setting
    let app = TestApp::spawn_with(WebConfig {
        token_ttl: days(7),
        ..WebConfig::default()
    })
    .await;
    let start = app.store.now();
    let (_, token, _) = new_token(&app.login("sec").await, "短期").await;
    let t = bearer(&app, &token);
    app.clock.set(start + days(6));
    assert_eq!(t.get("/api/v1/me").await.0, 200);
    // a token made with a token lives no longer than it
    let (_, child, body) = new_token(&t, "子令牌").await;
    let child_expires = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(child_expires, start + days(7));
    app.clock.set(start + days(7));
    assert_eq!(t.get("/api/v1/me").await.0, 401);
    assert_eq!(bearer(&app, &child).get("/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn the_owner_lists_their_tokens_without_the_secret_and_a_revoked_one_stops_at_once() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (first, first_secret, _) = new_token(&sec, "考勤导出").await;
    let (second, second_secret, _) = new_token(&sec, "备用").await;
    let t = bearer(&app, &first_secret);
    // used once: cached for the check-in path, and its last use noted
    assert_eq!(t.get("/api/v1/me").await.0, 200);
    let (s, list) = sec.get("/api/v1/tokens").await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 2, "{list}");
    let text = list.to_string();
    assert!(
        !text.contains(&first_secret) && !text.contains(&second_secret),
        "never the secret"
    );
    let items = list["items"].as_array().unwrap();
    let one = items.iter().find(|i| i["id"] == first).unwrap();
    assert_eq!(one["name"], "考勤导出");
    assert!(one["created_at"].is_string() && one["expires_at"].is_string());
    assert!(one["last_used_at"].is_string(), "{one}");
    assert!(items.iter().find(|i| i["id"] == second).unwrap()["last_used_at"].is_null());
    assert!(one.get("token").is_none());
    // another login's list is its own
    let (_, staff_list) = app.login("staff").await.get("/api/v1/tokens").await;
    assert_eq!(staff_list["total"], 0);
    // someone else (not an admin) cannot revoke it: it is not theirs to see
    let (s, _) = app
        .login("staff")
        .await
        .delete(&format!("/api/v1/tokens/{first}"))
        .await;
    assert_eq!(s, 404);
    let (s, body) = sec.delete(&format!("/api/v1/tokens/{first}")).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = t.get("/api/v1/me").await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "the node's cache was emptied"
    );
    let (_, list) = sec.get("/api/v1/tokens").await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        sec.delete(&format!("/api/v1/tokens/{first}")).await.0,
        404,
        "already revoked"
    );
    // a token revokes itself
    let b = bearer(&app, &second_secret);
    assert_eq!(b.delete(&format!("/api/v1/tokens/{second}")).await.0, 200);
    assert_eq!(b.get("/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn an_admin_revokes_the_tokens_of_logins_they_may_manage_and_no_others() {
    let app = TestApp::spawn().await;
    let t = app.tree;
    let admin = app.login("admin").await;
    let mem_id = user_id_of(&app.store, "mem").await;
    let (mem_token, mem_secret, _) = new_token(&app.login("mem").await, "我的脚本").await;
    // the secretary manages accounts, not tokens
    let sec = app.login("sec").await;
    assert_eq!(sec.get(&format!("/api/v1/users/{mem_id}/tokens")).await.0, 403);
    assert_eq!(sec.delete(&format!("/api/v1/tokens/{mem_token}")).await.0, 404);
    let (s, list) = admin.get(&format!("/api/v1/users/{mem_id}/tokens")).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["id"], mem_token, "{list}");
    // an org_admin of the branch, against the token of the root's org_admin who is a member there
    let (s, made) = admin
        .post(
            "/api/v1/users",
            json!({"username": "branch_admin", "password": "branchpass1", "grants": [{"role": "org_admin", "org_id": t.branch_a}]}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let (s, made) = admin
        .post(
            "/api/v1/users",
            json!({"username": "root_admin", "password": "rootpass12", "person_id": t.a2,
                   "grants": [{"role": "org_admin", "org_id": t.root}]}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let root_admin = made["id"].as_i64().unwrap();
    let root = app.login_with("root_admin", "rootpass12").await;
    let (s, _) = root.change_password("rootpass12", "rootpass34").await;
    assert_eq!(s, 200);
    let root = app.login_with("root_admin", "rootpass34").await;
    let (root_token, _, _) = new_token(&root, "上级").await;
    let ba = app.login_with("branch_admin", "branchpass1").await;
    let (s, _) = ba.change_password("branchpass1", "branchpass2").await;
    assert_eq!(s, 200);
    let ba = app.login_with("branch_admin", "branchpass2").await;
    let (s, body) = ba.delete(&format!("/api/v1/tokens/{root_token}")).await;
    refused(s, &body, StatusCode::FORBIDDEN, "login_not_manageable");
    let (s, _) = ba.get(&format!("/api/v1/users/{root_admin}/tokens")).await;
    assert_eq!(s, 403);
    // but the member's token, below them in their branch, is theirs to revoke
    let (s, body) = ba.delete(&format!("/api/v1/tokens/{mem_token}")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(bearer(&app, &mem_secret).get("/api/v1/me").await.0, 401);
    let (s, _) = admin.delete(&format!("/api/v1/tokens/{root_token}")).await;
    assert_eq!(s, 200, "the admin of the root outranks the root's org_admin");
}

#[tokio::test]
async fn a_password_change_a_reset_or_disabling_revokes_every_token_of_the_login() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    // the owner changes their password
    let (_, a, _) = new_token(&sec, "一").await;
    let (_, b, _) = new_token(&sec, "二").await;
    assert_eq!(bearer(&app, &a).get("/api/v1/me").await.0, 200);
    let (s, _) = sec.change_password(PASSWORD, "newpass123").await;
    assert_eq!(s, 200);
    for t in [&a, &b] {
        assert_eq!(bearer(&app, t).get("/api/v1/me").await.0, 401);
    }
    let sec = app.login_with("sec", "newpass123").await;
    let (_, list) = sec.get("/api/v1/tokens").await;
    assert_eq!(list["total"], 0);
    // a reset by the secretary
    let (_, m, _) = new_token(&app.login("mem").await, "成员").await;
    let mem = user_id_of(&app.store, "mem").await;
    let (s, _) = sec
        .post(&format!("/api/v1/users/{mem}/reset-password"), json!({}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(bearer(&app, &m).get("/api/v1/me").await.0, 401);
    // disabling, and enabling again brings no token back
    let (_, st, _) = new_token(&app.login("staff").await, "会务").await;
    let staff = user_id_of(&app.store, "staff").await;
    assert_eq!(sec.on_login(staff, "disable").await.0, 200);
    assert_eq!(bearer(&app, &st).get("/api/v1/me").await.0, 401);
    assert_eq!(sec.on_login(staff, "enable").await.0, 200);
    assert_eq!(bearer(&app, &st).get("/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn a_device_may_not_mint_tokens() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (_, device) = register_device(&app, &sec, app.tree.branch_a, "签到一体机", "kiosk").await;
    let (s, body) = device.post("/api/v1/tokens", json!({"name": "more"})).await;
    refused(s, &body, StatusCode::FORBIDDEN, "device_cannot_create_tokens");
    let (_, list) = device.get("/api/v1/tokens").await;
    assert_eq!(list["total"], 1, "its own token only: {list}");
}

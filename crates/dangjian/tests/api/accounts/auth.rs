use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Client, PASSWORD, TestApp, code, refused};

/// `sec` logs in with `password` as `c` (asking for `language` if given): the response itself
/// (cookies, headers, body).
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failed step should stop the test at once"
)]
async fn sec_logs_in(c: &Client, password: &str, language: Option<&str>) -> reqwest::Response {
    let req = c.http.post(format!("{}/api/v1/login", c.base));
    let req = match language {
        Some(l) => req.header("accept-language", l),
        None => req,
    };
    let body = json!({"username": "sec", "password": password});
    req.json(&body).send().await.unwrap()
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_me_returns_the_grants() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let resp = sec_logs_in(&c, PASSWORD, None).await;
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let (status, me) = c.get("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "sec");
    assert_eq!(me["csrf_token"], csrf);
    assert_eq!(me["grants"][0]["role"], "secretary");
    assert_eq!(me["grants"][0]["org_id"], app.tree.branch_a);
}

#[tokio::test]
async fn bad_credentials_are_401_and_unknown_users_look_the_same() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let (s1, b1) = c.try_login("sec", "wrong").await;
    let (s2, b2) = c.try_login("nobody", "wrong").await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(b1, b2);
    assert_eq!(code(&b1), "bad_credentials");
    let (s, _) = c.get("/api/v1/me").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn unsafe_requests_need_the_csrf_token() {
    let (_app, mut c) = TestApp::spawn_as("sec").await;
    let good = c.csrf.take();
    let (s, body) = c.post("/api/v1/tokens", json!({"name": "x"})).await;
    assert_eq!(s, 403);
    assert_eq!(code(&body), "csrf_token_invalid");
    c.csrf = Some("wrong".into());
    let (s, _) = c.post("/api/v1/tokens", json!({"name": "x"})).await;
    assert_eq!(s, 403);
    c.csrf = good;
    let (s, _) = c.post("/api/v1/tokens", json!({"name": "x"})).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn bearer_tokens_work_without_csrf_and_without_cookies() {
    let (app, c) = TestApp::spawn_as("sec").await;
    let (s, body) = c.post("/api/v1/tokens", json!({"name": "考勤机"})).await;
    assert_eq!(s, 201);
    let token = body["token"].as_str().unwrap().to_owned();
    let mut b = app.client();
    b.bearer = Some(token);
    let (s, me) = b.get("/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "sec");
    assert!(me["csrf_token"].is_null());
    let (s, _) = b.post("/api/v1/tokens", json!({"name": "second"})).await;
    assert_eq!(s, 201, "bearer requests need no CSRF token");
    let mut bad = app.client();
    bad.bearer = Some("forged".into());
    let (s, body) = bad.get("/api/v1/me").await;
    assert_eq!(s, 401);
    assert_eq!(code(&body), "invalid_token");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let (_app, c) = TestApp::spawn_as("sec").await;
    let (s, _) = c.post("/api/v1/logout", json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = c.get("/api/v1/me").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn ten_failed_logins_in_a_minute_lock_the_username_until_the_minute_is_over() {
    let app = TestApp::spawn().await;
    // all of it within one minute, whatever the test's start time: from the minute's start
    app.at_minute_start();
    let c = app.client();
    // a success does not count
    let (s, _) = c.try_login("sec", PASSWORD).await;
    assert_eq!(s, 200);
    for i in 1..=10 {
        let (s, _) = c.try_login("sec", "bad").await;
        assert_eq!(s, 401);
        // from the fifth failure on the username waits 1 s, 2 s, 4 s … before the next (31 s in all)
        if (5..10).contains(&i) {
            app.clock
                .set(app.store.now() + time::Duration::seconds(1 << (i - 5)));
        }
    }
    let (s, body) = c.try_login("sec", PASSWORD).await;
    assert_eq!(s, 429, "even the right password is refused while limited");
    assert_eq!(code(&body), "rate_limited");
    app.clock.set(app.store.now() + time::Duration::minutes(1));
    let (s, _) = c.try_login("sec", PASSWORD).await;
    assert_eq!(s, 200, "a new minute starts afresh");
}

#[tokio::test]
async fn a_password_change_needs_the_old_password_and_a_strong_new_one() {
    let (app, c) = TestApp::spawn_as("sec").await;
    let (s, b) = c.change_password("nope", "newpass123").await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "password_wrong");
    let (s, b) = c.change_password(PASSWORD, "short").await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak");
    assert!(b["error"]["message"].as_str().unwrap().contains("8"));
    let (s, _) = c.change_password(PASSWORD, "newpass123").await;
    assert_eq!(s, 200);
    app.login_with("sec", "newpass123").await;
    let (s, _) = app.client().try_login("sec", PASSWORD).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let (app, c) = TestApp::spawn_as("sec").await;
    let before = crate::helpers::audit_count(&app.store).await;
    let (s, b) = c.post_raw("/api/v1/members", "{not json").await;
    assert_eq!(s, 400);
    assert_eq!(code(&b), "malformed_request");
    let (s, _) = c.post("/api/v1/members", json!({"org_id": "not a number"})).await;
    assert_eq!(s, 400);
    assert_eq!(crate::helpers::audit_count(&app.store).await, before);
}

#[tokio::test]
async fn errors_are_in_english_when_the_client_asks_for_it() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let body: serde_json::Value = sec_logs_in(&c, "bad", Some("en-US,en;q=0.9"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["message"], "Wrong username or password");
    let (_, zh) = c.try_login("sec", "bad").await;
    assert_eq!(zh["error"]["message"], "用户名或密码不正确");
}

#[tokio::test]
async fn unknown_paths_methods_and_oversized_bodies_get_the_error_envelope() {
    let (app, c) = TestApp::spawn_as("sec").await;
    let (s, b) = c.get("/api/v1/nothing-here").await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = c.delete("/api/v1/me").await;
    refused(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let big = "x".repeat(17 * 1024 * 1024);
    let resp = c
        .http
        .post(format!("{}/api/v1/tokens", app.base))
        .header("X-CSRF-Token", c.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "too_large");
    let (s, html) = c.page("/no/such/page").await;
    assert_eq!(s, 404);
    assert!(html.contains("未找到"));
}

/// Sends `head` and then `body` over a raw connection and returns the first bytes of the answer,
/// without ever sending the rest of a body the head announced (the server must not wait for it).
#[expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test helper: fail at once"
)]
fn raw_request(addr: &str, head: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(head.as_bytes()).unwrap();
    // the server may answer and close before all of it is written
    let _ = s.write_all(body);
    let mut buf = vec![0u8; 2048];
    let n = s.read(&mut buf).expect("an answer before the rest of the body");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn a_five_megabyte_login_body_is_refused_with_413_without_being_read_whole() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(5 * 1024 * 1024);
    let sec = app.login("sec").await;
    for (path, content_type) in [
        ("/api/v1/login", "application/json"),
        ("/api/v1/tokens", "application/json"),
        ("/api/v1/password", "application/json"),
        ("/login", "application/x-www-form-urlencoded"),
        ("/password", "application/x-www-form-urlencoded"),
    ] {
        let resp = sec
            .http
            .post(format!("{}{path}", app.base))
            .header("content-type", content_type)
            .header("X-CSRF-Token", sec.csrf.clone().unwrap())
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(code(&body), "too_large", "{path}: {body}");
    }
    // a declared length over the limit is answered before the body is sent …
    let addr = app.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        5 * 1024 * 1024
    );
    let a = addr.clone();
    let answer = tokio::task::spawn_blocking(move || raw_request(&a, &head, &[b'x'; 1024]))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // … and a chunked body without a length once it passes the limit, without waiting for its end
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut chunks = Vec::new();
    for _ in 0..4 {
        chunks.extend_from_slice(format!("{:x}\r\n", 4096).as_bytes());
        chunks.extend_from_slice(&[b'x'; 4096]);
        chunks.extend_from_slice(b"\r\n");
    }
    let answer = tokio::task::spawn_blocking(move || raw_request(&addr, head, &chunks))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // an ordinary login still works
    app.login("sec").await;
}

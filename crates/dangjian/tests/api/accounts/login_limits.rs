//! Login limits (issue 11): the client address behind a trusted proxy, attempts counted before
//! the password is checked (so parallel attempts cannot all pass), and the username's backoff.

use dangjian_web::WebConfig;
use dangjian_web::proxy::TrustedProxies;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, refused};

async fn login_from(
    app: &TestApp,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut req = app
        .client()
        .http
        .post(format!("{}/api/v1/login", app.base))
        .json(&json!({"username": username, "password": password}));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("login: {e}"));
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

fn behind(proxies: &[&str]) -> WebConfig {
    WebConfig {
        trusted_proxies: TrustedProxies::parse(proxies).unwrap_or_else(|e| panic!("{e}")),
        ..WebConfig::default()
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_two_clients_with_different_forwarded_for_are_counted_apart() {
    let app = TestApp::spawn_with(behind(&["127.0.0.1"])).await;
    app.at_minute_start();
    // ten failures from one client behind the proxy (different usernames: no backoff involved)
    for i in 0..10 {
        let (s, _, _) = login_from(&app, Some("203.0.113.5"), &format!("nobody{i}"), "wrong").await;
        assert_eq!(s, 401);
    }
    let (s, retry, body) = login_from(&app, Some("203.0.113.5"), "sec", PASSWORD).await;
    refused(s, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(retry.is_some());
    // what a client writes to the left of the proxy's entry proves nothing
    let (s, _, _) = login_from(&app, Some("203.0.113.6, 203.0.113.5"), "sec", PASSWORD).await;
    assert_eq!(s, 429);
    // another client behind the same proxy is not locked out
    let (s, _, body) = login_from(&app, Some("203.0.113.6"), "sec", PASSWORD).await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_for_is_ignored() {
    // a proxy is configured, but the test client (127.0.0.1) is not it
    let app = TestApp::spawn_with(behind(&["10.0.0.0/8"])).await;
    app.at_minute_start();
    for i in 0..10 {
        let xff = format!("198.51.100.{i}");
        let (s, _, _) = login_from(&app, Some(&xff), &format!("nobody{i}"), "wrong").await;
        assert_eq!(s, 401);
    }
    let (s, _, body) = login_from(&app, Some("198.51.100.77"), "sec", PASSWORD).await;
    // every attempt counted on the peer, whatever it claimed
    refused(s, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

async fn failure_rows(app: &TestApp, bucket: &str) -> i64 {
    let bucket = bucket.to_owned();
    dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM login_failure WHERE bucket = $1").bind(&bucket).fetch_one(p).await)
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Fires `n` wrong logins at once and returns how many were answered 401 (their password was
/// checked) and how many 429 (refused before).
async fn parallel_wrong_logins(app: &TestApp, usernames: Vec<String>) -> (usize, usize) {
    let mut tasks = Vec::new();
    for name in usernames {
        let url = format!("{}/api/v1/login", app.base);
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"username": name, "password": "wrong"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap_or(0));
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked + refused,
        statuses.len(),
        "only 401 and 429: {statuses:?}"
    );
    (checked, refused)
}

#[tokio::test]
async fn twenty_parallel_wrong_logins_reach_the_password_check_at_most_ten_times() {
    let app = TestApp::spawn().await;
    app.at_minute_start();
    // one username: at most 10 (its backoff, after 5, holds back even more)
    let (checked, refused) = parallel_wrong_logins(&app, vec!["sec".to_owned(); 20]).await;
    assert!(
        (1..=10).contains(&checked),
        "{checked} checked, {refused} refused"
    );
    assert!(failure_rows(&app, "u:sec").await <= 10);
    // twenty usernames from one address: exactly the address's 10
    app.clock.set(app.store.now() + time::Duration::minutes(1));
    let names = (0..20).map(|i| format!("nobody{i}")).collect();
    let (checked, refused) = parallel_wrong_logins(&app, names).await;
    assert_eq!((checked, refused), (10, 10));
    assert_eq!(
        failure_rows(&app, "a:127.0.0.1").await,
        10,
        "the previous minute's rows were swept"
    );
}

#[tokio::test]
async fn a_usernames_backoff_grows_after_five_failures_and_a_success_resets_it() {
    let app = TestApp::spawn().await;
    app.at_minute_start();
    let step = |secs: i64| app.clock.set(app.store.now() + time::Duration::seconds(secs));
    for _ in 0..5 {
        assert_eq!(login_from(&app, None, "sec", "wrong").await.0, 401);
    }
    for wait in [1, 2] {
        let (s, retry, body) = login_from(&app, None, "sec", PASSWORD).await;
        refused(s, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert_eq!(retry.as_deref(), Some(wait.to_string().as_str()));
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("请 {wait} 秒后")),
            "the message says when: {message}"
        );
        step(wait);
        assert_eq!(
            login_from(&app, None, "sec", "wrong").await.0,
            401,
            "after the wait"
        );
    }
    let (s, retry, _) = login_from(&app, None, "sec", PASSWORD).await;
    assert_eq!(
        (s, retry.as_deref()),
        (StatusCode::TOO_MANY_REQUESTS, Some("4")),
        "it doubles"
    );
    // another username is not held back by it
    assert_eq!(login_from(&app, None, "staff", PASSWORD).await.0, 200);
    step(4);
    assert_eq!(
        login_from(&app, None, "sec", PASSWORD).await.0,
        200,
        "the right password after the wait"
    );
    // the success started afresh: three failures in a row without waiting
    for _ in 0..3 {
        assert_eq!(login_from(&app, None, "sec", "wrong").await.0, 401);
    }
    // and the contract's 10 a minute still holds (5 + 2 + 3), until the minute is over
    let (s, retry, body) = login_from(&app, None, "sec", PASSWORD).await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(
        retry.as_deref(),
        Some("53"),
        "the window ends with the minute (7 s in)"
    );
    step(53);
    assert_eq!(login_from(&app, None, "sec", PASSWORD).await.0, 200);
}

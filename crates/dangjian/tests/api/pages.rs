use crate::helpers::TestApp;

#[tokio::test]
async fn the_login_page_logs_in_and_the_secretary_sees_their_branch() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let (s, html) = c.page("/").await;
    assert_eq!(s, 303);
    assert!(html.is_empty());
    let (s, html) = c.page("/login").await;
    assert_eq!(s, 200);
    assert!(html.contains("登录") && html.contains("/assets/app.css"));
    let resp = c
        .http
        .post(format!("{}/login", app.base))
        .form(&[("username", "sec"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (s, html) = c.page("/").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("第一党支部") && html.contains("张三") && html.contains("李四"),
        "{html}"
    );
    assert!(!html.contains("王五"), "nothing from another branch");
}

#[tokio::test]
async fn a_wrong_password_on_the_login_page_says_so_in_chinese() {
    let app = TestApp::spawn().await;
    let resp = app
        .client()
        .http
        .post(format!("{}/login", app.base))
        .form(&[("username", "sec"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("用户名或密码不正确"));
}

#[tokio::test]
async fn a_member_sees_their_own_record_on_the_phone_page() {
    let app = TestApp::spawn().await;
    let c = app.login("mem").await;
    let (s, html) = c.page("/").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("张三") && html.contains(&crate::helpers::id_number("1980-05-06", 11)),
        "{html}"
    );
    assert!(html.contains("class=\"phone\""));
}

#[tokio::test]
async fn a_forced_password_change_redirects_every_page_to_the_form() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let (_, users) = sec.get("/api/v1/users").await;
    let mem_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "mem")
        .unwrap()["id"]
        .clone();
    let (_, reset) = sec
        .post(
            &format!("/api/v1/users/{mem_id}/reset-password"),
            serde_json::json!({}),
        )
        .await;
    let c = app
        .login_with("mem", reset["initial_password"].as_str().unwrap())
        .await;
    let resp = c.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/password");
    let (s, html) = c.page("/password").await;
    assert_eq!(s, 200);
    assert!(html.contains("首次登录"));
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let resp = app
        .client()
        .http
        .get(format!("{}/assets/app.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let (s, _) = app.client().page("/assets/nope.js").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_bulk_accounts_button_shows_the_initial_passwords_once_as_slips() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    let url = format!("{}/orgs/{}/accounts", app.base, app.tree.branch_a);
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let csrf = sec.csrf.clone().unwrap();
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("李四") && html.contains("初始密码") && html.contains("新开通账号（1）"),
        "{html}"
    );
    let resp = sec
        .http
        .post(&url)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("都已开通账号"));
}

#[tokio::test]
async fn pages_stay_chinese_whatever_the_browser_language_and_lists_mask_id_numbers() {
    let app = TestApp::spawn().await;
    let sec = app.login("sec").await;
    sec.patch(
        &format!("/api/v1/orgs/{}", app.tree.branch_a),
        serde_json::json!({"term_started_on": "2020-01-01", "term_years": 3}),
    )
    .await;
    let html = sec
        .http
        .get(format!("{}/", app.base))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("任期已于"), "the term reminder in Chinese: {html}");
    let full = crate::helpers::id_number("1990-02-03", 22);
    assert!(!html.contains(&full), "no full ID numbers in a list");
    assert!(html.contains(&format!("{}********{}", &full[..6], &full[14..])));
}

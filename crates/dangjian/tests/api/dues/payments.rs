//! Dues bills for a whole year, online payment with signed callbacks (good, replayed, forged),
//! payments recorded by hand (代缴, 补交, voluntary and 大额党费) — domain-rules §2.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::{Client, TestApp, audit_count, ints, refused, refused_on};

/// A demo-mode app (the fake payment provider exists only there) with bases for a1 (4500 分 a
/// month) and a2 (1000 分), and the bills of all 2026 generated.
pub async fn app_with_bills() -> TestApp {
    let app = TestApp::spawn_with(dangjian_web::WebConfig {
        demo: true,
        ..dangjian_web::WebConfig::default()
    })
    .await;
    app.clock.set(datetime!(2026-03-10 02:00 UTC));
    let sec = app.login("sec").await;
    for (id, base) in [(app.tree.a1, 450_000), (app.tree.a2, 200_000)] {
        super::set_base(&sec, id, 2026, base).await;
    }
    let b = super::generate_bills(&sec, app.tree.branch_a, 2026, None).await;
    assert_eq!(b["created"], 24, "{b}");
    app
}

/// A member's months of 2026 as (month, status).
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a malformed answer should stop the test at once"
)]
pub async fn statuses(c: &Client, person: i64) -> Vec<String> {
    let (s, b) = c.get(&format!("/api/v1/members/{person}/dues?year=2026")).await;
    assert_eq!(s, 200, "{b}");
    b["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap_or("-").to_owned())
        .collect()
}

/// Posts a provider callback with the given signature header (None: unsigned).
#[expect(
    clippy::expect_used,
    reason = "a test helper: a failed request should stop the test at once"
)]
async fn callback(app: &TestApp, body: &[u8], sig: Option<String>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/dues/providers/fake/callback", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = sig {
        req = req.header("X-Dangjian-Signature", s);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn sign(keys: &dangjian_store::Keys, body: &[u8]) -> String {
    keys.sign("dues-callback:fake", body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_whole_year_is_generated_in_one_audited_batch_with_a_digest() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let b = super::generate_bills(&sec, app.tree.branch_a, 2026, None).await;
    assert_eq!(b["created"], 0, "nothing twice: {b}");
    let rows: Vec<String> = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT after_json FROM audit WHERE entity = 'dues_bill' ORDER BY seq").fetch_all(p).await)
    .unwrap();
    assert_eq!(rows.len(), 2, "one audit row per generation");
    let first: Value = serde_json::from_str(&rows[0]).unwrap();
    assert_eq!(first["count"], 24, "{first}");
    assert_eq!(first["digest"].as_str().unwrap().len(), 64, "{first}");
    assert!(first["month"].is_null(), "the whole year: {first}");
    assert_eq!(statuses(&sec, app.tree.a1).await, vec!["due"; 12]);
}

#[tokio::test]
async fn an_online_payment_is_booked_once_by_a_signed_callback_and_forgeries_change_nothing() {
    let app = app_with_bills().await;
    let mem = app.login("mem").await;
    let order = super::order(&mem, app.tree.a1, &["2026-01", "2026-02"]).await;
    assert_eq!(order["amount_fen"], 9000, "{order}");
    let order_no = order["order_no"].as_str().unwrap().to_owned();
    assert!(order["pay_url"].as_str().unwrap().contains(&order_no), "{order}");
    let body = serde_json::to_vec(
        &json!({"order_no": order_no, "amount_fen": 9000, "txn_id": "T1", "status": "paid"}),
    )
    .unwrap();
    let audit_before = audit_count(&app.store).await;
    // unsigned, signed by another key, and altered after signing: refused, nothing changes
    let (s, b) = callback(&app, &body, None).await;
    refused(s, &b, StatusCode::FORBIDDEN, "dues_callback_signature_invalid");
    let (s, _) = callback(&app, &body, Some(sign(&dangjian_store::Keys::generate(), &body))).await;
    assert_eq!(s, 403);
    let altered =
        serde_json::to_vec(&json!({"order_no": order_no, "amount_fen": 1, "txn_id": "T1", "status": "paid"}))
            .unwrap();
    let (s, _) = callback(&app, &altered, Some(sign(&app.store.keys, &body))).await;
    assert_eq!(s, 403);
    let (s, _) = callback(&app, &body, Some("zz".into())).await;
    assert_eq!(s, 403);
    assert_eq!(
        audit_count(&app.store).await,
        audit_before,
        "forgeries change nothing"
    );
    assert_eq!(statuses(&mem, app.tree.a1).await[..2], ["due", "due"]);
    // a correctly signed callback with the wrong amount is not booked either
    let (s, b) = callback(&app, &altered, Some(sign(&app.store.keys, &altered))).await;
    refused(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_callback_amount_mismatch",
    );
    // the real one
    let (s, first) = callback(&app, &body, Some(sign(&app.store.keys, &body))).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["status"], "paid", "{first}");
    let after_first = audit_count(&app.store).await;
    assert_eq!(statuses(&mem, app.tree.a1).await[..3], ["paid", "paid", "due"]);
    // replayed: the same answer, nothing changes
    let (s, again) = callback(&app, &body, Some(sign(&app.store.keys, &body))).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again, first);
    assert_eq!(audit_count(&app.store).await, after_first);
    let (_, d) = mem
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(d["payments"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["payments"][0]["method"], "online", "{d}");
    assert_eq!(d["paid_fen"], 9000, "{d}");
    assert_eq!(d["paid_through"], "2026-02", "{d}");
    // another transaction for the same order is a conflict
    let other = serde_json::to_vec(
        &json!({"order_no": order_no, "amount_fen": 9000, "txn_id": "T2", "status": "paid"}),
    )
    .unwrap();
    let (s, b) = callback(&app, &other, Some(sign(&app.store.keys, &other))).await;
    refused(s, &b, StatusCode::CONFLICT, "dues_order_already_paid");
    // paid months cannot be ordered again
    let (s, b) = mem
        .post(
            &format!("/api/v1/members/{}/dues-orders", app.tree.a1),
            json!({"months": ["2026-02"]}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_month_not_due",
        "months",
    );
    // someone else's dues
    let (s, _) = mem
        .post(
            &format!("/api/v1/members/{}/dues-orders", app.tree.a2),
            json!({"months": ["2026-01"]}),
        )
        .await;
    assert_eq!(s, 403, "a plain member has no dues grant over others");
}

#[tokio::test]
async fn the_fake_pay_page_pays_through_the_same_signed_callback() {
    let app = app_with_bills().await;
    let mem = app.login("mem").await;
    let order = super::order(&mem, app.tree.a1, &["2026-01"]).await;
    let url = order["pay_url"].as_str().unwrap().to_owned();
    let (s, html) = mem.page(&url).await;
    assert_eq!(s, 200);
    assert!(html.contains("45.00"), "{html}");
    let (s, location, _) = crate::helpers::post_form(&mem, &url, &[]).await;
    assert_eq!((s, location.as_str()), (303, "/dues/me"));
    assert_eq!(statuses(&mem, app.tree.a1).await[0], "paid");
    // a second press changes nothing
    let (s, _, _) = crate::helpers::post_form(&mem, &url, &[]).await;
    assert_eq!(s, 303);
    let (_, d) = mem
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(d["payments"].as_array().unwrap().len(), 1, "{d}");
}

#[tokio::test]
async fn without_demo_mode_there_is_no_fake_provider() {
    let app = TestApp::spawn().await;
    let body = br#"{"order_no":"DJx","amount_fen":1,"txn_id":"T","status":"paid"}"#;
    let (s, _) = callback(&app, body, Some(sign(&app.store.keys, body))).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_collector_records_cash_for_another_payer_and_back_months_with_a_warning() {
    let app = app_with_bills().await;
    app.clock.set(datetime!(2026-09-15 02:00 UTC));
    let sec = app.login("sec").await;
    let path = format!("/api/v1/members/{}/dues-payments", app.tree.a1);
    // 代缴: b1 pays a1's March
    let (s, p) = sec
        .post(
            &path,
            json!({"method": "cash", "months": ["2026-03"], "payer_person_id": app.tree.b1, "amount_fen": 4500}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["paid_on"], "2026-09-15", "today, as API.md writes a date: {p}");
    assert_eq!(
        (
            p["payer_person_id"].as_i64(),
            p["method"].as_str(),
            p["kind"].as_str()
        ),
        (Some(app.tree.b1), Some("cash"), Some("regular"))
    );
    assert_eq!(p["months"], "2026-03");
    // a relative who is not on record, by name
    let (s, p) = sec
        .post(
            &path,
            json!({"method": "transfer", "months": ["2026-04", "2026-05"], "payer_name": "张三之妻"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        (p["amount_fen"].as_i64(), p["payer_name"].as_str()),
        (Some(9000), Some("张三之妻"))
    );
    // the wrong amount, a month already paid, bad months
    let (s, b) = sec
        .post(
            &path,
            json!({"method": "cash", "months": ["2026-06"], "amount_fen": 4000}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_amount_mismatch",
        "amount_fen",
    );
    let (s, b) = sec
        .post(&path, json!({"method": "cash", "months": ["2026-03"]}))
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "dues_month_not_due");
    assert!(b["error"]["message"].as_str().unwrap().contains("2026-03"), "{b}");
    let (s, b) = sec
        .post(&path, json!({"method": "cash", "months": ["2026-13"]}))
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_month_invalid",
        "months",
    );
    let (s, b) = sec.post(&path, json!({"method": "cash"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_required",
        "months",
    );
    // 补交 more than six months back (February, in September) is warned, then accepted
    let (s, b) = sec
        .post(&path, json!({"method": "cash", "months": ["2026-02", "2026-06"]}))
        .await;
    refused(s, &b, StatusCode::CONFLICT, "confirmation_required");
    assert_eq!(
        b["error"]["warnings"][0]["code"], "dues_back_pay_over_limit",
        "{b}"
    );
    assert_eq!(
        statuses(&sec, app.tree.a1).await[1],
        "due",
        "nothing recorded before confirming"
    );
    let (s, p) = sec
        .post(
            &path,
            json!({"method": "cash", "months": ["2026-02", "2026-06"], "confirm": true}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["amount_fen"], 9000);
    assert_eq!(
        statuses(&sec, app.tree.a1).await[..7],
        ["due", "paid", "paid", "paid", "paid", "paid", "due"]
    );
    // within six months: no warning
    let (s, b) = sec
        .post(&path, json!({"method": "cash", "months": ["2026-07"]}))
        .await;
    assert_eq!(s, 201, "{b}");
    // forbidden ways, each naming the rule
    for (body, want, want_field) in [
        (
            json!({"method": "payroll", "months": ["2026-08"]}),
            "dues_payroll_forbidden",
            "method",
        ),
        (
            json!({"method": "advance", "months": ["2026-08"]}),
            "dues_advance_forbidden",
            "method",
        ),
        (
            json!({"method": "online", "months": ["2026-08"]}),
            "dues_online_by_provider",
            "method",
        ),
        (
            json!({"method": "cash", "kind": "special", "amount_fen": 100}),
            "dues_special_forbidden",
            "kind",
        ),
        (json!({"months": ["2026-08"]}), "field_required", "method"),
    ] {
        let (s, b) = sec.post(&path, body).await;
        refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, want, want_field);
    }
    // who may record
    let (s, _) = app
        .login("mem")
        .await
        .post(&path, json!({"method": "cash", "months": ["2026-08"]}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .login("secb")
        .await
        .post(&path, json!({"method": "cash", "months": ["2026-08"]}))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_voluntary_payment_of_1000_yuan_is_large_dues_and_999_99_is_not() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let path = format!("/api/v1/members/{}/dues-payments", app.tree.a1);
    let voluntary = async |method: &str, amount_fen: i64| {
        let body = json!({"method": method, "kind": "voluntary", "amount_fen": amount_fen});
        let (s, p) = sec.post(&path, body).await;
        assert_eq!(s, 201, "{p}");
        p
    };
    let p = voluntary("transfer", 100_000).await;
    assert_eq!(
        (p["kind"].as_str(), p["large"].as_bool()),
        (Some("voluntary"), Some(true))
    );
    let p = voluntary("cash", 99_999).await;
    assert_eq!(p["large"], false);
    for (body, want) in [
        (
            json!({"method": "cash", "kind": "voluntary"}),
            "dues_amount_positive",
        ),
        (
            json!({"method": "cash", "kind": "voluntary", "amount_fen": -5}),
            "base_negative",
        ),
        (
            json!({"method": "cash", "kind": "voluntary", "amount_fen": 100, "months": ["2026-01"]}),
            "dues_voluntary_without_months",
        ),
    ] {
        let (s, b) = sec.post(&path, body).await;
        refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, want);
    }
    let (s, r) = sec.dues_report(app.tree.branch_a, "year=2026").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        ints(&r, ["voluntary_fen", "large_fen", "large_count"]),
        [Some(199_999), Some(100_000), Some(1)],
        "{r}"
    );
    // voluntary money is not dues of a month
    assert_eq!(r["collected_fen"], 0, "{r}");
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(d["voluntary_fen"], 199_999, "{d}");
}

#[tokio::test]
async fn concurrent_deliveries_of_one_callback_book_one_payment() {
    let app = app_with_bills().await;
    let mem = app.login("mem").await;
    let order = super::order(&mem, app.tree.a1, &["2026-01"]).await;
    let body = serde_json::to_vec(
        &json!({"order_no": order["order_no"], "amount_fen": 4500, "txn_id": "T9", "status": "paid"}),
    )
    .unwrap();
    let sig = sign(&app.store.keys, &body);
    let answers = futures_join(&app, &body, &sig).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(
        answers.windows(2).all(|w| w[0].1 == w[1].1),
        "one answer: {answers:?}"
    );
    let payments: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM dues_payment").fetch_one(p).await)
    .unwrap();
    assert_eq!(payments, 1);
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failed request should stop the test at once"
)]
async fn futures_join(app: &TestApp, body: &[u8], sig: &str) -> Vec<(StatusCode, Value)> {
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (base, body, sig) = (app.base.clone(), body.to_vec(), sig.to_owned());
        tasks.push(tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(format!("{base}/api/v1/dues/providers/fake/callback"))
                .header("content-type", "application/json")
                .header("X-Dangjian-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A payment is dated neither after today nor years before the months it pays (issue #20).
#[tokio::test]
async fn a_payment_dated_in_2030_or_2020_is_refused_on_paid_on() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let path = format!("/api/v1/members/{}/dues-payments", app.tree.a1);
    for (paid_on, code) in [
        ("2030-01-01", "date_in_future"),
        ("2020-01-01", "dues_paid_on_too_early"),
    ] {
        let (s, b) = sec
            .post(
                &path,
                json!({"method": "cash", "months": ["2026-03"], "paid_on": paid_on}),
            )
            .await;
        crate::helpers::refused_on(s, &b, 422u16, code, "paid_on");
    }
    let (s, b) = sec
        .post(
            &path,
            json!({"method": "cash", "kind": "voluntary", "amount_fen": 10_000, "paid_on": "2030-01-01"}),
        )
        .await;
    crate::helpers::refused_on(s, &b, 422u16, "date_in_future", "paid_on");
    assert_eq!(statuses(&sec, app.tree.a1).await[2], "due", "March stays unpaid");
    let (s, b) = sec
        .post(
            &path,
            json!({"method": "cash", "months": ["2026-03"], "paid_on": "2026-03-05"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// A 临时党支部 collects no dues: bills made at the org above skip its members (issue #20).
#[tokio::test]
async fn bills_made_above_a_temporary_branch_skip_its_members() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let temp = crate::orgs::org(app.tree.root)
        .named("项目临时党支部")
        .branch_type("temporary")
        .create_view(&admin)
        .await;
    let m = crate::members::member(
        temp["id"].as_i64().unwrap_or_default(),
        &crate::helpers::id_number("1988-08-08", 401),
    )
    .created(&admin)
    .await;
    let person = m["id"].as_i64().unwrap_or_default();
    super::set_base(&admin, person, 2026, 300_000).await;
    super::set_base(&admin, app.tree.b1, 2026, 300_000).await;
    let b = super::generate_bills(&admin, app.tree.root, 2026, Some(3)).await;
    assert_eq!(b["created"], 1, "only branch B's member: {b}");
    let (_, d) = admin
        .get(&format!("/api/v1/members/{person}/dues?year=2026"))
        .await;
    assert!(
        d["months"][2]["status"].is_null(),
        "no bill for the temporary branch's member: {d}"
    );
}

//! `GET /api/v1/dues/quote`: the monthly dues by the rules in force on a date (domain-rules §2).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Client, FIXED_NOW, TestApp, code, field, ints, refused_on};

async fn quote(c: &Client, query: &str) -> (StatusCode, Value) {
    c.get(&format!("/api/v1/dues/quote?{query}")).await
}

#[tokio::test]
async fn in_service_quotes_follow_every_bracket_boundary_on_the_whole_base() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    // (base_fen, monthly_fen, rate_bp)
    let cases = [
        (0, 0, 50),
        (1, 0, 50),
        (99, 0, 50),
        (100, 1, 50),
        (299_999, 1500, 50),
        (300_000, 1500, 50),
        (300_001, 3000, 100),
        (500_000, 5000, 100),
        (500_001, 7500, 150),
        (1_000_000, 15_000, 150),
        (1_000_001, 20_000, 200),
    ];
    for (base, monthly, rate) in cases {
        let (s, b) = quote(&mem, &format!("category=in_service&base_fen={base}")).await;
        assert_eq!(s, 200, "{base}: {b}");
        assert_eq!(b["monthly_fen"], monthly, "{base}: {b}");
        assert_eq!(b["rate_bp"], rate, "{base}: {b}");
        assert!(b.get("max_fen").is_none(), "no range for a percentage: {b}");
        assert_eq!(b["rule"], "D1 2008 第二条");
        assert_eq!(b["category"], "in_service");
    }
    let (_, b) = quote(&mem, "category=in_service&base_fen=300000").await;
    assert!(
        b["basis"].as_str().unwrap().contains("3000元以下（含3000元）"),
        "{b}"
    );
}

#[tokio::test]
async fn retired_quotes_change_rate_only_above_5000_yuan() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    for (base, monthly, rate) in [
        (0, 0, 50),
        (400_000, 2000, 50),
        (500_000, 2500, 50),
        (500_001, 5000, 100),
    ] {
        let (s, b) = quote(&mem, &format!("category=retired&base_fen={base}")).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            ints(&b, ["monthly_fen", "rate_bp"]),
            [Some(monthly), Some(rate)],
            "{base}"
        );
        assert_eq!(b["rule"], "D1 2008 第五条");
    }
}

#[tokio::test]
async fn an_exact_half_fen_rounds_up_once() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    // 300100 × 0.5% = 1500.5 fen → 1501; 300099 × 0.5% = 1500.495 → 1500
    let (_, b) = quote(&mem, "category=retired&base_fen=300100").await;
    assert_eq!(b["monthly_fen"], 1501, "{b}");
    let (_, b) = quote(&mem, "category=retired&base_fen=300099").await;
    assert_eq!(b["monthly_fen"], 1500, "{b}");
    // 299900 × 0.5% = 1499.5 → 1500
    let (_, b) = quote(&mem, "category=in_service&base_fen=299900").await;
    assert_eq!(b["monthly_fen"], 1500, "{b}");
}

#[tokio::test]
async fn fixed_categories_give_their_amount_whatever_the_base() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    let (s, b) = quote(&mem, "category=farmer").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ints(&b, ["monthly_fen", "max_fen"]), [Some(20), Some(100)]);
    assert!(b.get("rate_bp").is_none(), "{b}");
    assert_eq!(b["rule"], "D1 2008 第六条");
    for category in ["student", "unemployed", "relief"] {
        for base in ["", "&base_fen=2000000", "&base_fen=-5"] {
            let (s, b) = quote(&mem, &format!("category={category}{base}")).await;
            assert_eq!(s, 200, "{category}{base}: {b}");
            assert_eq!(b["monthly_fen"], 20, "{category}{base}");
            assert!(b.get("max_fen").is_none(), "{b}");
        }
    }
}

#[tokio::test]
async fn the_date_selects_the_rule_set_and_earlier_rules_are_not_known() {
    let (app, mem) = TestApp::spawn_as("mem").await;
    let (s, b) = quote(&mem, "category=in_service&base_fen=300000&date=2010-01-01").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["monthly_fen"].as_i64(), b["rule_set"].as_str()),
        (Some(1500), Some("d1-2008"))
    );
    assert_eq!(b["date"], "2010-01-01");
    let (s, _) = quote(&mem, "category=in_service&base_fen=300000&date=2008-04-01").await;
    assert_eq!(s, 200, "the first day of D1");
    for date in ["2000-01-01", "2008-03-31"] {
        let (s, b) = quote(&mem, &format!("category=in_service&base_fen=300000&date={date}")).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!((code(&b), field(&b)), ("dues_rules_not_in_force", "date"));
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("中组发〔2008〕3号"),
            "{b}"
        );
    }
    let (s, b) = quote(&mem, "category=farmer&date=2008-13-01").await;
    refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "date_invalid", "date");
    let (_, b) = quote(&mem, "category=farmer").await;
    assert_eq!(b["date"], app.store.today().to_string(), "the default is today");
}

#[tokio::test]
async fn bad_categories_and_bases_are_refused_naming_the_field() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    let cases = [
        ("category=worker&base_fen=100", "value_unknown", "category"),
        ("base_fen=100", "field_required", "category"),
        ("category=in_service", "field_required", "base_fen"),
        ("category=retired&base_fen=", "field_required", "base_fen"),
        ("category=in_service&base_fen=-1", "base_negative", "base_fen"),
        ("category=retired&base_fen=-300000", "base_negative", "base_fen"),
        ("category=in_service&base_fen=abc", "base_fen_invalid", "base_fen"),
        (
            "category=in_service&base_fen=12.5",
            "base_fen_invalid",
            "base_fen",
        ),
        (
            "category=in_service&base_fen=99999999999999999999",
            "base_fen_invalid",
            "base_fen",
        ),
        ("category=farmer&base_fen=abc", "base_fen_invalid", "base_fen"),
    ];
    for (query, want, want_field) in cases {
        let (s, b) = quote(&mem, query).await;
        assert_eq!(s, 422, "{query}: {b}");
        assert_eq!((code(&b), field(&b)), (want, want_field), "{query}: {b}");
        assert!(!b["error"]["message"].as_str().unwrap_or("").is_empty(), "{b}");
    }
}

#[tokio::test]
async fn messages_follow_the_language() {
    let (_app, mem) = TestApp::spawn_as("mem").await;
    let resp = mem
        .http
        .get(format!(
            "{}/api/v1/dues/quote?category=in_service&base_fen=abc",
            mem.base
        ))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let b: Value = resp.json().await.unwrap();
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("whole number of fen"),
        "{b}"
    );
}

#[tokio::test]
async fn a_quote_needs_a_login() {
    let app = TestApp::spawn().await;
    let (s, b) = quote(&app.client(), "category=in_service&base_fen=300000").await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(code(&b), "not_logged_in");
    for user in ["admin", "sec", "staff"] {
        let (s, _) = quote(&app.login(user).await, "category=student").await;
        assert_eq!(s, 200, "{user}");
    }
}

#[tokio::test]
async fn the_quote_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.client().get("/api/openapi.json").await;
    let op = &doc["paths"]["/api/v1/dues/quote"]["get"];
    assert!(op.is_object(), "{doc}");
    assert_eq!(op["tags"][0], "dues");
}

#[expect(
    clippy::expect_used,
    reason = "a test helper: a failed request should stop the test at once"
)]
async fn dues_bill_audit_rows(app: &TestApp) -> i64 {
    dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit WHERE entity = 'dues_bill'").fetch_one(p).await)
    .expect("count")
}

#[tokio::test]
async fn bases_are_quoted_by_the_rules_of_1_january_and_overrides_need_a_reason() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, b) = sec
        .put(
            &format!("/api/v1/members/{}/dues-base/2026", app.tree.a1),
            serde_json::json!({"category": "in_service", "base_fen": 450_000}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["monthly_fen"], 4500, "{b}");
    assert_eq!(b["base_fen"], 450_000, "{b}");
    assert_eq!(b["year"], 2026, "{b}");
    assert!(b["override_reason"].is_null(), "{b}");
    let path_a2 = format!("/api/v1/members/{}/dues-base/2026", app.tree.a2);
    let (s, b) = sec
        .put(
            &path_a2,
            serde_json::json!({"category": "in_service", "base_fen": 200_000}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["monthly_fen"], 1000, "{b}");
    // an override without a reason is refused, naming the field
    let (s, b) = sec
        .put(
            &path_a2,
            serde_json::json!({"category": "in_service", "base_fen": 200_000, "monthly_fen": 500}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!((code(&b), field(&b)), ("reason_required", "reason"));
    // with a reason it replaces the year's base
    let (s, b) = sec.put(&path_a2,
        serde_json::json!({"category": "in_service", "base_fen": 200_000, "monthly_fen": 500, "reason": "困难减免"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["monthly_fen"].as_i64(), b["override_reason"].as_str()),
        (Some(500), Some("困难减免"))
    );
    // bad inputs name their fields
    for (path_year, body, want_code, want_field) in [
        (
            "2007",
            serde_json::json!({"category": "in_service", "base_fen": 1}),
            "year_invalid",
            "year",
        ),
        (
            "2026",
            serde_json::json!({"category": "in_service", "base_fen": 1.5}),
            "base_fen_invalid",
            "base_fen",
        ),
        (
            "2026",
            serde_json::json!({"category": "in_service", "base_fen": -1}),
            "base_negative",
            "base_fen",
        ),
        (
            "2026",
            serde_json::json!({"category": "in_service"}),
            "field_required",
            "base_fen",
        ),
    ] {
        let (s, b) = sec
            .put(
                &format!("/api/v1/members/{}/dues-base/{path_year}", app.tree.a1),
                body,
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!((code(&b), field(&b)), (want_code, want_field), "{b}");
    }
    // branch B's secretary cannot see a1
    let secb = app.login("secb").await;
    let (s, _) = secb
        .put(
            &format!("/api/v1/members/{}/dues-base/2026", app.tree.a1),
            serde_json::json!({"category": "in_service", "base_fen": 450_000}),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn bills_are_generated_once_per_month_for_the_subtree_with_one_audit_row() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    for (id, base) in [(app.tree.a1, 450_000), (app.tree.a2, 200_000)] {
        super::set_base(&sec, id, 2026, base).await;
    }
    let audit_before = dues_bill_audit_rows(&app).await;
    let path = format!("/api/v1/orgs/{}/dues-bills", app.tree.branch_a);
    let (s, b) = sec
        .post(&path, serde_json::json!({"year": 2026, "month": 3}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["created"], 2, "{b}");
    assert_eq!(
        dues_bill_audit_rows(&app).await,
        audit_before + 1,
        "one audit row for the batch"
    );
    let (s, b) = sec
        .post(&path, serde_json::json!({"year": 2026, "month": 3}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["created"], 0, "{b}");
    let (s, b) = sec
        .post(&path, serde_json::json!({"year": 2026, "month": 13}))
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!((code(&b), field(&b)), ("month_invalid", "month"));
    // the member sees their own year
    let mem = app.login("mem").await;
    let (s, b) = mem
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["year"], 2026);
    assert_eq!(b["base"]["monthly_fen"], 4500, "{b}");
    let months = b["months"].as_array().expect("months");
    assert_eq!(months.len(), 12, "{b}");
    assert_eq!(months[2]["month"], 3);
    assert_eq!(months[2]["amount_fen"], 4500);
    assert_eq!(months[2]["status"], "due");
    assert!(months[3]["amount_fen"].is_null(), "{b}");
    assert_eq!(ints(&b, ["owed_fen", "paid_fen"]), [Some(4500), Some(0)]);
    // a year without a base
    let (s, b) = mem
        .get(&format!("/api/v1/members/{}/dues?year=2025", app.tree.a1))
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["base"].is_null(), "{b}");
    // branch B's secretary does not see a1
    let secb = app.login("secb").await;
    let (s, _) = secb
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(s, 404);
    let (s, _) = secb
        .post(&path, serde_json::json!({"year": 2026, "month": 4}))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_temporary_branch_does_not_collect_dues() {
    let (app, admin) = TestApp::spawn_as("admin").await;
    let (s, t) = admin
        .post(
            "/api/v1/orgs",
            serde_json::json!({"parent_id": app.tree.root, "name": "项目临时党支部", "kind": "branch", "branch_type": "temporary"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let (s, b) = admin
        .post(
            &format!("/api/v1/orgs/{}/dues-bills", t["id"]),
            serde_json::json!({"year": 2026, "month": 1}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(code(&b), "temporary_branch_forbidden", "{b}");
}

#[tokio::test]
async fn probationary_members_are_billed_from_the_month_of_the_branch_congress() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let sec = app.login("sec").await;
    let (s, b) = sec
        .patch(
            &format!("/api/v1/members/{}", app.tree.a2),
            serde_json::json!({"joined_on": "2026-05-10"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for id in [app.tree.a1, app.tree.a2] {
        let (s, b) = sec
            .put(
                &format!("/api/v1/members/{id}/dues-base/2026"),
                serde_json::json!({"category": "in_service", "base_fen": 450_000}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let path = format!("/api/v1/orgs/{}/dues-bills", app.tree.branch_a);
    let (_, b) = sec
        .post(&path, serde_json::json!({"year": 2026, "month": 4}))
        .await;
    assert_eq!(b["created"], 1, "April: a1 only: {b}");
    let (_, b) = sec
        .post(&path, serde_json::json!({"year": 2026, "month": 5}))
        .await;
    assert_eq!(b["created"], 2, "May: a2 joined on the 10th: {b}");
}

/// Amounts set by hand stay where the rules put a fixed category, and a salaried base of 0 is a
/// case to confirm (issue #20; domain-rules §2, edge case 19).
#[tokio::test]
async fn a_farmers_override_stays_in_range_and_a_zero_base_is_confirmed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let path = format!("/api/v1/members/{}/dues-base/2026", app.tree.a1);
    for fen in [150, 10] {
        let (s, b) = sec
            .put(
                &path,
                serde_json::json!({"category": "farmer", "monthly_fen": fen, "reason": "村里评定"}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), code(&b), field(&b)),
            (422, "dues_override_out_of_range", "monthly_fen"),
            "{fen}: {b}"
        );
        assert!(crate::helpers::message(&b).contains("0.20 至 1.00 元"), "{b}");
    }
    let (s, b) = sec
        .put(
            &path,
            serde_json::json!({"category": "farmer", "monthly_fen": 60, "reason": "村里评定"}),
        )
        .await;
    assert_eq!((s.as_u16(), b["monthly_fen"].as_i64()), (200, Some(60)), "{b}");

    let zero = serde_json::json!({"category": "in_service", "base_fen": 0});
    let (s, b) = sec.put(&path, zero.clone()).await;
    assert_eq!((s.as_u16(), code(&b)), (409, "confirmation_required"), "{b}");
    assert_eq!(b["error"]["warnings"][0]["code"], "dues_base_zero", "{b}");
    let (s, b) = sec.put(&format!("{path}?confirm=true"), zero).await;
    assert_eq!((s.as_u16(), b["monthly_fen"].as_i64()), (200, Some(0)), "{b}");
}

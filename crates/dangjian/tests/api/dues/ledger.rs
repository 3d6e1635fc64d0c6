//! Hardship waivers, arrears at the reminder and at six months on a fixed clock, the reminder
//! setting, reports that add up, 上缴 and 党费交至 (domain-rules §2, §10 cases 21–22).

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use super::payments::{app_with_bills, statuses};
use crate::helpers::{TestApp, ints, refused, refused_on};

async fn arrears(app: &TestApp) -> Value {
    let sec = app.login("sec").await;
    let (s, b) = sec
        .get(&format!("/api/v1/orgs/{}/dues-arrears", app.tree.branch_a))
        .await;
    assert_eq!(s, 200, "{b}");
    b
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a malformed answer should stop the test at once"
)]
fn line(list: &Value, person: i64) -> Option<Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["person_id"] == person)
        .cloned()
}

#[tokio::test]
async fn a_hardship_waiver_needs_the_committee_and_waived_months_are_not_arrears() {
    let app = app_with_bills().await;
    app.clock.set(datetime!(2026-07-15 02:00 UTC));
    let mem = app.login("mem").await;
    let sec = app.login("sec").await;
    let admin = app.login("admin").await;
    // the member applies for their own January and February
    let (s, h) = mem
        .apply_hardship(
            app.tree.a1,
            json!({"from": "2026-01", "to": "2026-02", "reason": "大病住院，收入中断"}),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(
        (h["status"].as_str(), h["mode"].as_str()),
        (Some("applied"), Some("waive"))
    );
    let id = h["id"].as_i64().unwrap();
    // bad applications name their fields
    for (body, want, want_field) in [
        (
            json!({"from": "2026-03", "to": "2026-01", "reason": "x"}),
            "dues_period_reversed",
            "to",
        ),
        (
            json!({"from": "2026-01", "to": "2026-02"}),
            "reason_required",
            "reason",
        ),
        (json!({"to": "2026-02", "reason": "x"}), "field_required", "from"),
        (
            json!({"from": "2026-1x", "to": "2026-02", "reason": "x"}),
            "dues_month_invalid",
            "from",
        ),
    ] {
        let (s, b) = mem.apply_hardship(app.tree.a1, body).await;
        refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, want, want_field);
    }
    // not before the branch has discussed it
    let (s, b) = admin.on_hardship(id, "decision", json!({"approved": true})).await;
    refused(s, &b, StatusCode::CONFLICT, "dues_hardship_state");
    let (s, h) = sec
        .on_hardship(
            id,
            "discussion",
            json!({"agreed": true, "meeting_on": "2026-07-10", "note": "支委会讨论同意"}),
        )
        .await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(
        h["status"], "discussed",
        "an in-service member needs the 党委: {h}"
    );
    assert_eq!(statuses(&sec, app.tree.a1).await[..2], ["due", "due"]);
    // the branch secretary is not the higher 党委
    let (s, b) = sec.on_hardship(id, "decision", json!({"approved": true})).await;
    refused(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_hardship_needs_committee",
    );
    let (s, h) = admin.on_hardship(id, "decision", json!({"approved": true})).await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(
        (h["status"].as_str(), h["approver_org_id"].as_i64()),
        (Some("approved"), Some(app.tree.root))
    );
    assert_eq!(
        statuses(&sec, app.tree.a1).await[..3],
        ["waived", "waived", "due"]
    );
    // March to June unpaid: 4 months, a reminder, not a case; a2 has 6 unpaid: a case
    let list = arrears(&app).await;
    assert_eq!(
        (list["as_of"].as_str(), list["reminder_months"].as_i64()),
        (Some("2026-07"), Some(3))
    );
    let a1 = line(&list, app.tree.a1).expect("a1 is listed");
    assert_eq!(
        (a1["months_unpaid"].as_i64(), a1["stage"].as_str()),
        (Some(4), Some("reminder")),
        "{a1}"
    );
    assert_eq!(a1["first_unpaid"], "2026-03");
    assert_eq!(a1["owed_fen"], 4 * 4500);
    let a2 = line(&list, app.tree.a2).expect("a2 is listed");
    assert_eq!(
        (a2["months_unpaid"].as_i64(), a2["stage"].as_str()),
        (Some(6), Some("case")),
        "{a2}"
    );
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{}/dues-arrears-case", app.tree.a1),
            json!({}),
        )
        .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "dues_case_too_early");
    // the report: waived is neither collected nor outstanding, and it all adds up
    let (_, r) = sec.dues_report(app.tree.branch_a, "year=2026&month=1").await;
    assert_eq!(
        ints(&r, ["billed_fen", "waived_fen", "outstanding_fen"]),
        [Some(5500), Some(4500), Some(1000)],
        "{r}"
    );
}

#[tokio::test]
async fn a_retirees_reduction_is_decided_by_the_branch_alone() {
    let app = app_with_bills().await;
    dangjian_store::with_db!(&app.store.db, p => sqlx::query("UPDATE person SET category = 'retired' WHERE id = $1")
        .bind(app.tree.a2).execute(p).await.map(|r| r.rows_affected()))
    .unwrap();
    let sec = app.login("sec").await;
    let (s, h) = sec
        .apply_hardship(
            app.tree.a2,
            json!({"from": "2026-03", "to": "2026-04", "reduced_to_fen": 400, "reason": "养老金减少"}),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(
        (h["mode"].as_str(), h["retiree"].as_bool()),
        (Some("reduce"), Some(true))
    );
    // the branch's discussion on 5 March decides a retiree's application
    let discuss = async |h: &Value, agreed: bool| {
        let body = json!({"agreed": agreed, "meeting_on": "2026-03-05"});
        sec.on_hardship(&h["id"], "discussion", body).await
    };
    let (s, h) = discuss(&h, true).await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["status"], "approved");
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a2))
        .await;
    assert_eq!(d["months"][2]["relief_fen"], 600, "1000 reduced to 400: {d}");
    assert_eq!(d["months"][2]["status"], "due");
    // paying March takes the reduced amount
    let (s, p) = sec
        .post(
            &format!("/api/v1/members/{}/dues-payments", app.tree.a2),
            json!({"method": "cash", "months": ["2026-03"], "amount_fen": 400}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    // a rejected application changes no bill
    let (_, h) = sec
        .apply_hardship(
            app.tree.a2,
            json!({"from": "2026-05", "to": "2026-05", "reason": "x"}),
        )
        .await;
    let (_, h) = discuss(&h, false).await;
    assert_eq!(h["status"], "rejected");
    assert_eq!(statuses(&sec, app.tree.a2).await[4], "due");
}

#[tokio::test]
async fn approved_relief_applies_to_bills_generated_later() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let admin = app.login("admin").await;
    super::set_base(&sec, app.tree.a1, 2026, 450_000).await;
    let (_, h) = sec
        .apply_hardship(
            app.tree.a1,
            json!({"from": "2026-06", "to": "2026-12", "reason": "失业"}),
        )
        .await;
    let id = h["id"].as_i64().unwrap();
    sec.on_hardship(
        id,
        "discussion",
        json!({"agreed": true, "meeting_on": "2026-05-20"}),
    )
    .await;
    let (s, _) = admin.on_hardship(id, "decision", json!({"approved": true})).await;
    assert_eq!(s, 200);
    super::generate_bills(&sec, app.tree.branch_a, 2026, None).await;
    let st = statuses(&sec, app.tree.a1).await;
    assert_eq!(st[4], "due");
    assert_eq!(st[5..], ["waived"; 7]);
}

#[tokio::test]
async fn arrears_reach_the_reminder_and_the_branch_congress_case_on_a_fixed_clock() {
    let app = app_with_bills().await;
    let mut sec = app.login("sec").await;
    // a1 pays nothing; a2 pays every month, so only a1 is listed
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{}/dues-payments", app.tree.a2),
            json!({"method": "cash", "months": ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // in March: January and February late (2 < 3), nobody listed
    app.clock.set(datetime!(2026-03-20 02:00 UTC));
    assert!(line(&arrears(&app).await, app.tree.a1).is_none());
    // in April: three months, a reminder
    app.clock.set(datetime!(2026-04-01 02:00 UTC));
    sec = app.login("sec").await; // sessions expire as the clock moves on
    let l = line(&arrears(&app).await, app.tree.a1).expect("reminder");
    assert_eq!(
        (l["months_unpaid"].as_i64(), l["stage"].as_str()),
        (Some(3), Some("reminder"))
    );
    // the setting moves the reminder (per subtree)
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{}/dues-settings", app.tree.branch_a),
            json!({"reminder_months": 4}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(line(&arrears(&app).await, app.tree.a1).is_none(), "4 months now");
    let (s, b) = sec
        .put(
            &format!("/api/v1/orgs/{}/dues-settings", app.tree.branch_a),
            json!({"reminder_months": 6}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_reminder_months_invalid",
        "reminder_months",
    );
    let (_, b) = sec
        .get(&format!("/api/v1/orgs/{}/dues-settings", app.tree.group_a1))
        .await;
    assert_eq!(b["reminder_months"], 4, "inherited by the subtree: {b}");
    // in June: five months, no case yet (§10 case 22)
    app.clock.set(datetime!(2026-06-30 15:00 UTC));
    sec = app.login("sec").await;
    assert_eq!(app.store.today().to_string(), "2026-06-30");
    let l = line(&arrears(&app).await, app.tree.a1).expect("listed");
    assert_eq!(
        (l["months_unpaid"].as_i64(), l["stage"].as_str()),
        (Some(5), Some("reminder"))
    );
    let case_path = format!("/api/v1/members/{}/dues-arrears-case", app.tree.a1);
    let (s, b) = sec.post(&case_path, json!({})).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "dues_case_too_early");
    // 16:00 UTC on 30 June is 1 July in Beijing: six months, a case for the 支部大会
    app.clock.set(datetime!(2026-06-30 16:00 UTC));
    let l = line(&arrears(&app).await, app.tree.a1).expect("listed");
    assert_eq!(
        (l["months_unpaid"].as_i64(), l["stage"].as_str()),
        (Some(6), Some("case"))
    );
    assert!(l["case_id"].is_null(), "never opened by itself: {l}");
    let (s, c) = sec.post(&case_path, json!({})).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        (c["status"].as_str(), c["months_unpaid"].as_i64()),
        (Some("open"), Some(6))
    );
    let (s, b) = sec.post(&case_path, json!({})).await;
    refused(s, &b, StatusCode::CONFLICT, "dues_case_exists");
    let decide = format!("/api/v1/dues-arrears-cases/{}/decision", c["id"]);
    let (s, b) = sec.post(&decide, json!({"outcome": "removal_proposed"})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_case_needs_congress",
        "meeting_on",
    );
    let (s, b) = sec.post(&decide, json!({"outcome": "expel"})).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "value_unknown");
    let (s, d) = sec
        .post(
            &decide,
            json!({"outcome": "removal_proposed", "meeting_on": "2026-07-05", "note": "支部大会表决"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "removal_proposed");
    let (s, b) = sec
        .post(&decide, json!({"outcome": "kept", "meeting_on": "2026-07-06"}))
        .await;
    refused(s, &b, StatusCode::CONFLICT, "dues_case_decided");
    // the member's status is unchanged until the approval is recorded as a status event
    let (_, m) = sec.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(m["status"], "formal", "{m}");
    let l = line(&arrears(&app).await, app.tree.a1).expect("listed");
    assert_eq!(l["case_status"], "removal_proposed");
    // outside the branch: nothing to see
    let secb = app.login("secb").await;
    let (s, _) = secb
        .get(&format!("/api/v1/orgs/{}/dues-arrears", app.tree.branch_a))
        .await;
    assert_eq!(s, 404);
    let (s, _) = secb
        .post(&decide, json!({"outcome": "kept", "meeting_on": "2026-07-06"}))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn reports_add_up_by_category_and_month_and_remittances_go_to_the_level_above() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let pay = |person: i64, months: Value| {
        let sec = &sec;
        async move {
            let (s, b) = sec
                .post(
                    &format!("/api/v1/members/{person}/dues-payments"),
                    json!({"method": "transfer", "months": months}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
    };
    pay(app.tree.a1, json!(["2026-01", "2026-02", "2026-03"])).await;
    pay(app.tree.a2, json!(["2026-01"])).await;
    let (s, r) = sec.dues_report(app.tree.branch_a, "year=2026").await;
    assert_eq!(s, 200, "{r}");
    let n = |v: &Value, k: &str| v[k].as_i64().unwrap();
    assert_eq!(n(&r, "billed_fen"), 12 * 4500 + 12 * 1000, "{r}");
    assert_eq!(n(&r, "collected_fen"), 3 * 4500 + 1000);
    assert_eq!(
        n(&r, "collected_fen") + n(&r, "outstanding_fen") + n(&r, "waived_fen"),
        n(&r, "billed_fen")
    );
    assert_eq!(n(&r, "bills"), 24);
    let cats = r["by_category"].as_array().unwrap();
    assert_eq!(cats.len(), 1, "{r}");
    assert_eq!(cats[0]["category"], "in_service");
    for c in cats {
        assert_eq!(
            n(c, "collected_fen") + n(c, "outstanding_fen") + n(c, "waived_fen"),
            n(c, "billed_fen")
        );
    }
    let (_, m) = sec.dues_report(app.tree.branch_a, "year=2026&month=2").await;
    assert_eq!(
        (
            n(&m, "billed_fen"),
            n(&m, "collected_fen"),
            n(&m, "outstanding_fen")
        ),
        (5500, 4500, 1000)
    );
    // the 党委 sees the same money from above; branch B none
    let admin = app.login("admin").await;
    let (_, top) = admin.dues_report(app.tree.root, "year=2026").await;
    assert_eq!(n(&top, "collected_fen"), n(&r, "collected_fen"));
    let (_, b) = admin.dues_report(app.tree.branch_b, "year=2026").await;
    assert_eq!(n(&b, "billed_fen"), 0);
    let (s, b) = sec.dues_report(app.tree.branch_a, "year=2026&month=13").await;
    refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "month_invalid", "month");
    // 上缴 to the 党总支
    let (s, rem) = sec
        .post(
            &format!("/api/v1/orgs/{}/dues-remittances", app.tree.branch_a),
            json!({"year": 2026, "month": 3, "amount_fen": 14_500, "remitted_on": "2026-04-02"}),
        )
        .await;
    assert_eq!(s, 201, "{rem}");
    assert_eq!(rem["to_org_id"], app.tree.general);
    assert_eq!(
        rem["remitted_on"], "2026-04-02",
        "dates as API.md writes them: {rem}"
    );
    let (s, b) = sec
        .post(
            &format!("/api/v1/orgs/{}/dues-remittances", app.tree.branch_a),
            json!({"year": 2026, "amount_fen": 100, "large_fen": 200}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_large_exceeds_amount",
        "large_fen",
    );
    let (_, r) = sec.dues_report(app.tree.branch_a, "year=2026").await;
    assert_eq!(n(&r, "remitted_fen"), 14_500, "{r}");
    // the month's bills for the collector
    let (s, l) = sec
        .get(&format!(
            "/api/v1/orgs/{}/dues-bills?year=2026&month=1",
            app.tree.branch_a
        ))
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["total"], 2);
    assert!(
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "paid" && b["method"] == "transfer")
    );
    // 党费交至
    let (s, p) = sec
        .get(&format!("/api/v1/members/{}/dues-paid-through", app.tree.a1))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["paid_through"], "2026-03");
    let (_, p) = sec
        .get(&format!("/api/v1/members/{}/dues-paid-through", app.tree.a2))
        .await;
    assert_eq!(p["paid_through"], "2026-01");
    // the Excel file
    let resp = sec
        .raw_get(&format!(
            "/api/v1/orgs/{}/dues-report.xlsx?year=2026",
            app.tree.branch_a
        ))
        .await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml"),
    );
    let bytes = resp.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    let cells: Vec<String> = sheet
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(cells.contains(&"660.00".to_owned()), "billed 660 yuan: {cells:?}");
    assert!(cells.contains(&"145.00".to_owned()), "collected: {cells:?}");
}

/// A member who died owes nothing after the month of death: the later bills end with the event,
/// they leave the arrears list, and no case or payment is taken for them (issue #20; §10 case 22).
#[tokio::test]
async fn after_a_death_no_bill_is_due_and_no_arrears_are_listed() {
    let app = app_with_bills().await;
    let sec = app.login("sec").await;
    let a1 = app.tree.a1;
    let (s, b) = sec
        .member_event(a1, json!({"kind": "deceased", "date": "2026-03-01"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, d) = sec.get(&format!("/api/v1/members/{a1}/dues?year=2026")).await;
    let months: Vec<Value> = (0..12).map(|i| d["months"][i]["status"].clone()).collect();
    assert_eq!(months[2], "due", "March, the month of death, stays: {d}");
    assert!(months[3..].iter().all(Value::is_null), "no bill after March: {d}");
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{a1}/dues-payments"),
            json!({"method": "cash", "months": ["2026-11"]}),
        )
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_month_not_due",
        "months",
    );

    app.clock.set(datetime!(2026-12-01 02:00 UTC));
    assert!(
        line(&arrears(&app).await, a1).is_none(),
        "the dead are not in the arrears list"
    );
    assert!(
        line(&arrears(&app).await, app.tree.a2).is_some(),
        "the living unpaid are"
    );
    let sec = app.login("sec").await;
    let (s, b) = sec
        .post(&format!("/api/v1/members/{a1}/dues-arrears-case"), json!({}))
        .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_case_not_a_member",
        "person_id",
    );
}

#[tokio::test]
async fn a_member_transferred_in_is_billed_from_the_month_after_the_letters_paid_through() {
    let app = TestApp::spawn().await;
    app.clock.set(datetime!(2026-10-15 02:00 UTC));
    let admin = app.login("admin").await;
    let (b1, a) = (app.tree.b1, app.tree.branch_a);
    let event = async |body: Value| admin.post(&format!("/api/v1/members/{b1}/events"), body).await;
    let (s, b) = event(json!({"kind": "transfer_out", "date": "2026-09-20"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // a 党费交至 beyond a year ahead is not what a letter says
    let into_a = |paid: &str| json!({"kind": "transfer_in", "date": "2026-10-01", "org_id": a, "dues_paid_through": paid});
    let (s, b) = event(into_a("2027-11")).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_paid_through_range",
        "dues_paid_through",
    );
    let (s, b) = event(into_a("2026-13")).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_month_invalid",
        "dues_paid_through",
    );
    // the letter says 党费交至 2026年10月: branch A bills from November
    let (s, b) = event(into_a("2026-10")).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    super::set_base(&admin, b1, 2026, 450_000).await;
    let created = super::generate_bills(&admin, a, 2026, None).await;
    let (_, d) = admin.get(&format!("/api/v1/members/{b1}/dues?year=2026")).await;
    let billed: Vec<i64> = d["months"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| !m["status"].is_null())
        .filter_map(|m| m["month"].as_i64())
        .collect();
    assert_eq!(billed, [11, 12], "{d} {created}");
    // and nothing else: a 党费交至 only comes with a transfer in
    let (s, b) = event(
        json!({"kind": "suspend", "date": "2026-10-10", "reason": "失联", "dues_paid_through": "2026-10"}),
    )
    .await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_paid_through_only_on_transfer_in",
        "dues_paid_through",
    );
}

//! Bases from a payroll sheet (every bad row listed, all-or-nothing, dry run) and the "normally
//! at most 1000 元 a month" warning (D1 第十一条: warn, never cap).

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, id_number, ids, refused};

enum Cell<'a> {
    Text(&'a str),
    Num(f64),
}
use Cell::{Num, Text};

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a sheet that cannot be written should stop the test"
)]
fn sheet(rows: &[&[Cell]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "计算基数（元）", "人员类别"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                Text(s) => ws.write_string(r, c, *s).unwrap(),
                Num(n) => ws.write_number(r, c, *n).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

/// The message of the first warning of a refusal, "" when there is none.
fn first_warning(b: &Value) -> &str {
    b["error"]["warnings"][0]["message"].as_str().unwrap_or_default()
}

async fn upload(c: &Client, org: i64, query: &str, file: &[u8]) -> (StatusCode, Value) {
    c.multipart(
        &format!("/api/v1/orgs/{org}/dues-bases/import?{query}"),
        &[],
        "payroll.xlsx",
        file,
    )
    .await
}

#[tokio::test]
async fn a_payroll_sheet_sets_the_years_bases_and_lists_every_bad_row() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (a1, a2, b1) = (
        id_number("1980-05-06", 11),
        id_number("1990-02-03", 22),
        id_number("1985-09-10", 33),
    );
    // two good rows, and the bad ones around them
    let zhang: &[Cell] = &[Text("张三"), Text(&a1), Text("4500"), Text("在职")];
    let li: &[Cell] = &[Text("李四"), Text(&a2), Num(2000.5)];
    let bad = sheet(&[
        zhang,
        li,
        &[Text("王五"), Text(&b1), Text("3000")],
        &[Text("张三"), Text(&a1), Text("4500")],
        &[Text("李四"), Num(110_105_199_002_030_220.0), Text("3000")],
        &[Text("赵六"), Text(&a2), Text("12.345")],
        &[Text("张三"), Text(&a1), Text("1"), Text("工人")],
    ]);
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026", &bad).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_rows_invalid");
    let rows: Vec<(i64, String)> = b["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (6, "身份证号".to_owned()),
            (7, "计算基数（元）".to_owned()),
            (8, "人员类别".to_owned())
        ],
        "sheet-level errors come first: {b}"
    );
    // the sheet's own errors fixed, the database's checks follow: every bad row at once
    let bad = sheet(&[
        zhang,
        &[Text("赵六"), Text(&a2), Text("12.34")],
        &[Text("王五"), Text(&b1), Text("3000")],
        &[Text("张三"), Text(&a1), Text("4500")],
    ]);
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026", &bad).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_rows_invalid");
    assert_eq!(ids(&b["error"], "rows", "row"), [3, 4, 5], "{b}");
    let message = |i: usize| b["error"]["rows"][i]["message"].as_str().unwrap().to_owned();
    assert!(message(0).contains("不一致"), "{b}");
    assert!(message(1).contains("没有此身份证号"), "{b}");
    assert!(message(2).contains("第 2 行"), "{b}");
    let good = sheet(&[zhang, li]);
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026&dry_run=true", &good).await;
    assert_eq!((s.as_u16(), b["valid"].as_i64()), (200, Some(2)), "{b}");
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert!(d["base"].is_null(), "a dry run stores nothing: {d}");
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026", &good).await;
    assert_eq!((s.as_u16(), b["imported"].as_i64()), (200, Some(2)), "{b}");
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(
        (d["base"]["base_fen"].as_i64(), d["base"]["monthly_fen"].as_i64()),
        (Some(450_000), Some(4500))
    );
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a2))
        .await;
    assert_eq!(d["base"]["base_fen"], 200_050, "2000.50 yuan read exactly: {d}");
    assert_eq!(d["base"]["monthly_fen"], 1000, "1000.25 fen rounds to 1000: {d}");
    let audit: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit WHERE entity = 'dues_base' AND action = 'import'").fetch_one(p).await)
    .unwrap();
    assert_eq!(audit, 1, "one audit row for the import");
    let (s, b) = upload(&sec, app.tree.branch_a, "year=1999", &good).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "year_invalid");
    let (s, _) = upload(&app.login("secb").await, app.tree.branch_a, "year=2026", &good).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn more_than_1000_yuan_a_month_is_warned_and_kept_once_confirmed() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let path = format!("/api/v1/members/{}/dues-base/2026", app.tree.a1);
    // 60000 元 × 2% = 1200 元 a month
    let (s, b) = sec
        .put(&path, json!({"category": "in_service", "base_fen": 6_000_000}))
        .await;
    refused(s, &b, StatusCode::CONFLICT, "confirmation_required");
    assert_eq!(b["error"]["warnings"][0]["code"], "dues_above_normal_cap");
    assert!(first_warning(&b).contains("1000.00"), "{b}");
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert!(d["base"].is_null(), "nothing stored before confirming");
    let (s, b) = sec
        .put(
            &path,
            json!({"category": "in_service", "base_fen": 6_000_000, "confirm": true}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["monthly_fen"], 120_000, "never capped");
    // exactly 1000 yuan is no warning: 50000 元 × 2%
    let (s, b) = sec
        .put(&path, json!({"category": "in_service", "base_fen": 5_000_000}))
        .await;
    assert_eq!(
        (s.as_u16(), b["monthly_fen"].as_i64()),
        (200, Some(100_000)),
        "{b}"
    );
    // the same in an import, naming the row
    let high = sheet(&[&[Text("张三"), Text(&id_number("1980-05-06", 11)), Text("60000")]]);
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026", &high).await;
    refused(s, &b, StatusCode::CONFLICT, "confirmation_required");
    assert!(first_warning(&b).contains("第 2 行"), "{b}");
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026&confirm=true", &high).await;
    assert_eq!(s, 200, "{b}");
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failed request should stop the test at once"
)]
async fn page_upload(c: &Client, fields: &[(&str, String)], file: &[u8]) -> (u16, String) {
    let boundary = "----dangjian-dues-page-77c1";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"payroll.xlsx\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = c
        .http
        .post(format!("{}/dues/bases/import", c.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_collectors_page_imports_a_payroll_sheet_and_lists_bad_rows() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let fields = vec![
        ("csrf_token", sec.csrf.clone().unwrap()),
        ("org", app.tree.branch_a.to_string()),
        ("year", "2026".to_owned()),
        ("month", "1".to_owned()),
    ];
    let a1 = id_number("1980-05-06", 11);
    let bad = sheet(&[
        &[Text("张三"), Text(&a1), Text("4500")],
        &[Text("李四"), Text("110105"), Text("3000")],
    ]);
    let (s, html) = page_upload(&sec, &fields, &bad).await;
    assert_eq!(s, 409, "{html}");
    assert!(html.contains("第 3 行“身份证号”"), "{html}");
    let good = sheet(&[&[Text("张三"), Text(&a1), Text("4500")]]);
    let (s, _) = page_upload(&sec, &fields, &good).await;
    assert_eq!(s, 303);
    let (_, d) = sec
        .get(&format!("/api/v1/members/{}/dues?year=2026", app.tree.a1))
        .await;
    assert_eq!(d["base"]["monthly_fen"], 4500, "{d}");
}

#[tokio::test]
async fn a_base_changed_after_bills_were_issued_needs_a_reason_and_reissues_the_unpaid_bills() {
    let app = TestApp::spawn().await;
    // edge case 20: the base is fixed in January; a raise in March does not change the year
    app.clock.set(time::macros::datetime!(2026-03-15 02:00 UTC));
    let sec = app.login("sec").await;
    let a1 = app.tree.a1;
    assert_eq!(
        super::set_base(&sec, a1, 2026, 280_000).await["monthly_fen"],
        1400
    );
    super::generate_bills(&sec, app.tree.branch_a, 2026, None).await;
    let (s, b) = sec
        .post(
            &format!("/api/v1/members/{a1}/dues-payments"),
            json!({"method": "cash", "months": ["2026-01"], "paid_on": "2026-01-20"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let path = format!("/api/v1/members/{a1}/dues-base/2026");
    let raised = json!({"category": "in_service", "base_fen": 350_000});
    let (s, b) = sec.put(&path, raised.clone()).await;
    crate::helpers::refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dues_base_change_needs_reason",
        "reason",
    );
    let message = crate::helpers::message(&b);
    assert!(
        message.contains("12") && message.contains("14.00") && message.contains("35.00"),
        "{b}"
    );
    // the same base again changes nothing and needs no reason
    let (s, b) = sec
        .put(&path, json!({"category": "in_service", "base_fen": 280_000}))
        .await;
    assert_eq!((s, b["bills_updated"].as_i64()), (StatusCode::OK, Some(0)), "{b}");
    // a correction, with its reason: the 11 unpaid bills follow, the paid January stays
    let mut corrected = raised.clone();
    corrected["reason"] = json!("一月录入时把 3500 元误录为 2800 元");
    let before = crate::helpers::audit_count(&app.store).await;
    let (s, b) = sec.put(&path, corrected).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["monthly_fen"].as_i64(),
            b["bills_updated"].as_i64(),
            b["bills_kept"].as_i64()
        ),
        (Some(3500), Some(11), Some(1)),
        "{b}"
    );
    assert_eq!(crate::helpers::audit_count(&app.store).await, before + 1);
    let (_, d) = sec.get(&format!("/api/v1/members/{a1}/dues?year=2026")).await;
    assert_eq!(
        (
            d["months"][0]["amount_fen"].as_i64(),
            d["months"][0]["status"].as_str()
        ),
        (Some(1400), Some("paid"))
    );
    assert_eq!(d["months"][1]["amount_fen"], 3500, "{d}");
    assert_eq!(d["owed_fen"], 11 * 3500);

    // a payroll file does not change the year's base once bills were issued
    let file = sheet(&[&[Text("张三"), Text(&id_number("1980-05-06", 11)), Text("5000")]]);
    let (s, b) = upload(&sec, app.tree.branch_a, "year=2026", &file).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_rows_invalid");
    let row = &b["error"]["rows"][0];
    assert_eq!(
        (row["row"].as_i64(), row["column"].as_str()),
        (Some(2), Some("计算基数（元）")),
        "{b}"
    );
    assert!(
        row["message"]
            .as_str()
            .unwrap_or_default()
            .contains("年内不随表格更改"),
        "{b}"
    );
}

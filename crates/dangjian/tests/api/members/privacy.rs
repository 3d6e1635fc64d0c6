//! Personal data a grant does not allow stays hidden (issue 11): a masked ID number hides exactly
//! the eight birth-date digits, so no masked answer — JSON, page or export — may carry the birth
//! date beside it.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_number};

/// Every valid ID number that fits a masked one (`110105********002X`) and a birth year.
fn candidates(masked: &str, year: i32) -> Vec<String> {
    let head = &masked[..6];
    let seq = &masked[14..17];
    let check = masked.as_bytes()[17];
    let mut out = Vec::new();
    let mut d = time::Date::from_calendar_date(year, time::Month::January, 1).unwrap_or(time::Date::MIN);
    while d.year() == year {
        let birth = format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
        let first17 = format!("{head}{birth}{seq}");
        if dangjian_rules::id_number::check_char(first17.as_bytes()) == check {
            out.push(format!("{first17}{}", check as char));
        }
        d = d.next_day().unwrap_or(time::Date::MAX);
    }
    out
}

/// The audit rows of the secretary's actions on people, as the admin reads them.
async fn secs_person_rows(app: &TestApp) -> Value {
    let admin = app.login("admin").await;
    admin.get("/api/v1/audit?entity=person&actor=sec").await.1
}

#[tokio::test]
async fn masked_answers_do_not_give_the_id_number_back() {
    let app = TestApp::spawn().await;
    let full = id_number("1980-05-06", 11);
    let staff = app.login("staff").await;

    // the record and the list: masked number, the birth year only
    let (s, one) = staff.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    let (_, list) = staff
        .get(&format!("/api/v1/members?org={}&subtree=true", app.tree.branch_a))
        .await;
    let item = list["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == app.tree.a1))
        .cloned()
        .unwrap_or(Value::Null);
    for answer in [&one, &item] {
        let masked = answer["id_number"].as_str().unwrap_or_default();
        assert_eq!(masked, format!("{}********{}", &full[..6], &full[14..]));
        assert_eq!(answer["birth_date"], Value::Null, "{answer}");
        assert_eq!(answer["birth_year"], 1980);
        let text = answer.to_string();
        assert!(
            !text.contains("05-06") && !text.contains("19800506"),
            "the birth date is nowhere in the answer: {text}"
        );
        let fits = candidates(masked, 1980);
        assert!(fits.contains(&full));
        assert!(
            fits.len() >= 20,
            "{} valid numbers fit the mask and the year: {fits:?}",
            fits.len()
        );
    }

    // the record page
    let (s, html) = staff.page(&format!("/members/{}", app.tree.a1)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("1980年"), "the year is shown");
    assert!(!html.contains("1980-05-06"), "the date is not");

    // the export of the branch: the year as text in the birth-date column
    let resp = staff
        .raw_get(&format!(
            "/api/v1/members/export?org={}&subtree=true",
            app.tree.branch_a
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
    let first = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&first).expect("sheet");
    let row = range
        .rows()
        .find(|r| r.first().is_some_and(|c| *c == Data::String("张三".into())))
        .expect("张三 exported");
    assert_eq!(row[3], Data::String("1980".into()), "{row:?}");
    assert_eq!(
        row[4].to_string(),
        format!("{}********{}", &full[..6], &full[14..])
    );

    // who may see the number sees the date
    let (_, sec_view) = app.login("sec").await.get_member(app.tree.a1).await;
    assert_eq!(sec_view["id_number"], full);
    assert_eq!(sec_view["birth_date"], "1980-05-06");
}

#[tokio::test]
async fn an_id_number_on_record_elsewhere_is_refused_without_saying_where_and_the_try_is_audited() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    // 王五 of branch B, outside the secretary's subtree
    let other = id_number("1985-09-10", 33);
    let (s, b) = sec
        .post(
            "/api/v1/members",
            serde_json::json!({"org_id": app.tree.branch_a, "name": "试探", "id_number": other,
                               "status": "formal", "joined_on": "2010-07-01", "regularized_on": "2011-07-01"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "id_number_duplicate");
    let text = b.to_string();
    assert!(
        !text.contains("王五") && !text.contains("第二党支部"),
        "nothing says where: {text}"
    );
    let rows = secs_person_rows(&app).await;
    let probe = rows["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["action"] == "id_number_on_record"))
        .cloned()
        .unwrap_or(Value::Null);
    let after = probe["after_json"].as_str().unwrap_or_default();
    assert!(
        after.contains(&format!("{}********{}", &other[..6], &other[14..])) && !after.contains(&other),
        "the try is on record, with the number masked: {rows}"
    );
}

#[tokio::test]
async fn a_dry_run_import_with_a_number_on_record_elsewhere_is_audited_too() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let other = id_number("1985-09-10", 33);
    let file = crate::members::roster::xlsx(
        &crate::members::roster::HEADERS,
        &[crate::members::roster::person("试探", &other)],
    );
    let (s, b) = crate::members::roster::upload(&sec, app.tree.branch_a, &file, true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    // the one bad row: its ID number, on record elsewhere (the message, not an echo of the file)
    assert_eq!(b["error"]["code"], "import_rows_invalid", "{b}");
    assert_eq!(
        (&b["error"]["rows"][0]["row"], &b["error"]["rows"][0]["column"]),
        (&json!(2), &json!("身份证号")),
        "{b}"
    );
    assert!(
        b["error"]["rows"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("已存在党员档案")),
        "{b}"
    );
    let rows = secs_person_rows(&app).await;
    assert!(
        rows["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["action"] == "id_number_on_record"
                && r["after_json"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("import_check")),
        "{rows}"
    );
}

/// The `read_full` rows of the audit trail by `actor`: (via, entity_id, count, person_ids).
async fn full_reads(app: &TestApp, actor: &str) -> Vec<(String, Value, i64, Value)> {
    let admin = app.login("admin").await;
    let (_, rows) = admin
        .get(&format!("/api/v1/audit?entity=person&actor={actor}&limit=200"))
        .await;
    rows["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["action"] == "read_full")
        .map(|r| {
            let after: Value =
                serde_json::from_str(r["after_json"].as_str().unwrap_or("null")).unwrap_or_default();
            (
                after["via"].as_str().unwrap_or_default().to_owned(),
                r["entity_id"].clone(),
                after["count"].as_i64().unwrap_or_default(),
                after["person_ids"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn who_was_shown_full_records_is_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let t = &app.tree;
    let sec = app.login("sec").await;
    // the record: by the API and on the page
    let (s, one) = sec.get(&format!("/api/v1/members/{}", t.a1)).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(
        one["id_number"],
        id_number("1980-05-06", 11),
        "the secretary sees it in full"
    );
    let (s, _) = sec.page(&format!("/members/{}", t.a1)).await;
    assert_eq!(s, 200);
    // the list and the export: one row each, naming every full record shown
    let (_, list) = sec
        .get(&format!("/api/v1/members?org={}&subtree=true", t.branch_a))
        .await;
    let listed = list["items"].as_array().map(Vec::len).unwrap_or_default() as i64;
    assert!(listed >= 2, "{list}");
    let resp = sec
        .raw_get(&format!("/api/v1/members/export?org={}&subtree=true", t.branch_a))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut rows = full_reads(&app, "sec").await;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let vias: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(vias, ["api", "api_list", "export", "page"], "{rows:?}");
    for (via, entity, count, ids) in &rows {
        match via.as_str() {
            "api" | "page" => {
                assert_eq!(
                    (entity.as_str(), *count),
                    (Some(t.a1.to_string().as_str()), 1),
                    "{via}"
                );
            }
            _ => {
                assert_eq!(*count, listed, "{via}");
                assert!(
                    ids.as_array().is_some_and(|a| a.contains(&json!(t.a2))),
                    "{via}: {ids}"
                );
            }
        }
    }
    // masked answers (meeting staff) and one's own record leave none
    let staff = app.login("staff").await;
    let (s, _) = staff.get(&format!("/api/v1/members/{}", t.a1)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(full_reads(&app, "staff").await.is_empty());
    let mem = app.login("mem").await;
    let (s, own) = mem.get(&format!("/api/v1/members/{}", t.a1)).await;
    assert_eq!(
        (s, own["id_number"].as_str()),
        (StatusCode::OK, Some(id_number("1980-05-06", 11).as_str()))
    );
    assert!(full_reads(&app, "mem").await.is_empty());
}

#[tokio::test]
async fn a_deployment_may_turn_the_audit_of_full_reads_off() {
    let settings = dangjian_store::Settings {
        audit_full_reads: false,
        ..dangjian_store::Settings::default()
    };
    let app = TestApp::spawn_with_settings(
        dangjian_web::WebConfig::default(),
        crate::helpers::test_start(),
        settings,
    )
    .await;
    let sec = app.login("sec").await;
    let (s, _) = sec.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(full_reads(&app, "sec").await.is_empty());
}

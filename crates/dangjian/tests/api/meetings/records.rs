//! Meeting records (issue 5 "After the meeting"): minutes and attachments editable until close,
//! amendments after close (minutes, one person's attendance) with reasons and audit rows, the
//! expected list frozen at close, the detailed attendance, the Excel lists, the yearly ledger
//! list and a member's attendance history.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use super::meeting;
use crate::helpers::{Client, TestApp, audit_count, entry, ints, post_form, refused, refused_on};

/// 10:00 on 2026-05-20 (+08:00), the day of `plan`'s meeting: tests that use it start there.
pub(crate) const MEETING_DAY: time::OffsetDateTime = datetime!(2026-05-20 02:00 UTC);

/// A meeting of `org` on 2026-05-20 09:00–11:00 +08:00 (the clock is set to 10:00 that day; the
/// app must have been spawned at `MEETING_DAY`, so sessions stay valid).
pub(crate) async fn plan(app: &TestApp, c: &Client, org: i64) -> i64 {
    app.clock.set(MEETING_DAY);
    meeting(org)
        .title("五月支部党员大会")
        .between("2026-05-20T09:00:00+08:00", "2026-05-20T11:00:00+08:00")
        .plan(app, c)
        .await
        .id
}

/// Uploads one attachment.
async fn upload(c: &Client, id: i64, name: &str, data: Vec<u8>) -> (StatusCode, Value) {
    c.multipart_file(
        &format!("/api/v1/meetings/{id}/attachments"),
        &[],
        name,
        "application/octet-stream",
        &data,
    )
    .await
}

async fn put_minutes(c: &Client, id: i64, body: Value) -> (StatusCode, Value) {
    c.put(&format!("/api/v1/meetings/{id}/minutes"), body).await
}

fn person(a: &Value, id: i64) -> &Value {
    entry(a, "people", "person_id", id)
}

#[tokio::test]
async fn minutes_and_attachments_are_editable_until_close_then_amended_with_a_reason() {
    let app = TestApp::spawn_at(MEETING_DAY).await;
    let sec = app.login("sec").await;
    let id = plan(&app, &sec, app.tree.branch_a).await;

    // before close: written directly; empty decision items are dropped
    let (s, m) = put_minutes(
        &sec,
        id,
        json!({"minutes": "会议由张书记主持。", "decisions": [" 同意接收李四为预备党员 ", "", "通过三季度工作计划"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(
        m["decisions"],
        json!(["同意接收李四为预备党员", "通过三季度工作计划"])
    );
    let (s, b) = put_minutes(&sec, id, json!({"minutes": "", "decisions": vec!["长"; 51]})).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "decisions_too_many",
        "decisions",
    );
    // an amendment is for closed meetings only
    let (s, b) = sec
        .amend_meeting(id, json!({"target": "minutes", "minutes": "x", "reason": "笔误"}))
        .await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_not_closed");

    // attachments: typed by content, not by name
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let (s, a) = upload(&sec, id, "会议纪要.pdf", pdf.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["content_type"].as_str(), a["file_name"].as_str()),
        (Some("application/pdf"), Some("会议纪要.pdf"))
    );
    let (s, b) = upload(&sec, id, "not-really.pdf", b"MZ\x90\x00\x03\x00\x00\x00".to_vec()).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "attachment_type_unsupported",
        "file",
    );
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'0');
    let (s, b) = upload(&sec, id, "big.pdf", big).await;
    refused(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let (s, b) = upload(&sec, id, "签到说明.txt", "第一排为主席台。\n".as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let resp = sec.raw_get(a["url"].as_str().unwrap_or_default()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert_eq!(resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(), pdf);
    // branch B's secretary sees none of it; a member of the branch may not read the records
    let secb = app.login("secb").await;
    let (s, _) = secb.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let mem = app.login("mem").await;
    for path in [
        format!("/api/v1/meetings/{id}/minutes"),
        format!("/api/v1/meetings/{id}/attachments"),
        format!("/api/v1/meetings/{id}/attendance.xlsx"),
    ] {
        let (s, _) = mem.get(&path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }

    // after close: read-only
    let (s, b) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = put_minutes(&sec, id, json!({"minutes": "改过的记录"})).await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_records_closed");
    let (s, b) = upload(&sec, id, "late.pdf", b"%PDF-1.4\n".to_vec()).await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_records_closed");
    let (s, b) = sec
        .delete(&format!("/api/v1/meetings/{id}/attachments/{}", a["id"]))
        .await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_records_closed");
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(m["editable"], false);
    assert_eq!(m["attachments"].as_array().map(Vec::len), Some(2));

    // amendments: a reason is required; meeting staff may not amend
    let amend =
        json!({"target": "minutes", "minutes": "会议由张三主持。", "decisions": ["同意接收李四为预备党员"]});
    let (s, b) = sec.amend_meeting(id, amend.clone()).await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_required",
        "reason",
    );
    let staff = app.login("staff").await;
    let mut with_reason = amend.clone();
    with_reason["reason"] = json!("主持人姓名记错；第二项决议未经表决，删去");
    let (s, _) = staff.amend_meeting(id, with_reason.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let audits = audit_count(&app.store).await;
    let (s, b) = sec.amend_meeting(id, with_reason).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["before"]["minutes"], "会议由张书记主持。");
    assert_eq!(b["after"]["decisions"], json!(["同意接收李四为预备党员"]));
    assert_eq!(
        audit_count(&app.store).await,
        audits + 1,
        "one audit row per amendment"
    );
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(m["minutes"], "会议由张三主持。");
    let (_, list) = sec.get(&format!("/api/v1/meetings/{id}/amendments")).await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        list["items"][0]["reason"],
        "主持人姓名记错；第二项决议未经表决，删去"
    );

    // a cancelled meeting was not held: nothing to amend
    let other = plan(&app, &sec, app.tree.branch_a).await;
    let (s, _) = sec.cancel_meeting(other, "改期另行通知").await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = sec
        .amend_meeting(
            other,
            json!({"target": "minutes", "minutes": "x", "reason": "补记"}),
        )
        .await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_cancelled");
}

#[tokio::test]
async fn attendance_amendments_the_frozen_expected_list_exports_and_history() {
    let app = TestApp::spawn_at(MEETING_DAY).await;
    let sec = app.login("sec").await;
    let t = app.tree;
    let id = plan(&app, &sec, t.branch_a).await;
    let (s, b) = sec
        .on_meeting(id, "checkins", json!({"event_id": "r-1", "person_id": t.a1, "method": "card", "at": "2026-05-20T09:12:00+08:00"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // not closed yet: amendments are refused
    let (s, b) = sec
        .amend_meeting(
            id,
            json!({"target": "attendance", "person_id": t.a2, "state": "leave", "reason": "病假"}),
        )
        .await;
    refused(s, &b, StatusCode::CONFLICT, "meeting_not_closed");
    let (s, _) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK);

    // a2 moves to branch B after the meeting: the closed meeting keeps its 应到
    dangjian_store::with_db!(&app.store.db, p => sqlx::query(
        "UPDATE person SET org_id = $1, org_path = (SELECT path FROM org WHERE id = $1) WHERE id = $2")
        .bind(t.branch_b).bind(t.a2).execute(p).await.map(|_| ()))
    .unwrap_or_else(|e| panic!("move: {e}"));
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        ints(&a, ["expected", "present", "absent"]),
        [Some(2), Some(1), Some(1)],
        "{a}"
    );
    assert_eq!(person(&a, t.a1)["late"], true);
    let other = plan(&app, &sec, t.branch_a).await;
    let (_, a_open) = sec.get(&format!("/api/v1/meetings/{other}/attendance")).await;
    assert_eq!(a_open["expected"], 1, "an open meeting follows the tree as it is");

    // absent → leave, with a reason
    let amend = json!({"target": "attendance", "person_id": t.a2, "state": "leave", "reason": "会前已向书记口头请假（病假）"});
    let (s, b) = sec.amend_meeting(id, amend.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["before"]["state"].as_str(), b["after"]["state"].as_str()),
        (Some("absent"), Some("leave"))
    );
    let (s, b) = sec.amend_meeting(id, amend).await;
    refused(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amendment_changes_nothing",
    );
    let amend_attendance = async |person: i64, state: &str| {
        let body = json!({"target": "attendance", "person_id": person, "state": state, "reason": "x"});
        sec.amend_meeting(id, body).await
    };
    let (s, b) = amend_attendance(t.b1, "present").await;
    refused_on(
        s,
        &b,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_expected",
        "person_id",
    );
    let (s, b) = amend_attendance(t.a2, "asleep").await;
    refused_on(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "value_unknown", "state");

    // the sheet shows the amended state; the counts still add up
    let (_, a) = sec.get(&format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        ints(&a, ["expected", "leave", "absent"]),
        [Some(2), Some(1), Some(0)],
        "{a}"
    );
    assert_eq!(person(&a, t.a2)["state"], "leave");
    let (s, d) = sec.get(&format!("/api/v1/meetings/{id}/attendance/detail")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(
        person(&d, t.a2)["amended"]["reason"],
        "会前已向书记口头请假（病假）"
    );
    assert_eq!(person(&d, t.a1)["amended"], Value::Null);
    assert_eq!(person(&d, t.a1)["method"], "card");
    assert_eq!(person(&d, t.a1)["checked_in_at"], "2026-05-20T09:12:00+08:00");

    // the Excel lists
    let resp = sec
        .raw_get(&format!("/api/v1/meetings/{id}/attendance.xlsx"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("read xlsx: {e}"));
    assert_eq!(
        book.sheet_names(),
        ["汇总", "应到", "请假", "已签", "未签", "迟到", "早退"]
    );
    let names = |book: &mut Xlsx<Cursor<Vec<u8>>>, sheet: &str| -> Vec<String> {
        let range = book
            .worksheet_range(sheet)
            .unwrap_or_else(|e| panic!("{sheet}: {e}"));
        range
            .rows()
            .skip(1)
            .map(|r| match r.get(1) {
                Some(Data::String(s)) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(names(&mut book, "应到"), ["张三", "李四"]);
    assert_eq!(names(&mut book, "请假"), ["李四"]);
    assert_eq!(names(&mut book, "已签"), ["张三"]);
    assert_eq!(names(&mut book, "迟到"), ["张三"]);
    assert!(names(&mut book, "未签").is_empty());
    let summary = book.worksheet_range("汇总").unwrap_or_else(|e| panic!("{e}"));
    let value = |k: &str| {
        summary
            .rows()
            .find(|r| r.first() == Some(&Data::String(k.into())))
            .and_then(|r| r.get(1).cloned())
    };
    assert_eq!(value("应到"), Some(Data::String("2".into())));
    assert_eq!(value("会议地点"), Some(Data::String("三楼会议室".into())));
    assert!(
        value("决议事项").is_some(),
        "the ledger entry's fields are in the summary"
    );
    let leave = book.worksheet_range("请假").unwrap_or_else(|e| panic!("{e}"));
    let remark = leave.get_value((1, 8)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        remark,
        Data::String("会后更正：会前已向书记口头请假（病假）".into())
    );

    // the yearly ledger list and the member's history
    let (s, l) = sec
        .get(&format!("/api/v1/orgs/{}/ledger?year=2026", t.branch_a))
        .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(l["total"], 2);
    assert_eq!(l["items"][0]["counts"]["leave"], 1);
    let resp = sec
        .raw_get(&format!("/api/v1/orgs/{}/ledger.xlsx?year=2026", t.branch_a))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let mut reg: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("read xlsx: {e}"));
    let range = reg
        .worksheet_range("2026年会议台账")
        .unwrap_or_else(|e| panic!("register sheet: {e}"));
    // title row, header row, two meetings; the first: 应到 2, 实到 1, 请假 1
    assert_eq!(range.height(), 4);
    assert_eq!(
        range.get_value((2, 3)),
        Some(&Data::String("五月支部党员大会".into()))
    );
    let n = |c: u32| range.get_value((2, c)).cloned();
    assert_eq!(
        (n(7), n(8), n(9)),
        (
            Some(Data::Float(2.0)),
            Some(Data::Float(1.0)),
            Some(Data::Float(1.0))
        )
    );
    let (s, h) = sec.get(&format!("/api/v1/members/{}/attendance", t.a1)).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let first = entry(&h, "items", "meeting_id", id);
    assert_eq!(
        (first["state"].as_str(), first["late"].as_bool()),
        (Some("present"), Some(true))
    );
    let admin = app.login("admin").await;
    let (_, h2) = admin.get(&format!("/api/v1/members/{}/attendance", t.a2)).await;
    let mine = entry(&h2, "items", "meeting_id", id);
    assert_eq!(
        (mine["state"].as_str(), mine["amended"].as_bool()),
        (Some("leave"), Some(true)),
        "{h2}"
    );
}

#[tokio::test]
async fn the_record_pages_render_what_happened() {
    let app = TestApp::spawn_at(MEETING_DAY).await;
    let t = app.tree;
    let sec = app.login("sec").await;
    let id = plan(&app, &sec, t.branch_a).await;
    let (s, _) = sec
        .on_meeting(
            id,
            "checkins",
            json!({"event_id": "p-1", "person_id": t.a1, "method": "qr", "at": "2026-05-20T08:58:00+08:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = put_minutes(
        &sec,
        id,
        json!({"minutes": "学习了支部工作条例。", "decisions": ["下月开展主题党日"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    let (s, html) = sec.page(&format!("/meetings/{id}/ledger")).await;
    assert_eq!(s, StatusCode::OK);
    for text in [
        "会议记录",
        "五月支部党员大会",
        "三楼会议室",
        "学习了支部工作条例。",
        "下月开展主题党日",
        "张三",
        "李四",
    ] {
        assert!(html.contains(text), "ledger lacks {text}");
    }
    let (s, html) = sec.page(&format!("/meetings/{id}/signin-sheet")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("08:58") && html.contains("扫码"),
        "sign-in sheet: time and method"
    );
    let (s, html) = sec.page(&format!("/orgs/{}/ledger?year=2026", t.branch_a)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("五月支部党员大会"));
    let (s, html) = sec
        .page(&format!("/orgs/{}/cadence?date=2026-05-20", t.branch_a))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("三会一课完成情况") && html.contains("主题党日"));
    // the org page's 三会一课 section fills itself from the cadence API
    let (s, html) = sec.page(&format!("/orgs/{}", t.branch_a)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("data-cadence=\"/api/v1/orgs/{}/cadence\"", t.branch_a)));
    let (s, js) = sec.page("/assets/records.js").await;
    assert_eq!(s, StatusCode::OK);
    assert!(js.contains("data-cadence"));
    let (s, html) = sec.page(&format!("/meetings/{id}/seats")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("三楼会议室"));

    // the minutes page: written by form until close, then amended with a reason
    let (s, html) = sec.page(&format!("/meetings/{id}/minutes")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("学习了支部工作条例。"));
    let minutes_form = format!("/meetings/{id}/minutes");
    let (s, loc, _) = post_form(
        &sec,
        &minutes_form,
        &[
            ("action", "save"),
            ("minutes", "学习了支部工作条例第十五条。"),
            ("decisions", "下月开展主题党日\n\n推荐一名入党积极分子"),
        ],
    )
    .await;
    assert_eq!(
        (s, loc.as_str()),
        (303, format!("/meetings/{id}/minutes").as_str())
    );
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(
        m["decisions"],
        json!(["下月开展主题党日", "推荐一名入党积极分子"])
    );
    let (s, _) = sec.close_meeting(id).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, body) = post_form(&sec, &minutes_form, &[("action", "save"), ("minutes", "x")]).await;
    assert_eq!(s, 409);
    assert!(body.contains("会后更正"), "the refusal says how to correct");
    let a2 = t.a2.to_string();
    let amend = async |reason: &str| {
        let fields = [
            ("action", "amend_attendance"),
            ("person_id", a2.as_str()),
            ("state", "leave"),
            ("reason", reason),
        ];
        post_form(&sec, &minutes_form, &fields).await
    };
    let (s, _, body) = amend("").await;
    assert_eq!(s, 422);
    assert!(body.contains("原因"), "names the missing reason");
    let (s, _, _) = amend("出差，会前已请假").await;
    assert_eq!(s, 303);
    let (_, html) = sec.page(&format!("/meetings/{id}/signin-sheet")).await;
    assert!(html.contains("会后更正：出差，会前已请假") && html.contains("已更正"));
    let (s, html) = sec.page(&format!("/members/{}/attendance", t.a2)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("五月支部党员大会") && html.contains("请假") && html.contains("已更正"));

    // another branch's secretary: not found
    let secb = app.login("secb").await;
    for path in [
        format!("/meetings/{id}/ledger"),
        format!("/meetings/{id}/signin-sheet"),
        format!("/orgs/{}/ledger", t.branch_a),
    ] {
        let (s, _) = secb.page(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
}

/// The page's upload form is a multipart form: its CSRF token is checked before anything is
/// stored, and an upload with too many fields is refused whole.
#[tokio::test]
async fn the_attachment_form_on_the_page_needs_the_sessions_token() {
    let app = TestApp::spawn_at(MEETING_DAY).await;
    let sec = app.login("sec").await;
    let id = plan(&app, &sec, app.tree.branch_a).await;
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let path = format!("/meetings/{id}/attachments");
    let csrf = sec.csrf.clone().unwrap_or_default();
    for fields in [vec![], vec![("csrf_token", "not-the-token")]] {
        let (s, _) = sec
            .multipart_file(&path, &fields, "议程.pdf", "application/pdf", &pdf)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{fields:?}");
    }
    let many: Vec<(String, String)> = (0..40).map(|i| (format!("f{i}"), "x".to_owned())).collect();
    let mut fields: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.push(("csrf_token", &csrf));
    let (s, _) = sec
        .multipart_file(&path, &fields, "议程.pdf", "application/pdf", &pdf)
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(m["attachments"], json!([]), "nothing stored by the refused forms");
    let (s, _) = sec
        .multipart_file(
            &path,
            &[("csrf_token", &csrf)],
            "议程.pdf",
            "application/pdf",
            &pdf,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, m) = sec.get(&format!("/api/v1/meetings/{id}/minutes")).await;
    assert_eq!(m["attachments"][0]["file_name"], "议程.pdf", "{m}");
}

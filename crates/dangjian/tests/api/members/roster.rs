//! The Excel roster: import (all or nothing, every bad row listed), export, the template.
//! Files are built here with rust_xlsxwriter and read back with calamine.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed step should stop the test at once"
)]

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use dangjian_rules::id_number::check_char;
use reqwest::StatusCode;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Value, json};

use crate::helpers::{Client, FIXED_NOW, TestApp, audit_count, code, id_number, refused};

pub(crate) const HEADERS: [&str; 12] = [
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "身份证号",
    "手机号",
    "学历",
    "人员类别",
    "党员状态",
    "入党日期",
    "转正日期",
    "工作单位及职务",
];

/// A cell of a test file.
#[derive(Clone, Debug)]
pub(crate) enum V {
    T(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn t(s: &str) -> V {
    V::T(s.to_owned())
}

/// An .xlsx with `header` in row 1 and `rows` below (row 2 on).
pub(crate) fn xlsx(header: &[&str], rows: &[Vec<V>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                V::T(s) => {
                    sheet.write_string(r, c, s).unwrap();
                }
                V::N(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                V::D(y, m, d) => {
                    sheet
                        .write_date_with_format(r, c, ExcelDateTime::from_ymd(*y, *m, *d).unwrap(), &date)
                        .unwrap();
                }
                V::E => {}
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// A valid person row: name, the ID number (its birth date and gender follow from it).
pub(crate) fn person(name: &str, id: &str) -> Vec<V> {
    let male = (id.as_bytes()[16] - b'0') % 2 == 1;
    vec![
        t(name),
        t(if male { "男" } else { "女" }),
        t("汉族"),
        V::E,
        t(id),
        t("13912345678"),
        t("大学本科"),
        V::E,
        t("正式党员"),
        V::D(2015, 7, 1),
        V::D(2016, 7, 1),
        t("测试单位 科员"),
    ]
}

/// An ID number for a birth date whose check character is X.
fn id_with_x(birth: &str) -> String {
    (0..1000)
        .map(|seq| format!("110105{}{seq:03}", birth.replace('-', "")))
        .find(|first17| check_char(first17.as_bytes()) == b'X')
        .map(|first17| format!("{first17}X"))
        .unwrap()
}

/// The roster import (`org` and `file`), as a dry run or for real.
pub(crate) async fn upload(c: &Client, org: i64, file: &[u8], dry_run: bool) -> (StatusCode, Value) {
    let path = if dry_run {
        "/api/v1/members/import?dry_run=true"
    } else {
        "/api/v1/members/import"
    };
    c.multipart(path, &[("org", &org.to_string())], "roster.xlsx", file)
        .await
}

/// A binary download: status, Content-Disposition, bytes.
async fn download(c: &Client, path: &str) -> (StatusCode, String, Vec<u8>) {
    let resp = c.raw_get(path).await;
    let status = resp.status();
    let disposition = resp
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, disposition, resp.bytes().await.unwrap().to_vec())
}

/// The first sheet of an .xlsx as text cells (dates as YYYY-MM-DD, numbers marked `#`).
fn read_sheet(bytes: &[u8], index: usize) -> (String, Vec<Vec<String>>) {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[index].clone();
    let range = book.worksheet_range(&name).unwrap();
    let rows = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::DateTime(d) => {
                        let (y, m, d, ..) = d.to_ymd_hms_milli();
                        format!("{y:04}-{m:02}-{d:02}")
                    }
                    Data::Empty => String::new(),
                    other => format!("#{other}"),
                })
                .collect()
        })
        .collect();
    (name, rows)
}

/// People recorded in `org`'s subtree, read from the database (a listing by the API would leave
/// an audit row of its own: the admin sees full records).
async fn members_total(app: &TestApp, org: i64) -> i64 {
    let path = app
        .store
        .orgs()
        .org(&dangjian_store::Scope::system(), org)
        .await
        .unwrap()
        .path;
    dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM person WHERE org_path LIKE $1 || '%'").bind(&path).fetch_one(p).await)
    .unwrap()
}

async fn new_branch(app: &TestApp, name: &str) -> i64 {
    let admin = app.login("admin").await;
    crate::orgs::org(app.tree.root)
        .named(name)
        .confirmed()
        .create(&admin)
        .await
}

/// (row, column) of each listed error.
fn rows_of(body: &Value) -> Vec<(u64, String)> {
    body["error"]["rows"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn message_of(body: &Value, row: u64) -> String {
    body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["row"] == row)
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn a_good_file_is_imported_in_one_transaction_with_one_audit_row() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let sec = app.login("sec").await;
    let id1 = id_number("1985-03-04", 101);
    let id2 = id_number("1992-12-30", 202);
    let id3 = id_with_x("1970-01-15");
    let mut r1 = person("赵一", &id1);
    r1[3] = V::D(1985, 3, 4);
    r1[10] = t("2016/07/01");
    let mut r2 = person("钱二", &id2);
    r2[5] = V::N(13_900_000_002.0); // an 11-digit mobile survives a number cell
    r2[7] = t("学生");
    r2[8] = t("预备党员");
    r2[9] = t("2025.06.30");
    r2[10] = V::E;
    let mut r3 = person("孙三", &id3.to_lowercase());
    r3[3] = t("1970-01-15");
    r3[7] = t("离退休");
    r3[9] = t("1995-7-1");
    r3[10] = t("1996-07-01");
    let file = xlsx(&HEADERS, &[r1, vec![], r2, r3]);
    let before = members_total(&app, app.tree.branch_a).await;
    let audit_before = audit_count(&app.store).await;
    let (s, b) = upload(&sec, app.tree.branch_a, &file, false).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b, json!({"imported": 3}));
    assert_eq!(members_total(&app, app.tree.branch_a).await, before + 3);
    assert_eq!(
        audit_count(&app.store).await,
        audit_before + 1,
        "one audit row for the batch"
    );
    let (_, audit) = sec.get("/api/v1/audit?entity=person").await;
    let row = &audit["items"][0];
    assert_eq!(row["action"], "import");
    let after: Value = serde_json::from_str(row["after_json"].as_str().unwrap()).unwrap();
    assert_eq!(after["count"], 3);
    assert_eq!(after["digest"].as_str().unwrap().len(), 64);
    assert!(
        !row["after_json"].as_str().unwrap().contains(&id1),
        "no clear ID numbers in the audit"
    );

    let (_, found) = sec.get(&format!("/api/v1/members?q={id2}")).await;
    let m = &found["items"][0];
    assert_eq!(m["name"], "钱二");
    assert_eq!(m["gender"], "female");
    assert_eq!(m["birth_date"], "1992-12-30", "taken from the ID number");
    assert_eq!(m["phone"], "13900000002");
    assert_eq!(m["category"], "student");
    assert_eq!(m["status"], "probationary");
    assert_eq!(m["joined_on"], "2025-06-30");
    assert_eq!(m["regularized_on"], Value::Null);
    let (_, found) = sec.get(&format!("/api/v1/members?q={id3}")).await;
    let m = &found["items"][0];
    assert_eq!(m["id_number"], id3, "a lower-case x is stored upper-case");
    assert_eq!(m["category"], "retired");
    assert_eq!(m["joined_on"], "1995-07-01");
    assert_eq!(m["regularized_on"], "1996-07-01");
    let (_, found) = sec.get(&format!("/api/v1/members?q={id1}")).await;
    let m = &found["items"][0];
    assert_eq!(m["category"], "in_service", "a blank category is in service");
    assert_eq!(m["regularized_on"], "2016-07-01");
    assert_eq!(m["org_id"], app.tree.branch_a);
    let (_, events) = sec.get(&format!("/api/v1/members/{}/events", m["id"])).await;
    assert_eq!(events["items"][0]["kind"], "register");
    assert_eq!(events["items"][0]["status_after"], "formal");
    let (_, org) = sec.get(&format!("/api/v1/orgs/{}", app.tree.branch_a)).await;
    assert_eq!(
        org["member_count"], 5,
        "2 before, 3 imported: counts move with the import"
    );
    assert_eq!(org["formal_count"], 3);
}

#[tokio::test]
async fn every_bad_row_is_listed_and_nothing_is_stored() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let good = id_number("1985-03-04", 101);
    let mut bad_check = id_number("1986-04-05", 103);
    let last = if bad_check.ends_with('1') { "2" } else { "1" };
    bad_check.replace_range(17..18, last);
    let numeric = id_number("1987-05-06", 105);
    let mut r4 = person("数字", &numeric);
    r4[4] = V::N(numeric[..17].parse::<f64>().unwrap() * 10.0);
    let mut r5 = person("生日", &id_number("1990-01-01", 107));
    r5[3] = V::D(1990, 1, 2);
    let mut r6 = person("积极", &id_number("1991-02-03", 109));
    r6[8] = t("入党积极分子");
    let mut r7 = person("缺日", &id_number("1992-03-04", 111));
    r7[9] = V::E;
    let dup = id_number("1993-04-05", 113);
    let existing = id_number("1980-05-06", 11); // 张三, already a member
    let mut r12 = person("性别", &id_number("1994-05-06", 115));
    r12[1] = t("女");
    let mut r13 = person("电话", &id_number("1995-06-07", 117));
    r13[5] = t("1.39123E+10");
    let file = xlsx(
        &HEADERS,
        &[
            person("好人", &good),
            person("校验", &bad_check),
            r4,
            r5,
            r6,
            r7,
            person("重一", &dup),
            vec![V::E, t("  ")],
            person("重二", &dup),
            person("已有", &existing),
            r12,
            r13,
        ],
    );
    let before = members_total(&app, app.tree.root).await;
    let audit_before = audit_count(&app.store).await;
    for dry_run in [false, true] {
        let (s, b) = upload(&sec, app.tree.branch_a, &file, dry_run).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(code(&b), "import_rows_invalid");
        assert_eq!(b["error"]["field"], Value::Null);
        assert!(b["error"]["message"].as_str().unwrap().contains("未导入"), "{b}");
        let want: Vec<(u64, String)> = [
            (3, "身份证号"),
            (4, "身份证号"),
            (5, "出生日期"),
            (6, "党员状态"),
            (7, "入党日期"),
            (8, "身份证号"),
            (10, "身份证号"),
            (11, "身份证号"),
            (12, "性别"),
            (13, "手机号"),
        ]
        .iter()
        .map(|(r, c)| (*r, (*c).to_owned()))
        .collect();
        assert_eq!(rows_of(&b), want, "{b}");
        assert!(message_of(&b, 3).contains("校验码"), "{b}");
        assert!(message_of(&b, 4).contains("文本"), "{b}");
        assert!(message_of(&b, 4).contains("15 位"), "{b}");
        assert!(message_of(&b, 5).contains("出生日期"), "{b}");
        let m6 = message_of(&b, 6);
        assert!(
            m6.contains("入党积极分子") && m6.contains("正式党员") && m6.contains("预备党员"),
            "{m6}"
        );
        assert!(message_of(&b, 7).contains("入党日期"), "{b}");
        assert!(message_of(&b, 8).contains("10"), "row 8 names row 10: {b}");
        assert!(message_of(&b, 10).contains('8'), "row 10 names row 8: {b}");
        assert!(message_of(&b, 11).contains("已存在"), "{b}");
        assert!(message_of(&b, 12).contains("第 17 位"), "{b}");
        assert!(message_of(&b, 13).contains("科学计数法"), "{b}");
    }
    assert_eq!(
        members_total(&app, app.tree.root).await,
        before,
        "nothing was stored"
    );
    // the one row whose number is on record elsewhere is noted (once per upload), nothing else
    let probes: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit WHERE action = 'id_number_on_record'").fetch_one(p).await)
    .unwrap_or(-1);
    assert_eq!(
        audit_count(&app.store).await - probes,
        audit_before,
        "nothing was audited but the ID-number probes"
    );
    assert!(probes >= 1, "the probe is on record");
}

#[tokio::test]
async fn a_missing_required_header_is_named_and_headers_may_come_in_any_order() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let header: Vec<&str> = HEADERS.iter().copied().filter(|h| *h != "入党日期").collect();
    let mut row = person("无列", &id_number("1985-03-04", 101));
    row.remove(9);
    let (s, b) = upload(&sec, app.tree.branch_a, &xlsx(&header, &[row]), false).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_rows_invalid");
    assert_eq!(rows_of(&b), vec![(1, "入党日期".to_owned())]);
    assert!(message_of(&b, 1).contains("入党日期"));

    // reversed columns, an extra column, a required-marker star
    let mut header: Vec<String> = HEADERS.iter().rev().map(|h| (*h).to_owned()).collect();
    header[0] = "工作单位及职务*".into();
    header.push("备注".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut row = person("倒序", &id_number("1985-03-04", 101));
    row.reverse();
    row.push(t("不读取"));
    let (s, b) = upload(&sec, app.tree.branch_a, &xlsx(&header, &[row]), false).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["imported"], 1);
}

#[tokio::test]
async fn a_file_that_is_not_an_xlsx_is_refused() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    for file in [&b"name,id\n"[..], b"", b"PK\x03\x04not really a zip"] {
        let (s, b) = upload(&sec, app.tree.branch_a, file, false).await;
        refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_not_xlsx");
        assert!(b["error"]["message"].as_str().unwrap().contains(".xlsx"));
    }
    let (s, b) = upload(&sec, app.tree.branch_a, &xlsx(&HEADERS, &[]), false).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_no_rows");
}

#[tokio::test]
async fn a_dry_run_checks_and_stores_nothing() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let file = xlsx(
        &HEADERS,
        &[
            person("甲", &id_number("1985-03-04", 101)),
            person("乙", &id_number("1985-03-04", 103)),
        ],
    );
    let before = members_total(&app, app.tree.root).await;
    let audit_before = audit_count(&app.store).await;
    let (s, b) = upload(&sec, app.tree.group_a1, &file, true).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b, json!({"valid": 2}));
    assert_eq!(members_total(&app, app.tree.root).await, before);
    assert_eq!(audit_count(&app.store).await, audit_before);
    let (s, b) = upload(&sec, app.tree.group_a1, &file, false).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"imported": 2})), "into a 党小组");
}

#[tokio::test]
async fn imports_need_the_write_grant_and_an_org_in_the_subtree_that_holds_members() {
    let app = TestApp::spawn().await;
    let file = xlsx(&HEADERS, &[person("甲", &id_number("1985-03-04", 101))]);
    let sec = app.login("sec").await;
    let (s, b) = upload(&sec, app.tree.branch_b, &file, false).await;
    refused(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, _) = upload(&sec, 999_999, &file, false).await;
    assert_eq!(s, 404);
    let (s, _) = upload(&app.login("staff").await, app.tree.branch_a, &file, false).await;
    assert_eq!(s, 403, "staff may read members, not write them");
    let (s, b) = upload(&app.login("admin").await, app.tree.general, &file, false).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "org_holds_no_members");
    assert_eq!(b["error"]["field"], "org");
    let (s, _) = upload(&app.client(), app.tree.branch_a, &file, false).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn the_export_holds_the_records_as_the_caller_may_see_them() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, disposition, bytes) = download(
        &sec,
        &format!("/api/v1/members/export?org={}&subtree=true", app.tree.branch_a),
    )
    .await;
    assert_eq!(s, 200);
    // 第一党支部, percent-encoded
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''%E7%AC%AC%E4%B8%80%E5%85%9A%E6%94%AF%E9%83%A8"),
        "{disposition}"
    );
    let (name, rows) = read_sheet(&bytes, 0);
    assert_eq!(name, "党员名册");
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows.len(), 3, "张三 and 李四 (in the 党小组)");
    let zhang = &rows[1];
    assert_eq!(
        zhang,
        &[
            "张三",
            "男",
            "汉族",
            "1980-05-06",
            &id_number("1980-05-06", 11),
            "13800000011",
            "大学本科",
            "在职",
            "正式党员",
            "2015-07-01",
            "2016-07-01",
            "测试单位"
        ]
    );
    assert_eq!(rows[2][0], "李四");
    assert_eq!(rows[2][8], "预备党员");
    assert_eq!(rows[2][10], "", "no 转正日期 yet");

    // without the subtree: the branch's own members only
    let (_, _, bytes) = download(&sec, &format!("/api/v1/members/export?org={}", app.tree.branch_a)).await;
    assert_eq!(read_sheet(&bytes, 0).1.len(), 2);

    // staff see masked numbers
    let staff = app.login("staff").await;
    let (s, _, bytes) = download(
        &staff,
        &format!("/api/v1/members/export?org={}&subtree=true", app.tree.branch_a),
    )
    .await;
    assert_eq!(s, 200);
    let rows = read_sheet(&bytes, 0).1;
    let id = id_number("1980-05-06", 11);
    assert_eq!(rows[1][4], format!("110105********{}", &id[14..]));
    assert_eq!(rows[1][5], "138****0011");
}

#[tokio::test]
async fn an_export_outside_the_subtree_is_not_found() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, _, body) = download(&sec, &format!("/api/v1/members/export?org={}", app.tree.branch_b)).await;
    assert_eq!(s, 404);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(code(&body), "not_found");
    let (s, _, _) = download(
        &sec,
        &format!("/api/v1/members/export?org={}&subtree=true", app.tree.root),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _, _) = download(
        &app.login("mem").await,
        &format!("/api/v1/members/export?org={}", app.tree.branch_a),
    )
    .await;
    assert_eq!(s, 404, "a member sees only their own record");
}

#[tokio::test]
async fn an_imported_file_comes_back_from_the_export_and_the_export_reimports() {
    let app = TestApp::spawn_at(FIXED_NOW).await;
    let branch = new_branch(&app, "导入测试党支部").await;
    let admin = app.login("admin").await;
    let id1 = id_number("1985-03-04", 101);
    let id2 = id_number("1992-12-30", 202);
    let mut r2 = person("钱二", &id2);
    r2[3] = V::D(1992, 12, 30);
    r2[6] = t("硕士研究生");
    r2[7] = t("学生");
    r2[8] = t("预备党员");
    r2[9] = t("2025-06-30");
    r2[10] = V::E;
    r2[11] = V::E;
    let file = xlsx(&HEADERS, &[person("赵一", &id1), r2]);
    let (s, b) = upload(&admin, branch, &file, false).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"imported": 2})));

    let (s, _, exported) = download(&admin, &format!("/api/v1/members/export?org={branch}")).await;
    assert_eq!(s, 200);
    let (_, rows) = read_sheet(&exported, 0);
    assert_eq!(rows[0], HEADERS);
    assert_eq!(
        rows[1],
        [
            "赵一",
            "男",
            "汉族",
            "1985-03-04",
            id1.as_str(),
            "13912345678",
            "大学本科",
            "在职",
            "正式党员",
            "2015-07-01",
            "2016-07-01",
            "测试单位 科员"
        ]
    );
    assert_eq!(
        rows[2],
        [
            "钱二",
            "女",
            "汉族",
            "1992-12-30",
            id2.as_str(),
            "13912345678",
            "硕士研究生",
            "学生",
            "预备党员",
            "2025-06-30",
            "",
            ""
        ]
    );

    // the export is a valid import file: only the duplicates (the same people) are refused
    let (s, b) = upload(&admin, app.tree.branch_b, &exported, true).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        rows_of(&b),
        vec![(2, "身份证号".to_owned()), (3, "身份证号".to_owned())],
        "{b}"
    );
    assert!(message_of(&b, 2).contains("已存在"));
}

#[tokio::test]
async fn the_template_has_the_headers_lists_and_instructions() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, disposition, bytes) = download(&sec, "/api/v1/members/import-template").await;
    assert_eq!(s, 200);
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["党员名册", "填写说明"]);
    let (_, rows) = read_sheet(&bytes, 0);
    assert_eq!(rows, vec![HEADERS.map(str::to_owned).to_vec()]);
    let (_, help) = read_sheet(&bytes, 1);
    for h in HEADERS {
        let line = help
            .iter()
            .find(|r| r[0] == h)
            .unwrap_or_else(|| panic!("{h} is explained"));
        let required = ["姓名", "性别", "身份证号", "党员状态", "入党日期"].contains(&h);
        assert_eq!(line[1], if required { "必填" } else { "选填" }, "{h}");
        assert!(!line[2].is_empty());
    }
    let text = help.concat().concat();
    assert!(text.contains("文本") && text.contains("YYYY-MM-DD") && text.contains("全部或全不"));
    // the lists and the text format are in the sheet's XML
    let xml = sheet_xml(&bytes, "xl/worksheets/sheet1.xml");
    for list in ["\"男,女\"", "\"正式党员,预备党员\"", "在职,离退休", "大学本科"] {
        assert!(xml.contains(list), "{list}");
    }
    let styles = sheet_xml(&bytes, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"@\""));
    // the template as it comes has no people
    let (s, b) = upload(&sec, app.tree.branch_a, &bytes, false).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_no_rows");
    assert_eq!(app.client().get("/api/v1/members/import-template").await.0, 401);
}

/// One file of the xlsx package as text (the zip is read with calamine's own zip reader).
fn sheet_xml(bytes: &[u8], path: &str) -> String {
    use std::io::Read;
    let mut zip = zip_archive(bytes);
    let mut s = String::new();
    zip.by_name(path).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn zip_archive(bytes: &[u8]) -> zip::ZipArchive<Cursor<Vec<u8>>> {
    zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap()
}

#[tokio::test]
async fn a_large_file_is_imported_in_chunks_and_paged_back_in_order() {
    let app = TestApp::spawn().await;
    let branch = new_branch(&app, "大支部").await;
    let admin = app.login("admin").await;
    // more rows than one INSERT (either engine) and than one duplicate lookup holds
    let n = 620u32;
    let rows: Vec<Vec<V>> = (0..n)
        .map(|i| {
            let mut r = person(
                &format!("党员{i}"),
                &id_number(&format!("19{:02}-01-01", 50 + i / 100), i % 100 * 7),
            );
            if i % 3 == 0 {
                r[8] = t("预备党员");
                r[10] = V::E;
            }
            r
        })
        .collect();
    let audit_before = audit_count(&app.store).await;
    let (s, b) = upload(&admin, branch, &xlsx(&HEADERS, &rows), false).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"imported": n})));
    assert_eq!(audit_count(&app.store).await, audit_before + 1);
    let (_, org) = admin.get(&format!("/api/v1/orgs/{branch}")).await;
    assert_eq!(org["member_count"], n);
    assert_eq!(org["formal_count"], n - n.div_ceil(3));
    let (_, root) = admin.get(&format!("/api/v1/orgs/{}", app.tree.root)).await;
    assert_eq!(root["member_count"], n + 3, "the ancestors' counts moved once");
    let events: i64 = dangjian_store::with_db!(&app.store.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM person_event e JOIN person p ON p.id = e.person_id \
         WHERE p.org_id = $1 AND e.kind = 'register' AND e.status_after = p.status")
        .bind(branch).fetch_one(p).await)
    .unwrap();
    assert_eq!(
        events,
        i64::from(n),
        "one register event each, with the person's status"
    );

    // keyset pages walk the roster once, in id order
    let scope = dangjian_store::Scope::system();
    let filter = dangjian_store::person::PersonFilter {
        org_id: Some(branch),
        ..Default::default()
    };
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = app
            .store
            .members()
            .people_page(&scope, &filter, after, 97)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page.iter().map(|p| (p.id, p.name.clone())));
    }
    assert_eq!(seen.len(), n as usize);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(seen[0].1, "党员0");
    assert_eq!(seen[619].1, "党员619", "the file's order is the id order");

    let (_, _, bytes) = download(&admin, &format!("/api/v1/members/export?org={branch}")).await;
    let (_, exported) = read_sheet(&bytes, 0);
    assert_eq!(exported.len(), n as usize + 1);
    assert_eq!(exported[620][0], "党员619");
}

#[tokio::test]
async fn the_cli_imports_and_exports_like_the_api() {
    use clap::Parser;
    use dangjian::cli::{Cli, run};
    let db = crate::helpers::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let mut base: Vec<String> = vec!["--data".into(), data.clone()];
    if let dangjian_store::DbTarget::Postgres(url) = &db.target {
        base.extend(["--db".into(), url.clone()]);
    }
    let cli = |args: &[&str]| {
        let mut all: Vec<String> = vec!["dangjian".into(), args[0].into()];
        all.extend(base.iter().cloned());
        all.extend(args[1..].iter().map(|s| (*s).to_owned()));
        Cli::try_parse_from(all).unwrap()
    };
    run(cli(&["migrate"])).await.unwrap();
    let keys = dangjian_store::Keys::read_file(&dir.path().join("keys.json")).unwrap();
    let target = match &db.target {
        dangjian_store::DbTarget::Postgres(url) => dangjian_store::DbTarget::Postgres(url.clone()),
        _ => dangjian_store::DbTarget::SqliteFile(dir.path().join("dangjian.db")),
    };
    let store = dangjian_store::Store::open(&target, keys, std::sync::Arc::new(dangjian_store::SystemClock))
        .await
        .unwrap();
    let org = |parent: Option<i64>, name: &str, kind: dangjian_rules::OrgKind| dangjian_store::org::NewOrg {
        parent_id: parent,
        name: name.into(),
        kind,
        branch_type: (kind == dangjian_rules::OrgKind::Branch).then_some(dangjian_rules::BranchType::Regular),
        category: dangjian_rules::org::OrgCategory::Government,
        established_on: None,
        term_started_on: None,
        term_years: None,
        joint_units: None,
    };
    let (s, a) = (
        dangjian_store::Scope::system(),
        dangjian_store::Actor::system("test"),
    );
    let root = store
        .orgs()
        .create_org(&s, &a, org(None, "党委", dangjian_rules::OrgKind::Committee))
        .await
        .unwrap();
    let branch = store
        .orgs()
        .create_org(
            &s,
            &a,
            org(Some(root.id), "党支部", dangjian_rules::OrgKind::Branch),
        )
        .await
        .unwrap();
    store.db.close().await;

    let file = dir.path().join("in.xlsx");
    let id1 = id_number("1985-03-04", 101);
    std::fs::write(&file, xlsx(&HEADERS, &[person("赵一", &id1)])).unwrap();
    let f = file.to_str().unwrap();
    let b = branch.id.to_string();
    run(cli(&["import", "--org", &b, "--dry-run", f])).await.unwrap();
    run(cli(&["import", "--org", &b, f])).await.unwrap();
    let again = run(cli(&["import", "--org", &b, f])).await.unwrap_err();
    assert!(format!("{again:#}").contains("未导入"), "{again:#}");
    let r = root.id.to_string();
    let e = run(cli(&["import", "--org", &r, f])).await.unwrap_err();
    assert!(format!("{e:#}").contains("党支部或党小组"), "{e:#}");

    let out = dir.path().join("out.xlsx");
    run(cli(&["export", "--org", &r, "--subtree", out.to_str().unwrap()]))
        .await
        .unwrap();
    let (_, rows) = read_sheet(&std::fs::read(&out).unwrap(), 0);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][4], id1, "the system sees ID numbers in full");
}

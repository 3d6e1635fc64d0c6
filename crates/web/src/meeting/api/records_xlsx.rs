//! `GET /api/v1/meetings/{id}/attendance.xlsx`: the attendance lists of a meeting as one
//! workbook — 汇总 (the ledger entry: meeting, counts, agenda, minutes, decisions), then 应到, 请假, 已签, 未签, 迟到, 早退, one
//! person a row with org, check-in time and method, leave time and remarks (leave reason,
//! amendment). Times are text in the deployment's time zone, as the sign-in sheet shows them.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use dangjian_rules::meeting::{AttendanceState, CheckinMethod};
use dangjian_store::Cap;
use dangjian_store::meeting::minutes::Minutes;
use dangjian_store::meeting::records::{AttendanceDetail, DetailLine};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiPath;

const HEADERS: [&str; 9] = [
    "序号",
    "姓名",
    "所在组织",
    "出勤情况",
    "签到时间",
    "签到方式",
    "离场时间",
    "迟到",
    "备注",
];
const WIDTHS: [f64; 9] = [6.0, 10.0, 20.0, 10.0, 18.0, 10.0, 18.0, 6.0, 40.0];

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing an xlsx file: {e}"))
}

pub(crate) fn local_minute(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

pub(crate) fn method_label(m: CheckinMethod) -> String {
    m.label_zh().to_owned()
}

/// The remarks column: a leave's reason, a guest mark, an amendment and its reason.
pub(crate) fn remarks(l: &DetailLine) -> String {
    let mut parts = Vec::new();
    if l.guest {
        parts.push("列席/特邀（不计入应到）".to_owned());
    }
    if let Some(r) = l
        .leave_reason
        .as_deref()
        .filter(|_| l.state == AttendanceState::Leave)
    {
        parts.push(format!("请假事由：{r}"));
    }
    if let Some(a) = &l.amended {
        parts.push(format!("会后更正：{}", a.reason));
    }
    parts.join("；")
}

/// The lists, by name, with who is on each.
pub(crate) fn lists(d: &AttendanceDetail) -> [(&'static str, Vec<&DetailLine>); 6] {
    let expected: Vec<&DetailLine> = d.lines.iter().filter(|l| !l.guest).collect();
    let with =
        |f: &dyn Fn(&DetailLine) -> bool| expected.iter().copied().filter(|l| f(l)).collect::<Vec<_>>();
    [
        ("应到", expected.clone()),
        ("请假", with(&|l| l.state == AttendanceState::Leave)),
        (
            "已签",
            with(&|l| matches!(l.state, AttendanceState::Present | AttendanceState::LeftEarly)),
        ),
        ("未签", with(&|l| l.state == AttendanceState::Absent)),
        ("迟到", with(&|l| l.late)),
        ("早退", with(&|l| l.state == AttendanceState::LeftEarly)),
    ]
}

fn workbook(d: &AttendanceDetail, minutes: &Minutes, offset: UtcOffset) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let m = &d.meeting;
    let summary = book.add_worksheet();
    summary.set_name("汇总")?;
    summary.set_column_width(0, 12.0)?;
    summary.set_column_width(1, 50.0)?;
    let c = d.counts;
    let kind = m.kind.label_zh().to_owned();
    let decisions: Vec<String> = minutes
        .decisions
        .iter()
        .enumerate()
        .map(|(i, x)| format!("{}. {x}", i + 1))
        .collect();
    let rows: [(&str, String); 16] = [
        ("会议名称", m.title.clone()),
        ("会议类型", kind),
        ("开始时间", local_minute(m.starts_at, offset)),
        ("结束时间", local_minute(m.ends_at, offset)),
        ("会议地点", m.venue.clone().unwrap_or_default()),
        ("主持人", m.host.clone().unwrap_or_default()),
        ("记录人", m.recorder.clone().unwrap_or_default()),
        ("应到", c.expected.to_string()),
        ("实到", (c.present + c.left_early).to_string()),
        ("请假", c.leave.to_string()),
        ("缺席", c.absent.to_string()),
        ("早退", c.left_early.to_string()),
        (
            "迟到",
            d.lines.iter().filter(|l| !l.guest && l.late).count().to_string(),
        ),
        ("议程", m.agenda.clone().unwrap_or_default()),
        ("会议记录", minutes.minutes.clone()),
        ("决议事项", decisions.join("\n")),
    ];
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = u32::try_from(i).unwrap_or(u32::MAX);
        summary.write_string_with_format(r, 0, *k, &bold)?;
        summary.write_string_with_format(r, 1, v, &wrap)?;
    }
    for (name, people) in lists(d) {
        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        for (i, h) in HEADERS.iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            sheet.set_column_width(col, WIDTHS[i])?;
            sheet.write_string_with_format(0, col, *h, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (i, l) in people.iter().enumerate() {
            let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
            sheet.write_number(r, 0, f64::from(r))?;
            let cells = [
                l.name.clone(),
                l.org_name.clone(),
                l.state.label_zh().to_owned(),
                l.first_in.map(|t| local_minute(t, offset)).unwrap_or_default(),
                l.method.map(method_label).unwrap_or_default(),
                l.last_out.map(|t| local_minute(t, offset)).unwrap_or_default(),
                if l.late { "是".to_owned() } else { String::new() },
                remarks(l),
            ];
            for (j, v) in cells.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r, u16::try_from(j + 1).unwrap_or(u16::MAX), v)?;
                }
            }
        }
    }
    book.save_to_buffer()
}

/// Builds a workbook on a blocking thread and answers it as a download named `name`
/// (`fallback` for clients that cannot take the UTF-8 name).
async fn xlsx_download(
    fallback: &str,
    name: &str,
    build: impl FnOnce() -> Result<Vec<u8>, XlsxError> + Send + 'static,
) -> AppResult<Response> {
    let bytes = tokio::task::spawn_blocking(build)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(xlsx_error)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                crate::member::roster::XLSX_CONTENT_TYPE.to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                crate::member::roster::content_disposition(fallback, name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

pub async fn attendance_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let d = state.store.meetings().attendance_detail(&scope, id).await?;
    let minutes = state.store.meetings().minutes(&scope, id).await?;
    let offset = state.store.local.offset;
    let name = format!(
        "{}-考勤-{}.xlsx",
        d.meeting.title,
        d.meeting.starts_at.to_offset(offset).date()
    );
    xlsx_download("attendance.xlsx", &name, move || workbook(&d, &minutes, offset)).await
}

fn register_workbook(
    org_name: &str,
    year: i32,
    items: &[dangjian_store::meeting::records::LedgerItem],
    offset: UtcOffset,
) -> Result<Vec<u8>, XlsxError> {
    const COLS: [(&str, f64); 12] = [
        ("序号", 6.0),
        ("会议时间", 18.0),
        ("会议类型", 12.0),
        ("会议名称", 30.0),
        ("会议地点", 16.0),
        ("主持人", 10.0),
        ("记录人", 10.0),
        ("应到", 6.0),
        ("实到", 6.0),
        ("请假", 6.0),
        ("缺席", 6.0),
        ("早退", 6.0),
    ];
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{year}年会议台账"))?;
    sheet.write_string_with_format(0, 0, format!("{org_name} {year}年会议台账"), &bold)?;
    for (i, (h, w)) in COLS.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet.set_column_width(col, *w)?;
        sheet.write_string_with_format(1, col, *h, &bold)?;
    }
    sheet.set_freeze_panes(2, 0)?;
    for (i, item) in items.iter().enumerate() {
        let r = u32::try_from(i + 2).unwrap_or(u32::MAX);
        let m = &item.meeting;
        let c = item.counts;
        let kind = m.kind.label_zh().to_owned();
        sheet.write_number(r, 0, f64::from(r - 1))?;
        let texts = [
            local_minute(m.starts_at, offset),
            kind,
            m.title.clone(),
            m.venue.clone().unwrap_or_default(),
            m.host.clone().unwrap_or_default(),
            m.recorder.clone().unwrap_or_default(),
        ];
        for (j, v) in texts.iter().enumerate() {
            sheet.write_string(r, u16::try_from(j + 1).unwrap_or(u16::MAX), v)?;
        }
        for (j, n) in [
            c.expected,
            c.present + c.left_early,
            c.leave,
            c.absent,
            c.left_early,
        ]
        .iter()
        .enumerate()
        {
            // counts of people: far below 2^53, exact as an f64
            #[expect(clippy::cast_precision_loss, reason = "a count of people")]
            sheet.write_number(r, u16::try_from(j + 7).unwrap_or(u16::MAX), *n as f64)?;
        }
    }
    book.save_to_buffer()
}

/// `GET /api/v1/orgs/{id}/ledger.xlsx?year=`: the year's register as Excel.
pub async fn ledger_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<crate::extract::YearQuery>,
) -> AppResult<Response> {
    let (scope, year, items) = super::records::ledger_of_year(&state, &auth, id, q.year).await?;
    let org = state.store.orgs().org(&scope, id).await?;
    let offset = state.store.local.offset;
    let name = format!("{}-{year}年会议台账.xlsx", org.name);
    xlsx_download("ledger.xlsx", &name, move || {
        register_workbook(&org.name, year, &items, offset)
    })
    .await
}

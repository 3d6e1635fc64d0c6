//! The meetings pages: the secretary's list, plan form and meeting page (`list.rs`, `show.rs`),
//! the staff's check-in tablet (`checkin.rs`), the hall's wall (`wall.rs`), and the member's
//! phone pages (`my.rs`). Live parts use the JSON API and its SSE stream from small scripts in
//! `assets/meeting-*.js`; QR codes are drawn on the server as SVG (`/qr.svg`).

pub(super) mod cadence;
pub(super) mod checkin;
pub(super) mod ledger;
pub(super) mod list;
pub(super) mod minutes;
pub(super) mod my;
pub(super) mod seats;
pub(super) mod show;
pub(super) mod wall;

pub(crate) use crate::page::page_or_error;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dangjian_rules::meeting::MeetingKind;
use time::{OffsetDateTime, UtcOffset};

use crate::i18n::{Locale, t};

/// A local time as `2026-05-01 09:00`.
pub(crate) fn local(t: OffsetDateTime, offset: UtcOffset) -> String {
    let l = t.to_offset(offset);
    format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
}

/// `2026-05-01 09:00–11:00` (the end's date too when it is another day).
pub(crate) fn local_span(a: OffsetDateTime, b: OffsetDateTime, offset: UtcOffset) -> String {
    let (la, lb) = (a.to_offset(offset), b.to_offset(offset));
    if la.date() == lb.date() {
        format!("{}–{:02}:{:02}", local(a, offset), lb.hour(), lb.minute())
    } else {
        format!("{}–{}", local(a, offset), local(b, offset))
    }
}

/// A plan form's times: the start `YYYY-MM-DDTHH:MM` (datetime-local) and the end `HH:MM` on
/// the same day, both local; anything else → 422 naming the field.
pub(crate) fn form_times(
    starts_at: &str,
    ends_at: &str,
    offset: UtcOffset,
) -> Result<(OffsetDateTime, OffsetDateTime), crate::error::AppError> {
    let invalid = |field: &'static str| {
        crate::error::AppError::Invalid(dangjian_rules::RuleViolation::field("datetime_invalid", field))
    };
    let fmt_dt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let fmt_t = time::macros::format_description!("[hour]:[minute]");
    let start =
        time::PrimitiveDateTime::parse(starts_at.trim(), &fmt_dt).map_err(|_| invalid("starts_at"))?;
    let end = time::Time::parse(ends_at.trim(), &fmt_t).map_err(|_| invalid("ends_at"))?;
    Ok((
        start.assume_offset(offset),
        start.date().with_time(end).assume_offset(offset),
    ))
}

pub(crate) fn kind_label(locale: Locale, kind: MeetingKind) -> String {
    match locale {
        Locale::ZhCn => kind.label_zh().to_owned(),
        Locale::En => t(locale, &format!("enum.meeting_kind.{kind}"), &[]),
    }
}

/// The label of a shown status (`planned`, `open`, `closed`, `cancelled`).
pub(crate) fn status_label(locale: Locale, status: &str) -> String {
    t(locale, &format!("meeting.status.{status}"), &[])
}

#[derive(serde::Deserialize)]
pub struct QrQuery {
    text: Option<String>,
}

/// The longest text drawn as a QR code (a check-in URL with its token fits easily).
const QR_TEXT_MAX: usize = 512;

/// A QR code of `?text=` as SVG, for logged-in users (the wall's rotating code, a member's own
/// code). Drawn here so the pages need no script library and no internet.
pub(super) async fn qr_svg(_: crate::page::PageUser, Query(q): Query<QrQuery>) -> Response {
    let text = q.text.unwrap_or_default();
    if text.is_empty() || text.len() > QR_TEXT_MAX {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    match qr_svg_text(&text) {
        Some(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            svg,
        )
            .into_response(),
        None => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    }
}

pub(crate) fn qr_svg_text(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

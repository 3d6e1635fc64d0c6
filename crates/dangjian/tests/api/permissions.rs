//! The permission matrix: every API route of the route table (`web::routes::build().docs`), as
//! each role, on a target inside the caller's branch (branch A) and outside it (branch B).
//! Rows whose target is made from the org alone are asked of the org above branch A too (the
//! 党总支), expected as outside unless `ABOVE_DIFFERS` says why not. Outside the subtree is
//! 404 — in lists too; a role without the capability is 403 before the body is looked at; no
//! login is 401. A route of the table with neither a row here nor an entry in `EXEMPT` fails
//! the test, so a new route cannot ship without its row.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::{Client, TestApp, Tree, id_number};

/// Routes that cannot be exercised by role and subtree, each with its reason.
pub const EXEMPT: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "public: the load balancer's ready check"),
    (
        "GET",
        "/api/v1/time",
        "public: devices set their clocks before they log in",
    ),
    ("GET", "/api/openapi.json", "public: the API's own description"),
    (
        "POST",
        "/api/v1/login",
        "public: it is how a session starts (auth.rs, login_limits.rs)",
    ),
    (
        "POST",
        "/api/v1/dues/providers/{provider}/callback",
        "no session: the provider's HMAC signature is the proof (dues/payments.rs)",
    ),
];

#[derive(Clone, Copy, Debug)]
pub enum Body {
    None,
    PatchOrg,
    NewGroup,
    Post,
    PatchMember,
    BadEvent,
    NewMember,
    Grant,
    NewUser,
    // meetings
    NewMeeting,
    NewSeries,
    PatchMeeting,
    Reason,
    Reschedule,
    Invite,
    Leave,
    Checkin,
    Device,
    Amend,
    Minutes,
    Seats,
    SeatPlan,
    Note,
    /// a multipart upload: an attachment (a small PDF)
    Attachment,
    /// a multipart payroll sheet with the target member's base (a dry run)
    Payroll,
    /// a multipart roster upload naming the target org, with a file that is no workbook
    RosterNotAWorkbook,
    // dues
    DuesBase,
    DuesYear,
    Payment,
    Order,
    Hardship,
    Discussion,
    KeepCase,
    Approve,
    DuesSettings,
    OrgSettings,
    Remittance,
    // sessions
    NewToken,
    WrongPassword,
}

/// (method, OpenAPI path, concrete path template, body, expected status for
/// [admin in, admin out, sec in, sec out, staff in, staff out, mem in, mem out]).
///
/// Templates: {org} the target org, {person} a member of it (never the caller's own record),
/// {user} a login whose member record is in it (`secb` for branch B, a fresh one for branch A),
/// {fresh_user} a fresh staff login on the org, {token} a fresh bearer token of {user}'s login,
/// {job} a bulk-accounts job the admin started (the same one inside and outside: a job is its
/// starter's alone). Fresh for each request, made by the admin: {meeting} a planned meeting of
/// the org tomorrow, {started} one that began half an hour ago, {closed} one held and closed,
/// {attached} `M/attachments/A` (a meeting with an attachment), {invited} `M/invitees/P`,
/// {leave_request} a member's pending leave request, {hardship} a hardship application,
/// {post} a current committee post, {grant} a staff grant on the org. Once for the whole test:
/// {case} the arrears case of the org's member (their bills of 2026 are unpaid).
/// A template starting with `!` is sent from a session of its own (it ends or changes it).
///
/// Where a role may act but the request is refused on its merits (a case already open, an
/// outcome unknown, leave for someone not expected), the status says it got past the guard.
pub type Endpoint = (&'static str, &'static str, &'static str, Body, [u16; 8]);

#[rustfmt::skip]
pub const ENDPOINTS: &[Endpoint] = &[
    // sessions and tokens
    ("GET", "/api/v1/me", "/api/v1/me", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/logout", "!/api/v1/logout", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/password", "!/api/v1/password", Body::WrongPassword, [422, 422, 422, 422, 422, 422, 422, 422]),
    ("POST", "/api/v1/tokens", "/api/v1/tokens", Body::NewToken, [201, 201, 201, 201, 201, 201, 201, 201]),
    ("GET", "/api/v1/tokens", "/api/v1/tokens", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/{token}", Body::None, [200, 200, 404, 404, 404, 404, 404, 404]),
    // organizations
    ("GET", "/api/v1/orgs", "/api/v1/orgs", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/orgs/{id}", "/api/v1/orgs/{org}", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/children", "/api/v1/orgs/{org}/children", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/tree", "/api/v1/orgs/{org}/tree", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/history", "/api/v1/orgs/{org}/history", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/warnings", "/api/v1/orgs/{org}/warnings", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/posts", "/api/v1/orgs/{org}/posts", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("PATCH", "/api/v1/orgs/{id}", "/api/v1/orgs/{org}", Body::PatchOrg, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/settings", "/api/v1/orgs/{org}/settings", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("PUT", "/api/v1/orgs/{id}/settings", "/api/v1/orgs/{org}/settings", Body::OrgSettings, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs", "/api/v1/orgs", Body::NewGroup, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/posts", "/api/v1/orgs/{org}/posts", Body::Post, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/posts/{id}/end", "/api/v1/posts/{post}/end", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/accounts", "/api/v1/orgs/{org}/accounts", Body::None, [201, 201, 201, 404, 403, 403, 403, 403]),
    // members
    ("GET", "/api/v1/members", "/api/v1/members?org={org}&subtree=true", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("GET", "/api/v1/members/{id}", "/api/v1/members/{person}", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("GET", "/api/v1/members/{id}/events", "/api/v1/members/{person}/events", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("PATCH", "/api/v1/members/{id}", "/api/v1/members/{person}", Body::PatchMember, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/{id}/events", "/api/v1/members/{person}/events", Body::BadEvent, [422, 422, 422, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members", "/api/v1/members", Body::NewMember, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/import", "/api/v1/members/import?dry_run=true", Body::RosterNotAWorkbook, [422, 422, 422, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/members/export", "/api/v1/members/export?org={org}&subtree=true", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    // an empty workbook: any login may have it
    ("GET", "/api/v1/members/import-template", "/api/v1/members/import-template", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    // accounts
    ("POST", "/api/v1/users", "/api/v1/users", Body::NewUser, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/grants", "/api/v1/users/{user}/grants", Body::Grant, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("DELETE", "/api/v1/grants/{id}", "/api/v1/grants/{grant}", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/reset-password", "/api/v1/users/{user}/reset-password", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/disable", "/api/v1/users/{fresh_user}/disable", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/users/{id}/enable", "/api/v1/users/{user}/enable", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/users", "/api/v1/users", Body::None, [200, 200, 200, 200, 403, 403, 403, 403]),
    ("GET", "/api/v1/users/{id}/tokens", "/api/v1/users/{user}/tokens", Body::None, [200, 200, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/audit", "/api/v1/audit", Body::None, [200, 200, 200, 200, 403, 403, 403, 403]),
    // meetings: planning
    ("GET", "/api/v1/meetings", "/api/v1/meetings?org={org}&subtree=true", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("POST", "/api/v1/meetings", "/api/v1/meetings", Body::NewMeeting, [201, 201, 201, 404, 201, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}", "/api/v1/meetings/{meeting}", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("PATCH", "/api/v1/meetings/{id}", "/api/v1/meetings/{meeting}", Body::PatchMeeting, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/plan", "/api/v1/meetings/{meeting}/plan", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("POST", "/api/v1/meetings/{id}/notice", "/api/v1/meetings/{meeting}/notice", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/cancel", "/api/v1/meetings/{meeting}/cancel", Body::Reason, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/reschedule", "/api/v1/meetings/{meeting}/reschedule", Body::Reschedule, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meeting-series", "/api/v1/meeting-series", Body::NewSeries, [201, 201, 201, 404, 201, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/invitees", "/api/v1/meetings/{meeting}/invitees", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    // the guest is from the other branch: the admin sees them, the branch's staff do not
    ("POST", "/api/v1/meetings/{id}/invitees", "/api/v1/meetings/{meeting}/invitees", Body::Invite, [201, 201, 422, 404, 422, 404, 403, 403]),
    ("DELETE", "/api/v1/meetings/{id}/invitees/{person_id}", "/api/v1/meetings/{invited}", Body::None, [204, 204, 204, 404, 204, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/leave-requests", "/api/v1/meetings/{meeting}/leave-requests", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    // for themself only: only the member has a record, and is expected only in branch A
    ("POST", "/api/v1/meetings/{id}/leave-requests", "/api/v1/meetings/{meeting}/leave-requests", Body::Leave, [404, 404, 404, 404, 404, 404, 201, 404]),
    ("POST", "/api/v1/leave-requests/{id}/approve", "/api/v1/leave-requests/{leave_request}/approve", Body::Note, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/leave-requests/{id}/refuse", "/api/v1/leave-requests/{leave_request}/refuse", Body::Note, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/me/meetings", "/api/v1/me/meetings", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    // meetings: check-in and attendance
    ("POST", "/api/v1/meetings/{id}/leaves", "/api/v1/meetings/{meeting}/leaves", Body::Leave, [201, 201, 201, 404, 201, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/close", "/api/v1/meetings/{started}/close", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/checkins", "/api/v1/meetings/{started}/checkins", Body::Checkin, [201, 201, 201, 404, 201, 404, 403, 404]),
    ("GET", "/api/v1/meetings/{id}/qr", "/api/v1/meetings/{started}/qr", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    // only a login with a member record has a personal code
    ("GET", "/api/v1/me/qr", "/api/v1/me/qr", Body::None, [403, 403, 403, 403, 403, 403, 200, 200]),
    ("GET", "/api/v1/meetings/{id}/stream", "/api/v1/meetings/{started}/stream", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/attendance", "/api/v1/meetings/{meeting}/attendance", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/unresolved-cards", "/api/v1/meetings/{meeting}/unresolved-cards", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/devices", "/api/v1/devices", Body::Device, [201, 201, 201, 404, 403, 403, 403, 403]),
    // meetings: records, cadence, seats
    ("GET", "/api/v1/meetings/{id}/minutes", "/api/v1/meetings/{meeting}/minutes", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("PUT", "/api/v1/meetings/{id}/minutes", "/api/v1/meetings/{meeting}/minutes", Body::Minutes, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/attachments", "/api/v1/meetings/{meeting}/attachments", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/attachments", "/api/v1/meetings/{meeting}/attachments", Body::Attachment, [201, 201, 201, 404, 201, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/attachments/{attachment_id}", "/api/v1/meetings/{attached}", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("DELETE", "/api/v1/meetings/{id}/attachments/{attachment_id}", "/api/v1/meetings/{attached}", Body::None, [204, 204, 204, 404, 204, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/amendments", "/api/v1/meetings/{closed}/amendments", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/meetings/{id}/amendments", "/api/v1/meetings/{closed}/amendments", Body::Amend, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/attendance/detail", "/api/v1/meetings/{closed}/attendance/detail", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/attendance.xlsx", "/api/v1/meetings/{closed}/attendance.xlsx", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/members/{id}/attendance", "/api/v1/members/{person}/attendance", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    ("GET", "/api/v1/orgs/{id}/cadence", "/api/v1/orgs/{org}/cadence", Body::None, [200, 200, 200, 404, 200, 404, 200, 404]),
    ("GET", "/api/v1/orgs/{id}/ledger", "/api/v1/orgs/{org}/ledger?year=2026", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/ledger.xlsx", "/api/v1/orgs/{org}/ledger.xlsx?year=2026", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/seat-plans", "/api/v1/orgs/{org}/seat-plans", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("PUT", "/api/v1/orgs/{id}/seat-plans", "/api/v1/orgs/{org}/seat-plans", Body::SeatPlan, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("GET", "/api/v1/meetings/{id}/seats", "/api/v1/meetings/{meeting}/seats", Body::None, [200, 200, 200, 404, 200, 404, 403, 403]),
    ("PUT", "/api/v1/meetings/{id}/seats", "/api/v1/meetings/{meeting}/seats", Body::Seats, [200, 200, 200, 404, 200, 404, 403, 403]),
    // dues
    // opened for both members when the test starts: past the guard, the case exists
    ("POST", "/api/v1/members/{id}/dues-arrears-case", "/api/v1/members/{person}/dues-arrears-case", Body::None, [409, 409, 409, 404, 403, 403, 403, 403]),
    // decided by the admin first: the secretary finds it decided
    ("POST", "/api/v1/dues-arrears-cases/{id}/decision", "/api/v1/dues-arrears-cases/{case}/decision", Body::KeepCase, [200, 200, 409, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/dues/quote", "/api/v1/dues/quote?category=in_service&base_fen=450000", Body::None, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("PUT", "/api/v1/members/{id}/dues-base/{year}", "/api/v1/members/{person}/dues-base/2026", Body::DuesBase, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/dues-bases/import", "/api/v1/orgs/{org}/dues-bases/import?year=2026&dry_run=true", Body::Payroll, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/members/{id}/dues", "/api/v1/members/{person}/dues?year=2026", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/dues-bills", "/api/v1/orgs/{org}/dues-bills", Body::DuesYear, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-bills", "/api/v1/orgs/{org}/dues-bills?year=2026&month=1", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/{id}/dues-payments", "/api/v1/members/{person}/dues-payments", Body::Payment, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/{id}/dues-orders", "/api/v1/members/{person}/dues-orders", Body::Order, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/members/{id}/dues-hardships", "/api/v1/members/{person}/dues-hardships", Body::Hardship, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/dues-hardships/{id}/discussion", "/api/v1/dues-hardships/{hardship}/discussion", Body::Discussion, [200, 200, 200, 404, 403, 403, 403, 403]),
    // not discussed by the branch yet; a branch secretary is not the higher 党委
    ("POST", "/api/v1/dues-hardships/{id}/decision", "/api/v1/dues-hardships/{hardship}/decision", Body::Approve, [409, 409, 422, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-hardships", "/api/v1/orgs/{org}/dues-hardships", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-arrears", "/api/v1/orgs/{org}/dues-arrears", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-settings", "/api/v1/orgs/{org}/dues-settings", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("PUT", "/api/v1/orgs/{id}/dues-settings", "/api/v1/orgs/{org}/dues-settings", Body::DuesSettings, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-report", "/api/v1/orgs/{org}/dues-report?year=2026", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/orgs/{id}/dues-report.xlsx", "/api/v1/orgs/{org}/dues-report.xlsx?year=2026", Body::None, [200, 200, 200, 404, 403, 403, 403, 403]),
    ("POST", "/api/v1/orgs/{id}/dues-remittances", "/api/v1/orgs/{org}/dues-remittances", Body::Remittance, [201, 201, 201, 404, 403, 403, 403, 403]),
    ("GET", "/api/v1/members/{id}/dues-paid-through", "/api/v1/members/{person}/dues-paid-through", Body::None, [200, 200, 200, 404, 200, 404, 404, 404]),
    // last: starting its job adds members to branch B
    ("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/{job}", Body::None, [200, 200, 404, 404, 404, 404, 404, 404]),
];

/// Rows whose target is made from the org alone are also asked of the org above branch A.
const ABOVE_TARGETS: [&str; 5] = ["{org}", "{meeting}", "{started}", "{closed}", "{attached}"];
const NOT_ABOVE_TARGETS: [&str; 9] = [
    "{person}",
    "{user}",
    "{fresh_user}",
    "{token}",
    "{job}",
    "{case}",
    "{hardship}",
    "{post}",
    "{grant}",
];

/// Where asking from above differs from beside: (method, OpenAPI path, role, status, why).
const ABOVE_DIFFERS: &[(&str, &str, &str, u16, &str)] = &[
    (
        "POST",
        "/api/v1/meetings/{id}/leave-requests",
        "mem",
        201,
        "a member is expected at the meetings of the orgs above their branch (its subtree)",
    ),
    (
        "POST",
        "/api/v1/meetings/{id}/checkins",
        "mem",
        403,
        "expected there, so refused as checking in someone else, not as not found",
    ),
];

const POSTS: [&str; 4] = ["secretary", "deputy_secretary", "propaganda", "organization"];

/// The test's fixed instant: 10:00 on 3 August 2026 in Beijing, so the bills of January to July
/// are seven unpaid months (an arrears case may be opened) and the dues year is 2026.
const MATRIX_NOW: time::OffsetDateTime = datetime!(2026-08-03 02:00 UTC);

/// `caller` picks a different post, month or name per caller, so one request does not block the
/// next.
fn body(kind: Body, org: i64, person: i64, other: i64, seq: u32, caller: usize) -> Value {
    let month = |first: usize| format!("2026-{:02}", first + caller);
    match kind {
        Body::None | Body::Attachment | Body::Payroll | Body::RosterNotAWorkbook => json!({}),
        Body::PatchOrg => json!({"category": "government"}),
        Body::NewGroup => json!({"parent_id": org, "name": format!("新党小组{seq}"), "kind": "group"}),
        Body::Post => {
            json!({"person_id": person, "post": POSTS[caller], "confirm": true})
        }
        Body::PatchMember => json!({"education": "大学本科"}),
        // valid for nobody (a probationary member cannot be restored): proves the request got past the guard
        Body::BadEvent => json!({"kind": "restore", "date": "2026-08-03", "reason": "测试"}),
        Body::Grant => json!({"role": "staff", "org_id": org}),
        Body::NewUser => json!({"username": format!("u{seq}"), "grants": [{"role": "staff", "org_id": org}]}),
        Body::NewMember => {
            json!({"org_id": org, "name": format!("新党员{seq}"), "id_number": id_number("1995-03-04", seq),
                                  "status": "formal", "joined_on": "2020-01-01"})
        }
        Body::NewMeeting => meeting_body(org, 24 + i64::from(seq)),
        Body::NewSeries => {
            let mut b = meeting_body(org, 48);
            b["every"] = json!("week");
            b["count"] = json!(2);
            b
        }
        Body::PatchMeeting => json!({"venue": "二楼会议室"}),
        Body::Reason => json!({"reason": "与上级会议冲突"}),
        Body::Reschedule => {
            json!({"starts_at": local(MATRIX_NOW + time::Duration::hours(50)),
                   "ends_at": local(MATRIX_NOW + time::Duration::hours(52)), "venue": "活动室"})
        }
        // someone from the other branch, as a guest
        Body::Invite => json!({"person_id": other, "role": "guest"}),
        Body::Leave => json!({"person_id": person, "reason": "出差"}),
        Body::Checkin => {
            json!({"event_id": format!("matrix-{seq}"), "person_id": person, "method": "manual",
                   "direction": "in", "confirm": true})
        }
        Body::Device => json!({"name": format!("东门闸机{seq}"), "kind": "rfid_gate", "org_id": org}),
        Body::Amend => json!({"target": "minutes", "minutes": "更正后的纪要", "reason": "笔误"}),
        Body::Minutes => json!({"minutes": "会议纪要", "decisions": ["通过"]}),
        Body::Seats => json!({"auto": true}),
        Body::SeatPlan => json!({"venue": "三楼会议室", "rows": 3, "seats_per_row": 4}),
        Body::Note => json!({"note": "同意"}),
        Body::DuesBase => json!({"category": "in_service", "base_fen": 450_000}),
        Body::DuesYear => json!({"year": 2026}),
        // within the six months one may pay late without confirming
        Body::Payment => json!({"method": "cash", "months": [month(3)], "paid_on": "2026-08-01"}),
        Body::Order => json!({"months": [month(5)]}),
        Body::Hardship => json!({"from": month(9), "to": month(9), "reason": "大病住院，收入中断"}),
        Body::Discussion => json!({"agreed": true, "meeting_on": "2026-08-01"}),
        Body::KeepCase => json!({"outcome": "kept", "meeting_on": "2026-08-01", "note": "支部大会决定保留"}),
        Body::Approve => json!({"approved": true, "note": "同意"}),
        Body::DuesSettings => json!({"reminder_months": 3}),
        Body::OrgSettings => json!({"values": {"checkin.late_grace_minutes": 5 + caller}}),
        Body::Remittance => {
            json!({"year": 2026, "month": 1 + caller, "amount_fen": 4500, "remitted_on": "2026-08-01"})
        }
        Body::NewToken => json!({"name": format!("matrix-{seq}")}),
        Body::WrongPassword => json!({"current": "not-the-password", "new": "a-new-password-42"}),
    }
}

fn local(t: time::OffsetDateTime) -> String {
    let cst = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    t.to_offset(cst)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A meeting of `org` starting `hours` after the test's instant, two hours long.
fn meeting_body(org: i64, hours: i64) -> Value {
    let start = MATRIX_NOW + time::Duration::hours(hours);
    json!({"org_id": org, "kind": "branch_congress", "title": "支部党员大会",
           "starts_at": local(start), "ends_at": local(start + time::Duration::hours(2)), "venue": "三楼会议室"})
}

fn person_in(tree: &Tree, org: i64) -> i64 {
    if org == tree.branch_a { tree.a2 } else { tree.b1 }
}

/// A 正式党员 of the org's side: posts go to full members of the org only.
fn full_member_in(tree: &Tree, org: i64) -> i64 {
    if org == tree.branch_a { tree.a1 } else { tree.b1 }
}

fn other_than(tree: &Tree, org: i64) -> i64 {
    if org == tree.branch_a { tree.b1 } else { tree.a2 }
}

/// What the requests need, made once by the admin.
struct Ctx<'a> {
    app: &'a TestApp,
    admin: Client,
    /// a login of branch A that is none of the callers (so resets log nobody out), and `secb`
    users: [i64; 2],
    cases: [i64; 2],
    job: String,
}

impl Ctx<'_> {
    fn side(&self, org: i64) -> usize {
        usize::from(org != self.app.tree.branch_a)
    }

    async fn ok(&self, c: &Client, method: &str, path: &str, body: Value) -> Value {
        let (s, b) = send(c, &self.app.tree, method, path, Body::None, body, 0).await;
        assert!(s.is_success(), "setup {method} {path}: {s} {b}");
        b
    }

    async fn meeting(&self, org: i64, hours: i64) -> i64 {
        let b = self
            .ok(&self.admin, "POST", "/api/v1/meetings", meeting_body(org, hours))
            .await;
        b["id"].as_i64().unwrap_or_default()
    }

    /// A new staff login of `org`, made by the admin: its answer.
    async fn staff_login(&self, username: &str, org: i64) -> Value {
        let body = json!({"username": username, "grants": [{"role": "staff", "org_id": org}]});
        self.ok(&self.admin, "POST", "/api/v1/users", body).await
    }

    /// The value of one placeholder for a request on `org`.
    async fn fill(&self, name: &str, org: i64, seq: u32) -> String {
        let app = self.app;
        let side = self.side(org);
        let person = person_in(&app.tree, org);
        match name {
            "org" => org.to_string(),
            "person" => person.to_string(),
            "user" => self.users[side].to_string(),
            "job" => self.job.clone(),
            "case" => self.cases[side].to_string(),
            "token" => app
                .store
                .accounts()
                .create_api_token(
                    &dangjian_store::Actor::system("test"),
                    self.users[side],
                    "matrix",
                    &format!("matrix-token-{seq}"),
                    None,
                )
                .await
                .unwrap_or_else(|e| panic!("token: {e}"))
                .to_string(),
            "fresh_user" => {
                let b = self.staff_login(&format!("fresh{seq}"), org).await;
                b["id"].to_string()
            }
            "grant" => {
                let user = self.staff_login(&format!("granted{seq}"), org).await;
                let b = self
                    .ok(
                        &self.admin,
                        "POST",
                        &format!("/api/v1/users/{}/grants", user["id"]),
                        json!({"role": "member", "org_id": org}),
                    )
                    .await;
                b["id"].to_string()
            }
            "post" => {
                // a post a caller without the right left standing is still current: taken again
                let (_, posts) = self.admin.get(&format!("/api/v1/orgs/{org}/posts")).await;
                let current = posts["items"]
                    .as_array()
                    .and_then(|l| l.iter().find(|p| p["post"] == "propaganda"))
                    .map(|p| p["id"].to_string());
                match current {
                    Some(id) => id,
                    None => self
                        .ok(
                            &self.admin,
                            "POST",
                            &format!("/api/v1/orgs/{org}/posts"),
                            json!({"person_id": full_member_in(&app.tree, org), "post": "propaganda", "confirm": true}),
                        )
                        .await["id"]
                        .to_string(),
                }
            }
            "meeting" => self.meeting(org, 24).await.to_string(),
            "started" => {
                let id = self.meeting(org, 0).await;
                app.clock.set(MATRIX_NOW + time::Duration::minutes(30));
                id.to_string()
            }
            "closed" => {
                let id = self.meeting(org, 0).await;
                self.ok(
                    &self.admin,
                    "POST",
                    &format!("/api/v1/meetings/{id}/close"),
                    json!({}),
                )
                .await;
                id.to_string()
            }
            "attached" => {
                let id = self.meeting(org, 24).await;
                let (s, b) = send(
                    &self.admin,
                    &app.tree,
                    "POST",
                    &format!("/api/v1/meetings/{id}/attachments"),
                    Body::Attachment,
                    json!({}),
                    org,
                )
                .await;
                assert_eq!(s, 201, "setup attachment: {b}");
                format!("{id}/attachments/{}", b["id"])
            }
            "invited" => {
                let id = self.meeting(org, 24).await;
                let guest = other_than(&app.tree, org);
                self.ok(
                    &self.admin,
                    "POST",
                    &format!("/api/v1/meetings/{id}/invitees"),
                    json!({"person_id": guest, "role": "guest"}),
                )
                .await;
                format!("{id}/invitees/{guest}")
            }
            "leave_request" => {
                let id = self.meeting(org, 24).await;
                // by the store: the matrix resets the password of branch B's member login
                let member = [app.tree.a1, app.tree.b1][side];
                app.store
                    .meetings()
                    .request_leave(&dangjian_store::Actor::system("test"), member, id, "出差")
                    .await
                    .unwrap_or_else(|e| panic!("leave request: {e}"))
                    .to_string()
            }
            "hardship" => {
                let b = self
                    .ok(
                        &self.admin,
                        "POST",
                        &format!("/api/v1/members/{person}/dues-hardships"),
                        json!({"from": format!("2026-{:02}", 9 + seq % 4), "to": format!("2026-{:02}", 9 + seq % 4),
                               "reason": "大病住院，收入中断"}),
                    )
                    .await;
                b["id"].to_string()
            }
            other => panic!("unknown placeholder {{{other}}}"),
        }
    }

    /// The template with every placeholder filled for `org`.
    async fn path(&self, template: &str, org: i64, seq: u32) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').unwrap_or_else(|| panic!("{template}"));
            out.push_str(&self.fill(&rest[open + 1..close], org, seq).await);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A payroll sheet of one row: the member's base of 4500 元.
fn payroll(name: &str, id: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let mut write = || -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, h) in ["姓名", "身份证号", "计算基数（元）"].into_iter().enumerate() {
            ws.write_string(0, c as u16, h)?;
        }
        ws.write_string(1, 0, name)?;
        ws.write_string(1, 1, id)?;
        ws.write_number(1, 2, 4500.0)?;
        Ok(())
    };
    write().unwrap_or_else(|e| panic!("payroll sheet: {e}"));
    book.save_to_buffer()
        .unwrap_or_else(|e| panic!("payroll sheet: {e}"))
}

/// One request of the matrix; multipart bodies as their `Body` says, a stream only to its status.
async fn send(
    c: &Client,
    tree: &Tree,
    method: &str,
    path: &str,
    kind: Body,
    b: Value,
    org: i64,
) -> (StatusCode, Value) {
    match kind {
        Body::Attachment => {
            return c
                .multipart(
                    path,
                    &[],
                    "minutes.pdf",
                    b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
                )
                .await;
        }
        Body::Payroll => {
            let (name, id) = if org == tree.branch_a {
                ("李四", id_number("1990-02-03", 22))
            } else {
                ("王五", id_number("1985-09-10", 33))
            };
            return c.multipart(path, &[], "payroll.xlsx", &payroll(name, &id)).await;
        }
        Body::RosterNotAWorkbook => {
            let org = org.to_string();
            return c
                .multipart(path, &[("org", org.as_str())], "roster.xlsx", b"not a workbook")
                .await;
        }
        _ => {}
    }
    if path.ends_with("/stream") {
        return (c.status_only(path).await, Value::Null);
    }
    match method {
        "GET" => c.get(path).await,
        "POST" => c.post(path, b).await,
        "PATCH" => c.patch(path, b).await,
        "PUT" => c.put(path, b).await,
        "DELETE" => c.delete(path).await,
        other => panic!("method {other}"),
    }
}

/// The matrix's setup: the arrears cases (bases and the bills of 2026 for both members), a
/// login for each branch's member, and the job.
async fn context(app: &TestApp) -> Ctx<'_> {
    let admin = app.login("admin").await;
    let t = app.tree;
    let mut cases = [0; 2];
    for (i, (org, person)) in [(t.branch_a, t.a2), (t.branch_b, t.b1)].into_iter().enumerate() {
        let ctx_admin = &admin;
        let (s, b) = ctx_admin
            .put(
                &format!("/api/v1/members/{person}/dues-base/2026"),
                json!({"category": "in_service", "base_fen": 450_000}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = ctx_admin
            .post(&format!("/api/v1/orgs/{org}/dues-bills"), json!({"year": 2026}))
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = ctx_admin
            .post(&format!("/api/v1/members/{person}/dues-arrears-case"), json!({}))
            .await;
        assert_eq!(s, 201, "{b}");
        cases[i] = b["id"].as_i64().unwrap_or_default();
    }
    let (s, made) = admin
        .post(
            "/api/v1/users",
            json!({"username": "a2login", "person_id": t.a2, "grants": [{"role": "member", "org_id": t.group_a1}]}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let secb = crate::helpers::user_id_of(&app.store, "secb").await;
    Ctx {
        app,
        admin,
        users: [made["id"].as_i64().unwrap_or_default(), secb],
        cases,
        job: String::new(),
    }
}

#[tokio::test]
async fn every_endpoint_answers_each_role_by_the_subtree_of_its_grant() {
    // demo mode: the fake payment provider exists only there
    let app = TestApp::spawn_demo_at(MATRIX_NOW).await;
    let names = ["admin", "sec", "staff", "mem"];
    let mut clients = Vec::new();
    for n in names {
        clients.push(app.login(n).await);
    }
    let anon = app.client();
    let mut ctx = context(&app).await;
    let mut seq = 100;
    let mut failures = Vec::new();
    // dates and times met in the answers, all in the contract's form (contract_dates)
    let mut dates_checked = 0;
    for (method, openapi, template, kind, expected) in ENDPOINTS {
        if template.contains("{job}") && ctx.job.is_empty() {
            crate::helpers::add_members(&app.store, app.tree.branch_b, 30, 500).await;
            let (s, started) = ctx
                .admin
                .post(&format!("/api/v1/orgs/{}/accounts", app.tree.root), json!({}))
                .await;
            assert_eq!(s, 202, "{started}");
            ctx.job = started["job_id"].as_str().unwrap_or_default().to_owned();
        }
        let (own_session, template) = match template.strip_prefix('!') {
            Some(t) => (true, t),
            None => (false, *template),
        };
        // above the branch (the 党总支 over branch A) is as far outside as beside it; asked of
        // the rows whose target is the org itself or a meeting of it
        let above = ABOVE_TARGETS.iter().any(|t| template.contains(t))
            && !NOT_ABOVE_TARGETS.iter().any(|t| template.contains(t));
        for (ci, shared) in clients.iter().enumerate() {
            let orgs: &[i64] = if above && ci > 0 {
                &[app.tree.branch_a, app.tree.branch_b, app.tree.general]
            } else {
                &[app.tree.branch_a, app.tree.branch_b]
            };
            for (oi, org) in orgs.iter().copied().enumerate() {
                seq += 1;
                app.clock.set(MATRIX_NOW);
                let path = ctx.path(template, org, seq).await;
                let person = if matches!(kind, Body::Post) {
                    full_member_in(&app.tree, org)
                } else {
                    person_in(&app.tree, org)
                };
                let b = body(*kind, org, person, other_than(&app.tree, org), seq, ci);
                let own;
                let client = if own_session {
                    own = app.login(names[ci]).await;
                    &own
                } else {
                    shared
                };
                let (status, resp) = send(client, &app.tree, method, &path, *kind, b.clone(), org).await;
                let want = ABOVE_DIFFERS
                    .iter()
                    .find(|d| oi == 2 && d.0 == *method && d.1 == *openapi && d.2 == names[ci])
                    .map_or(expected[ci * 2 + oi.min(1)], |d| d.3);
                if status.as_u16() != want {
                    failures.push(format!(
                        "{method} {path} as {} {}: {} (want {want}) {resp}",
                        names[ci],
                        ["in", "out", "above"][oi],
                        status.as_u16()
                    ));
                }
                if status.is_success() {
                    let mut off = Vec::new();
                    contract_dates(&resp, "", &mut dates_checked, &mut off);
                    failures.extend(
                        off.into_iter()
                            .map(|o| format!("{method} {path} as {}: {o}", names[ci])),
                    );
                }
                if oi == 0 && ci == 0 {
                    let (s, _) = send(&anon, &app.tree, method, &path, *kind, b, org).await;
                    if s != 401 {
                        failures.push(format!("{method} {path} without login: {s} (want 401)"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // the demo data's answers are full of dates: a walk that met few checked nothing
    assert!(
        dates_checked > 500,
        "only {dates_checked} dates and times in all the answers"
    );
}

/// Walks an answer and lists every date or time not in the contract's form (API.md: dates
/// `YYYY-MM-DD`, times RFC 3339) by its JSON path: a field named `…_at` is a time, `…_on`,
/// `…_date` or `date` a date (or null); any other text that starts like a date and a time must
/// be RFC 3339. `time::Date`'s default serde form (`[2026, 335]`) fails under either name.
fn contract_dates(v: &Value, at: &str, checked: &mut usize, off: &mut Vec<String>) {
    use time::format_description::well_known::Rfc3339;
    let is_date = |s: &str| {
        s.len() == 10
            && time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
    };
    let is_time = |s: &str| time::OffsetDateTime::parse(s, &Rfc3339).is_ok();
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{at}.{k}");
                let want_time = k.ends_with("_at");
                let want_date = k.ends_with("_on") || k.ends_with("_date") || k == "date";
                if want_time || want_date {
                    *checked += 1;
                    let ok = match x {
                        Value::Null => true,
                        Value::String(s) if want_time => is_time(s),
                        Value::String(s) => is_date(s),
                        _ => false,
                    };
                    if !ok {
                        off.push(format!("{here} = {x}"));
                    }
                    continue;
                }
                contract_dates(x, &here, checked, off);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                contract_dates(x, &format!("{at}[{i}]"), checked, off);
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            let starts_like_a_time = b.len() > 13
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[7] == b'-'
                && (b[10] == b'T' || b[10] == b' ')
                && b[11..13].iter().all(u8::is_ascii_digit);
            if starts_like_a_time {
                *checked += 1;
                if !is_time(s) {
                    off.push(format!("{at} = {s:?}"));
                }
            }
        }
        _ => {}
    }
}

/// Every API route of the table has a row in the matrix or an exemption with its reason.
#[test]
fn every_route_of_the_table_has_a_row_in_the_matrix() {
    let covered: BTreeSet<(String, &str)> = ENDPOINTS
        .iter()
        .map(|e| (e.0.to_owned(), e.1))
        .chain(EXEMPT.iter().map(|e| (e.0.to_owned(), e.1)))
        .collect();
    let table: BTreeSet<(String, &str)> = dangjian_web::routes::build()
        .docs
        .iter()
        .map(|d| (d.method.to_uppercase(), d.path))
        .collect();
    let only_in = |a: &BTreeSet<(String, &str)>, b| -> String {
        let routes: Vec<String> = a.difference(b).map(|(m, p)| format!("{m} {p}")).collect();
        routes.join("\n")
    };
    let missing = only_in(&table, &covered);
    assert!(
        missing.is_empty(),
        "routes without a row in the permission matrix (tests/api/permissions.rs):\n{missing}"
    );
    let stale = only_in(&covered, &table);
    assert!(
        stale.is_empty(),
        "rows for routes the table does not have:\n{stale}"
    );
}

#[tokio::test]
async fn searches_never_return_people_outside_the_subtree() {
    let (app, sec) = TestApp::spawn_as("sec").await;
    let (s, body) = sec.get("/api/v1/members?limit=500").await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(body["total"], 2);
    assert!(ids.contains(&app.tree.a1) && ids.contains(&app.tree.a2) && !ids.contains(&app.tree.b1));
    // exact ID-number search finds nobody outside either
    let (_, body) = sec
        .get(&format!("/api/v1/members?q={}", id_number("1985-09-10", 33)))
        .await;
    assert_eq!(body["total"], 0);
    let (_, body) = app
        .login("admin")
        .await
        .get(&format!("/api/v1/members?q={}", id_number("1985-09-10", 33)))
        .await;
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn a_member_reads_only_their_own_record_in_full() {
    let (app, mem) = TestApp::spawn_as("mem").await;
    let (s, me) = mem.get(&format!("/api/v1/members/{}", app.tree.a1)).await;
    assert_eq!(s, 200);
    assert_eq!(me["id_number"], id_number("1980-05-06", 11));
    assert_eq!(me["phone"], "13800000011");
    let (s, _) = mem.get(&format!("/api/v1/members/{}", app.tree.a2)).await;
    assert_eq!(s, 404);
    let (_, list) = mem.get("/api/v1/members").await;
    assert_eq!(list["total"], 1, "a member's search shows only themselves");
}

#[tokio::test]
async fn staff_see_id_numbers_and_phones_masked_and_the_secretary_in_full() {
    let app = TestApp::spawn().await;
    let full = id_number("1990-02-03", 22);
    let (_, staff_view) = app
        .login("staff")
        .await
        .get(&format!("/api/v1/members/{}", app.tree.a2))
        .await;
    let masked = format!("{}********{}", &full[..6], &full[14..]);
    assert_eq!(staff_view["id_number"], masked);
    assert_eq!(staff_view["phone"], "138****0022");
    let (_, sec_view) = app.login("sec").await.get_member(app.tree.a2).await;
    assert_eq!(sec_view["id_number"], full);
    assert_eq!(sec_view["phone"], "13800000022");
}

/// The walk of the matrix's answers catches the forms dates used to come in.
#[test]
fn the_date_walk_catches_dates_off_the_contract() {
    let answer = json!({
        "items": [{"event_date": [2026, 335], "recorded_at": "2026-12-01T08:00:00Z", "joined_on": null},
                  {"paid_on": "2026/12/01", "created_at": "2026-12-01 08:00:00", "date": "2026-12-01"}],
        "note": "2026-12-01 09:30 开会", "title": "2026-12-01 主题党日"
    });
    let (mut checked, mut off) = (0, Vec::new());
    contract_dates(&answer, "", &mut checked, &mut off);
    assert_eq!(
        off,
        [
            ".items[0].event_date = [2026,335]",
            ".items[1].created_at = \"2026-12-01 08:00:00\"",
            ".items[1].paid_on = \"2026/12/01\"",
            ".note = \"2026-12-01 09:30 开会\""
        ]
    );
    assert_eq!(checked, 7);
}

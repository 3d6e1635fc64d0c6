//! Further dues routes, registered with their documentation (see `crate::routes`).

use axum::routing::{get, post, put};

use super::{import, ledger, payments, reports};
use crate::routes::Routes;

pub(crate) fn add(r: Routes) -> Routes {
    r.api(
        "post",
        "/api/v1/orgs/{id}/dues-bases/import",
        "dues",
        "Import a year's bases from a payroll sheet (multipart file: 姓名, 身份证号, 计算基数（元）): year, dry_run, confirm",
        post(import::handler),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-bills",
        "dues",
        "The bills of the subtree for year and month, with status and the payment that settled each",
        get(reports::bills),
    )
    .api(
        "post",
        "/api/v1/members/{id}/dues-payments",
        "dues",
        "Record a payment by hand (collector): method cash|transfer, months, kind regular|voluntary, payer (代缴), confirm",
        post(payments::record),
    )
    .api(
        "post",
        "/api/v1/members/{id}/dues-orders",
        "dues",
        "Start an online payment for the member's due months: order_no, amount_fen, pay_url",
        post(payments::create_order),
    )
    .api(
        "post",
        "/api/v1/dues/providers/{provider}/callback",
        "dues",
        "Payment provider callback, signed (X-Dangjian-Signature); idempotent: a replay answers the same",
        post(payments::callback),
    )
    .api(
        "post",
        "/api/v1/members/{id}/dues-hardships",
        "dues",
        "Apply for hardship relief: from, to (YYYY-MM), reduced_to_fen (absent: waive), reason",
        post(ledger::apply),
    )
    .api(
        "post",
        "/api/v1/dues-hardships/{id}/discussion",
        "dues",
        "The branch's discussion of a hardship application: agreed, meeting_on, note",
        post(ledger::discuss),
    )
    .api(
        "post",
        "/api/v1/dues-hardships/{id}/decision",
        "dues",
        "The higher 党委's decision on a hardship application: approved, note",
        post(ledger::decide),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-hardships",
        "dues",
        "Hardship applications in the subtree",
        get(ledger::list_hardships),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-arrears",
        "dues",
        "Members with consecutive unpaid months at or past the reminder setting; stage reminder|case",
        get(ledger::arrears),
    )
    .api(
        "post",
        "/api/v1/members/{id}/dues-arrears-case",
        "dues",
        "Open the arrears case for the 支部大会 (6 consecutive unpaid months)",
        post(ledger::open_case),
    )
    .api(
        "post",
        "/api/v1/dues-arrears-cases/{id}/decision",
        "dues",
        "Record the decision on an arrears case: outcome justified|removal_proposed|kept, meeting_on, note",
        post(ledger::decide_case),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-settings",
        "dues",
        "The dues settings in force for the org: reminder_months",
        get(ledger::settings),
    )
    .api(
        "put",
        "/api/v1/orgs/{id}/dues-settings",
        "dues",
        "Set the arrears reminder for the org's subtree: reminder_months 1..5 (default 3)",
        put(ledger::set_settings),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-report",
        "dues",
        "Dues report of the subtree for year (and month): billed, collected, outstanding, waived, by category",
        get(reports::report),
    )
    .api(
        "get",
        "/api/v1/orgs/{id}/dues-report.xlsx",
        "dues",
        "The dues report as an Excel file",
        get(reports::report_export),
    )
    .api(
        "post",
        "/api/v1/orgs/{id}/dues-remittances",
        "dues",
        "Record 上缴 to the level above: year, month, amount_fen, large_fen, remitted_on",
        post(reports::remit),
    )
    .api(
        "get",
        "/api/v1/members/{id}/dues-paid-through",
        "dues",
        "党费交至: the last month up to which the member's dues are settled",
        get(reports::paid_through),
    )
}

//! Every dues route in one place: the API (with its documentation) and the pages.

use axum::routing::{get, post, put};

use super::{api, pages};
use crate::routes::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r
        // dues
        .api(
            "get",
            "/api/v1/dues/quote",
            "dues",
            "The monthly dues the rules in force on date (default today) give: category, base_fen, date",
            get(api::quote),
        )
        .api(
            "put",
            "/api/v1/members/{id}/dues-base/{year}",
            "dues",
            "Set the member's dues base for the year: category, base_fen; monthly_fen overrides with a reason",
            put(api::set_base),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-bills",
            "dues",
            "Generate the monthly bills of year and month for the subtree's members with a base",
            post(api::generate_bills),
        )
        .api(
            "get",
            "/api/v1/members/{id}/dues",
            "dues",
            "A member's dues for the year (default this year): base, 12 months, owed and paid",
            get(api::member_dues),
        )
    .api(
            "post",
            "/api/v1/orgs/{id}/dues-bases/import",
            "dues",
            "Import a year's bases from a payroll sheet (multipart file: 姓名, 身份证号, 计算基数（元）): year, dry_run, confirm",
            post(api::import::handler),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-bills",
            "dues",
            "The bills of the subtree for year and month, with status and the payment that settled each",
            get(api::reports::bills),
        )
        .api(
            "post",
            "/api/v1/members/{id}/dues-payments",
            "dues",
            "Record a payment by hand (collector): method cash|transfer, months, kind regular|voluntary, payer (代缴), confirm",
            post(api::payments::record),
        )
        .api(
            "post",
            "/api/v1/members/{id}/dues-orders",
            "dues",
            "Start an online payment for the member's due months: order_no, amount_fen, pay_url",
            post(api::payments::create_order),
        )
        .api(
            "post",
            "/api/v1/dues/providers/{provider}/callback",
            "dues",
            "Payment provider callback, signed (X-Dangjian-Signature); idempotent: a replay answers the same",
            post(api::payments::callback),
        )
        .api(
            "post",
            "/api/v1/members/{id}/dues-hardships",
            "dues",
            "Apply for hardship relief: from, to (YYYY-MM), reduced_to_fen (absent: waive), reason",
            post(api::ledger::apply),
        )
        .api(
            "post",
            "/api/v1/dues-hardships/{id}/discussion",
            "dues",
            "The branch's discussion of a hardship application: agreed, meeting_on, note",
            post(api::ledger::discuss),
        )
        .api(
            "post",
            "/api/v1/dues-hardships/{id}/decision",
            "dues",
            "The higher 党委's decision on a hardship application: approved, note",
            post(api::ledger::decide),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-hardships",
            "dues",
            "Hardship applications in the subtree",
            get(api::ledger::list_hardships),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-arrears",
            "dues",
            "Members with consecutive unpaid months at or past the reminder setting; stage reminder|case",
            get(api::ledger::arrears),
        )
        .api(
            "post",
            "/api/v1/members/{id}/dues-arrears-case",
            "dues",
            "Open the arrears case for the 支部大会 (6 consecutive unpaid months)",
            post(api::ledger::open_case),
        )
        .api(
            "post",
            "/api/v1/dues-arrears-cases/{id}/decision",
            "dues",
            "Record the decision on an arrears case: outcome justified|removal_proposed|kept, meeting_on, note",
            post(api::ledger::decide_case),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-settings",
            "dues",
            "The dues settings in force for the org: reminder_months",
            get(api::ledger::settings),
        )
        .api(
            "put",
            "/api/v1/orgs/{id}/dues-settings",
            "dues",
            "Set the arrears reminder for the org's subtree: reminder_months 1..5 (default 3)",
            put(api::ledger::set_settings),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-report",
            "dues",
            "Dues report of the subtree for year (and month): billed, collected, outstanding, waived, by category",
            get(api::reports::report),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-report.xlsx",
            "dues",
            "The dues report as an Excel file",
            get(api::reports::report_export),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-remittances",
            "dues",
            "Record 上缴 to the level above: year, month, amount_fen, large_fen, remitted_on",
            post(api::reports::remit),
        )
        .api(
            "get",
            "/api/v1/members/{id}/dues-paid-through",
            "dues",
            "党费交至: the last month up to which the member's dues are settled",
            get(api::reports::paid_through),
        )
    // pages
    .page("/dues", get(pages::collector))
            .page("/dues/payments", post(pages::record_payment))
            .page("/dues/generate", post(pages::generate))
            .page("/dues/hardships/{id}/discuss", post(pages::actions::discuss))
            .page("/dues/hardships/{id}/decide", post(pages::actions::decide))
            .page("/dues/cases", post(pages::actions::open_case))
            .page("/dues/bases/import", post(pages::actions::import_bases))
            .page("/dues/cases/{id}/decide", post(pages::actions::decide_case))
            .page("/dues/me", get(pages::member::my_dues))
            .page("/dues/me/pay", post(pages::member::pay))
            .page("/dues/me/hardship", post(pages::member::apply_hardship))
            .page(
                "/dues/pay/{order_no}",
                get(pages::member::fake_pay_page).post(pages::member::fake_pay),
            )
}

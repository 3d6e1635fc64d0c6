//! Every dues route in one place: the API (with its documentation and contract) and the pages.
//! Bodies and answers are typed (`api::*Body`, `api::views`).

use axum::routing::{get, post, put};

use super::api::views::{
    ArrearsCaseView, ArrearsView, BaseImportAnswer, BillView, DuesBaseView, GeneratedView, HardshipView,
    MemberDuesView, OrderView, PaidThroughView, PaymentView, QuoteView, RemittanceView, ReportView,
    SettingsView, SettledView,
};
use super::api::{self, ledger, payments, provider, reports};
use super::pages;
use crate::contract::{MULTIPART, XLSX};
use crate::routes::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r
        .api(
            "get",
            "/api/v1/dues/quote",
            "dues",
            "The monthly dues the rules in force on date (default today) give: category, base_fen, date",
            get(api::quote),
        )
        .answers::<QuoteView>()
        .api(
            "put",
            "/api/v1/members/{id}/dues-base/{year}",
            "dues",
            "Set the member's dues base for the year: category, base_fen; monthly_fen overrides with a reason",
            put(api::set_base),
        )
        .takes::<api::BaseBody>()
        .answers::<DuesBaseView>()
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-bills",
            "dues",
            "Generate the monthly bills of year and month for the subtree's members with a base",
            post(api::generate_bills),
        )
        .takes::<api::BillsBody>()
        .answers::<GeneratedView>()
        .api(
            "get",
            "/api/v1/members/{id}/dues",
            "dues",
            "A member's dues for the year (default this year): base, 12 months, owed and paid",
            get(api::member_dues),
        )
        .answers::<MemberDuesView>()
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-bases/import",
            "dues",
            "Import a year's bases from a payroll sheet (multipart file: 姓名, 身份证号, 计算基数（元）): year, dry_run, confirm",
            post(api::import::handler),
        )
        .takes_file(MULTIPART)
        .answers::<BaseImportAnswer>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-bills",
            "dues",
            "The bills of the subtree for year and month, with status and the payment that settled each",
            get(reports::bills),
        )
        .answers_list::<BillView>()
        .api(
            "post",
            "/api/v1/members/{id}/dues-payments",
            "dues",
            "Record a payment by hand (collector): method cash|transfer, months, kind regular|voluntary, payer (代缴), confirm",
            post(payments::record),
        )
        .takes::<payments::PaymentBody>()
        .answers::<PaymentView>()
        .api(
            "post",
            "/api/v1/members/{id}/dues-orders",
            "dues",
            "Start an online payment for the member's due months: order_no, amount_fen, pay_url",
            post(payments::create_order),
        )
        .takes::<payments::OrderBody>()
        .answers::<OrderView>()
        .api(
            "post",
            "/api/v1/dues/providers/{provider}/callback",
            "dues",
            "Payment provider callback, signed (X-Dangjian-Signature); idempotent: a replay answers the same",
            post(payments::callback),
        )
        .takes::<provider::CallbackBody>()
        .answers::<SettledView>()
        .api(
            "post",
            "/api/v1/members/{id}/dues-hardships",
            "dues",
            "Apply for hardship relief: from, to (YYYY-MM), reduced_to_fen (absent: waive), reason",
            post(ledger::apply),
        )
        .takes::<ledger::HardshipBody>()
        .answers::<HardshipView>()
        .api(
            "post",
            "/api/v1/dues-hardships/{id}/discussion",
            "dues",
            "The branch's discussion of a hardship application: agreed, meeting_on, note",
            post(ledger::discuss),
        )
        .takes::<ledger::DiscussionBody>()
        .answers::<HardshipView>()
        .api(
            "post",
            "/api/v1/dues-hardships/{id}/decision",
            "dues",
            "The higher 党委's decision on a hardship application: approved, note",
            post(ledger::decide),
        )
        .takes::<ledger::DecisionBody>()
        .answers::<HardshipView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-hardships",
            "dues",
            "Hardship applications in the subtree",
            get(ledger::list_hardships),
        )
        .answers_list::<HardshipView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-arrears",
            "dues",
            "Members with consecutive unpaid months at or past the reminder setting; stage reminder|case",
            get(ledger::arrears),
        )
        .answers::<ArrearsView>()
        .api(
            "post",
            "/api/v1/members/{id}/dues-arrears-case",
            "dues",
            "Open the arrears case for the 支部大会 (6 consecutive unpaid months)",
            post(ledger::open_case),
        )
        .answers::<ArrearsCaseView>()
        .api(
            "post",
            "/api/v1/dues-arrears-cases/{id}/decision",
            "dues",
            "Record the decision on an arrears case: outcome justified|removal_proposed|kept, meeting_on, note",
            post(ledger::decide_case),
        )
        .takes::<ledger::CaseDecisionBody>()
        .answers::<ArrearsCaseView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-settings",
            "dues",
            "The dues settings in force for the org: reminder_months",
            get(ledger::settings),
        )
        .answers::<SettingsView>()
        .api(
            "put",
            "/api/v1/orgs/{id}/dues-settings",
            "dues",
            "Set the arrears reminder for the org's subtree: reminder_months 1..5 (default 3)",
            put(ledger::set_settings),
        )
        .takes::<ledger::SettingsBody>()
        .answers::<SettingsView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-report",
            "dues",
            "Dues report of the subtree for year (and month): billed, collected, outstanding, waived, by category",
            get(reports::report),
        )
        .answers::<ReportView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/dues-report.xlsx",
            "dues",
            "The dues report as an Excel file",
            get(reports::report_export),
        )
        .answers_file(XLSX)
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-remittances",
            "dues",
            "Record 上缴 to the level above: year, month, amount_fen, large_fen, remitted_on",
            post(reports::remit),
        )
        .takes::<reports::RemittanceBody>()
        .answers::<RemittanceView>()
        .api(
            "get",
            "/api/v1/members/{id}/dues-paid-through",
            "dues",
            "党费交至: the last month up to which the member's dues are settled",
            get(reports::paid_through),
        )
        .answers::<PaidThroughView>()
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
        .page("/dues/pay/{order_no}", get(pages::member::fake_pay_page).post(pages::member::fake_pay))
}

//! What the dues API answers, as types: each built from the store's row, field for field as the
//! rows were serialized before the answers were typed. Money is integer 分, months `YYYY-MM`
//! text or `yyyymm` keys where the rows have them.

use dangjian_store::dues::arrears::{ArrearsCase, ArrearsLine, ArrearsList};
use dangjian_store::dues::hardship::Hardship;
use dangjian_store::dues::payment::Payment;
use dangjian_store::dues::report::{BillLine, DuesFigures, DuesReport, Remittance};
use dangjian_store::dues::{BaseSet, DuesBase, DuesMonth, MemberDues};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::contract::row_view;
use crate::contract::{date, rfc3339};

/// The monthly dues the rules give.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    /// The amount, or the minimum where the rules give a range.
    pub monthly_fen: i64,
    /// The maximum where the rules give a range (农民党员).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fen: Option<i64>,
    /// The rate applied to the whole base, in basis points (percentage categories only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_bp: Option<u32>,
    pub category: &'static str,
    /// The rule applied, e.g. "D1 2008 第二条".
    pub rule: &'static str,
    pub rule_set: &'static str,
    #[schema(format = Date)]
    pub date: String,
    /// The bracket or fixed amount applied, in the caller's language.
    pub basis: String,
}

row_view! {
    /// A member's base and monthly amount for one year.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct DuesBaseView from DuesBase as b {
        pub id: i64,
        pub person_id: i64,
        pub year: i64,
        pub category: &'static str = b.category.as_str(),
        pub base_fen: Option<i64>,
        pub monthly_fen: i64,
        pub rule_set: String,
        /// Set when `monthly_fen` was given by hand.
        pub override_reason: Option<String>,
        pub recorded_by: Option<i64>,
        #[schema(format = DateTime)]
        pub recorded_at: String = rfc3339(b.recorded_at),
    }
}

/// A base as set, and what became of the year's bills already issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaseSetView {
    #[serde(flatten)]
    pub base: DuesBaseView,
    /// Unpaid bills of the year re-issued at the new amount (a change after bills were issued
    /// needs a `reason`).
    pub bills_updated: u64,
    /// Paid or waived bills of the year left at their amount: a difference is settled by hand.
    pub bills_kept: u64,
}

impl From<BaseSet> for BaseSetView {
    fn from(s: BaseSet) -> Self {
        Self {
            base: s.base.into(),
            bills_updated: s.bills_updated,
            bills_kept: s.bills_kept,
        }
    }
}

row_view! {
    /// One month of a member's year: its bill, if one was generated.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct DuesMonthView from DuesMonth as m {
        pub month: i64,
        pub amount_fen: Option<i64>,
        /// What an approved hardship application took off the bill.
        pub relief_fen: Option<i64>,
        /// `due`, `paid`, `waived`, or null (no bill)
        pub status: Option<&'static str> = m.status.map(|s| s.as_str()),
    }
}

row_view! {
    /// A payment, by hand or online.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct PaymentView from Payment as p {
        pub id: i64,
        pub person_id: i64,
        /// 代缴: who paid for the member.
        pub payer_person_id: Option<i64>,
        pub payer_name: Option<String>,
        /// `regular`, `voluntary`
        pub kind: &'static str = p.kind.as_str(),
        /// `cash`, `transfer`, `online`
        pub method: &'static str = p.method.as_str(),
        pub amount_fen: i64,
        /// 大额党费: a one-off voluntary payment of 1000 元 or more.
        pub large: bool,
        /// The months paid, `YYYY-MM` comma-separated (regular payments).
        pub months: String,
        #[schema(format = Date)]
        pub paid_on: String = date(p.paid_on),
        pub order_id: Option<i64>,
        pub note: Option<String>,
        #[schema(format = DateTime)]
        pub recorded_at: String = rfc3339(p.recorded_at),
    }
}

row_view! {
    /// What a member owes and has paid in a year.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct MemberDuesView from MemberDues as d {
        pub year: i64,
        pub base: Option<DuesBaseView> = d.base.map(DuesBaseView::from),
        pub months: Vec<DuesMonthView> = d.months.into_iter().map(DuesMonthView::from).collect(),
        /// Due and unpaid (after relief).
        pub owed_fen: i64,
        pub paid_fen: i64,
        /// Waived or taken off on hardship.
        pub waived_fen: i64,
        pub voluntary_fen: i64,
        /// 党费交至 (`YYYY-MM`), over all the member's bills.
        pub paid_through: Option<String>,
        /// The year's payments, newest first.
        pub payments: Vec<PaymentView> = d.payments.into_iter().map(PaymentView::from).collect(),
    }
}

/// What a generation of bills created (one audit row for the batch, with the digest).
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedView {
    pub created: u64,
    pub digest: String,
    pub year: i64,
    /// Null: the whole year.
    pub month: Option<i64>,
}

/// A year's bases from a payroll sheet: `valid` after a dry run, `imported` after the real one.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaseImportAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<usize>,
    pub year: i64,
}

/// An online payment order and where the payer goes to pay it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub order_no: String,
    pub amount_fen: i64,
    /// `YYYY-MM` comma-separated
    pub months: String,
    pub provider: String,
    /// `pending`, `paid`
    pub status: &'static str,
    pub pay_url: String,
}

/// The answer to a provider's callback: the same for a replay.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettledView {
    pub order_no: String,
    /// `paid`
    pub status: String,
    pub payment_id: i64,
    pub amount_fen: i64,
}

row_view! {
    /// A hardship application (少交或免交) and where it stands.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct HardshipView from Hardship as h {
        pub id: i64,
        pub person_id: i64,
        pub person_name: String,
        pub branch_id: i64,
        /// `yyyymm`
        pub from_ym: i64,
        pub to_ym: i64,
        /// `waive`, `reduce`
        pub mode: &'static str = h.mode.as_str(),
        pub reduced_fen: Option<i64>,
        pub reason: String,
        pub retiree: bool,
        /// `applied`, `discussed`, `approved`, `refused`
        pub status: &'static str = h.status.as_str(),
        pub branch_agreed: Option<bool>,
        #[schema(format = Date)]
        pub branch_meeting_on: Option<String> = h.branch_meeting_on.map(date),
        pub branch_note: Option<String>,
        pub approver_org_id: Option<i64>,
        pub approval_note: Option<String>,
        #[schema(format = DateTime)]
        pub applied_at: String = rfc3339(h.applied_at),
    }
}

row_view! {
    /// One member on the arrears list.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct ArrearsLineView from ArrearsLine as l {
        pub person_id: i64,
        pub name: String,
        pub months_unpaid: i64,
        /// `YYYY-MM`
        pub first_unpaid: String,
        pub owed_fen: i64,
        /// `reminder` or `case`
        pub stage: &'static str,
        pub case_id: Option<i64>,
        pub case_status: Option<&'static str> = l.case_status.map(|s| s.as_str()),
    }
}

/// The arrears list of a subtree (a list answer with the settings it was judged by).
#[derive(Debug, Serialize, ToSchema)]
pub struct ArrearsView {
    /// The month judged, `YYYY-MM`.
    pub as_of: String,
    pub reminder_months: i64,
    pub case_months: i64,
    pub rule: &'static str,
    pub items: Vec<ArrearsLineView>,
    pub total: usize,
}

impl From<ArrearsList> for ArrearsView {
    fn from(l: ArrearsList) -> Self {
        Self {
            as_of: l.as_of,
            reminder_months: l.reminder_months,
            case_months: l.case_months,
            rule: l.rule,
            total: l.items.len(),
            items: l.items.into_iter().map(ArrearsLineView::from).collect(),
        }
    }
}

row_view! {
    /// An arrears case for the 支部大会.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct ArrearsCaseView from ArrearsCase as c {
        pub id: i64,
        pub person_id: i64,
        pub months_unpaid: i64,
        /// `yyyymm`
        pub first_unpaid_ym: i64,
        /// `open`, `justified`, `removal_proposed`, `kept`
        pub status: &'static str = c.status.as_str(),
        #[schema(format = Date)]
        pub meeting_on: Option<String> = c.meeting_on.map(date),
        pub decision_note: Option<String>,
        #[schema(format = DateTime)]
        pub opened_at: String = rfc3339(c.opened_at),
    }
}

/// The dues settings in force for an org (set on it or inherited from above).
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub org_id: i64,
    pub reminder_months: i64,
}

row_view! {
    /// One category's (or the whole report's) figures: `billed = collected + outstanding + waived`.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct FiguresView from DuesFigures as f {
        /// Null for the whole report.
        pub category: Option<&'static str> = f.category.map(|c| c.as_str()),
        pub bills: i64,
        pub billed_fen: i64,
        pub collected_fen: i64,
        pub outstanding_fen: i64,
        pub waived_fen: i64,
    }
}

row_view! {
    /// 上缴: what an org passed to the level above.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct RemittanceView from Remittance as r {
        pub id: i64,
        pub org_id: i64,
        /// The level above (null at the top).
        pub to_org_id: Option<i64>,
        pub year: i64,
        pub month: Option<i64>,
        pub amount_fen: i64,
        /// Of it, 大额党费.
        pub large_fen: i64,
        #[schema(format = Date)]
        pub remitted_on: String = date(r.remitted_on),
        // a remittance derefs to what was asked for (NewRemittance): its text is cloned, not moved
        pub note: Option<String> = r.note.clone(),
        #[schema(format = DateTime)]
        pub recorded_at: String = rfc3339(r.recorded_at),
    }
}

row_view! {
    /// The dues report of a subtree for a year or a month: the totals at the top level, then by
    /// category.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct ReportView from DuesReport as r {
        pub org_id: i64,
        pub org_name: String,
        pub year: i64,
        pub month: Option<i64>,
        #[serde(flatten)]
        pub total: FiguresView = r.total.into(),
        pub by_category: Vec<FiguresView> = r.by_category.into_iter().map(FiguresView::from).collect(),
        /// Voluntary payments made in the period, and of them the 大额党费.
        pub voluntary_fen: i64,
        pub large_fen: i64,
        pub large_count: i64,
        /// 上缴 recorded by orgs of the subtree for the period.
        pub remitted_fen: i64,
        pub remittances: Vec<RemittanceView> = r.remittances.into_iter().map(RemittanceView::from).collect(),
    }
}

row_view! {
    /// One bill on the collector's list, with the payment that settled it.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct BillView from BillLine as b {
        pub id: i64,
        pub person_id: i64,
        pub name: String,
        pub year: i64,
        pub month: i64,
        pub amount_fen: i64,
        pub relief_fen: i64,
        /// `due`, `paid`, `waived`
        pub status: &'static str = b.status.as_str(),
        pub payment_id: Option<i64>,
        pub method: Option<&'static str> = b.method.map(|m| m.as_str()),
        pub payer_person_id: Option<i64>,
        pub payer_name: Option<String>,
    }
}

/// 党费交至: the last month up to which the member's dues are settled.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaidThroughView {
    pub person_id: i64,
    /// `YYYY-MM`, or null before any payment.
    pub paid_through: Option<String>,
}

//! What the dues API answers, as types: each built from the store's row, field for field as the
//! rows were serialized before the answers were typed. Money is integer 分, months `YYYY-MM`
//! text or `yyyymm` keys where the rows have them.

use dangjian_store::dues::arrears::{ArrearsCase, ArrearsLine, ArrearsList};
use dangjian_store::dues::hardship::Hardship;
use dangjian_store::dues::payment::Payment;
use dangjian_store::dues::report::{BillLine, DuesFigures, DuesReport, Remittance};
use dangjian_store::dues::{DuesBase, DuesMonth, MemberDues};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::contract::date;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

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

/// A member's base and monthly amount for one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuesBaseView {
    pub id: i64,
    pub person_id: i64,
    pub year: i64,
    pub category: &'static str,
    pub base_fen: Option<i64>,
    pub monthly_fen: i64,
    pub rule_set: String,
    /// Set when `monthly_fen` was given by hand.
    pub override_reason: Option<String>,
    pub recorded_by: Option<i64>,
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

impl From<DuesBase> for DuesBaseView {
    fn from(b: DuesBase) -> Self {
        Self {
            id: b.id,
            person_id: b.person_id,
            year: b.year,
            category: b.category.as_str(),
            base_fen: b.base_fen,
            monthly_fen: b.monthly_fen,
            rule_set: b.rule_set,
            override_reason: b.override_reason,
            recorded_by: b.recorded_by,
            recorded_at: rfc3339(b.recorded_at),
        }
    }
}

/// One month of a member's year: its bill, if one was generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuesMonthView {
    pub month: i64,
    pub amount_fen: Option<i64>,
    /// What an approved hardship application took off the bill.
    pub relief_fen: Option<i64>,
    /// `due`, `paid`, `waived`, or null (no bill)
    pub status: Option<&'static str>,
}

impl From<DuesMonth> for DuesMonthView {
    fn from(m: DuesMonth) -> Self {
        Self {
            month: m.month,
            amount_fen: m.amount_fen,
            relief_fen: m.relief_fen,
            status: m.status.map(|s| s.as_str()),
        }
    }
}

/// A payment, by hand or online.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: i64,
    pub person_id: i64,
    /// 代缴: who paid for the member.
    pub payer_person_id: Option<i64>,
    pub payer_name: Option<String>,
    /// `regular`, `voluntary`
    pub kind: &'static str,
    /// `cash`, `transfer`, `online`
    pub method: &'static str,
    pub amount_fen: i64,
    /// 大额党费: a one-off voluntary payment of 1000 元 or more.
    pub large: bool,
    /// The months paid, `YYYY-MM` comma-separated (regular payments).
    pub months: String,
    #[schema(format = Date)]
    pub paid_on: String,
    pub order_id: Option<i64>,
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id,
            person_id: p.person_id,
            payer_person_id: p.payer_person_id,
            payer_name: p.payer_name,
            kind: p.kind.as_str(),
            method: p.method.as_str(),
            amount_fen: p.amount_fen,
            large: p.large,
            months: p.months,
            paid_on: date(p.paid_on),
            order_id: p.order_id,
            note: p.note,
            recorded_at: rfc3339(p.recorded_at),
        }
    }
}

/// What a member owes and has paid in a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDuesView {
    pub year: i64,
    pub base: Option<DuesBaseView>,
    pub months: Vec<DuesMonthView>,
    /// Due and unpaid (after relief).
    pub owed_fen: i64,
    pub paid_fen: i64,
    /// Waived or taken off on hardship.
    pub waived_fen: i64,
    pub voluntary_fen: i64,
    /// 党费交至 (`YYYY-MM`), over all the member's bills.
    pub paid_through: Option<String>,
    /// The year's payments, newest first.
    pub payments: Vec<PaymentView>,
}

impl From<MemberDues> for MemberDuesView {
    fn from(d: MemberDues) -> Self {
        Self {
            year: d.year,
            base: d.base.map(DuesBaseView::from),
            months: d.months.into_iter().map(DuesMonthView::from).collect(),
            owed_fen: d.owed_fen,
            paid_fen: d.paid_fen,
            waived_fen: d.waived_fen,
            voluntary_fen: d.voluntary_fen,
            paid_through: d.paid_through,
            payments: d.payments.into_iter().map(PaymentView::from).collect(),
        }
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

/// A hardship application (少交或免交) and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct HardshipView {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub branch_id: i64,
    /// `yyyymm`
    pub from_ym: i64,
    pub to_ym: i64,
    /// `waive`, `reduce`
    pub mode: &'static str,
    pub reduced_fen: Option<i64>,
    pub reason: String,
    pub retiree: bool,
    /// `applied`, `discussed`, `approved`, `refused`
    pub status: &'static str,
    pub branch_agreed: Option<bool>,
    #[schema(format = Date)]
    pub branch_meeting_on: Option<String>,
    pub branch_note: Option<String>,
    pub approver_org_id: Option<i64>,
    pub approval_note: Option<String>,
    #[schema(format = DateTime)]
    pub applied_at: String,
}

impl From<Hardship> for HardshipView {
    fn from(h: Hardship) -> Self {
        Self {
            id: h.id,
            person_id: h.person_id,
            person_name: h.person_name,
            branch_id: h.branch_id,
            from_ym: h.from_ym,
            to_ym: h.to_ym,
            mode: h.mode.as_str(),
            reduced_fen: h.reduced_fen,
            reason: h.reason,
            retiree: h.retiree,
            status: h.status.as_str(),
            branch_agreed: h.branch_agreed,
            branch_meeting_on: h.branch_meeting_on.map(date),
            branch_note: h.branch_note,
            approver_org_id: h.approver_org_id,
            approval_note: h.approval_note,
            applied_at: rfc3339(h.applied_at),
        }
    }
}

/// One member on the arrears list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArrearsLineView {
    pub person_id: i64,
    pub name: String,
    pub months_unpaid: i64,
    /// `YYYY-MM`
    pub first_unpaid: String,
    pub owed_fen: i64,
    /// `reminder` or `case`
    pub stage: &'static str,
    pub case_id: Option<i64>,
    pub case_status: Option<&'static str>,
}

impl From<ArrearsLine> for ArrearsLineView {
    fn from(l: ArrearsLine) -> Self {
        Self {
            person_id: l.person_id,
            name: l.name,
            months_unpaid: l.months_unpaid,
            first_unpaid: l.first_unpaid,
            owed_fen: l.owed_fen,
            stage: l.stage,
            case_id: l.case_id,
            case_status: l.case_status.map(|s| s.as_str()),
        }
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

/// An arrears case for the 支部大会.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArrearsCaseView {
    pub id: i64,
    pub person_id: i64,
    pub months_unpaid: i64,
    /// `yyyymm`
    pub first_unpaid_ym: i64,
    /// `open`, `justified`, `removal_proposed`, `kept`
    pub status: &'static str,
    #[schema(format = Date)]
    pub meeting_on: Option<String>,
    pub decision_note: Option<String>,
    #[schema(format = DateTime)]
    pub opened_at: String,
}

impl From<ArrearsCase> for ArrearsCaseView {
    fn from(c: ArrearsCase) -> Self {
        Self {
            id: c.id,
            person_id: c.person_id,
            months_unpaid: c.months_unpaid,
            first_unpaid_ym: c.first_unpaid_ym,
            status: c.status.as_str(),
            meeting_on: c.meeting_on.map(date),
            decision_note: c.decision_note,
            opened_at: rfc3339(c.opened_at),
        }
    }
}

/// The dues settings in force for an org (set on it or inherited from above).
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub org_id: i64,
    pub reminder_months: i64,
}

/// One category's (or the whole report's) figures: `billed = collected + outstanding + waived`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    /// Null for the whole report.
    pub category: Option<&'static str>,
    pub bills: i64,
    pub billed_fen: i64,
    pub collected_fen: i64,
    pub outstanding_fen: i64,
    pub waived_fen: i64,
}

impl From<DuesFigures> for FiguresView {
    fn from(f: DuesFigures) -> Self {
        Self {
            category: f.category.map(|c| c.as_str()),
            bills: f.bills,
            billed_fen: f.billed_fen,
            collected_fen: f.collected_fen,
            outstanding_fen: f.outstanding_fen,
            waived_fen: f.waived_fen,
        }
    }
}

/// 上缴: what an org passed to the level above.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemittanceView {
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
    pub remitted_on: String,
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

impl From<Remittance> for RemittanceView {
    fn from(r: Remittance) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            to_org_id: r.to_org_id,
            year: r.year,
            month: r.month,
            amount_fen: r.amount_fen,
            large_fen: r.large_fen,
            remitted_on: date(r.remitted_on),
            note: r.note.clone(),
            recorded_at: rfc3339(r.recorded_at),
        }
    }
}

/// The dues report of a subtree for a year or a month: the totals at the top level, then by
/// category.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    pub month: Option<i64>,
    #[serde(flatten)]
    pub total: FiguresView,
    pub by_category: Vec<FiguresView>,
    /// Voluntary payments made in the period, and of them the 大额党费.
    pub voluntary_fen: i64,
    pub large_fen: i64,
    pub large_count: i64,
    /// 上缴 recorded by orgs of the subtree for the period.
    pub remitted_fen: i64,
    pub remittances: Vec<RemittanceView>,
}

impl From<DuesReport> for ReportView {
    fn from(r: DuesReport) -> Self {
        Self {
            org_id: r.org_id,
            org_name: r.org_name,
            year: r.year,
            month: r.month,
            total: r.total.into(),
            by_category: r.by_category.into_iter().map(FiguresView::from).collect(),
            voluntary_fen: r.voluntary_fen,
            large_fen: r.large_fen,
            large_count: r.large_count,
            remitted_fen: r.remitted_fen,
            remittances: r.remittances.into_iter().map(RemittanceView::from).collect(),
        }
    }
}

/// One bill on the collector's list, with the payment that settled it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillView {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub year: i64,
    pub month: i64,
    pub amount_fen: i64,
    pub relief_fen: i64,
    /// `due`, `paid`, `waived`
    pub status: &'static str,
    pub payment_id: Option<i64>,
    pub method: Option<&'static str>,
    pub payer_person_id: Option<i64>,
    pub payer_name: Option<String>,
}

impl From<BillLine> for BillView {
    fn from(b: BillLine) -> Self {
        Self {
            id: b.id,
            person_id: b.person_id,
            name: b.name,
            year: b.year,
            month: b.month,
            amount_fen: b.amount_fen,
            relief_fen: b.relief_fen,
            status: b.status.as_str(),
            payment_id: b.payment_id,
            method: b.method.map(|m| m.as_str()),
            payer_person_id: b.payer_person_id,
            payer_name: b.payer_name,
        }
    }
}

/// 党费交至: the last month up to which the member's dues are settled.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaidThroughView {
    pub person_id: i64,
    /// `YYYY-MM`, or null before any payment.
    pub paid_through: Option<String>,
}

//! The dues pages: the collector's page for a branch (the month's bills, recording a payment,
//! the arrears list, the report), the member's phone page (what I owe and paid this year, pay
//! online), and the fake provider's pay page (demo mode).

pub(super) mod actions;
pub(super) mod member;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_rules::dues::yuan;
use dangjian_store::Cap;
use dangjian_store::dues::arrears::ArrearsList;
use dangjian_store::dues::hardship::Hardship;
use dangjian_store::dues::payment::{NewPayment, PayMethod};
use dangjian_store::dues::report::{BillLine, DuesReport};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::page::{PageForm, PageUser};
use crate::page::{Shell, error_page, render};

/// 分 as "¥12.34" for templates.
pub(crate) fn money(fen: i64) -> String {
    format!("¥{}", yuan(fen))
}

/// What the dues templates show money and labels with: 分 as "¥12.34", and the message of a
/// key made of a prefix and a value (`dues.status.` + `paid`).
pub(crate) trait DuesPage {
    fn page_shell(&self) -> &Shell;
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn st(&self, prefix: &str, v: impl AsRef<str>) -> String {
        self.page_shell().t(&format!("{prefix}{}", v.as_ref()))
    }
}

macro_rules! dues_page {
    ($($page:ty),+) => {
        $(impl $crate::dues::pages::DuesPage for $page {
            fn page_shell(&self) -> &Shell {
                &self.shell
            }
        })+
    };
}
use dues_page;

#[derive(Deserialize, Default)]
pub struct CollectorQuery {
    org: Option<i64>,
    year: Option<i64>,
    month: Option<i64>,
    done: Option<String>,
}

impl CollectorQuery {
    /// The collector's page of `org` at `year`-`month` (where a form came from).
    fn at(org: i64, year: i64, month: i64) -> Self {
        Self {
            org: Some(org),
            year: Some(year),
            month: Some(month),
            done: None,
        }
    }
}

/// Warnings the page cannot ask to confirm in a dialog, as a refusal listing them (the form
/// has a "confirm" box to send it again).
fn confirm_refusal(warnings: &[dangjian_rules::RuleWarning]) -> AppError {
    let locale = crate::i18n::current_locale();
    let text: Vec<String> = warnings
        .iter()
        .map(|w| {
            let args: Vec<(&str, String)> = w.args.iter().map(|(k, v)| (*k, v.clone())).collect();
            crate::i18n::t(locale, w.code, &args)
        })
        .collect();
    AppError::Conflict(
        dangjian_rules::RuleViolation::new("dues_page_confirm").arg("warnings", text.join("；")),
    )
}

/// The org options of the collector: the orgs their dues grants are on.
struct OrgOption {
    id: i64,
    name: String,
}

#[derive(Template)]
#[template(path = "dues/collector.html")]
struct CollectorPage {
    shell: Shell,
    orgs: Vec<OrgOption>,
    org_id: i64,
    year: i64,
    month: i64,
    bills: Vec<BillLine>,
    report: DuesReport,
    month_report: DuesReport,
    arrears: ArrearsList,
    hardships: Vec<Hardship>,
}

crate::page::has_shell!(CollectorPage);
dues_page!(CollectorPage);

impl CollectorPage {
    fn ym(&self, key: &i64) -> String {
        dangjian_rules::dues::ledger::format_ym(*key)
    }
    fn net(&self, b: &BillLine) -> String {
        money(b.amount_fen - b.relief_fen)
    }
}

async fn collector_page(state: &AppState, a: &Auth, q: &CollectorQuery) -> Result<CollectorPage, AppError> {
    let scope = a.scope(Cap::CollectDues)?;
    let mut orgs = Vec::new();
    for g in a.grants.list().iter().filter(|g| g.role.has(Cap::CollectDues)) {
        if let Ok(o) = state.store.orgs().org(&scope, g.org_id).await {
            orgs.push(OrgOption {
                id: o.id,
                name: o.name,
            });
        }
    }
    let org_id = q
        .org
        .or_else(|| orgs.first().map(|o| o.id))
        .ok_or(AppError::NotFound)?;
    let today = state.store.today();
    let year = q.year.unwrap_or_else(|| i64::from(today.year()));
    let month = q
        .month
        .filter(|m| (1..=12).contains(m))
        .unwrap_or_else(|| i64::from(u8::from(today.month())));
    let org = state.store.orgs().org(&scope, org_id).await?;
    if !orgs.iter().any(|o| o.id == org.id) {
        orgs.push(OrgOption {
            id: org.id,
            name: org.name.clone(),
        });
    }
    Ok(CollectorPage {
        shell: Shell::of(a),
        bills: state.store.dues().dues_bills(&scope, org_id, year, month).await?,
        report: state.store.dues().dues_report(&scope, org_id, year, None).await?,
        month_report: state
            .store
            .dues()
            .dues_report(&scope, org_id, year, Some(month))
            .await?,
        arrears: state.store.dues().dues_arrears(&scope, org_id).await?,
        hardships: state.store.dues().dues_hardships(&scope, org_id).await?,
        orgs,
        org_id,
        year,
        month,
    })
}

/// `GET /dues?org=&year=&month=`: the collector's page.
pub async fn collector(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<CollectorQuery>,
) -> Response {
    // a member without a dues grant has the phone page
    if a.scope(Cap::CollectDues).is_err() {
        return Redirect::to("/dues/me").into_response();
    }
    match collector_page(&state, &a, &q).await {
        Ok(mut page) => {
            if q.done.is_some() {
                page.shell.flash_info = Some(page.shell.t("dues.page.saved"));
            }
            render(&page, StatusCode::OK)
        }
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

/// The answer to a form of the collector's page at `org`, `year`, `month`: back to that month
/// with "saved" on success, a refusal (422, 409) shown on the collector's page.
async fn after_collector_post(
    state: &AppState,
    a: &Auth,
    (org, year, month): (i64, i64, i64),
    result: Result<(), AppError>,
) -> Response {
    let q = CollectorQuery::at(org, year, month);
    crate::page::after_post(
        a,
        std::future::ready(result),
        |()| format!("/dues?org={org}&year={year}&month={month}&done=1"),
        || collector_page(state, a, &q),
    )
    .await
}

/// A confirmation the collector has not given yet as a refusal listing the warnings (the page
/// cannot ask in a dialog); any other error as it is.
fn unconfirmed_as_refusal(e: AppError) -> AppError {
    match e {
        AppError::Confirm(ws) => confirm_refusal(&ws),
        e => e,
    }
}

#[derive(Deserialize)]
pub struct PaymentForm {
    org: i64,
    year: i64,
    month: i64,
    person_id: i64,
    method: String,
    kind: Option<String>,
    months: Option<String>,
    amount_yuan: Option<String>,
    payer_name: Option<String>,
    confirm: Option<String>,
}

/// "12.34" 元 → 1234 分, exactly (at most two decimals); anything else → 422 on `amount_fen`.
fn yuan_to_fen(s: &str) -> Result<i64, AppError> {
    crate::dues::api::import::yuan_digits_to_fen(s.trim()).ok_or_else(|| {
        AppError::Invalid(
            dangjian_rules::RuleViolation::field("amount_fen_invalid", "amount_fen").arg("value", s),
        )
    })
}

/// `POST /dues/payments`: a payment recorded by hand from the collector's page.
pub async fn record_payment(
    State(state): State<AppState>,
    PageForm(a, f): PageForm<PaymentForm>,
) -> Response {
    let result = async {
        let scope = a.scope(Cap::CollectDues)?;
        let method = match f.method.as_str() {
            "transfer" => PayMethod::Transfer,
            _ => PayMethod::Cash,
        };
        let voluntary = f.kind.as_deref() == Some("voluntary");
        let months = match f.months.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => s
                .split([',', '，', ' '])
                .filter(|m| !m.is_empty())
                .map(|m| dangjian_rules::dues::ledger::parse_ym("months", m).map_err(AppError::Invalid))
                .collect::<Result<Vec<_>, _>>()?,
            None if voluntary => Vec::new(),
            None => vec![f.year * 100 + f.month],
        };
        let amount_fen = match f.amount_yuan.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(yuan_to_fen(s)?),
            None => None,
        };
        state
            .store
            .dues()
            .record_dues_payment(
                &scope,
                &a.actor(),
                NewPayment {
                    person_id: f.person_id,
                    method,
                    months,
                    amount_fen,
                    voluntary,
                    payer_person_id: None,
                    payer_name: f.payer_name.clone().filter(|n| !n.trim().is_empty()),
                    paid_on: None,
                    note: None,
                    confirmed: f.confirm.is_some(),
                },
            )
            .await?;
        Ok::<_, AppError>(())
    }
    .await;
    after_collector_post(
        &state,
        &a,
        (f.org, f.year, f.month),
        result.map_err(unconfirmed_as_refusal),
    )
    .await
}

#[derive(Deserialize)]
pub struct GenerateForm {
    org: i64,
    year: i64,
    month: i64,
    whole_year: Option<String>,
}

/// `POST /dues/generate`: the month's (or the year's) bills for the org's subtree.
pub async fn generate(State(state): State<AppState>, PageForm(a, f): PageForm<GenerateForm>) -> Response {
    let month = if f.whole_year.is_some() {
        None
    } else {
        Some(f.month)
    };
    let result = async {
        let scope = a.scope(Cap::CollectDues)?;
        state
            .store
            .dues()
            .generate_dues_bills(&scope, &a.actor(), f.org, f.year, month)
            .await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        // a conflict here is not the form's to correct: the error page
        Err(e @ AppError::Conflict(_)) => error_page(Shell::of(&a), &e),
        result => after_collector_post(&state, &a, (f.org, f.year, f.month), result).await,
    }
}

/// Checkbox names `m1`…`m12` of a form → the months ticked.
pub(crate) fn ticked_months(form: &HashMap<String, String>, year: i64) -> Vec<i64> {
    (1..=12)
        .filter(|m| form.contains_key(&format!("m{m}")))
        .map(|m| year * 100 + m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_text_becomes_exact_fen() {
        assert_eq!(yuan_to_fen("45").ok(), Some(4500));
        assert_eq!(yuan_to_fen("45.5").ok(), Some(4550));
        assert_eq!(yuan_to_fen("0.07").ok(), Some(7));
        assert!(yuan_to_fen("1.234").is_err());
        assert!(yuan_to_fen("-1").is_err());
        assert!(yuan_to_fen("abc").is_err());
    }
}

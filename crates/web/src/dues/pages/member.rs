//! The member's dues on the phone: the year's months, what is owed and paid, 党费交至, and
//! online payment of the months ticked; and the fake provider's pay page (demo mode).

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_store::Cap;
use dangjian_store::dues::MemberDues;
use dangjian_store::dues::payment::DuesOrder;
use serde::Deserialize;

use super::{DuesPage, money, ticked_months};
use crate::AppState;
use crate::auth::Auth;
use crate::dues::api::provider::{
    FakeProvider, SIGNATURE_HEADER, default_provider, handle_callback, provider,
};
use crate::error::AppError;
use crate::page::{CsrfForm, Shell, error_page, render};
use crate::page::{PageForm, PageUser};

#[derive(Template)]
#[template(path = "dues/member.html")]
struct MemberPage {
    shell: Shell,
    name: String,
    dues: MemberDues,
    online: bool,
}

crate::page::has_shell!(MemberPage);
super::dues_page!(MemberPage, FakePayPage);

impl MemberPage {
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map_or_else(|| "—".to_owned(), money)
    }
    fn payable(&self, m: &dangjian_store::dues::DuesMonth) -> bool {
        m.status == Some(dangjian_rules::dues::BillStatus::Due)
            && m.amount_fen.unwrap_or(0) > m.relief_fen.unwrap_or(0)
    }
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i64>,
    applied: Option<String>,
}

async fn member_page(state: &AppState, a: &Auth, year: Option<i64>) -> Result<MemberPage, AppError> {
    let person_id = a.principal.person_id.ok_or(AppError::NotFound)?;
    let scope = a.scope(Cap::ReadMembers)?;
    let person = state.store.members().person_row(&scope, person_id).await?;
    let year = year
        .filter(|y| (2008..=2100).contains(y))
        .unwrap_or_else(|| i64::from(state.store.today().year()));
    Ok(MemberPage {
        shell: Shell::of(a),
        name: person.name,
        dues: state.store.dues().member_dues(&scope, person_id, year).await?,
        online: default_provider(state).is_some(),
    })
}

/// `GET /dues/me?year=`: the member's own dues.
pub async fn my_dues(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<YearQuery>,
) -> Response {
    match member_page(&state, &a, q.year).await {
        Ok(mut p) => {
            if q.applied.is_some() {
                p.shell.flash_info = Some(p.shell.t("dues.me.applied"));
            }
            render(&p, StatusCode::OK)
        }
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

#[derive(Deserialize)]
pub struct HardshipForm {
    from: String,
    to: String,
    reduced_to_yuan: Option<String>,
    reason: String,
}

/// `POST /dues/me/hardship`: the member's own hardship application (the branch discusses it).
pub async fn apply_hardship(
    State(state): State<AppState>,
    PageForm(a, f): PageForm<HardshipForm>,
) -> Response {
    crate::page::after_post(
        &a,
        async {
            let person_id = a.principal.person_id.ok_or(AppError::NotFound)?;
            let scope = a.scope(Cap::ReadMembers)?;
            let ym = |field: &'static str, s: &str| {
                dangjian_rules::dues::ledger::parse_ym(field, s).map_err(AppError::Invalid)
            };
            let reduced_to_fen = match f
                .reduced_to_yuan
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(s) => Some(super::yuan_to_fen(s)?),
                None => None,
            };
            state
                .store
                .dues()
                .apply_dues_hardship(
                    &scope,
                    &a.actor(),
                    dangjian_store::dues::hardship::NewHardship {
                        person_id,
                        from_ym: ym("from", &f.from)?,
                        to_ym: ym("to", &f.to)?,
                        reduced_to_fen,
                        reason: f.reason.clone(),
                    },
                )
                .await?;
            Ok(())
        },
        |()| "/dues/me?applied=1".into(),
        || member_page(&state, &a, None),
    )
    .await
}

/// `POST /dues/me/pay`: an order for the months ticked, then off to the provider's page.
pub async fn pay(
    State(state): State<AppState>,
    PageForm(a, f): PageForm<HashMap<String, String>>,
) -> Response {
    let year = f
        .get("year")
        .and_then(|y| y.parse::<i64>().ok())
        .unwrap_or_else(|| i64::from(state.store.today().year()));
    let order = async {
        let person_id = a.principal.person_id.ok_or(AppError::NotFound)?;
        let scope = a.scope(Cap::ReadMembers)?;
        let p = default_provider(&state).ok_or_else(|| {
            AppError::Conflict(dangjian_rules::RuleViolation::new("dues_online_unavailable"))
        })?;
        let order = state
            .store
            .dues()
            .create_dues_order(
                &scope,
                &a.actor(),
                person_id,
                Some(person_id),
                ticked_months(&f, year),
                p.name(),
            )
            .await?;
        Ok(p.create_order(&order)?.pay_url)
    };
    // on to the provider's pay page
    crate::page::after_post(&a, order, |url| url, || member_page(&state, &a, Some(year))).await
}

#[derive(Template)]
#[template(path = "dues/fake_pay.html")]
struct FakePayPage {
    shell: Shell,
    order: DuesOrder,
}

async fn fake_order(state: &AppState, order_no: &str) -> Result<DuesOrder, AppError> {
    if provider(state, "fake").is_none() {
        return Err(AppError::NotFound);
    }
    let order = state.store.dues().dues_order(order_no).await?;
    if order.provider != "fake" {
        return Err(AppError::NotFound);
    }
    Ok(order)
}

/// `GET /dues/pay/{order_no}`: the fake provider's page (demo mode): the order and a pay button.
pub async fn fake_pay_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(order_no): Path<String>,
) -> Response {
    match fake_order(&state, &order_no).await {
        Ok(order) => render(
            &FakePayPage {
                shell: Shell::of(&a),
                order,
            },
            StatusCode::OK,
        ),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

/// `POST /dues/pay/{order_no}`: the demo "pays": the fake provider's signed callback goes
/// through the same verification and settlement as one from outside.
pub async fn fake_pay(
    State(state): State<AppState>,
    Path(order_no): Path<String>,
    PageForm(a, _f): PageForm<CsrfForm>,
) -> Response {
    let result = async {
        let order = fake_order(&state, &order_no).await?;
        let (body, sig) = FakeProvider::new(state.store.keys.clone()).signed_callback(&order);
        let mut h = HeaderMap::new();
        let sig = HeaderValue::from_str(&sig).map_err(|e| AppError::Internal(e.into()))?;
        h.insert(SIGNATURE_HEADER, sig);
        handle_callback(&state, "fake", &h, &Bytes::from(body)).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/dues/me").into_response(),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

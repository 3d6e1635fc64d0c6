use axum::Json;
use axum::extract::State;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::audit::AuditFilter;
use dangjian_store::audit::AuditRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::contract::row_view;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiQuery, Page, optional_date};

/// `?entity=&actor=&from=&to=`: `from` and `to` are local dates (the deployment's calendar,
/// default UTC+8), both days included.
#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub actor: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The store's filter for a query: local dates become UTC bounds (from the start of `from` to
/// the end of `to`). Admins also see the rows tied to no org. Shared by the API and the page.
pub async fn audit_filter(state: &AppState, auth: &Auth, q: &AuditQuery) -> AppResult<AuditFilter> {
    let offset = state.store.local.offset;
    let start_of = |d: time::Date| d.midnight().assume_offset(offset);
    let from = optional_date("from", q.from.clone())?;
    let to = optional_date("to", q.to.clone())?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(AppError::Invalid(RuleViolation::field(
            "date_range_reversed",
            "to",
        )));
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(AuditFilter {
        entity: text(&q.entity),
        actor: text(&q.actor),
        from: from.map(start_of),
        until: to.and_then(|d| d.next_day()).map(start_of),
        include_unplaced: auth.is_global_admin(state).await?,
    })
}

row_view! {
    /// One audit record: who did what to which entity, with the state before and after (JSON text,
    /// personal data masked) and its link in the chain.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct AuditView from AuditRow as r {
        pub seq: i64,
        #[schema(format = DateTime)]
        pub at: String = crate::contract::rfc3339(r.at),
        pub user_id: Option<i64>,
        pub actor: String,
        pub action: String,
        pub entity: String,
        pub entity_id: Option<String>,
        pub org_path: Option<String>,
        pub before_json: Option<String>,
        pub after_json: Option<String>,
        pub prev_hash: String,
        pub hash: String,
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<List<AuditView>>> {
    let scope = auth.scope(Cap::ReadAudit)?;
    let filter = audit_filter(&state, &auth, &q).await?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let (rows, total) =
        dangjian_store::audit::list(&state.store.db, &scope, &filter, page.limit(), page.offset()).await?;
    Ok(Json(List::page(rows, total)))
}

//! The audit trail (审计日志): the list and the verification page.

pub mod api;
mod pages;

use crate::routes::Routes;

/// The feature's API routes (with their documentation and contracts) and pages.
#[rustfmt::skip]
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{get, post};
    r.api("get", "/api/v1/audit", "audit",
          "Audit records in the caller's subtree, newest first: entity, actor, from, to (local dates)",
          get(api::list))
        .answers_list::<api::AuditView>()
    // pages
    .page("/audit", get(pages::list))
    .page("/audit/verify", post(pages::verify))
}

use axum::Json;
use axum::extract::State;
use dangjian_store::Cap;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::extract::{ApiQuery, Page};

#[derive(Deserialize)]
pub struct AuditQuery {
    entity: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadAudit)?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let (rows, total) = dangjian_store::audit::list(
        &state.store.db,
        &scope,
        q.entity.as_deref(),
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(crate::extract::list(rows, total))
}

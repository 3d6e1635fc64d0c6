//! System: health, the server's time, the OpenAPI document and its offline reference page
//! (`/api/docs`), embedded assets.

pub mod api;
mod api_docs;

use crate::routes::Routes;

/// The feature's API routes (with their documentation and contracts) and pages.
#[rustfmt::skip]
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::get;
    // health answers the text `ok`, the document is the document: neither has a schema
    r.api("get", "/healthz", "system", "Ready check: 200 once the server is up", get(api::healthz))
        .answers_file(crate::contract::TEXT)
    .api("get", "/api/v1/time", "system",
         "The server's time and today's date in the deployment's time zone (devices set their clocks by it)",
         get(api::server_time))
        .answers::<api::ServerTime>()
    .api("get", "/api/openapi.json", "system", "This OpenAPI document", get(api::openapi))
        .answers_file(crate::contract::JSON)
    // pages
    .page("/api/docs", get(api_docs::docs))
    .page("/assets/{*path}", get(crate::page::asset))
}

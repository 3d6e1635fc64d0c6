//! Member records (党员): search, records, typed status events, the Excel roster import, export and template.

pub mod api;
mod import_page;
mod pages;
pub mod roster;

use crate::routes::Routes;

/// The feature's API routes (with their documentation) and pages.
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{get, patch, post};
    let r = r
        // members
        .api(
            "get",
            "/api/v1/members",
            "members",
            "Search members: org, subtree, status, category, q",
            get(api::search),
        )
        .answers_list::<api::MemberView>()
        .api(
            "post",
            "/api/v1/members",
            "members",
            "Create a member record",
            post(api::create),
        )
        .takes::<api::MemberBody>()
        .answers::<api::MemberView>()
        .api(
            "post",
            "/api/v1/members/import",
            "members",
            "Excel roster import (multipart file, org; ?dry_run=true): all or nothing, bad rows listed",
            post(roster::import::handler).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .takes_file(crate::contract::MULTIPART)
        .answers::<roster::import::ImportAnswer>()
        .api(
            "get",
            "/api/v1/members/export",
            "members",
            "Excel roster export: org, subtree, status, category, q",
            get(roster::export::handler),
        )
        .answers_file(crate::contract::XLSX)
        .api(
            "get",
            "/api/v1/members/import-template",
            "members",
            "The Excel roster import template",
            get(roster::template::handler),
        )
        .answers_file(crate::contract::XLSX)
        .api(
            "get",
            "/api/v1/members/{id}",
            "members",
            "One member record",
            get(api::get_one),
        )
        .answers::<api::MemberView>()
        .api(
            "patch",
            "/api/v1/members/{id}",
            "members",
            "Edit a member record's fields (not its status)",
            patch(api::update),
        )
        .takes::<api::MemberBody>()
        .answers::<api::MemberView>()
        .api(
            "get",
            "/api/v1/members/{id}/events",
            "members",
            "The member's status-event history",
            get(api::events),
        )
        .answers_list::<api::EventView>()
        .api(
            "post",
            "/api/v1/members/{id}/events",
            "members",
            "Record a typed status change",
            post(api::record_event),
        )
        .takes::<api::EventBody>()
        .answers::<api::EventView>();
    r.page("/members", get(pages::list))
        .page("/members/new", get(pages::new_form).post(pages::create))
        .page(
            "/members/import",
            get(import_page::form).post(import_page::submit),
        )
        .page("/members/{id}", get(pages::show))
        .page("/members/{id}/edit", get(pages::edit_form).post(pages::update))
        .page("/members/{id}/events", post(pages::record_event))
}

//! The organization tree (组织): orgs, their history, structural warnings and committee posts.
//! Every route is typed: its body and answer types are in `api.rs`, their schemas in the
//! OpenAPI document.

pub mod api;
mod pages;
mod settings;

use api::{EndPostBody, OrgBody, OrgChangeView, OrgView, PostBody, PostView};

use crate::contract::{Created, Done, Notice};
use crate::routes::Routes;

/// The feature's API routes (with their documentation and contracts) and pages.
#[rustfmt::skip]
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{get, patch, post, put};
    r.api("get", "/api/v1/orgs", "orgs", "The tops of the caller's visible subtrees", get(api::roots))
        .answers_list::<OrgView>()
    .api("post", "/api/v1/orgs", "orgs", "Create an organization", post(api::create))
        .takes::<OrgBody>().answers::<OrgView>()
    .api("get", "/api/v1/orgs/{id}", "orgs", "One organization", get(api::get_one))
        .answers::<OrgView>()
    .api("patch", "/api/v1/orgs/{id}", "orgs", "Rename, move, or change an organization", patch(api::update))
        .takes::<OrgBody>().answers::<OrgView>()
    .api("get", "/api/v1/orgs/{id}/children", "orgs", "Direct children", get(api::children))
        .answers_list::<OrgView>()
    .api("get", "/api/v1/orgs/{id}/tree", "orgs", "The whole subtree, flat, in path order", get(api::tree))
        .answers_list::<OrgView>()
    .api("get", "/api/v1/orgs/{id}/history", "orgs", "Renames, moves and terms", get(api::history))
        .answers_list::<OrgChangeView>()
    .api("get", "/api/v1/orgs/{id}/warnings", "orgs", "Structure warnings and the committee term's status", get(api::warnings))
        .answers_list::<Notice>()
    .api("get", "/api/v1/orgs/{id}/posts", "orgs", "Committee posts (current; ?all=true for ended)", get(api::posts))
        .answers_list::<PostView>()
    .api("post", "/api/v1/orgs/{id}/posts", "orgs", "Appoint a person to a committee post", post(api::add_post))
        .takes::<PostBody>().answers::<Created>()
    .api("post", "/api/v1/posts/{id}/end", "orgs", "End a committee post", post(api::end_post))
        .takes::<EndPostBody>().answers::<Done>()
    .api("get", "/api/v1/orgs/{id}/settings", "orgs",
         "The settings in force for the org's subtree, each with the org that sets it (or the deployment)",
         get(settings::get_settings))
        .answers::<settings::OrgSettingsView>()
    .api("put", "/api/v1/orgs/{id}/settings", "orgs",
         "Set or clear (null) settings for the org's subtree; each key needs its own capability",
         put(settings::put_settings))
        .takes::<settings::SettingsBody>().answers::<settings::OrgSettingsView>()
    // pages
    .page("/orgs", get(pages::tree))
    .page("/orgs/{id}", get(pages::show))
    .page("/orgs/{id}/settings", get(settings::page).post(settings::save))
}

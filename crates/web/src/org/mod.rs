//! The organization tree (组织): orgs, their history, structural warnings and committee posts.

pub mod api;
mod pages;

use crate::routes::Routes;

/// The feature's API routes (with their documentation) and pages.
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{get, patch, post};
    let r = r
        // organizations
        .api(
            "get",
            "/api/v1/orgs",
            "orgs",
            "The tops of the caller's visible subtrees",
            get(api::roots),
        )
        .api(
            "post",
            "/api/v1/orgs",
            "orgs",
            "Create an organization",
            post(api::create),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}",
            "orgs",
            "One organization",
            get(api::get_one),
        )
        .api(
            "patch",
            "/api/v1/orgs/{id}",
            "orgs",
            "Rename, move, or change an organization",
            patch(api::update),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/children",
            "orgs",
            "Direct children",
            get(api::children),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/tree",
            "orgs",
            "The whole subtree, flat, in path order",
            get(api::tree),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/history",
            "orgs",
            "Renames, moves and terms",
            get(api::history),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/warnings",
            "orgs",
            "Structure warnings and the committee term's status",
            get(api::warnings),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/posts",
            "orgs",
            "Committee posts (current; ?all=true for ended)",
            get(api::posts),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/posts",
            "orgs",
            "Appoint a person to a committee post",
            post(api::add_post),
        )
        .api(
            "post",
            "/api/v1/posts/{id}/end",
            "orgs",
            "End a committee post",
            post(api::end_post),
        );
    r.page("/orgs", get(pages::tree))
        .page("/orgs/{id}", get(pages::show))
}

//! Every route in one place: registered with its handler and documented for the OpenAPI
//! document in the same call, so the document cannot miss a route.

use axum::Router;
use axum::routing::MethodRouter;

use crate::AppState;
use crate::{api, pages};

#[derive(Clone, Debug, serde::Serialize)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
}

pub struct Routes {
    router: Router<AppState>,
    pub docs: Vec<RouteDoc>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            docs: Vec::new(),
        }
    }

    /// An API route: handler and documentation together.
    pub(crate) fn api(
        mut self,
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.docs.push(RouteDoc {
            method,
            path,
            summary,
            tag,
        });
        self.router = self.router.route(path, handler);
        self
    }

    /// A page or asset route (not part of the JSON API document).
    fn page(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handler);
        self
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

pub fn build() -> Routes {
    use axum::routing::{delete, get, patch, post, put};
    let r = Routes::new()
        .api(
            "get",
            "/healthz",
            "system",
            "Ready check: 200 once the server is up",
            get(api::system::healthz),
        )
        .api(
            "get",
            "/api/v1/time",
            "system",
            "The server's time and today's date in the deployment's time zone (devices set their clocks by it)",
            get(api::system::server_time),
        )
        .api(
            "get",
            "/api/openapi.json",
            "system",
            "This OpenAPI document",
            get(api::system::openapi),
        )
        // sessions and tokens
        .api(
            "post",
            "/api/v1/login",
            "auth",
            "Log in; sets the session cookie, returns csrf_token",
            post(api::session::login).layer(axum::middleware::from_fn(crate::extract::small_body)),
        )
        .api(
            "post",
            "/api/v1/logout",
            "auth",
            "End the session",
            post(api::session::logout),
        )
        .api(
            "get",
            "/api/v1/me",
            "auth",
            "The caller: username, person_id, csrf_token, grants",
            get(api::session::me),
        )
        .api(
            "post",
            "/api/v1/tokens",
            "auth",
            "Create a bearer token for the caller (expires after the deployment's token lifetime; not for devices)",
            post(api::session::create_token).layer(axum::middleware::from_fn(crate::extract::small_body)),
        )
        .api(
            "get",
            "/api/v1/tokens",
            "auth",
            "The caller's tokens that are not revoked: id, name, created_at, expires_at, last_used_at (never the secret)",
            get(api::session::list_tokens),
        )
        .api(
            "delete",
            "/api/v1/tokens/{id}",
            "auth",
            "Revoke a token: one's own, or (admin, org_admin) one of a login one may manage",
            delete(api::session::revoke_token),
        )
        .api(
            "post",
            "/api/v1/password",
            "auth",
            "Change one's own password",
            post(api::session::change_password).layer(axum::middleware::from_fn(crate::extract::small_body)),
        )
        // organizations
        .api(
            "get",
            "/api/v1/orgs",
            "orgs",
            "The tops of the caller's visible subtrees",
            get(api::org::roots),
        )
        .api(
            "post",
            "/api/v1/orgs",
            "orgs",
            "Create an organization",
            post(api::org::create),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}",
            "orgs",
            "One organization",
            get(api::org::get_one),
        )
        .api(
            "patch",
            "/api/v1/orgs/{id}",
            "orgs",
            "Rename, move, or change an organization",
            patch(api::org::update),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/children",
            "orgs",
            "Direct children",
            get(api::org::children),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/tree",
            "orgs",
            "The whole subtree, flat, in path order",
            get(api::org::tree),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/history",
            "orgs",
            "Renames, moves and terms",
            get(api::org::history),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/warnings",
            "orgs",
            "Structure warnings and the committee term's status",
            get(api::org::warnings),
        )
        .api(
            "get",
            "/api/v1/orgs/{id}/posts",
            "orgs",
            "Committee posts (current; ?all=true for ended)",
            get(api::org::posts),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/posts",
            "orgs",
            "Appoint a person to a committee post",
            post(api::org::add_post),
        )
        .api(
            "post",
            "/api/v1/posts/{id}/end",
            "orgs",
            "End a committee post",
            post(api::org::end_post),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/accounts",
            "accounts",
            "Create logins for all members of the subtree without one: 201 with the logins for a small batch, else 202 with a job",
            post(api::account::bulk_create),
        )
        .api(
            "get",
            "/api/v1/jobs/{id}",
            "accounts",
            "A background job's progress and, once, its answer (only for the login that started it)",
            get(api::account::job),
        )
        // members
        .api(
            "get",
            "/api/v1/members",
            "members",
            "Search members: org, subtree, status, category, q",
            get(api::member::search),
        )
        .api(
            "post",
            "/api/v1/members",
            "members",
            "Create a member record",
            post(api::member::create),
        )
        .api(
            "post",
            "/api/v1/members/import",
            "members",
            "Excel roster import (multipart file, org; ?dry_run=true): all or nothing, bad rows listed",
            post(crate::roster::import::handler)
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .api(
            "get",
            "/api/v1/members/export",
            "members",
            "Excel roster export: org, subtree, status, category, q",
            get(crate::roster::export::handler),
        )
        .api(
            "get",
            "/api/v1/members/import-template",
            "members",
            "The Excel roster import template",
            get(crate::roster::template::handler),
        )
        .api(
            "get",
            "/api/v1/members/{id}",
            "members",
            "One member record",
            get(api::member::get_one),
        )
        .api(
            "patch",
            "/api/v1/members/{id}",
            "members",
            "Edit a member record's fields (not its status)",
            patch(api::member::update),
        )
        .api(
            "get",
            "/api/v1/members/{id}/events",
            "members",
            "The member's status-event history",
            get(api::member::events),
        )
        .api(
            "post",
            "/api/v1/members/{id}/events",
            "members",
            "Record a typed status change",
            post(api::member::record_event),
        )
        // meetings and check-in
        .api(
            "post",
            "/api/v1/meetings",
            "meetings",
            "Plan a meeting: org_id, kind, title, starts_at, ends_at, venue",
            post(api::meeting::create),
        )
        .api(
            "get",
            "/api/v1/meetings/{id}",
            "meetings",
            "The meeting, with status planned, open or closed",
            get(api::meeting::get_one),
        )
        .api(
            "post",
            "/api/v1/meetings/{id}/leaves",
            "meetings",
            "Record an approved leave: person_id, reason",
            post(api::meeting::record_leave),
        )
        .api(
            "post",
            "/api/v1/meetings/{id}/close",
            "meetings",
            "Close the meeting: attendance becomes read-only",
            post(api::meeting::close),
        )
        .api(
            "post",
            "/api/v1/meetings/{id}/checkins",
            "meetings",
            "One check-in/presence event (idempotent by event_id)",
            post(api::meeting::checkin),
        )
        .api(
            "get",
            "/api/v1/meetings/{id}/qr",
            "meetings",
            "The current rotating QR token for self check-in (15-second windows)",
            get(api::meeting::qr),
        )
        .api(
            "get",
            "/api/v1/me/qr",
            "meetings",
            "The caller's personal QR code (60 s windows): staff post it as person_token to check them in",
            get(api::meeting::my_qr),
        )
        .api(
            "get",
            "/api/v1/meetings/{id}/stream",
            "meetings",
            "Live check-ins (Server-Sent Events); Last-Event-ID replays what was missed",
            get(api::meeting::stream),
        )
        .api(
            "get",
            "/api/v1/meetings/{id}/attendance",
            "meetings",
            "Attendance counts and each expected person's state (guests listed, not counted)",
            get(api::meeting::attendance),
        )
        .api(
            "get",
            "/api/v1/meetings/{id}/unresolved-cards",
            "meetings",
            "Cards read at the door that matched nobody expected or invited",
            get(api::meeting::unresolved_cards),
        )
        .api(
            "post",
            "/api/v1/devices",
            "meetings",
            "Register a check-in device: name, kind, org_id; returns its bearer token",
            post(api::meeting::create_device),
        )
        // dues
        .api(
            "get",
            "/api/v1/dues/quote",
            "dues",
            "The monthly dues the rules in force on date (default today) give: category, base_fen, date",
            get(api::dues::quote),
        )
        .api(
            "put",
            "/api/v1/members/{id}/dues-base/{year}",
            "dues",
            "Set the member's dues base for the year: category, base_fen; monthly_fen overrides with a reason",
            put(api::dues::set_base),
        )
        .api(
            "post",
            "/api/v1/orgs/{id}/dues-bills",
            "dues",
            "Generate the monthly bills of year and month for the subtree's members with a base",
            post(api::dues::generate_bills),
        )
        .api(
            "get",
            "/api/v1/members/{id}/dues",
            "dues",
            "A member's dues for the year (default this year): base, 12 months, owed and paid",
            get(api::dues::member_dues),
        )
        // accounts
        .api(
            "get",
            "/api/v1/users",
            "accounts",
            "Logins in the caller's subtree",
            get(api::account::list),
        )
        .api(
            "post",
            "/api/v1/users",
            "accounts",
            "Create a login with grants",
            post(api::account::create),
        )
        .api(
            "post",
            "/api/v1/users/{id}/reset-password",
            "accounts",
            "Reset a password (forced change at next login)",
            post(api::account::reset_password),
        )
        .api(
            "post",
            "/api/v1/users/{id}/disable",
            "accounts",
            "Disable a login",
            post(api::account::disable),
        )
        .api(
            "post",
            "/api/v1/users/{id}/enable",
            "accounts",
            "Enable a login again",
            post(api::account::enable),
        )
        .api(
            "post",
            "/api/v1/users/{id}/grants",
            "accounts",
            "Grant a role on an org subtree",
            post(api::account::add_grant),
        )
        .api(
            "get",
            "/api/v1/users/{id}/tokens",
            "accounts",
            "The tokens of a login one may manage (admin, org_admin)",
            get(api::account::user_tokens),
        )
        .api(
            "delete",
            "/api/v1/grants/{id}",
            "accounts",
            "Revoke a grant",
            delete(api::account::remove_grant),
        )
        // audit
        .api(
            "get",
            "/api/v1/audit",
            "audit",
            "Audit records in the caller's subtree, newest first: entity, actor, from, to (local dates)",
            get(api::audit::list),
        );
    // each domain adds its further routes in its own file
    let r = api::dues::routes::add(r);
    let r = api::meeting::routes::add(r);
    pages::add_routes(r)
}

impl Routes {
    pub(crate) fn add_page(self, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        self.page(path, handler)
    }
}

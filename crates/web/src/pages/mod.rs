//! Server-rendered pages (Chinese). Forms post to page routes that call the same store functions
//! as the JSON API; errors come back on the page in the user's words.

mod accounts;
mod home;
mod session;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::Auth;
use crate::error::AppError;
use crate::routes::Routes;

pub fn add_routes(r: Routes) -> Routes {
    use axum::routing::get;
    r.add_page("/", get(home::home))
        .add_page("/login", get(session::login_form).post(session::login_submit))
        .add_page("/logout", axum::routing::post(session::logout_submit))
        .add_page(
            "/password",
            get(session::password_form).post(session::password_submit),
        )
        .add_page(
            "/orgs/{id}/accounts",
            axum::routing::post(accounts::bulk_accounts),
        )
        .add_page("/assets/{*path}", get(asset))
}

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

async fn asset(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => {
            let mime = match path.rsplit('.').next() {
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                file.data,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A form that carries only the session's CSRF token (actions from buttons).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf_token: String,
}

/// The fields every page's layout needs.
pub(crate) struct Shell {
    lang: &'static str,
    username: Option<String>,
    csrf: String,
    flash_error: Option<String>,
    version: &'static str,
}

impl Shell {
    fn anonymous() -> Self {
        Self {
            lang: "zh-CN",
            username: None,
            csrf: String::new(),
            flash_error: None,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
    fn of(auth: &Auth) -> Self {
        Self {
            username: Some(auth.principal.username.clone()),
            csrf: auth.principal.csrf_token.clone().unwrap_or_default(),
            ..Self::anonymous()
        }
    }
}

pub(crate) fn render(t: &impl Template, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => AppError::Internal(anyhow::anyhow!("rendering a page: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    shell: Shell,
    heading: String,
    text: String,
}

pub(crate) fn error_page(shell: Shell, e: &AppError) -> Response {
    let heading = match e.status() {
        StatusCode::NOT_FOUND => "未找到".to_owned(),
        StatusCode::FORBIDDEN => "无权访问".to_owned(),
        _ => "出错了".to_owned(),
    };
    render(
        &MessagePage {
            shell,
            heading,
            text: e.message(),
        },
        e.status(),
    )
}

/// The page for a path that does not exist.
pub fn not_found_page() -> Response {
    error_page(Shell::anonymous(), &AppError::NotFound)
}

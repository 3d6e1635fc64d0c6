//! What every page shares: the `Shell` (language, user, CSRF token, navigation), rendering,
//! error pages, page authentication, embedded assets. Server-rendered pages, Chinese by default and English by the user's setting. Forms post to
//! page routes that call the same store functions as the JSON API; errors come back on the page
//! in the user's words, next to the field they concern.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use dangjian_store::Cap;

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::AppError;
use crate::i18n::{Locale, current_locale, enum_label, t};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Redirect;

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

pub(crate) async fn asset(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
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

/// A link in the page header's navigation.
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: String,
}

/// The fields every page's layout needs, and the page's language.
pub(crate) struct Shell {
    pub locale: Locale,
    pub username: Option<String>,
    pub csrf: String,
    pub flash_error: Option<String>,
    pub flash_info: Option<String>,
    pub nav: Vec<NavItem>,
    pub version: &'static str,
}

impl Shell {
    pub(crate) fn anonymous() -> Self {
        Self {
            locale: current_locale(),
            username: None,
            csrf: String::new(),
            flash_error: None,
            flash_info: None,
            nav: Vec::new(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The shell for a logged-in user: navigation by what their grants allow.
    pub(crate) fn of(auth: &Auth) -> Self {
        let locale = current_locale();
        let can = |cap: Cap| auth.grants.list().iter().any(|g| g.role.has(cap));
        let collects = can(Cap::CollectDues);
        // (shown, where, label), in the header's order
        let links = [
            (true, "/", "nav.home"),
            (can(Cap::ReadMembers), "/orgs", "nav.orgs"),
            (can(Cap::ReadMembers), "/members", "nav.members"),
            // dues: the collector's page, or a member's own
            (
                collects || auth.principal.person_id.is_some(),
                if collects { "/dues" } else { "/dues/me" },
                "nav.dues",
            ),
            (can(Cap::ManageAccounts), "/accounts", "nav.accounts"),
            (can(Cap::ReadAudit), "/audit", "nav.audit"),
        ];
        let nav = links
            .into_iter()
            .filter(|(shown, ..)| *shown)
            .map(|(_, href, key)| NavItem {
                href,
                label: t(locale, key, &[]),
            })
            .collect();
        Self {
            username: Some(auth.principal.username.clone()),
            csrf: auth.principal.csrf_token.clone().unwrap_or_default(),
            nav,
            ..Self::anonymous()
        }
    }

    pub(crate) fn with_error(mut self, message: String) -> Self {
        self.flash_error = Some(message);
        self
    }

    /// Page text in the page's language (templates: `{{ shell.t("nav.home") }}`).
    pub fn t(&self, key: &str) -> String {
        t(self.locale, key, &[])
    }

    /// An enum's label in the page's language (`kind` as in `enum.<kind>.<value>`).
    pub fn label(&self, kind: &str, value: impl AsRef<str>) -> String {
        enum_label(self.locale, kind, value.as_ref())
    }

    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.locale {
            Locale::ZhCn => "en",
            Locale::En => "zh-CN",
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
        StatusCode::NOT_FOUND => shell.t("error.not_found_title"),
        StatusCode::FORBIDDEN => shell.t("error.forbidden_title"),
        _ => shell.t("error.other_title"),
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

/// The page `build` makes, or the error page for the reason it could not: what every page
/// handler ends with, so none matches on its builder's result by hand.
pub(crate) async fn page_or_error<P: Template>(
    a: &Auth,
    build: impl std::future::Future<Output = Result<P, AppError>>,
) -> Response {
    match build.await {
        Ok(p) => render(&p, StatusCode::OK),
        Err(e) => error_page(Shell::of(a), &e),
    }
}

/// The page for a path that does not exist.
pub fn not_found_page() -> Response {
    error_page(Shell::anonymous(), &AppError::NotFound)
}

/// The logged-in user of a page request, or the response that sends them to log in (or to
/// change their initial password first).
pub(crate) async fn page_auth(state: &AppState, headers: &HeaderMap) -> Result<Auth, Response> {
    match auth::identify(state, headers).await {
        Ok(Some(a)) if a.principal.must_change_password => Err(Redirect::to("/password").into_response()),
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(error_page(Shell::anonymous(), &e)),
    }
}

/// The logged-in user of a page: without a session the request goes to the login page (or to
/// the password page while the password must be changed), so handlers never check by hand.
pub(crate) struct PageUser(pub Auth);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        page_auth(state, &parts.headers).await.map(PageUser)
    }
}

/// A form post (`application/x-www-form-urlencoded`) of a logged-in user, its `csrf_token`
/// field checked against the session's before the handler runs. `T` need not name the token.
pub(crate) struct PageForm<T>(pub Auth, pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        // who is asking first: a stranger's body is never read
        let a = page_auth(state, &parts.headers).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| error_page(Shell::of(&a), &AppError::TooLarge))?;
        #[derive(serde::Deserialize)]
        struct Token {
            #[serde(default)]
            csrf_token: String,
        }
        let token: Token = serde_urlencoded::from_bytes(&bytes).map_err(|e| malformed_form(&a, &e))?;
        if let Some(refused) = csrf_refused(&a, &token.csrf_token) {
            return Err(refused);
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| malformed_form(&a, &e))?;
        Ok(PageForm(a, form))
    }
}

/// A multipart form (an upload) of a logged-in user: its text fields, at most one file (the
/// field `file`, with its name), and its `csrf_token` checked against the session's before the
/// handler runs. Bounded: at most [`UPLOAD_FIELDS_MAX`] fields and [`UPLOAD_TEXT_MAX`] bytes a
/// text field (the body as a whole by the route's body limit); a body that breaks them is
/// refused as too large, one that is not multipart as malformed.
pub(crate) struct PageUpload(pub Auth, pub Upload);

#[derive(Debug, Default)]
pub(crate) struct Upload {
    pub fields: std::collections::HashMap<String, String>,
    /// The `file` field: its file name and bytes.
    pub file: Option<(Option<String>, Bytes)>,
}

impl Upload {
    /// A text field, trimmed ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }

    /// The file's bytes, None when absent or empty.
    pub fn file_bytes(&self) -> Option<Bytes> {
        self.file
            .as_ref()
            .map(|(_, b)| b.clone())
            .filter(|b| !b.is_empty())
    }
}

pub(crate) const UPLOAD_FIELDS_MAX: usize = 32;
pub(crate) const UPLOAD_TEXT_MAX: usize = 64 * 1024;

impl FromRequest<AppState> for PageUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let a = page_auth(state, &parts.headers).await?;
        let too_large = |a: &Auth| error_page(Shell::of(a), &AppError::TooLarge);
        // not a multipart body at all: a malformed request, not a large one
        let mut mp = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| error_page(Shell::of(&a), &AppError::Malformed(None, e.body_text())))?;
        let mut upload = Upload::default();
        let mut seen = 0;
        while let Some(field) = mp.next_field().await.map_err(|_| too_large(&a))? {
            seen += 1;
            if seen > UPLOAD_FIELDS_MAX {
                return Err(too_large(&a));
            }
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|_| too_large(&a))?;
                upload.file = Some((file_name, bytes));
            } else {
                let text = field.bytes().await.map_err(|_| too_large(&a))?;
                if text.len() > UPLOAD_TEXT_MAX {
                    return Err(too_large(&a));
                }
                upload
                    .fields
                    .insert(name, String::from_utf8_lossy(&text).into_owned());
            }
        }
        if let Some(refused) = csrf_refused(&a, upload.text("csrf_token")) {
            return Err(refused);
        }
        Ok(PageUpload(a, upload))
    }
}

fn malformed_form(a: &Auth, e: &serde_urlencoded::de::Error) -> Response {
    error_page(Shell::of(a), &AppError::Malformed(None, e.to_string()))
}

/// The refusal when a form's CSRF token is not the session's (multipart forms, read by their
/// handler, check it with this).
pub(crate) fn csrf_refused(a: &Auth, csrf_token: &str) -> Option<Response> {
    (!auth::csrf_matches(a.principal.csrf_token.as_deref(), Some(csrf_token)))
        .then(|| error_page(Shell::of(a), &AppError::Forbidden("csrf_token_invalid")))
}

/// A page whose struct carries its `Shell`, so a refusal can be shown on it (`has_shell!`).
pub(crate) trait WithShell: Template {
    fn shell_mut(&mut self) -> &mut Shell;
}

/// Implements [`WithShell`] for page structs with a `shell` field.
macro_rules! has_shell {
    ($($page:ty),+ $(,)?) => {
        $(impl $crate::page::WithShell for $page {
            fn shell_mut(&mut self) -> &mut $crate::page::Shell {
                &mut self.shell
            }
        })+
    };
}
pub(crate) use has_shell;

/// The answer to a form post (`post`, what the form asks done): on success a redirect to where `done` says (every form ends so,
/// post/redirect/get); a refusal (422, 409) shown on the page the form came from, rebuilt by
/// `again`, with its message on top; any other error — or a page that cannot be rebuilt — as
/// the error page.
pub(crate) async fn after_post<T, P, Fut>(
    a: &Auth,
    post: impl std::future::Future<Output = Result<T, AppError>>,
    done: impl FnOnce(T) -> String,
    again: impl FnOnce() -> Fut,
) -> Response
where
    P: WithShell,
    Fut: std::future::Future<Output = Result<P, AppError>>,
{
    match post.await {
        Ok(v) => Redirect::to(&done(v)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => shown_on(a, &e, again().await),
        Err(e) => error_page(Shell::of(a), &e),
    }
}

/// A refusal shown on a rebuilt page (or, if the page cannot be built, the error page).
pub(crate) fn shown_on<P: WithShell>(a: &Auth, e: &AppError, page: Result<P, AppError>) -> Response {
    match page {
        Ok(mut p) => {
            *p.shell_mut() = Shell::of(a).with_error(e.message());
            render(&p, e.status())
        }
        Err(e2) => error_page(Shell::of(a), &e2),
    }
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass as they are).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `key`'s text, or None when the catalogue has no such key (`t` returns the key itself).
pub(crate) fn t_opt(locale: Locale, key: &str) -> Option<String> {
    let text = t(locale, key, &[]);
    (text != key).then_some(text)
}

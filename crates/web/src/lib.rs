//! HTTP for dangjian: the router, sessions and CSRF, the permission guard, the JSON API (per
//! shared API.md), server-rendered pages, and embedded assets.

// features: each holds its routes, API handlers, pages and request/answer types
pub mod account;
pub mod audit;
pub mod dues;
mod home;
pub mod meeting;
pub mod member;
pub mod org;
pub mod session;
pub mod system;

// what the features share
pub mod auth;
pub mod contract;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod jobs;
mod page;
pub mod proxy;
pub mod routes;
pub mod xlsx;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use dangjian_store::Store;
use dangjian_store::meeting::writer::{AlreadyStarted, WriterHandle};
use tokio::net::TcpListener;

/// Settings of the web layer (from flags and env in the binary).
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (serve behind TLS). Also set per request from `X-Forwarded-Proto: https`.
    pub cookie_secure: bool,
    pub session_ttl: time::Duration,
    /// Failed logins allowed per username and per client address in one minute.
    pub login_failures_per_minute: i64,
    /// Consecutive failures of a username after which each further one makes it wait (1 s,
    /// 2 s, 4 s … up to `login_backoff_max`); a success starts afresh.
    pub login_backoff_after: i64,
    pub login_backoff_max: time::Duration,
    /// Proxies whose `X-Forwarded-For` names the client (`serve --trusted-proxy`).
    pub trusted_proxies: proxy::TrustedProxies,
    /// Password hashes (Argon2, tens of milliseconds of CPU and 19 MiB each) run at once; more
    /// wait up to `password_hash_wait`, then get 503 `server_busy`.
    pub password_hashes: usize,
    pub password_hash_wait: Duration,
    /// How long a bearer token made with `POST /api/v1/tokens` lives (`serve --token-days`,
    /// default 90 days). Device tokens live until revoked.
    pub token_ttl: time::Duration,
    /// `POST /api/v1/orgs/{id}/accounts` makes at most this many logins within the request
    /// (201); more run as a job (202).
    pub bulk_accounts_inline_max: usize,
    /// Demo mode: the login page lists the demo accounts.
    pub demo: bool,
    /// How often an open live stream checks that its session and grant still hold.
    pub stream_recheck: std::time::Duration,
    /// Live streams one user may hold open on a node.
    pub max_streams_per_user: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            cookie_secure: false,
            session_ttl: time::Duration::hours(12),
            login_failures_per_minute: 10,
            login_backoff_after: 5,
            login_backoff_max: time::Duration::minutes(5),
            trusted_proxies: proxy::TrustedProxies::default(),
            password_hashes: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            password_hash_wait: Duration::from_secs(5),
            token_ttl: time::Duration::days(90),
            bulk_accounts_inline_max: 25,
            demo: false,
            stream_recheck: std::time::Duration::from_secs(60),
            max_streams_per_user: 8,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub cfg: Arc<WebConfig>,
    /// The live check-in streams of this node.
    pub live: Arc<meeting::live::LiveHub>,
    /// Permits for password hashes (`WebConfig::password_hashes`).
    pub hash_permits: Arc<tokio::sync::Semaphore>,
    /// This node's background jobs (in memory only).
    pub jobs: Arc<jobs::Jobs>,
    /// The store's running check-in writer (stopped when the last clone is dropped).
    pub checkin_writer: Arc<WriterHandle>,
}

impl AppState {
    /// The node's state over `store`: starts the store's check-in writer, publishing every
    /// committed batch to this node's live hub. Refused when the store's writer runs already
    /// (one node per store); the writer stops when the last clone of the state is dropped.
    pub fn new(store: Store, cfg: WebConfig) -> Result<Self, AlreadyStarted> {
        let live = Arc::new(meeting::live::LiveHub::default());
        let (hub, offset) = (live.clone(), store.local.offset);
        let writer = store.start_checkin_writer(Some(Arc::new(move |meeting_id, events| {
            meeting::live::publish_batch(&hub, offset, meeting_id, events);
        })))?;
        Ok(Self {
            store,
            hash_permits: Arc::new(tokio::sync::Semaphore::new(cfg.password_hashes.max(1))),
            jobs: Arc::default(),
            cfg: Arc::new(cfg),
            live,
            checkin_writer: Arc::new(writer),
        })
    }
}

pub fn router(state: AppState) -> Router {
    routes::build()
        .into_router()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // bodies over the limit fail in our extractors, so the answer is API.md's 413 envelope
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
        .layer(axum::middleware::from_fn(with_locale))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Every asset is our own and embedded, so the policy allows nothing from elsewhere: scripts and
/// styles from this origin only (style attributes stay allowed for the few computed indents and
/// grid sizes), no framing (clickjacking), no referrer (the member's check-in page carries a
/// token in its address), the camera only for this origin (the door's scanner).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    res
}

/// Runs the request with its locale in scope, so errors rendered anywhere below come out in the
/// user's language: the `dj_lang` cookie (the user's setting); for the JSON API also
/// Accept-Language; else Chinese. Pages do not follow Accept-Language: the UI is Chinese unless
/// the user chooses otherwise.
async fn with_locale(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let is_api = req.uri().path().starts_with("/api/");
    let accept = || {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let lang = auth::cookie_value(headers, "dj_lang").or_else(|| if is_api { accept() } else { None });
    let locale = lang.as_deref().map(i18n::Locale::parse).unwrap_or_default();
    i18n::REQUEST_LOCALE.scope(locale, next.run(req)).await
}

/// Unknown paths: the JSON envelope under /api, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        error::AppError::NotFound.into_response()
    } else {
        page::not_found_page()
    }
}

async fn method_not_allowed() -> Response {
    use axum::response::IntoResponse;
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, axum::Json(serde_json::json!({"error": {
        "code": "method_not_allowed", "message": i18n::t(i18n::current_locale(), "method_not_allowed", &[]), "field": null
    }})))
        .into_response()
}

/// A request's log span: method and the route's pattern only — never the query string, which may
/// hold a name or an ID number.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("-", |m| m.as_str());
    tracing::debug_span!("request", method = %req.method(), route)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let checkins = meeting::live::spawn_listener(&state);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    if let Some(task) = checkins {
        task.abort();
    }
    served
}

//! Server-rendered pages (Chinese). Forms post to page routes that call the same store functions
//! as the JSON API; errors come back on the page in the user's words.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use dangjian_rules::member::{EventKind, Gender, MemberStatus};
use dangjian_rules::org::{BranchType, CommitteePost, OrgKind};
use dangjian_store::person::PersonFilter;
use dangjian_store::{Cap, Role};
use serde::Deserialize;

use crate::AppState;
use crate::api::session::{check_credentials, check_new_password, session_cookie, start_session};
use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::error::AppError;
use crate::routes::Routes;

pub fn add_routes(r: Routes) -> Routes {
    use axum::routing::get;
    r.add_page("/", get(home))
        .add_page("/login", get(login_form).post(login_submit))
        .add_page("/logout", axum::routing::post(logout_submit))
        .add_page("/password", get(password_form).post(password_submit))
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

/// The fields every page's layout needs.
struct Shell {
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

fn render(t: &impl Template, status: StatusCode) -> Response {
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

fn error_page(shell: Shell, e: &AppError) -> Response {
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

// ---------- login / logout / password ----------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    demo: bool,
    form_username: String,
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = auth::identify(&state, &headers).await {
        return Redirect::to("/").into_response();
    }
    render(
        &LoginPage {
            shell: Shell::anonymous(),
            demo: state.cfg.demo,
            form_username: String::new(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let username = f.username.trim().to_owned();
    let result = check_credentials(&state, addr, &username, &f.password).await;
    let user_id = match result {
        Ok(id) => id,
        Err(e) => {
            let message = match &e {
                AppError::Unauthorized(_) => "用户名或密码不正确".to_owned(),
                other => other.message(),
            };
            let shell = Shell {
                flash_error: Some(message),
                ..Shell::anonymous()
            };
            return render(
                &LoginPage {
                    shell,
                    demo: state.cfg.demo,
                    form_username: username,
                },
                e.status(),
            );
        }
    };
    match start_session(&state, &headers, user_id).await {
        Ok((cookie, _)) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
        Err(e) => error_page(Shell::anonymous(), &e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Ok(Some(a)) = auth::identify(&state, &headers).await
        && a.principal.csrf_token.as_deref() == Some(f.csrf_token.as_str())
        && let Some(token) = auth::cookie_value(&headers, SESSION_COOKIE)
    {
        let _ = state.store.delete_session(&token).await;
    }
    (
        [(header::SET_COOKIE, session_cookie(&state, &headers, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    shell: Shell,
    forced: bool,
}

async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match auth::identify(&state, &headers).await {
        Ok(Some(a)) => render(
            &PasswordPage {
                forced: a.principal.must_change_password,
                shell: Shell::of(&a),
            },
            StatusCode::OK,
        ),
        _ => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf_token: String,
    old_password: String,
    new_password: String,
    new_password2: String,
}

async fn password_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    let Ok(Some(a)) = auth::identify(&state, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if a.principal.csrf_token.as_deref() != Some(f.csrf_token.as_str()) {
        return error_page(Shell::of(&a), &AppError::Forbidden("csrf_token_invalid"));
    }
    let fail = |msg: String| {
        let shell = Shell {
            flash_error: Some(msg),
            ..Shell::of(&a)
        };
        render(
            &PasswordPage {
                forced: a.principal.must_change_password,
                shell,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if f.new_password != f.new_password2 {
        return fail("两次输入的新密码不一致".into());
    }
    if let Err(e) = check_new_password(&f.new_password) {
        return fail(e.message());
    }
    if f.new_password == f.old_password {
        return fail(
            AppError::Invalid(dangjian_rules::RuleViolation::field(
                "password_unchanged",
                "new_password",
            ))
            .message(),
        );
    }
    if check_credentials(&state, addr, &a.principal.username, &f.old_password)
        .await
        .is_err()
    {
        return fail("当前密码不正确".into());
    }
    let result = async {
        let hash = auth::hash_password_blocking(f.new_password.clone()).await?;
        state
            .store
            .set_password(&a.actor(), a.principal.user_id, &hash, false)
            .await?;
        start_session(&state, &headers, a.principal.user_id).await
    }
    .await;
    match result {
        Ok((cookie, _)) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
        Err(e) => fail(e.message()),
    }
}

// ---------- home ----------

struct ChildView {
    name: String,
    kind_label: &'static str,
    member_count: i64,
    formal_count: i64,
    warning_count: usize,
}

struct MemberLine {
    name: String,
    gender: &'static str,
    org_name: String,
    status: &'static str,
    joined_on: String,
    id_number: String,
}

struct OrgPanel {
    name: String,
    kind_label: &'static str,
    branch_type_label: Option<&'static str>,
    member_count: i64,
    formal_count: i64,
    term_ends_on: Option<String>,
    warnings: Vec<String>,
    posts: Vec<String>,
    children: Vec<ChildView>,
    members: Vec<MemberLine>,
}

#[derive(Template)]
#[template(path = "home_org.html")]
struct OrgHome {
    shell: Shell,
    heading: String,
    orgs: Vec<OrgPanel>,
}

#[derive(Template)]
#[template(path = "home_member.html")]
struct MemberHome {
    shell: Shell,
    person: MemberCard,
    events: Vec<(String, &'static str)>,
}

struct MemberCard {
    name: String,
    org_name: String,
    status: &'static str,
    gender: &'static str,
    ethnicity: String,
    birth_date: String,
    id_number: String,
    phone: String,
    education: String,
    joined_on: String,
    regularized_on: String,
    work_unit: String,
}

fn date_or_dash(d: Option<time::Date>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| d.to_string())
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let a = match auth::identify(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return error_page(Shell::anonymous(), &e),
    };
    if a.principal.must_change_password {
        return Redirect::to("/password").into_response();
    }
    let result = if a
        .grants
        .list()
        .iter()
        .any(|g| g.role.has(Cap::WriteMembers) || g.role.has(Cap::RunMeetings))
    {
        org_home(&state, &a).await
    } else {
        member_home(&state, &a).await
    };
    result.unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

async fn org_home(state: &AppState, a: &Auth) -> Result<Response, AppError> {
    let org_scope = a.scope(Cap::ReadOrg)?;
    let member_scope = a.scope(Cap::ReadMembers)?;
    let today = state.store.today();
    let roots = state.store.scope_roots(&org_scope).await?;
    let mut panels = Vec::new();
    for org in roots {
        let children = state.store.children(&org_scope, org.id).await?;
        let posts = state.store.posts(&org_scope, org.id, false).await?;
        let show_members = org.kind().holds_members();
        let members = if show_members {
            let f = PersonFilter {
                org_id: Some(org.id),
                subtree: true,
                limit: 500,
                ..Default::default()
            };
            state.store.people(&member_scope, &f).await?.0
        } else {
            Vec::new()
        };
        panels.push(OrgPanel {
            name: org.name.clone(),
            kind_label: org.kind().label_zh(),
            branch_type_label: org
                .branch_type()
                .filter(|b| *b != BranchType::Regular)
                .map(BranchType::label_zh),
            member_count: org.member_count,
            formal_count: org.formal_count,
            term_ends_on: match (org.term_started_on, org.term_years) {
                (Some(s), Some(y)) => {
                    Some(dangjian_rules::term_end(s, u32::try_from(y).unwrap_or(0)).to_string())
                }
                _ => None,
            },
            warnings: crate::api::org::org_warnings(&org, today)
                .into_iter()
                .filter_map(|w| w["message"].as_str().map(str::to_owned))
                .collect(),
            posts: posts
                .iter()
                .map(|p| {
                    format!(
                        "{}：{}",
                        CommitteePost::parse(&p.post).map_or("", CommitteePost::label_zh),
                        p.person_name
                    )
                })
                .collect(),
            children: children
                .iter()
                .map(|c| ChildView {
                    name: c.name.clone(),
                    kind_label: c.kind().label_zh(),
                    member_count: c.member_count,
                    formal_count: c.formal_count,
                    warning_count: crate::api::org::org_warnings(c, today).len(),
                })
                .collect(),
            members: members
                .into_iter()
                .map(|m| MemberLine {
                    gender: Gender::parse(&m.gender).map_or("", Gender::label_zh),
                    status: MemberStatus::parse(&m.status).map_or("", MemberStatus::label_zh),
                    joined_on: date_or_dash(m.joined_on),
                    name: m.name,
                    org_name: m.org_name,
                    id_number: m.id_number,
                })
                .collect(),
        });
    }
    let heading = if a.grants.has_role(Role::Admin) {
        "组织总览"
    } else {
        "本支部工作台"
    }
    .to_owned();
    let _ = OrgKind::Branch;
    Ok(render(
        &OrgHome {
            shell: Shell::of(a),
            heading,
            orgs: panels,
        },
        StatusCode::OK,
    ))
}

async fn member_home(state: &AppState, a: &Auth) -> Result<Response, AppError> {
    let Some(person_id) = a.principal.person_id else {
        return Err(AppError::Forbidden("no_member_record"));
    };
    let scope = a.scope(Cap::ReadMembers)?;
    let p = state.store.person(&scope, person_id).await?;
    let events = state.store.person_events(&scope, person_id).await?;
    let dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".to_owned());
    let card = MemberCard {
        status: MemberStatus::parse(&p.status).map_or("", MemberStatus::label_zh),
        gender: Gender::parse(&p.gender).map_or("", Gender::label_zh),
        ethnicity: dash(p.ethnicity),
        birth_date: p.birth_date.to_string(),
        id_number: p.id_number,
        phone: dash(p.phone),
        education: dash(p.education),
        joined_on: date_or_dash(p.joined_on),
        regularized_on: date_or_dash(p.regularized_on),
        work_unit: dash(p.work_unit),
        name: p.name,
        org_name: p.org_name,
    };
    let events = events
        .iter()
        .map(|e| {
            (
                e.event_date.to_string(),
                EventKind::parse(&e.kind).map_or("", EventKind::label_zh),
            )
        })
        .collect();
    Ok(render(
        &MemberHome {
            shell: Shell::of(a),
            person: card,
            events,
        },
        StatusCode::OK,
    ))
}

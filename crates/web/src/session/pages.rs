//! Login, logout and the password form.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, SESSION_COOKIE};
use crate::error::AppError;
use crate::i18n::{Locale, current_locale, t};
use crate::page::{CsrfForm, Shell, error_page, render};
use crate::session::api::{check_credentials, check_new_password, client_ip, session_cookie, start_session};

#[derive(Template)]
#[template(path = "session/login.html")]
struct LoginPage {
    shell: Shell,
    demo: bool,
    form_username: String,
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let username = f.username.trim().to_owned();
    let client = client_ip(&state, addr, &headers);
    let result = check_credentials(&state, client, &username, &f.password).await;
    let user_id = match result {
        Ok(id) => id,
        Err(e) => {
            let message = match &e {
                AppError::Unauthorized(_) => t(current_locale(), "bad_credentials", &[]),
                other => other.message(),
            };
            let mut resp = render(
                &LoginPage {
                    shell: Shell::anonymous().with_error(message),
                    demo: state.cfg.demo,
                    form_username: username,
                },
                e.status(),
            );
            if let Some(v) = e.retry_after() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
    };
    match start_session(&state, &headers, user_id).await {
        Ok((cookie, _)) => {
            // the page language follows the user's saved setting from now on
            let locale = state
                .store
                .accounts()
                .user_by_id(user_id)
                .await
                .ok()
                .flatten()
                .map(|u| u.locale)
                .unwrap_or_default();
            let lang = language_cookie(&Locale::parse(&locale));
            (
                axum::response::AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, lang)]),
                Redirect::to("/"),
            )
                .into_response()
        }
        Err(e) => error_page(Shell::anonymous(), &e),
    }
}

pub async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Ok(Some(a)) = auth::identify(&state, &headers).await
        && auth::csrf_matches(a.principal.csrf_token.as_deref(), Some(f.csrf_token.as_str()))
        && let Some(token) = auth::cookie_value(&headers, SESSION_COOKIE)
    {
        let _ = state.store.accounts().delete_session(&token).await;
    }
    (
        [(header::SET_COOKIE, session_cookie(&state, &headers, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "session/password.html")]
struct PasswordPage {
    shell: Shell,
    forced: bool,
}

pub async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
pub struct PasswordForm {
    csrf_token: String,
    old_password: String,
    new_password: String,
    new_password2: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    let Ok(Some(a)) = auth::identify(&state, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if !auth::csrf_matches(a.principal.csrf_token.as_deref(), Some(f.csrf_token.as_str())) {
        return error_page(Shell::of(&a), &AppError::Forbidden("csrf_token_invalid"));
    }
    let fail = |msg: String| {
        render(
            &PasswordPage {
                forced: a.principal.must_change_password,
                shell: Shell::of(&a).with_error(msg),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if f.new_password != f.new_password2 {
        return fail(t(current_locale(), "password.mismatch", &[]));
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
    let client = client_ip(&state, addr, &headers);
    match check_credentials(&state, client, &a.principal.username, &f.old_password).await {
        Ok(_) => {}
        Err(e @ (AppError::TooMany(_) | AppError::Busy(_))) => return fail(e.message()),
        Err(_) => return fail(t(current_locale(), "password_wrong", &[])),
    }
    let result = async {
        let hash = auth::hash_password_blocking(&state, f.new_password.clone()).await?;
        state
            .store
            .accounts()
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

/// The cookie that carries the page language (not secret; a year).
pub fn language_cookie(locale: &Locale) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "dj_lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        locale.as_str()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("dj_lang=zh-CN; Path=/"))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    csrf_token: String,
    locale: String,
}

/// The language switch in the header: saved on the user and in the cookie, back to the page.
pub async fn set_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LanguageForm>,
) -> Response {
    let Ok(Some(a)) = auth::identify(&state, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if !auth::csrf_matches(a.principal.csrf_token.as_deref(), Some(f.csrf_token.as_str())) {
        return error_page(Shell::of(&a), &AppError::Forbidden("csrf_token_invalid"));
    }
    let locale = Locale::parse(&f.locale);
    if let Err(e) = state
        .store
        .accounts()
        .set_locale(a.principal.user_id, locale.as_str())
        .await
    {
        return error_page(Shell::of(&a), &e.into());
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .map(|i| &r[i + 3..])
                .and_then(|r| r.find('/').map(|j| r[j..].to_owned()))
        })
        .unwrap_or_else(|| "/".to_owned());
    (
        [(header::SET_COOKIE, language_cookie(&locale))],
        Redirect::to(&back),
    )
        .into_response()
}

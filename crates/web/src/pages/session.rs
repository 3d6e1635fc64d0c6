//! Login, logout and the password form.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{CsrfForm, Shell, error_page, render};
use crate::AppState;
use crate::api::session::{check_credentials, check_new_password, session_cookie, start_session};
use crate::auth::{self, SESSION_COOKIE};
use crate::error::AppError;

#[derive(Template)]
#[template(path = "login.html")]
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

pub async fn logout_submit(
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

//! `/api/docs`: the OpenAPI document as a page that works offline (no external scripts, fonts
//! or styles): routes grouped by tag, with method, path, summary and path parameters, after a
//! short note on authentication and the error envelope. Public.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::AppState;
use crate::auth;
use crate::i18n::{Locale, REQUEST_LOCALE, current_locale};
use crate::page::t_opt;
use crate::page::{Shell, render};

pub(crate) struct ApiParam {
    pub name: String,
    pub kind: String,
}

pub(crate) struct ApiOp {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub params: Vec<ApiParam>,
    pub has_body: bool,
}

pub(crate) struct ApiTag {
    pub tag: String,
    pub ops: Vec<ApiOp>,
}

/// Tags in reading order; any others follow alphabetically.
const TAG_ORDER: &[&str] = &["auth", "orgs", "members", "accounts", "audit", "system"];
const METHOD_ORDER: &[&str] = &["get", "post", "put", "patch", "delete"];

fn rank(list: &[&str], s: &str) -> usize {
    list.iter().position(|x| *x == s).unwrap_or(list.len())
}

/// The document's operations grouped by tag, sorted by path and method.
pub(crate) fn grouped(doc: &Value) -> Vec<ApiTag> {
    let mut tags: Vec<ApiTag> = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return tags;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else { continue };
        for (method, op) in methods {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let params = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| ApiParam {
                            name: p["name"].as_str().unwrap_or("").to_owned(),
                            kind: p["schema"]["type"].as_str().unwrap_or("string").to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let entry = ApiOp {
                method: method.clone(),
                path: path.clone(),
                summary: op["summary"].as_str().unwrap_or("").to_owned(),
                params,
                has_body: !op["requestBody"].is_null(),
            };
            match tags.iter_mut().find(|t| t.tag == tag) {
                Some(t) => t.ops.push(entry),
                None => tags.push(ApiTag {
                    tag,
                    ops: vec![entry],
                }),
            }
        }
    }
    tags.sort_by(|a, b| (rank(TAG_ORDER, &a.tag), &a.tag).cmp(&(rank(TAG_ORDER, &b.tag), &b.tag)));
    for t in &mut tags {
        t.ops.sort_by(|a, b| {
            (&a.path, rank(METHOD_ORDER, &a.method)).cmp(&(&b.path, rank(METHOD_ORDER, &b.method)))
        });
    }
    tags
}

/// The route table does not change while the server runs: group it once.
fn cached() -> &'static [ApiTag] {
    static TAGS: OnceLock<Vec<ApiTag>> = OnceLock::new();
    TAGS.get_or_init(|| grouped(&crate::system::api::openapi_document()))
}

#[derive(Template)]
#[template(path = "system/api_docs.html")]
struct DocsPage {
    shell: Shell,
    tags: &'static [ApiTag],
    count: usize,
    cookie: &'static str,
}

impl DocsPage {
    fn tag_label(&self, tag: &str) -> String {
        t_opt(current_locale(), &format!("admin.api.tag.{tag}")).unwrap_or_else(|| tag.to_owned())
    }
}

pub async fn docs(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // a page, though under /api/: its language is the user's setting, else Chinese (not the
    // browser's Accept-Language, which the JSON API follows)
    let locale = auth::cookie_value(&headers, "dj_lang").map_or(Locale::ZhCn, |l| Locale::parse(&l));
    REQUEST_LOCALE
        .scope(locale, async move {
            // public: a logged-in reader gets the usual header, anyone else the plain one
            let shell = match auth::identify(&state, &headers).await {
                Ok(Some(a)) => Shell::of(&a),
                _ => Shell::anonymous(),
            };
            let tags = cached();
            let page = DocsPage {
                shell,
                count: tags.iter().map(|t| t.ops.len()).sum(),
                tags,
                cookie: auth::SESSION_COOKIE,
            };
            render(&page, StatusCode::OK)
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_documented_route_is_grouped_once() {
        let doc = crate::system::api::openapi_document();
        let tags = super::grouped(&doc);
        let ops: usize = tags.iter().map(|t| t.ops.len()).sum();
        let expected: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m.as_object().unwrap().len())
            .sum();
        assert_eq!(ops, expected);
        assert_eq!(tags[0].tag, "auth");
        let member = tags
            .iter()
            .flat_map(|t| &t.ops)
            .find(|o| o.path == "/api/v1/members/{id}")
            .unwrap();
        assert_eq!(member.params[0].name, "id");
    }
}

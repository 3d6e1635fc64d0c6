use axum::Json;
use serde_json::{Value, json};

pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /api/v1/time`: the server's clock and calendar day, for devices that set their clock by
/// it and for checks that must agree with the server on what "today" is.
pub async fn server_time(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> Json<ServerTime> {
    let now = state.store.now();
    let local = now.to_offset(state.store.local.offset);
    Json(ServerTime {
        now: crate::contract::rfc3339(local),
        today: local.date().to_string(),
        utc_offset: local
            .offset()
            .format(time::macros::format_description!(
                "[offset_hour sign:mandatory]:[offset_minute]"
            ))
            .unwrap_or_default(),
    })
}

/// The server's clock in the deployment's time zone.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ServerTime {
    /// RFC 3339 with the local offset.
    #[schema(format = DateTime)]
    pub now: String,
    /// The local calendar day.
    #[schema(format = Date)]
    pub today: String,
    /// e.g. `+08:00`
    pub utc_offset: String,
}

/// OpenAPI 3.1 built from the route table (every route is in it by construction).
pub async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    let mut schema_of = |c: &crate::contract::Contract| {
        for (name, s) in &c.components {
            schemas
                .entry(name.clone())
                .or_insert_with(|| serde_json::to_value(s).unwrap_or(Value::Null));
        }
        serde_json::to_value(&c.schema).unwrap_or(Value::Null)
    };
    for r in crate::routes::build().docs {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": r.summary,
            "tags": [r.tag],
            "responses": {
                "200": {"description": "OK"},
                "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(answer) = &r.answer {
            op["responses"]["2XX"] =
                json!({"description": "OK", "content": {answer.media: {"schema": schema_of(answer)}}});
            if let Some(m) = op["responses"].as_object_mut() {
                m.remove("200");
            }
        }
        if let Some(body) = &r.body {
            op["requestBody"] =
                json!({"required": true, "content": {body.media: {"schema": schema_of(body)}}});
        } else if matches!(r.method, "post" | "patch" | "put") {
            op["requestBody"] = json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        entry[r.method] = op;
    }
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]},
            "rows": {"type": "array"}, "warnings": {"type": "array"}}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "dangjian 党建 API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "See docs/API.md. Errors: {\"error\":{\"code\",\"message\",\"field\",\"rows\"}}. Unsafe requests with a session cookie need X-CSRF-Token."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "schemas": schemas
        },
        "security": [{"session": []}, {"bearer": []}]
    })
}

//! Typed contracts: request bodies and answers as Rust types whose OpenAPI schemas come from the
//! same definitions (`utoipa::ToSchema`), registered with their route (`Routes::takes`,
//! `Routes::answers`, `Routes::answers_list`), so the document cannot drift from the code.
//! New modules type every route; `tests::every_route_is_typed_or_listed` holds the rest to a
//! list that may only shrink.

use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

pub const JSON: &str = "application/json";
pub const TEXT: &str = "text/plain";
pub const MULTIPART: &str = "multipart/form-data";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PNG: &str = "image/png";
pub const EVENT_STREAM: &str = "text/event-stream";

/// An answer type built from a store row, and its `From<row>`: each field is written once,
/// with what fills it (`= expr`, over the row bound to the name after `as`), or, without one,
/// the row's field of the same name. Fields keep their order, so the JSON keys do too.
///
/// ```ignore
/// row_view! {
///     #[derive(Debug, Serialize, ToSchema)]
///     pub struct MonthView from DuesMonth as m {
///         pub month: i64,
///         pub status: Option<&'static str> = m.status.map(|s| s.as_str()),
///     }
/// }
/// ```
macro_rules! row_view {
    (
        $(#[$meta:meta])*
        pub struct $view:ident from $row:ty as $r:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty $(= $value:expr)? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $view {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl From<$row> for $view {
            fn from($r: $row) -> Self {
                Self {
                    $( $field: $crate::contract::row_view!(@value $r, $field $(, $value)?), )*
                }
            }
        }
    };
    (@value $r:ident, $field:ident) => { $r.$field };
    (@value $r:ident, $field:ident, $value:expr) => { $value };
}
pub(crate) use row_view;

/// A named schema and the schemas it refers to (components of the document).
#[derive(Clone)]
pub struct Contract {
    pub name: String,
    /// The media type it travels as: `application/json`, or a file's (`Contract::file`).
    pub media: &'static str,
    /// This schema inline (a list answer) or as a reference to `name`.
    pub schema: RefOr<Schema>,
    pub components: Vec<(String, RefOr<Schema>)>,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Contract({})", self.name)
    }
}

impl Contract {
    pub fn of<T: ToSchema>() -> Self {
        let name = T::name().into_owned();
        let mut components = vec![(name.clone(), T::schema())];
        T::schemas(&mut components);
        Self {
            schema: RefOr::Ref(Ref::from_schema_name(name.clone())),
            name,
            media: JSON,
            components,
        }
    }

    /// A file or stream of `media` type (an Excel workbook, a PNG, `text/event-stream`), or as
    /// a body a multipart upload (`multipart/form-data` with its `file` and text fields).
    pub fn file(media: &'static str) -> Self {
        let schema = if media == JSON {
            // a document of its own kind (the OpenAPI document itself)
            ObjectBuilder::new().build()
        } else if media == TEXT {
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .build()
        } else if media == MULTIPART {
            ObjectBuilder::new()
                .property(
                    "file",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Binary,
                        ))),
                )
                .required("file")
                .build()
        } else {
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Binary,
                )))
                .build()
        };
        Self {
            name: media.to_owned(),
            media,
            schema: RefOr::T(Schema::Object(schema)),
            components: Vec::new(),
        }
    }

    /// API.md's list answer, `{"items": [T…], "total": n}`.
    pub fn list_of<T: ToSchema>() -> Self {
        let item = Self::of::<T>();
        let schema = ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(item.schema.clone()))
            .required("items")
            .property("total", i64::schema())
            .required("total")
            .build();
        Self {
            name: format!("List of {}", item.name),
            media: JSON,
            schema: RefOr::T(Schema::Object(schema)),
            components: item.components,
        }
    }
}

/// A list answer: `{"items": [...], "total": n}` (API.md), `total` counting past the page.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> List<T> {
    /// A whole list (no paging): `total` is its length.
    pub fn all(items: Vec<T>) -> Self {
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        Self { items, total }
    }

    /// A whole list of answers built from store rows (owned or borrowed, as `T` is built).
    pub fn of<R>(rows: impl IntoIterator<Item = R>) -> Self
    where
        T: From<R>,
    {
        Self::all(rows.into_iter().map(T::from).collect())
    }

    /// One page of answers built from store rows, out of `total`.
    pub fn page<R>(rows: impl IntoIterator<Item = R>, total: i64) -> Self
    where
        T: From<R>,
    {
        Self {
            items: rows.into_iter().map(T::from).collect(),
            total,
        }
    }
}

/// `201 {"id": n}`: what was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// `{"ok": true}`: done, nothing more to say.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    pub ok: bool,
}

impl Done {
    pub const YES: Done = Done { ok: true };
}

/// A warning or notice a rule gives, in the caller's language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notice {
    pub code: &'static str,
    pub message: String,
}

/// A time as API.md writes it (RFC 3339, in the offset it carries).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A calendar date as API.md writes it (`YYYY-MM-DD`).
pub fn date(d: time::Date) -> String {
    d.to_string()
}

#[cfg(test)]
mod tests {
    /// Every route has its contract: an answer type, and a body type where the method takes a
    /// body (or it is listed in `BODYLESS`). A new route without `takes`/`answers` fails here.
    #[test]
    fn every_route_is_typed() {
        let untyped: Vec<String> = crate::routes::build()
            .docs
            .iter()
            .map(|d| (d, format!("{} {}", d.method.to_uppercase(), d.path)))
            .filter(|(d, key)| {
                let needs_body = matches!(d.method, "post" | "put" | "patch");
                d.answer.is_none() || (needs_body && d.body.is_none() && !BODYLESS.contains(&key.as_str()))
            })
            .map(|(_, key)| key)
            .collect();
        assert!(untyped.is_empty(), "routes without a typed contract: {untyped:?}");
    }

    /// Every `$ref` of the served document names a schema it carries.
    #[test]
    fn every_schema_reference_resolves() {
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x.as_str()) {
                            ("$ref", Some(r)) => out.push(r.to_owned()),
                            _ => refs(x, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let doc = crate::system::api::openapi_document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 20, "the typed routes refer to their schemas");
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(&r);
            assert!(doc["components"]["schemas"].get(name).is_some(), "dangling {r}");
        }
    }

    /// Unsafe routes that take no body (an action on the path alone).
    const BODYLESS: &[&str] = &[
        "POST /api/v1/logout",
        "POST /api/v1/orgs/{id}/accounts",
        "POST /api/v1/users/{id}/reset-password",
        "POST /api/v1/users/{id}/disable",
        "POST /api/v1/users/{id}/enable",
        // dues
        "POST /api/v1/members/{id}/dues-arrears-case",
        // meetings
        "POST /api/v1/meetings/{id}/close",
        "POST /api/v1/meetings/{id}/notice",
    ];
}

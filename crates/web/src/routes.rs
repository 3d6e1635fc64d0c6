//! Every route in one place: registered with its handler and documented for the OpenAPI
//! document in the same call, so the document cannot miss a route.

use axum::Router;
use axum::routing::MethodRouter;

use crate::AppState;
use crate::contract::Contract;

#[derive(Clone, Debug, serde::Serialize)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// The request body's type (`Routes::takes`).
    #[serde(skip)]
    pub body: Option<Contract>,
    /// The success answer's type (`Routes::answers`, `Routes::answers_list`).
    #[serde(skip)]
    pub answer: Option<Contract>,
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
            body: None,
            answer: None,
        });
        self.router = self.router.route(path, handler);
        self
    }

    /// The request body type of the route registered last.
    pub(crate) fn takes<T: utoipa::ToSchema>(mut self) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.body = Some(Contract::of::<T>());
        }
        self
    }

    /// The answer type of the route registered last.
    pub(crate) fn answers<T: utoipa::ToSchema>(mut self) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.answer = Some(Contract::of::<T>());
        }
        self
    }

    /// The route registered last answers a file or stream of `media` type (`contract::XLSX`, …).
    pub(crate) fn answers_file(mut self, media: &'static str) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.answer = Some(Contract::file(media));
        }
        self
    }

    /// The route registered last takes a multipart upload (`contract::MULTIPART`) or a raw
    /// file of `media` type.
    pub(crate) fn takes_file(mut self, media: &'static str) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.body = Some(Contract::file(media));
        }
        self
    }

    /// The route registered last answers a list of `T` (`{"items", "total"}`).
    pub(crate) fn answers_list<T: utoipa::ToSchema>(mut self) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.answer = Some(Contract::list_of::<T>());
        }
        self
    }

    /// A page or asset route (not part of the JSON API document).
    pub(crate) fn page(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handler);
        self
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// The whole route table: each feature registers its API routes (with their documentation)
/// and its pages; this only puts them together.
pub fn build() -> Routes {
    let r = Routes::new();
    let r = crate::system::routes(r);
    let r = crate::session::routes(r);
    let r = crate::home::routes(r);
    let r = crate::org::routes(r);
    let r = crate::account::routes(r);
    let r = crate::member::routes(r);
    let r = crate::meeting::routes(r);
    let r = crate::dues::routes(r);
    crate::audit::routes(r)
}

//! Dues (党费): the official brackets, bases, bills, payments (by hand and online), relief,
//! arrears, reports. `routes.rs` lists every dues URL; `api/` answers JSON, `pages/` renders
//! HTML.

pub mod api;
mod pages;
mod routes;

pub(crate) use routes::routes;

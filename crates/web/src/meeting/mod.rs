//! Meetings and live check-in (会议、签到): planning, leave, check-in and the live stream,
//! records, seats, cadence. `routes.rs` lists every meeting URL with its contract; `api/` holds
//! the body and view types and answers JSON, `pages/` renders HTML (with the same parsing),
//! `live.rs` fans committed check-ins out to the open streams.

pub mod api;
pub mod live;
mod pages;
mod routes;

pub(crate) use routes::routes;

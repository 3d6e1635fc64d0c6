//! The JSON API under /api/v1 (shared API.md is the contract).

pub mod account;
pub mod audit;
pub mod dues;
pub mod meeting;
pub mod member;
pub mod org;
pub mod session;
pub mod system;

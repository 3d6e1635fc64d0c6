//! Integration tests through the real server and database. One test binary (one link step).
//! SQLite by default; `DANGJIAN_TEST_DB=postgres` runs the same tests on PostgreSQL.

mod helpers;

mod accounts;
mod admin_pages;
mod audit;
mod auth;
mod calendar;
mod config;
mod demo;
mod dues;
mod durability;
mod engines;
mod hardening;
mod hostile_files;
mod login_limits;
mod meetings;
mod members;
mod moves;
mod org_settings;
mod orgs;
mod pages;
mod permissions;
mod privacy;
mod roster;
mod row_enums;
mod tokens;

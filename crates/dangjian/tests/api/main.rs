//! Integration tests through the real server and database. One test binary (one link step).
//! SQLite by default; `DANGJIAN_TEST_DB=postgres` runs the same tests on PostgreSQL.

mod helpers;

mod accounts;
mod audit;
mod calendar;
mod config;
mod demo;
mod dues;
mod durability;
mod engines;
mod hardening;
mod hostile_files;
mod meetings;
mod members;
mod orgs;
mod pages;
mod permissions;
mod row_enums;

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
mod dues_bases;
mod dues_ledger;
mod dues_pages;
mod dues_payments;
mod durability;
mod engines;
mod hardening;
mod hostile_files;
mod login_limits;
mod meetings;
mod meetings_cadence;
mod meetings_live;
mod meetings_plan;
mod meetings_records;
mod meetings_seats;
mod meetings_window;
mod meetings_writer;
mod members;
mod moves;
mod orgs;
mod pages;
mod permissions;
mod privacy;
mod roster;
mod row_enums;
mod tokens;

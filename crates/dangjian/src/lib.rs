//! The dangjian binary as a library: CLI, config and demo data, so tests drive the same code.

pub mod cli;
pub mod config;
pub mod demo;

//! Demo data: a realistic organization tree with members, made up but valid.

pub mod generate;
pub mod load;

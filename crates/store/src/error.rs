use dangjian_rules::{RuleViolation, RuleWarning};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Missing, or outside the caller's scope: the two are indistinguishable on purpose.
    #[error("not found")]
    NotFound,
    /// No grant carries the capability at all (403).
    #[error("forbidden")]
    Forbidden,
    /// Invalid input or a rule refusal (422).
    #[error("{0}")]
    Rule(RuleViolation),
    /// Conflicts with the current state (409), e.g. a duplicate ID number.
    #[error("conflict: {0}")]
    Conflict(RuleViolation),
    /// Warnings the user may override by confirming (409 `confirmation_required`).
    #[error("confirmation required")]
    ConfirmationRequired(Vec<RuleWarning>),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("internal: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<RuleViolation> for StoreError {
    fn from(v: RuleViolation) -> Self {
        StoreError::Rule(v)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

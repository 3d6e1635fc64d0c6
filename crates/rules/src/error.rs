//! A refusal by a rule: a stable snake_case code (the contract; messages are looked up per
//! locale by the web layer), the field it concerns, and named arguments for the message.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleViolation {
    /// Stable code, e.g. `id_number_checksum`; also the message key in the locale files.
    pub code: &'static str,
    /// The input field concerned, if any (API field name, e.g. `id_number`).
    pub field: Option<&'static str>,
    /// Named values the message interpolates, e.g. `("min", "3")`.
    pub args: Vec<(&'static str, String)>,
}

impl RuleViolation {
    pub fn new(code: &'static str) -> Self {
        Self {
            code,
            field: None,
            args: Vec::new(),
        }
    }
    pub fn field(code: &'static str, field: &'static str) -> Self {
        Self {
            code,
            field: Some(field),
            args: Vec::new(),
        }
    }
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
    #[must_use]
    pub fn on(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}", self.code)?;
        if let Some(field) = self.field {
            write!(f, " on {field}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleViolation {}

/// A warning the user may override (the rules' "一般/normally" cases): shown, confirmed, audited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleWarning {
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl RuleWarning {
    pub fn new(code: &'static str) -> Self {
        Self {
            code,
            args: Vec::new(),
        }
    }
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// The `args` of a violation or warning, written as literals in tests.
#[cfg(test)]
pub(crate) fn args(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|&(name, value)| (name, value.to_string()))
        .collect()
}

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
    /// A roster import refused: every bad row with what is wrong (422 `import_rows_invalid`).
    #[error("{} bad rows", .0.len())]
    Rows(Vec<RowError>),
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

/// One refusal in an imported file: the row as Excel numbers it (the header is row 1) and the
/// violation, whose `field` is the API field name of the column (`id_number`, `joined_on`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub violation: RuleViolation,
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<dangjian_rules::enums::UnknownValue> for StoreError {
    fn from(e: dangjian_rules::enums::UnknownValue) -> Self {
        StoreError::Internal(anyhow::Error::new(e).context("decoding a stored value"))
    }
}

/// A stored enum value read as text outside a `FromRow` type (tuples, JSON columns): an unknown
/// value is an error, never a default.
pub fn decode<T: std::str::FromStr<Err = dangjian_rules::enums::UnknownValue>>(s: &str) -> StoreResult<T> {
    Ok(s.parse()?)
}

/// A nullable enum column as read (`#[sqlx(try_from = "NullableText")]` on an `Option<Enum>`
/// field): NULL is `None`, any other value must be one the enum knows.
pub struct NullableText(Option<String>);

impl<DB: sqlx::Database> sqlx::Type<DB> for NullableText
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for NullableText
where
    Option<String>: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(NullableText(<Option<String> as sqlx::Decode<'r, DB>>::decode(
            value,
        )?))
    }
}

impl<T> TryFrom<NullableText> for Option<T>
where
    T: TryFrom<String, Error = dangjian_rules::enums::UnknownValue>,
{
    type Error = dangjian_rules::enums::UnknownValue;
    fn try_from(text: NullableText) -> Result<Self, Self::Error> {
        text.0.map(T::try_from).transpose()
    }
}

impl From<dangjian_rules::meeting::plan::PlanRefusal> for StoreError {
    fn from(r: dangjian_rules::meeting::plan::PlanRefusal) -> Self {
        use dangjian_rules::meeting::plan::PlanRefusal;
        match r {
            PlanRefusal::Invalid(v) => StoreError::Rule(v),
            PlanRefusal::Conflict(v) => StoreError::Conflict(v),
            PlanRefusal::NotFound => StoreError::NotFound,
        }
    }
}

//! Stored as snake_case TEXT (with a CHECK in the schema); Chinese labels for pages and Excel.
//!
//! Rows are decoded into these enums where they are read (`TryFrom<String>`, which the store's
//! rows use via `#[sqlx(try_from = "String")]`): a value the enum does not know is an error
//! there, never a silent default.

/// A stored value no variant of the enum carries (a newer schema, a hand edit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    /// The enum's name, e.g. `MeetingStatus`.
    pub of: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} value `{}`", self.of, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a string enum: `as_str` (the stored/API value), `parse`, `label_zh`, `ALL`, and
/// `TryFrom<String>`/`FromStr` refusing unknown values with [`UnknownValue`].
#[macro_export]
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
            /// Accepts the stored value or the Chinese label (as Excel sheets carry it).
            pub fn parse_label(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::parse(s).or_else(|| Self::ALL.iter().copied().find(|v| v.label_zh() == s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::enums::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::enums::UnknownValue {
                    of: stringify!($name),
                    value: s.to_owned(),
                })
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::enums::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown value `{s}`")))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::meeting::{MeetingStatus, ShownStatus};

    #[test]
    fn a_stored_value_decodes_and_an_unknown_one_is_an_error() {
        assert_eq!(
            MeetingStatus::try_from("closed".to_owned()),
            Ok(MeetingStatus::Closed)
        );
        let e = MeetingStatus::try_from("cancelled".to_owned()).unwrap_err();
        assert_eq!((e.of, e.value.as_str()), ("MeetingStatus", "cancelled"));
        assert_eq!(e.to_string(), "unknown MeetingStatus value `cancelled`");
        assert_eq!("cancelled".parse::<ShownStatus>(), Ok(ShownStatus::Cancelled));
        assert!("".parse::<ShownStatus>().is_err());
    }
}

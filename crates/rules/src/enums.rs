//! Stored as snake_case TEXT (with a CHECK in the schema); Chinese labels for pages and Excel.

/// Declares a string enum: `as_str` (the stored/API value), `parse`, `label_zh`, `ALL`.
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

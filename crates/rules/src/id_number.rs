//! 公民身份号码 (GB 11643-1999): 6-digit area, 8-digit birth date, 3-digit sequence (odd = male),
//! one check character. Built only by `parse`; `Debug` prints the masked form so a log never
//! carries a full number.

use std::fmt;

use time::{Date, Month};

use crate::RuleViolation;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The check character for the first 17 digits (callers guarantee 17 ASCII digits).
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses and checks length, digits, the birth date (a real date, 1900 or later) and the
    /// check character. Lower-case `x` is accepted and stored upper-case.
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        let s = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(RuleViolation::field("id_number_length", "id_number").arg("len", s.chars().count()));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(RuleViolation::field("id_number_format", "id_number"));
        }
        if birth_date_of(b).is_none() {
            return Err(RuleViolation::field("id_number_birth_date", "id_number"));
        }
        if b[17] != check_char(&b[..17]) {
            return Err(RuleViolation::field("id_number_checksum", "id_number"));
        }
        Ok(Self(s))
    }

    /// Also refuses a birth date after `today` (the date the input is judged on).
    pub fn parse_on(raw: &str, today: Date) -> Result<Self, RuleViolation> {
        let id = Self::parse(raw)?;
        if id.birth_date() > today {
            return Err(RuleViolation::field("id_number_birth_date", "id_number"));
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        // parse() guarantees a valid date
        birth_date_of(self.0.as_bytes()).unwrap_or(Date::MIN)
    }

    /// The 17th digit: odd for men, even for women.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// `110105********002X`: area code and the last four characters.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

/// Masks any stored ID string the same way, even one that no longer parses.
pub fn mask_id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

fn birth_date_of(b: &[u8]) -> Option<Date> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> { std::str::from_utf8(&b[r]).ok()?.parse().ok() };
    let year = i32::try_from(num(6..10)?).ok()?;
    let month = Month::try_from(u8::try_from(num(10..12)?).ok()?).ok()?;
    let day = u8::try_from(num(12..14)?).ok()?;
    if year < 1900 {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = RuleViolation;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl<'de> serde::Deserialize<'de> for IdNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_valid_number_with_x() {
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(
            id.birth_date(),
            Date::from_calendar_date(1949, Month::December, 31).unwrap()
        );
        assert!(!id.is_male());
    }

    #[test]
    fn refuses_a_wrong_check_character() {
        assert_eq!(
            IdNumber::parse("110105194912310021").unwrap_err().code,
            "id_number_checksum"
        );
    }

    #[test]
    fn refuses_an_impossible_birth_date() {
        // 1990-02-30 with a check character computed for it
        let mut s = b"11010519900230001".to_vec();
        s.push(check_char(&s));
        let s = String::from_utf8(s).unwrap();
        assert_eq!(IdNumber::parse(&s).unwrap_err().code, "id_number_birth_date");
    }

    #[test]
    fn debug_never_shows_the_full_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
    }
}

//! Masking of personal data for pages, exports and logs (domain-rules §8: ID numbers, phones and
//! statuses are sensitive \[U\]: minimise, scope, mask). Masks keep the length in characters so a
//! column lines up, and replace each hidden character with one `*`.

pub use crate::id_number::mask_id_number;

/// Masks a phone number (domain-rules §8).
///
/// - An 11-digit mainland mobile number (ASCII digits, starting with 1) keeps its first 3 and
///   last 4 digits: `13812345678` → `138****5678`.
/// - Anything else keeps at most its first 3 and last 2 characters: at the start a quarter of
///   its length (rounded down, at most 3), at the end a fifth (at most 2), so more than half is
///   always hidden: `010-62751234` → `010*******34`, `62751234` → `62*****4`. Strings shorter
///   than 4 characters are all stars.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let (head, tail) = if n == 11 && chars[0] == '1' && chars.iter().all(char::is_ascii_digit) {
        (3, 4)
    } else {
        ((n / 4).min(3), (n / 5).min(2))
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_masked_by_their_shape() {
        let cases = [
            (
                "a mobile number keeps its first three and last four digits",
                "13812345678",
                "138****5678",
            ),
            (
                "eleven digits not starting with 1 are masked as any other string",
                "01062751234",
                "01*******34",
            ),
            (
                "a landline with area code keeps three and two",
                "010-62751234",
                "010*******34",
            ),
            ("a short number shows less", "62751234", "62*****4"),
            ("a short number shows less", "12345", "1***5"),
            ("a short number shows less", "1234", "1***"),
            ("very short strings are all stars", "", ""),
            ("very short strings are all stars", "1", "*"),
            ("very short strings are all stars", "123", "***"),
            (
                "masking counts characters, not bytes",
                "电话一二三四五六七八",
                "电话******七八",
            ),
        ];
        for (case, phone, masked) in cases {
            assert_eq!(mask_phone(phone), masked, "{case}: {phone:?}");
        }
    }

    #[test]
    fn an_id_number_is_masked_from_this_module_too() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
    }
}

//! Pinyin initials of a name (王小明 → "wxm"), so staff can find people by typing a few letters.

use pinyin::ToPinyin;

/// Lower-case initials of each Chinese character; other letters and digits kept as they are.
pub fn initials(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_of_a_chinese_name() {
        assert_eq!(super::initials("王小明"), "wxm");
        assert_eq!(super::initials("欧阳 Li"), "oyli");
    }
}

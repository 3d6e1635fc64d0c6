//! Messages per locale, from `locales/<lang>.txt` (`key = text with {arg}` lines), embedded at
//! build time. The locale is passed explicitly (per request), never set globally.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    ZhCn,
    En,
}

impl Locale {
    pub fn parse(s: &str) -> Self {
        if s.starts_with("en") {
            Locale::En
        } else {
            Locale::ZhCn
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// The message files of each language, one per domain (`locales/<lang>/<domain>.txt`); the same
/// domains in every language.
pub const ZH_CN: &[&str] = &[
    include_str!("../locales/zh-CN/core.txt"),
    include_str!("../locales/zh-CN/member.txt"),
    include_str!("../locales/zh-CN/xlsx.txt"),
    include_str!("../locales/zh-CN/pages.txt"),
    include_str!("../locales/zh-CN/account.txt"),
    include_str!("../locales/zh-CN/dues.txt"),
    include_str!("../locales/zh-CN/meeting.txt"),
];
pub const EN: &[&str] = &[
    include_str!("../locales/en/core.txt"),
    include_str!("../locales/en/member.txt"),
    include_str!("../locales/en/xlsx.txt"),
    include_str!("../locales/en/pages.txt"),
    include_str!("../locales/en/account.txt"),
    include_str!("../locales/en/dues.txt"),
    include_str!("../locales/en/meeting.txt"),
];

pub fn parse_catalog(files: &[&'static str]) -> HashMap<&'static str, &'static str> {
    files
        .iter()
        .flat_map(|f| f.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn catalog(locale: Locale) -> &'static HashMap<&'static str, &'static str> {
    static ZH: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    static EN_CAT: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    match locale {
        Locale::ZhCn => ZH.get_or_init(|| parse_catalog(ZH_CN)),
        Locale::En => EN_CAT.get_or_init(|| parse_catalog(EN)),
    }
}

/// The message for `key` with `{name}` placeholders filled; the key itself if none is known.
pub fn t(locale: Locale, key: &str, args: &[(&str, String)]) -> String {
    let Some(template) = catalog(locale)
        .get(key)
        .or_else(|| catalog(Locale::ZhCn).get(key))
    else {
        return key.to_owned();
    };
    let mut out = (*template).to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The label of an enum value: Chinese from the rules crate (the one source of the Chinese
/// names), other languages from `enum.<kind>.<value>` in their catalogue.
pub fn enum_label(locale: Locale, kind: &str, value: &str) -> String {
    use dangjian_rules::member::{EventKind, Gender, MemberStatus, PersonCategory};
    use dangjian_rules::org::{BranchType, CommitteePost, OrgCategory, OrgKind};
    if locale == Locale::En
        && let Some(text) = catalog(Locale::En).get(format!("enum.{kind}.{value}").as_str())
    {
        return (*text).to_owned();
    }
    let zh = match kind {
        "member_status" => MemberStatus::parse(value).map(MemberStatus::label_zh),
        "person_category" => PersonCategory::parse(value).map(PersonCategory::label_zh),
        "gender" => Gender::parse(value).map(Gender::label_zh),
        "event_kind" => EventKind::parse(value).map(EventKind::label_zh),
        "org_kind" => OrgKind::parse(value).map(OrgKind::label_zh),
        "branch_type" => BranchType::parse(value).map(BranchType::label_zh),
        "org_category" => OrgCategory::parse(value).map(OrgCategory::label_zh),
        "post" => CommitteePost::parse(value).map(CommitteePost::label_zh),
        "role" => dangjian_store::Role::parse(value).map(dangjian_store::Role::label_zh),
        _ => None,
    };
    zh.map_or_else(|| value.to_owned(), str::to_owned)
}

tokio::task_local! {
    /// The locale of the request being answered, so error responses are localized.
    pub static REQUEST_LOCALE: Locale;
}

pub fn current_locale() -> Locale {
    REQUEST_LOCALE.try_with(|l| *l).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_key_exists_in_both_languages() {
        let zh = parse_catalog(ZH_CN);
        let en = parse_catalog(EN);
        // enum labels: Chinese comes from the rules crate, so only English lists them
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en
            .keys()
            .filter(|k| !k.starts_with("enum.") && !zh.contains_key(*k))
            .collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only zh-CN: {only_zh:?}; only en: {only_en:?}"
        );
    }

    /// A key written in two domain files takes the later file's message everywhere: a member's
    /// suspension without a reason was told "代签到须填写原因" (the proxy check-in's message).
    #[test]
    fn no_message_key_is_written_twice() {
        for files in [ZH_CN, EN] {
            let mut seen = std::collections::HashSet::new();
            let twice: Vec<&str> = files
                .iter()
                .flat_map(|f| f.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
                .filter(|k| !seen.insert(*k))
                .collect();
            assert!(twice.is_empty(), "keys written twice: {twice:?}");
        }
    }

    /// Every error code written in the code base (rule refusals, warnings, auth errors) has a
    /// message: the codes are found by reading the sources.
    #[test]
    fn every_error_code_in_the_sources_has_a_message() {
        let zh = parse_catalog(ZH_CN);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let markers = [
            "RuleViolation::field(",
            "RuleViolation::new(",
            "RuleWarning::new(",
            "Forbidden(",
            "Unauthorized(",
        ];
        let mut missing = Vec::new();
        let mut seen = 0;
        for dir in ["rules/src", "store/src", "web/src"] {
            for entry in walk(&root.join(dir)) {
                let text = std::fs::read_to_string(&entry).unwrap_or_default();
                for m in markers {
                    for (i, _) in text.match_indices(m) {
                        let Some(rest) = text[i + m.len()..].trim_start().strip_prefix('"') else {
                            continue;
                        };
                        let code: String = rest.chars().take_while(|c| *c != '"').collect();
                        if code.is_empty()
                            || !code
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        {
                            continue;
                        }
                        seen += 1;
                        if !zh.contains_key(code.as_str()) {
                            missing.push(format!("{code} ({})", entry.display()));
                        }
                    }
                }
            }
        }
        assert!(seen > 40, "found only {seen} codes: is the scan broken?");
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "codes without a message: {missing:?}");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn every_enum_value_has_an_english_label() {
        use dangjian_rules::member::{EventKind, Gender, MemberStatus, PersonCategory};
        use dangjian_rules::org::{BranchType, CommitteePost, OrgCategory, OrgKind};
        let en = parse_catalog(EN);
        let mut missing = Vec::new();
        let mut check = |kind: &str, values: Vec<&str>| {
            for v in values {
                if !en.contains_key(format!("enum.{kind}.{v}").as_str()) {
                    missing.push(format!("enum.{kind}.{v}"));
                }
            }
        };
        // every value of each enum, under its kind's name
        macro_rules! check_all {
            ($($kind:literal => $enum:ty),+ $(,)?) => {
                $(check($kind, <$enum>::ALL.iter().map(|v| v.as_str()).collect());)+
            };
        }
        check_all!(
            "member_status" => MemberStatus,
            "person_category" => PersonCategory,
            "gender" => Gender,
            "event_kind" => EventKind,
            "org_kind" => OrgKind,
            "branch_type" => BranchType,
            "org_category" => OrgCategory,
            "post" => CommitteePost,
            "role" => dangjian_store::Role,
        );
        assert!(missing.is_empty(), "no English label: {missing:?}");
        assert_eq!(enum_label(Locale::ZhCn, "member_status", "formal"), "正式党员");
        assert_eq!(enum_label(Locale::En, "member_status", "formal"), "Full member");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            t(
                Locale::ZhCn,
                "text_too_long",
                &[("field", "姓名".into()), ("max", "50".into())]
            ),
            "“姓名”不能超过 50 个字"
        );
        assert_eq!(t(Locale::En, "no_such_key", &[]), "no_such_key");
    }
}

//! Text that comes from an instance (user names, record names, messages) is hostile: it may be
//! megabytes long, or hold escape sequences that clear a terminal, set its title or forge an
//! "error:" line. Everything of that kind passes through [`untrusted`] before it is stored,
//! printed or shown: bounded in length, with every control and invisible formatting character
//! made visible as `\u{…}`. [`for_terminal`] is the last line of defence in the CLI, and
//! [`SysId`] checks a record id is the 32 hexadecimal digits ServiceNow issues.

/// Longest name kept from an instance (ServiceNow's `user_name` holds 40 characters at most).
pub const MAX_NAME_CHARS: usize = 100;
/// Longest message kept from an instance.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `text` bounded to `max_chars` (an ellipsis marks the cut) with every control or invisible
/// character written as `\u{XX}`, so it can be stored, printed and shown as it is.
pub fn untrusted(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        push_visible(&mut out, c, false);
    }
    out
}

/// `text` with every control or invisible character but the line break made visible, for a
/// terminal. The CLI prints everything through it, whatever the text's origin.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_visible(&mut out, c, true);
    }
    out
}

fn push_visible(out: &mut String, c: char, keep_newline: bool) {
    if (keep_newline && c == '\n') || !needs_escape(c) {
        out.push(c);
    } else {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    }
}

/// Control characters (C0, DEL, C1) and the invisible formatting characters that can reorder
/// or hide text in a terminal or a page: bidirectional overrides and isolates, zero-width
/// characters, line and paragraph separators, the byte-order mark.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}')
}

/// `text` with its first letter in upper case, to start a sentence with a label.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Implements what a type of checked text needs, from its `parse` and `as_str`: `Display` (the
/// text), `Debug` (`Name(text)`), `Serialize` (the text), `Deserialize` (checked again by
/// `parse`: a file is as untrusted as what it was written from) and `ts_rs::TS` (a string).
macro_rules! checked_text {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;

            fn name(_: &ts_rs::Config) -> String {
                "string".into()
            }

            fn inline(_: &ts_rs::Config) -> String {
                "string".into()
            }
        }
    };
}
pub(crate) use checked_text;

/// A ServiceNow record id: 32 hexadecimal digits, kept in lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SysId(String);

/// Why a text is not a sys_id; carries a safe excerpt of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{excerpt}\" is not a ServiceNow sys_id (32 hexadecimal digits).")]
pub struct SysIdError {
    pub excerpt: String,
}

impl SysId {
    pub fn parse(text: &str) -> Result<Self, SysIdError> {
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(SysIdError {
                excerpt: untrusted(text, 40),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

checked_text!(SysId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_text() {
        let hostile = "bob\u{1b}]0;pwned\u{7}\u{1b}[2J\rerror: forged\u{202e}txt";
        let shown = untrusted(hostile, MAX_NAME_CHARS);
        assert!(!shown.chars().any(needs_escape), "{shown:?}");
        assert_eq!(
            shown,
            "bob\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{d}error: forged\\u{202e}txt"
        );
        assert_eq!(untrusted("a\nb", 10), "a\\u{a}b");
        assert_eq!(for_terminal("a\nb\u{1b}c"), "a\nb\\u{1b}c");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let huge = "x".repeat(4 * 1024 * 1024);
        let kept = untrusted(&huge, MAX_NAME_CHARS);
        assert_eq!(kept.chars().count(), MAX_NAME_CHARS + 1);
        assert!(kept.ends_with('…'));
        assert_eq!(untrusted("beth.anglin", MAX_NAME_CHARS), "beth.anglin");
        assert_eq!(untrusted("Zoë Öberg", MAX_NAME_CHARS), "Zoë Öberg");
    }

    #[test]
    fn sys_ids_are_32_hex_digits() {
        let id = SysId::parse("62826BF03710200044E0BFC8BCBE5DF1").unwrap();
        assert_eq!(id.as_str(), "62826bf03710200044e0bfc8bcbe5df1");
        for bad in [
            "",
            "62826bf0",
            "62826bf03710200044e0bfc8bcbe5df1x",
            "zz826bf03710200044e0bfc8bcbe5df1",
            "62826bf0371020004\u{1b}e0bfc8bcbe5df",
        ] {
            let err = SysId::parse(bad).unwrap_err();
            assert!(!err.to_string().contains('\u{1b}'), "{err}");
        }
        let back: SysId = serde_json::from_str("\"62826bf03710200044e0bfc8bcbe5df1\"").unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<SysId>("\"admin\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn nothing_invisible_survives(text in "\\PC{0,40}|[\\x00-\\x1f\\x7f-\\x9f\u{200b}-\u{200f}\u{202a}-\u{202e}]{0,40}") {
            let shown = untrusted(&text, 50);
            proptest::prop_assert!(!shown.chars().any(needs_escape));
            proptest::prop_assert!(shown.chars().count() <= 51 * 9);
        }
    }
}

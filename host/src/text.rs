//! Which text Qun stores: no NUL (PostgreSQL cannot store it in `TEXT` nor
//! `\u0000` in JSON, SQLite can: refusing it everywhere keeps the backends
//! alike) and no other control characters but tab and line breaks. Used for
//! what clients send ([`crate::http::text`]) and what apps produce.

use std::borrow::Cow;

use serde_json::Value;

/// The first character of `text` that stored text may not hold, with its
/// position (in characters).
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Why `field` is refused: it holds `c` at position `at`.
pub fn refusal(field: &str, at: usize, c: char) -> String {
    let name = if c == '\0' { "NUL" } else { "control" };
    format!(
        "`{field}` holds a {name} character (U+{:04X}) at position {at}; text may not contain NUL or control characters other than tab and line breaks",
        u32::from(c)
    )
}

/// `Err(refusal)` when `text`, the value of `field`, holds a forbidden character.
pub fn check(field: &str, text: &str) -> Result<(), String> {
    match forbidden_char(text) {
        None => Ok(()),
        Some((at, c)) => Err(refusal(field, at, c)),
    }
}

/// Every string and key of a JSON value, named by its path below `path`
/// (`card.fields[0].label`; `body` for a bare string).
pub fn check_json(path: &str, value: &Value) -> Result<(), String> {
    let mut path = path.to_string();
    walk(&mut path, value)
}

fn walk(path: &mut String, value: &Value) -> Result<(), String> {
    match value {
        Value::String(s) => check(
            if path.is_empty() {
                "body"
            } else {
                path.as_str()
            },
            s,
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(path, item)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if let Some((at, c)) = forbidden_char(key) {
                    // Name the key as far as it is printable.
                    path.extend(key.chars().take(at));
                    return Err(refusal(&format!("{path} (a key)"), at, c));
                }
                path.push_str(key);
                walk(path, item)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The longest name for people (a group's, a user's display name, an app's
/// display name), in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A name for people: free text in any script, spaces included, on one line:
/// 1 to [`MAX_NAME_CHARS`] characters, no control character at all (no tab
/// or line break either), not only spaces. Returns the name without leading
/// and trailing spaces.
pub fn name<'a>(field: &str, name: &'a str) -> Result<&'a str, String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "`{field}` must be 1 to {MAX_NAME_CHARS} characters; got {chars}"
        ));
    }
    if let Some((at, c)) = name.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(format!(
            "`{field}` holds a control character (U+{:04X}) at position {at}; a name is one line of text",
            u32::from(c)
        ));
    }
    let trimmed = name.trim_matches(' ');
    if trimmed.is_empty() {
        return Err(format!("`{field}` is only spaces"));
    }
    Ok(trimmed)
}

/// A unique handle (a user's login name): 1 to 64 ASCII letters, digits,
/// `-`, `_` or `.`, so no two handles look alike.
pub fn handle(field: &str, handle: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{field}` must be 1 to 64 ASCII letters, digits, `-`, `_` or `.`; got {handle:?}"
        ))
    }
}

/// `text` with each forbidden character replaced by U+FFFD: for diagnostics
/// (an app's log lines and stdout), which are kept rather than refused.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if forbidden_char(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_controls_are_refused_line_breaks_are_not() {
        assert!(check("text", "two\nlines\r\n\tindented").is_ok());
        assert!(check("text", "日本語 and emoji 🎉").is_ok());
        for bad in [
            "a\0b",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
            "esc\u{1b}[31m",
        ] {
            let e = check("text", bad).expect_err(bad);
            assert!(e.contains("`text`"), "{e}");
        }
    }

    #[test]
    fn json_fields_are_named_by_their_path() {
        let value = serde_json::json!({"card": {"fields": [{"label": "ok"}, {"label": "x\u{0}"}]}});
        let e = check_json("", &value).expect_err("nul");
        assert!(e.contains("`card.fields[1].label`"), "{e}");
        let e = check_json("", &serde_json::json!({"ok\u{0}": 1})).expect_err("nul key");
        assert!(e.contains("`ok (a key)`"), "{e}");
    }

    #[test]
    fn names_are_for_people_handles_are_plain() {
        for ok in ["Class 3", "Li Wei", "李伟", "Zoë", "  padded  ", "a"] {
            assert!(name("name", ok).is_ok(), "{ok}");
        }
        assert_eq!(name("name", "  Li Wei ").ok(), Some("Li Wei"));
        for bad in [
            "",
            "   ",
            "tab\there",
            "two\nlines",
            "nul\0",
            &"x".repeat(101),
        ] {
            assert!(name("name", bad).is_err(), "{bad:?}");
        }
        assert!(name("name", &"伟".repeat(100)).is_ok());
        for ok in ["alice", "li.wei", "Bob_2", "a-b"] {
            assert!(handle("name", ok).is_ok(), "{ok}");
        }
        for bad in ["", "li wei", "李伟", "аlice", &"x".repeat(65)] {
            assert!(handle("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn diagnostics_are_scrubbed_not_refused() {
        assert_eq!(scrub("fine\n"), "fine\n");
        assert_eq!(scrub("a\0b\u{1b}"), "a\u{FFFD}b\u{FFFD}");
    }
}

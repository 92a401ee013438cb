//! The light markup of text blocks: `*bold*`, `_italic_`, `` `code` ``,
//! `<https://...|label>` links and line breaks. Clients escape everything
//! else; the only thing that could go wrong is a link, so links are what is
//! checked.
//!
//! A `<` followed by a letter opens a link and must be `<URL>` or
//! `<URL|label>` with an `https:` or `http:` URL; any other `<` (`a < b`,
//! `<3`) is plain text. Inside `` `code` `` nothing is markup.

use crate::value::clip;

/// Why a text's markup was refused (a problem, to follow the text's path).
pub fn check_markup(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(at) = rest.find(['`', '<']) {
        let (special, after) = (rest.as_bytes()[at], &rest[at + 1..]);
        if special == b'`' {
            // A code span runs to the next backtick; a lone backtick is text.
            rest = match after.find('`') {
                Some(end) => &after[end + 1..],
                None => after,
            };
            continue;
        }
        if !after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            rest = after;
            continue;
        }
        let end = after
            .find(['>', '<', '\n'])
            .filter(|&end| after.as_bytes()[end] == b'>')
            .ok_or_else(|| format!("has a link `<{}` with no closing `>`", clip(after, 60)))?;
        check_link(&after[..end])?;
        rest = &after[end + 1..];
    }
    Ok(())
}

/// `URL` or `URL|label`.
fn check_link(link: &str) -> Result<(), String> {
    let (url, label) = match link.split_once('|') {
        Some((url, label)) => (url, Some(label)),
        None => (link, None),
    };
    let lower = url.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "has a link `<{}>` that is not an https: or http: address (write `<https://...|label>`)",
                clip(link, 60)
            )
        })?;
    if host.is_empty() || host.starts_with(['/', '?', '#']) {
        return Err(format!("has a link `<{}>` with no host", clip(link, 60)));
    }
    if let Some(c) = url
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '"')
    {
        return Err(format!(
            "has a link `<{}>` whose address holds {c:?}",
            clip(link, 60)
        ));
    }
    if label.is_some_and(|l| l.trim().is_empty()) {
        return Err(format!(
            "has a link `<{}>` with an empty label",
            clip(link, 60)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_light_markup_and_plain_angles() {
        for ok in [
            "",
            "*Vote* _now_: `/poll`",
            "See <https://example.com/a?b=1&c=2|the results> or <http://example.org>",
            "a < b and b > c, <3, <= 5, < https://not-a-link",
            "code `<script>` is text",
            "a lone ` backtick and <https://x.example|x>",
            "* not bold, 5 * 3",
            "line one\nline two",
        ] {
            assert_eq!(check_markup(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_links_that_are_not_web_addresses() {
        for (bad, says) in [
            (
                "<javascript:alert(1)|click>",
                "not an https: or http: address",
            ),
            (
                "<script>alert(1)</script>",
                "not an https: or http: address",
            ),
            ("<b>bold</b>", "not an https: or http: address"),
            ("<data:text/html,hi|x>", "not an https: or http: address"),
            ("<https://|x>", "no host"),
            ("<https:///path>", "no host"),
            ("<https://example.com|>", "empty label"),
            ("<https://exa mple.com|x>", "holds ' '"),
            ("<https://example.com", "no closing `>`"),
            ("<https://example.com\n|x>", "no closing `>`"),
            ("<https://a.example <https://b.example|b>", "no closing `>`"),
            (
                "`code` then <ftp://files.example|f>",
                "not an https: or http: address",
            ),
        ] {
            let err = check_markup(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn scheme_case_does_not_matter() {
        assert_eq!(check_markup("<HTTPS://Example.com|x>"), Ok(()));
    }
}

//! The settings people choose for a group and for their profile card, checked
//! before they are stored: IANA time zones, BCP 47 language tags and avatar
//! addresses.

use super::error::ApiError;

/// Longest language tag accepted (RFC 5646 recommends supporting 35).
const MAX_LOCALE_CHARS: usize = 35;
/// Longest avatar address accepted.
const MAX_AVATAR_URL_CHARS: usize = 2_048;

/// An IANA time zone name (the schema of `time_zone` in requests).
pub struct TimeZoneName;

impl utoipa::PartialSchema for TimeZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time zone name, e.g. `Asia/Shanghai`"))
            .enum_values(Some(qun_blocks::Zone::names()))
            .into()
    }
}

impl utoipa::ToSchema for TimeZoneName {}

/// An IANA time zone name, exactly as the database spells it.
pub(super) fn time_zone(name: &str) -> Result<String, ApiError> {
    qun_blocks::Zone::parse(name)
        .map(|zone| zone.name().to_string())
        .map_err(|e| ApiError::bad("invalid_time_zone", e.to_string()))
}

/// A BCP 47 language tag such as `zh-CN`, `en`, `sr-Latn-RS`, in its
/// conventional letter case (`zh-cn` becomes `zh-CN`): a 2 or 3 letter
/// language, then subtags of 1 to 8 letters or digits separated by `-`
/// (`_` is read as `-`).
pub(super) fn locale(tag: &str) -> Result<String, ApiError> {
    let refuse = || {
        ApiError::bad(
            "invalid_locale",
            format!(
                "{:?} is not a language tag; use a BCP 47 tag such as \"en\", \"zh-CN\" or \"pt-BR\"",
                tag.chars().take(40).collect::<String>()
            ),
        )
    };
    if tag.is_empty() || tag.chars().count() > MAX_LOCALE_CHARS {
        return Err(refuse());
    }
    let mut out = Vec::new();
    for (i, part) in tag.split(['-', '_']).enumerate() {
        let ok = if i == 0 {
            (2..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic())
        } else {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !ok {
            return Err(refuse());
        }
        let letters = part.bytes().all(|b| b.is_ascii_alphabetic());
        out.push(match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            // A region: `CN`.
            (_, 2) if letters => part.to_ascii_uppercase(),
            // A script: `Latn`.
            (_, 4) if letters => {
                let lower = part.to_ascii_lowercase();
                lower[..1].to_ascii_uppercase() + &lower[1..]
            }
            _ => part.to_ascii_lowercase(),
        });
    }
    Ok(out.join("-"))
}

/// An `https:` address of a picture: a host, no spaces, quotes, angle
/// brackets or control characters, at most 2,048 characters.
pub(super) fn avatar_url(url: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        ApiError::bad(
            "invalid_avatar_url",
            format!("an avatar must be an https: address ({why})"),
        )
    };
    if url.chars().count() > MAX_AVATAR_URL_CHARS {
        return Err(refuse("this one is over 2048 characters"));
    }
    let Some(rest) = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
    else {
        return Err(refuse("it must start with https://"));
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.is_empty() || host.starts_with('@') || host.ends_with('@') {
        return Err(refuse("it names no host"));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
    {
        return Err(refuse(
            "it holds a space, a quote, an angle bracket or a control character",
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: ApiError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            time_zone("Asia/Shanghai").ok(),
            Some("Asia/Shanghai".into())
        );
        assert_eq!(time_zone("UTC").ok(), Some("UTC".into()));
        for bad in ["", "Mars/Base", "GMT+8 ", "asia/shanghai"] {
            assert!(code(time_zone(bad).expect_err(bad)).contains("invalid_time_zone"));
        }
    }

    #[test]
    fn locales_are_language_tags_in_their_usual_case() {
        for (given, stored) in [
            ("en", "en"),
            ("zh-cn", "zh-CN"),
            ("ZH_CN", "zh-CN"),
            ("sr-latn-rs", "sr-Latn-RS"),
            ("es-419", "es-419"),
            ("de-DE-1996", "de-DE-1996"),
        ] {
            assert_eq!(locale(given).ok().as_deref(), Some(stored), "{given}");
        }
        for bad in [
            "",
            "e",
            "english",
            "en-",
            "en--US",
            "en US",
            "zh-CN-toolongsubtag",
            "中文",
            "1a",
        ] {
            assert!(
                code(locale(bad).expect_err(bad)).contains("invalid_locale"),
                "{bad}"
            );
        }
        assert!(locale(&format!("en-{}", ["abcdefgh"; 5].join("-"))).is_err());
    }

    #[test]
    fn avatars_are_https_addresses() {
        for ok in [
            "https://cdn.example.com/a/b.png",
            "HTTPS://example.com",
            "https://example.com:8443/x?size=64#top",
        ] {
            assert_eq!(avatar_url(ok).ok().as_deref(), Some(ok));
        }
        for bad in [
            "http://example.com/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://",
            "https:///a.png",
            "https://example.com/a b.png",
            "https://example.com/\"onerror=\"x",
            "https://example.com/<svg>",
            "//example.com/a.png",
        ] {
            assert!(
                code(avatar_url(bad).expect_err(bad)).contains("invalid_avatar_url"),
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(2_048));
        assert!(avatar_url(&long).is_err());
    }
}

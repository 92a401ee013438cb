//! One value against its input's rules, shared by submitted forms and typed
//! commands. Each check answers `Ok(None)` for an empty value, the typed
//! [`Value`] for a good one, and otherwise what is wrong in words for the
//! member ("must be at least 3 characters").

use crate::decimal::{Decimal, DecimalError};
use crate::limits::{MAX_INPUT_CHARS, MAX_LABEL_CHARS};
use crate::model::{
    Choice, ChoiceInput, Date, DateInput, DateTimeInput, MemberId, NumberInput, TextInput,
    Timestamp, Value,
};
use crate::zone::{Zone, format_timestamp};

/// What a member entered in a text input: line breaks normalised to `\n`
/// (browsers send `\r\n`), surrounding spaces dropped (a multi-line
/// input keeps the indentation of its first line).
pub(crate) fn text(input: &TextInput, raw: &str) -> Result<Option<Value>, String> {
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let text = if input.multiline {
        // Keep the first line's indentation (code, poems); drop blank lines
        // before it and spaces after the last one.
        let text = normalised.trim_end();
        match text.find(|c: char| !c.is_whitespace()) {
            Some(first) => &text[text[..first].rfind('\n').map_or(0, |nl| nl + 1)..],
            None => "",
        }
    } else {
        normalised.trim()
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    if !input.multiline && text.contains('\n') {
        return Err("must be a single line".into());
    }
    let chars = text.chars().count();
    if let Some(min) = input.min_length
        && chars < min as usize
    {
        return Err(format!("must be at least {}", characters(min as usize)));
    }
    let max = input
        .max_length
        .map_or(MAX_INPUT_CHARS, |m| (m as usize).min(MAX_INPUT_CHARS));
    if chars > max {
        return Err(format!("must be at most {}", characters(max)));
    }
    Ok(Some(Value::Text(text.to_string())))
}

fn characters(n: usize) -> String {
    if n == 1 {
        "1 character".into()
    } else {
        format!("{n} characters")
    }
}

/// A number written as a decimal string.
pub(crate) fn number(input: &NumberInput, raw: &str) -> Result<Option<Value>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let n = Decimal::parse(raw).map_err(|e| match e {
        DecimalError::NotANumber => "must be a number".to_string(),
        other => other.to_string(),
    })?;
    if (input.integer || input.decimals == 0) && n.decimals() > 0 {
        return Err("must be a whole number".into());
    }
    if n.decimals() > u32::from(input.decimals) && !input.integer {
        return Err(format!(
            "may have at most {} after the decimal point",
            if input.decimals == 1 {
                "1 digit".to_string()
            } else {
                format!("{} digits", input.decimals)
            }
        ));
    }
    if let Some(min) = bound(&input.min)
        && n < min
    {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = bound(&input.max)
        && n > max
    {
        return Err(format!("must be at most {max}"));
    }
    if input.integer {
        return n
            .to_i64()
            .map(|i| Some(Value::Integer(i)))
            .ok_or_else(|| "is too large".to_string());
    }
    Ok(Some(Value::Decimal(n.to_string())))
}

/// A declared bound; one that does not parse is refused by `check_form`.
fn bound(text: &Option<String>) -> Option<Decimal> {
    text.as_deref().and_then(|t| Decimal::parse(t).ok())
}

/// A calendar date within the input's range.
pub(crate) fn date(input: &DateInput, date: Date) -> Result<Option<Value>, String> {
    if let Some(min) = input.min
        && date < min
    {
        return Err(format!("must be on or after {min}"));
    }
    if let Some(max) = input.max
        && date > max
    {
        return Err(format!("must be on or before {max}"));
    }
    Ok(Some(Value::Date(date)))
}

/// A moment within the input's range (shown on `zone`'s clock).
pub(crate) fn date_time(
    input: &DateTimeInput,
    ts: Timestamp,
    zone: &Zone,
) -> Result<Option<Value>, String> {
    if let Some(min) = input.min
        && ts < min
    {
        return Err(format!(
            "must be at or after {}",
            format_timestamp(min, zone, "en")
        ));
    }
    if let Some(max) = input.max
        && ts > max
    {
        return Err(format!(
            "must be at or before {}",
            format_timestamp(max, zone, "en")
        ));
    }
    Ok(Some(Value::DateTime(ts)))
}

/// Chosen option values: each one an option's value, at most one unless the
/// input takes several; repeats are dropped.
pub(crate) fn choices(input: &ChoiceInput, chosen: Vec<String>) -> Result<Option<Value>, String> {
    let mut kept: Vec<String> = Vec::with_capacity(chosen.len().min(input.options.len()));
    for value in chosen {
        if value.is_empty() || kept.contains(&value) {
            continue;
        }
        if !input.options.iter().any(|o| o.value == value) {
            return Err(format!("{} is not one of the options", quoted(&value)));
        }
        kept.push(value);
    }
    if kept.is_empty() {
        return Ok(None);
    }
    if !input.multiple && kept.len() > 1 {
        return Err("must be just one of the options".into());
    }
    Ok(Some(Value::Choices(kept)))
}

/// The option whose value or label is `typed` (letter case ignored).
pub(crate) fn find_choice<'a>(options: &'a [Choice], typed: &str) -> Option<&'a Choice> {
    let typed = typed.trim();
    options
        .iter()
        .find(|o| o.value == typed)
        .or_else(|| {
            options
                .iter()
                .find(|o| o.value.to_lowercase() == typed.to_lowercase())
        })
        .or_else(|| {
            options
                .iter()
                .find(|o| o.label.to_lowercase() == typed.to_lowercase())
        })
}

/// A member id (the host checks the member is in the group). A leading `@`
/// is dropped.
pub(crate) fn member(raw: &str) -> Result<Option<Value>, String> {
    let id = raw.trim();
    let id = id.strip_prefix('@').unwrap_or(id);
    if id.is_empty() {
        return Ok(None);
    }
    if id.chars().count() > MAX_LABEL_CHARS
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("is not a member of this group".into());
    }
    Ok(Some(Value::Member(MemberId::from(id))))
}

/// At most 40 characters of what someone entered, quoted, for a message.
pub(crate) fn quoted(text: &str) -> String {
    format!("{:?}", clip(text, 40))
}

/// At most `max` characters of `text`, with `…` when it was longer.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number_input(
        integer: bool,
        decimals: u8,
        min: Option<&str>,
        max: Option<&str>,
    ) -> NumberInput {
        NumberInput {
            integer,
            decimals,
            min: min.map(String::from),
            max: max.map(String::from),
            initial: None,
        }
    }

    #[test]
    fn text_follows_length_and_line_rules() {
        let short = TextInput {
            min_length: Some(3),
            max_length: Some(5),
            ..TextInput::default()
        };
        assert_eq!(
            text(&short, "  ab "),
            Err("must be at least 3 characters".into())
        );
        assert_eq!(
            text(&short, "abcdef"),
            Err("must be at most 5 characters".into())
        );
        // Characters, not bytes: five Chinese characters are 15 bytes.
        assert_eq!(
            text(&short, "你好世界啊"),
            Ok(Some(Value::Text("你好世界啊".into())))
        );
        assert_eq!(text(&short, "   "), Ok(None));
        assert_eq!(text(&short, "a\nb"), Err("must be a single line".into()));
        let long = TextInput {
            multiline: true,
            ..TextInput::default()
        };
        assert_eq!(
            text(&long, "a\r\nb\rc"),
            Ok(Some(Value::Text("a\nb\nc".into())))
        );
        assert_eq!(
            text(&long, "\n\n    fn main() {}\n  \n"),
            Ok(Some(Value::Text("    fn main() {}".into())))
        );
        assert_eq!(text(&long, "\n \t\n"), Ok(None));
        assert_eq!(
            text(&long, "a\u{7}b"),
            Err("must not contain control characters".into())
        );
        let unbounded = "x".repeat(MAX_INPUT_CHARS + 1);
        assert_eq!(
            text(&long, &unbounded),
            Err("must be at most 3000 characters".into())
        );
        let one = TextInput {
            max_length: Some(1),
            ..TextInput::default()
        };
        assert_eq!(text(&one, "ab"), Err("must be at most 1 character".into()));
    }

    #[test]
    fn numbers_compare_exactly() {
        let price = number_input(false, 2, Some("0.1"), Some("0.3"));
        assert_eq!(
            number(&price, "0.30"),
            Ok(Some(Value::Decimal("0.3".into())))
        );
        assert_eq!(
            number(&price, "0.1"),
            Ok(Some(Value::Decimal("0.1".into())))
        );
        assert_eq!(number(&price, "0.09"), Err("must be at least 0.1".into()));
        assert_eq!(number(&price, "0.31"), Err("must be at most 0.3".into()));
        assert_eq!(
            number(&price, "0.125"),
            Err("may have at most 2 digits after the decimal point".into())
        );
        assert_eq!(number(&price, "abc"), Err("must be a number".into()));
        assert_eq!(number(&price, ""), Ok(None));
        let seats = number_input(true, 0, Some("1"), None);
        assert_eq!(number(&seats, "10"), Ok(Some(Value::Integer(10))));
        assert_eq!(number(&seats, "10.0"), Ok(Some(Value::Integer(10))));
        assert_eq!(number(&seats, "2.5"), Err("must be a whole number".into()));
        assert_eq!(number(&seats, "0"), Err("must be at least 1".into()));
        assert_eq!(
            number(&seats, "99999999999999999999"),
            Err("is too large".into())
        );
        let whole_decimal = number_input(false, 0, None, None);
        assert_eq!(
            number(&whole_decimal, "7"),
            Ok(Some(Value::Decimal("7".into())))
        );
        assert_eq!(
            number(&whole_decimal, "7.5"),
            Err("must be a whole number".into())
        );
        let one = number_input(false, 1, None, Some("-2.5"));
        assert_eq!(
            number(&one, "-3.25"),
            Err("may have at most 1 digit after the decimal point".into())
        );
        assert_eq!(number(&one, "-2.4"), Err("must be at most -2.5".into()));
    }

    #[test]
    fn dates_and_moments_stay_in_range() {
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        let input = DateInput {
            min: Some(d(2030, 1, 1)),
            max: Some(d(2030, 12, 31)),
            initial: None,
        };
        assert_eq!(
            date(&input, d(2030, 6, 1)),
            Ok(Some(Value::Date(d(2030, 6, 1))))
        );
        assert_eq!(
            date(&input, d(2029, 12, 31)),
            Err("must be on or after 2030-01-01".into())
        );
        assert_eq!(
            date(&input, d(2031, 1, 1)),
            Err("must be on or before 2030-12-31".into())
        );
        let sh = Zone::parse("Asia/Shanghai").expect("zone");
        let moment = DateTimeInput {
            min: Some(1_906_506_000_000), // 2030-06-01 09:00 in Shanghai
            max: None,
            initial: None,
        };
        assert_eq!(
            date_time(&moment, 1_906_505_999_999, &sh),
            Err("must be at or after 2030-06-01 09:00 (Asia/Shanghai)".into())
        );
        assert_eq!(
            date_time(&moment, 1_906_506_000_000, &sh),
            Ok(Some(Value::DateTime(1_906_506_000_000)))
        );
    }

    #[test]
    fn choices_are_options_and_counted() {
        let options = vec![
            Choice {
                value: "red".into(),
                label: "Red".into(),
            },
            Choice {
                value: "blue".into(),
                label: "Deep blue".into(),
            },
        ];
        let single = ChoiceInput {
            options: options.clone(),
            ..ChoiceInput::default()
        };
        assert_eq!(
            choices(&single, vec!["red".into()]),
            Ok(Some(Value::Choices(vec!["red".into()])))
        );
        assert_eq!(
            choices(&single, vec!["red".into(), "blue".into()]),
            Err("must be just one of the options".into())
        );
        assert_eq!(
            choices(&single, vec!["green".into()]),
            Err("\"green\" is not one of the options".into())
        );
        assert_eq!(choices(&single, vec![]), Ok(None));
        let multiple = ChoiceInput {
            options: options.clone(),
            multiple: true,
            initial: vec![],
        };
        assert_eq!(
            choices(&multiple, vec!["blue".into(), "red".into(), "blue".into()]),
            Ok(Some(Value::Choices(vec!["blue".into(), "red".into()])))
        );
        assert_eq!(
            find_choice(&options, "DEEP BLUE").map(|c| c.value.as_str()),
            Some("blue")
        );
        assert_eq!(
            find_choice(&options, "Red").map(|c| c.value.as_str()),
            Some("red")
        );
        assert_eq!(find_choice(&options, "green"), None);
    }

    #[test]
    fn members_are_ids() {
        assert_eq!(member("@u-42"), Ok(Some(Value::Member("u-42".into()))));
        assert_eq!(member(" u-42 "), Ok(Some(Value::Member("u-42".into()))));
        assert_eq!(member("@"), Ok(None));
        assert_eq!(
            member("two words"),
            Err("is not a member of this group".into())
        );
    }
}

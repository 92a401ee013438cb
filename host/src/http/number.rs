//! Integers in JSON bodies as JSON Schema counts them: `146` and `146.0`
//! are the same integer (a generated client may send either); `1.5` is not
//! an integer and is refused like any other malformed body.

use serde::{Deserialize, Deserializer, de::Error};

fn integral(number: &serde_json::Number) -> Option<f64> {
    number
        .as_f64()
        .filter(|f| f.is_finite() && f.fract() == 0.0)
}

/// An `i64` written as an integer or an integral number.
pub fn i64_field<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(d)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    integral(&number)
        .filter(|f| *f >= -9.223_372_036_854_775_808e18 && *f < 9.223_372_036_854_775_808e18)
        .map(|f| f as i64)
        .ok_or_else(|| D::Error::custom(format!("expected an integer, got {number}")))
}

/// An optional `u64` written as an integer or an integral number.
pub fn opt_u64_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(n) = number.as_u64() {
        return Ok(Some(n));
    }
    integral(&number)
        .filter(|f| *f >= 0.0 && *f < 1.844_674_407_370_955_2e19)
        .map(|f| Some(f as u64))
        .ok_or_else(|| D::Error::custom(format!("expected a non-negative integer, got {number}")))
}

/// A `u32` written as an integer or an integral number.
pub fn u32_field<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let number = serde_json::Number::deserialize(d)?;
    u32_of(&number)
}

/// An optional `u32` written as an integer or an integral number.
pub fn opt_u32_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        Some(number) => u32_of(&number).map(Some),
        None => Ok(None),
    }
}

fn u32_of<E: Error>(number: &serde_json::Number) -> Result<u32, E> {
    if let Some(n) = number.as_u64() {
        return u32::try_from(n)
            .map_err(|_| E::custom(format!("expected at most {}, got {number}", u32::MAX)));
    }
    integral(number)
        .filter(|f| *f >= 0.0 && *f <= f64::from(u32::MAX))
        .map(|f| f as u32)
        .ok_or_else(|| E::custom(format!("expected a non-negative integer, got {number}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Amount {
        #[serde(deserialize_with = "i64_field")]
        amount: i64,
        #[serde(default, deserialize_with = "opt_u64_field")]
        secs: Option<u64>,
    }

    fn parse(json: &str) -> Option<(i64, Option<u64>)> {
        serde_json::from_str::<Amount>(json)
            .ok()
            .map(|a| (a.amount, a.secs))
    }

    #[test]
    fn integral_numbers_are_integers() {
        assert_eq!(parse(r#"{"amount": 146}"#), Some((146, None)));
        assert_eq!(
            parse(r#"{"amount": 146.0, "secs": 3.0}"#),
            Some((146, Some(3)))
        );
        assert_eq!(parse(r#"{"amount": -2e3}"#), Some((-2000, None)));
        assert_eq!(parse(r#"{"amount": 1.5}"#), None);
        assert_eq!(parse(r#"{"amount": "1"}"#), None);
        assert_eq!(parse(r#"{"amount": 1e300}"#), None);
        assert_eq!(parse(r#"{"amount": 1, "secs": -1}"#), None);
        assert_eq!(parse(r#"{"amount": 1, "secs": null}"#), Some((1, None)));
    }

    #[derive(Deserialize)]
    struct Share {
        #[serde(default, deserialize_with = "u32_field")]
        percent: u32,
        #[serde(default, deserialize_with = "opt_u32_field")]
        min: Option<u32>,
    }

    fn share(json: &str) -> Option<(u32, Option<u32>)> {
        serde_json::from_str::<Share>(json)
            .ok()
            .map(|s| (s.percent, s.min))
    }

    #[test]
    fn integral_numbers_are_u32s_within_range() {
        assert_eq!(
            share(r#"{"percent": 37, "min": 91.0}"#),
            Some((37, Some(91)))
        );
        assert_eq!(share(r#"{"percent": 37.0}"#), Some((37, None)));
        assert_eq!(share(r#"{}"#), Some((0, None)));
        assert_eq!(share(r#"{"percent": 1, "min": null}"#), Some((1, None)));
        assert_eq!(share(r#"{"percent": 4294967296}"#), None);
        assert_eq!(share(r#"{"percent": -1}"#), None);
        assert_eq!(share(r#"{"percent": 2.5}"#), None);
    }
}

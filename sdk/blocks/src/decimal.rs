//! Exact decimal numbers for number inputs: `"0.1" + "0.2"` style rounding
//! never decides whether a value is within `min` and `max`.

use std::cmp::Ordering;
use std::fmt;

/// Digits kept after the decimal point.
pub const MAX_DECIMALS: u32 = 18;
/// Digits allowed before the decimal point.
pub const MAX_WHOLE_DIGITS: u32 = 20;

const SCALE: i128 = 1_000_000_000_000_000_000; // 10^MAX_DECIMALS

/// A decimal number, held exactly as an integer count of 10^-18.
///
/// Parsed from `"10"`, `"-2.5"`, `"+0.50"`, `".5"` and, for JSON numbers,
/// exponents (`"1e3"`). At most [`MAX_WHOLE_DIGITS`] digits before the point
/// and [`MAX_DECIMALS`] after it (trailing zeros do not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    units: i128,
    decimals: u32,
}

/// Why a text is not a [`Decimal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a number at all.
    NotANumber,
    /// More than [`MAX_WHOLE_DIGITS`] digits before the point.
    TooLarge,
    /// More than [`MAX_DECIMALS`] digits after the point.
    TooPrecise,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecimalError::NotANumber => "is not a number",
            DecimalError::TooLarge => "is too large",
            DecimalError::TooPrecise => "has too many digits after the decimal point",
        })
    }
}

impl std::error::Error for DecimalError {}

impl Decimal {
    /// Parses a decimal string (surrounding spaces are ignored).
    pub fn parse(text: &str) -> Result<Self, DecimalError> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exp: i32 = rest[at + 1..]
                    .parse()
                    .map_err(|_| DecimalError::NotANumber)?;
                (&rest[..at], exp)
            }
            None => (rest, 0),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((w, f)) => (w, f),
            None => (mantissa, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(DecimalError::NotANumber);
        }
        // Bound the work an exponent can cause before moving the point.
        if exponent.unsigned_abs() > 2 * (MAX_WHOLE_DIGITS + MAX_DECIMALS) {
            if !mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                return Ok(Decimal::ZERO);
            }
            return Err(if exponent > 0 {
                DecimalError::TooLarge
            } else {
                DecimalError::TooPrecise
            });
        }
        // All digits in one string with the point moved by the exponent.
        let all: String = whole.chars().chain(fraction.chars()).collect();
        let point = whole.len() as i64 + i64::from(exponent);
        let (int_part, frac_part) = if point <= 0 {
            (
                String::new(),
                "0".repeat(point.unsigned_abs() as usize) + &all,
            )
        } else if point as usize >= all.len() {
            (
                all.clone() + &"0".repeat(point as usize - all.len()),
                String::new(),
            )
        } else {
            (
                all[..point as usize].to_string(),
                all[point as usize..].to_string(),
            )
        };
        let int_part = int_part.trim_start_matches('0');
        let frac_part = frac_part.trim_end_matches('0');
        if int_part.len() > MAX_WHOLE_DIGITS as usize {
            return Err(DecimalError::TooLarge);
        }
        if frac_part.len() > MAX_DECIMALS as usize {
            return Err(DecimalError::TooPrecise);
        }
        let mut units: i128 = 0;
        for b in int_part.bytes() {
            units = units * 10 + i128::from(b - b'0');
        }
        units *= SCALE;
        let mut frac: i128 = 0;
        for b in frac_part.bytes() {
            frac = frac * 10 + i128::from(b - b'0');
        }
        frac *= 10_i128.pow(MAX_DECIMALS - frac_part.len() as u32);
        units += frac;
        if negative {
            units = -units;
        }
        Ok(Decimal {
            units,
            decimals: frac_part.len() as u32,
        })
    }

    /// Zero.
    pub const ZERO: Decimal = Decimal {
        units: 0,
        decimals: 0,
    };

    /// The whole number `n`.
    pub fn from_i64(n: i64) -> Self {
        Decimal {
            units: i128::from(n) * SCALE,
            decimals: 0,
        }
    }

    /// Digits after the decimal point, trailing zeros not counted.
    pub fn decimals(&self) -> u32 {
        self.decimals
    }

    /// The value as an `i64` when it is a whole number that fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.decimals != 0 {
            return None;
        }
        i64::try_from(self.units / SCALE).ok()
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.units.cmp(&other.units)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The canonical form: no exponent, no leading `+`, no leading zeros, no
/// trailing zeros after the point (`"12.5"`, `"-3"`, `"0.05"`).
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        let whole = abs / SCALE as u128;
        if self.decimals == 0 {
            return write!(f, "{sign}{whole}");
        }
        let frac = abs % SCALE as u128;
        let frac = format!("{frac:018}");
        write!(f, "{sign}{whole}.{}", &frac[..self.decimals as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect(s)
    }

    #[test]
    fn parses_what_people_and_json_write() {
        assert_eq!(d("10").to_string(), "10");
        assert_eq!(d(" 2.5 ").to_string(), "2.5");
        assert_eq!(d("+0.50").to_string(), "0.5");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("5.").to_string(), "5");
        assert_eq!(d("-0").to_string(), "0");
        assert_eq!(d("-007.250").to_string(), "-7.25");
        assert_eq!(d("1e3").to_string(), "1000");
        assert_eq!(d("1.5e-7").to_string(), "0.00000015");
        assert_eq!(d("2.5E+1").to_string(), "25");
        assert_eq!(d("0e999").to_string(), "0");
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for s in [
            "", "-", ".", "abc", "1,5", "1.2.3", "0x10", "1e", "1 000", "NaN", "inf", "--1",
        ] {
            assert_eq!(Decimal::parse(s), Err(DecimalError::NotANumber), "{s:?}");
        }
        assert_eq!(Decimal::parse("1e400"), Err(DecimalError::TooLarge));
        assert_eq!(
            Decimal::parse("123456789012345678901"),
            Err(DecimalError::TooLarge)
        );
        assert_eq!(
            Decimal::parse("0.0000000000000000001"),
            Err(DecimalError::TooPrecise)
        );
        assert!(Decimal::parse("99999999999999999999.999999999999999999").is_ok());
    }

    #[test]
    fn compares_exactly_where_floats_round() {
        // 0.1 + 0.2 != 0.3 in binary floating point; here 0.3 is 0.3.
        assert_eq!(d("0.30"), d("0.3"));
        assert!(d("0.30000000000000004") > d("0.3"));
        assert!(d("9007199254740993") > d("9007199254740992"));
        assert!(d("-2.5") < d("-2.4"));
        assert!(d("-0.001") < d("0"));
    }

    #[test]
    fn counts_decimals_and_whole_numbers() {
        assert_eq!(d("2.50").decimals(), 1);
        assert_eq!(d("10.0").to_i64(), Some(10));
        assert_eq!(d("10.5").to_i64(), None);
        assert_eq!(d("-9223372036854775808").to_i64(), Some(i64::MIN));
        assert_eq!(d("9223372036854775808").to_i64(), None);
        assert_eq!(Decimal::from_i64(-3).to_string(), "-3");
    }
}

//! What time is worth: one function computes an entry's amount, so the timesheet page,
//! its CSV export and (later) invoice lines show the same figures.

use rust_decimal::{Decimal, RoundingStrategy};

/// `minutes` at `rate` per hour, rounded half away from zero to cents.
/// Computed as minutes × rate / 60 so no rounded hour figure creeps in.
pub fn amount(minutes: i64, rate: Decimal) -> Decimal {
    (Decimal::from(minutes) * rate / Decimal::from(60))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Hours with two decimals, for display and export ("1.50").
pub fn hours(minutes: i64) -> String {
    let h =
        (Decimal::from(minutes) / Decimal::from(60)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{h:.2}")
}

pub use crate::money::amounts::{money, with_currency};

/// A rate typed into a form: empty (no rate), or a non-negative number with at most two
/// decimals that fits the database column (numeric(10, 2)).
pub fn parse_rate(raw: &str) -> Result<Option<Decimal>, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let well_formed = text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && text.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return Err("Enter the hourly rate as a number such as 85 or 85.50 (no currency sign, not below zero).");
    }
    let value: Decimal = text.parse().map_err(|_| "Enter the hourly rate as a number such as 85 or 85.50.")?;
    if value.normalize().scale() > 2 {
        return Err("Use at most two decimals (cents).");
    }
    if value >= Decimal::from(100_000_000) {
        return Err("That rate is larger than we can store (up to 99,999,999.99).");
    }
    Ok(Some(value.round_dp(2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_are_exact_and_rounded_half_away_from_zero() {
        assert_eq!(amount(90, d("150.00")), d("225.00"));
        assert_eq!(amount(20, d("100")), d("33.33"));
        assert_eq!(amount(1, d("0.30")), d("0.01")); // 0.005 rounds up
        assert_eq!(amount(1, d("0.29")), d("0.00")); // 0.00483…
        assert_eq!(amount(45, d("85.50")), d("64.13")); // 64.125
        assert_eq!(money(amount(60, d("80"))), "80.00");
    }

    #[test]
    fn hours_show_two_decimals() {
        assert_eq!(hours(90), "1.50");
        assert_eq!(hours(20), "0.33");
        assert_eq!(hours(1440), "24.00");
    }

    #[test]
    fn rates_are_non_negative_with_at_most_two_decimals() {
        assert_eq!(parse_rate(""), Ok(None));
        assert_eq!(parse_rate(" 85 "), Ok(Some(d("85"))));
        assert_eq!(parse_rate("85.5"), Ok(Some(d("85.5"))));
        assert_eq!(parse_rate("85.50"), Ok(Some(d("85.50"))));
        assert_eq!(parse_rate("0"), Ok(Some(d("0"))));
        assert_eq!(parse_rate("85.500"), Ok(Some(d("85.50"))));
        assert!(parse_rate("85.505").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("1e3").is_err());
        assert!(parse_rate("€85").is_err());
        assert!(parse_rate(".").is_err());
        assert!(parse_rate("100000000").is_err());
    }
}

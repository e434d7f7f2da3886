//! The arithmetic of SPEC §3, in one place: every page, PDF, email and CSV gets its
//! figures from here, so they cannot disagree. Exact decimals, rounded half away from
//! zero to the currency's 2 places per line; tax per rate on the sum of its lines.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to cents, half away from zero (0.005 → 0.01, -0.005 → -0.01).
pub fn round_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A line's amount: quantity × unit price, rounded to cents.
pub fn line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal {
    round_cents(quantity * unit_price)
}

/// A tax as applied to lines: its name and rate (percent) are copied onto each line,
/// so a document keeps them when the tax changes or goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTax {
    pub name: String,
    pub rate: Decimal,
}

/// One row of the tax breakdown: the lines that carry this tax, and the tax on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    pub name: String,
    pub rate: Decimal,
    pub base: Decimal,
    pub amount: Decimal,
}

impl TaxLine {
    /// "VAT 20%" / "Sales tax 8.875%": the rate without trailing zeros.
    pub fn label(&self) -> String {
        format!("{} {}%", self.name, self.rate.normalize())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    pub subtotal: Decimal,
    pub taxes: Vec<TaxLine>,
    pub tax_total: Decimal,
    pub total: Decimal,
}

/// Totals of lines given as (amount, tax). Lines with the same tax (name and rate) are
/// summed first and taxed once; the breakdown keeps the order taxes first appear in.
pub fn totals<'a>(lines: impl IntoIterator<Item = (Decimal, Option<&'a AppliedTax>)>) -> Totals {
    let mut subtotal = Decimal::ZERO;
    let mut taxes: Vec<TaxLine> = Vec::new();
    for (amount, tax) in lines {
        subtotal += amount;
        if let Some(tax) = tax {
            match taxes.iter_mut().find(|t| t.name == tax.name && t.rate == tax.rate) {
                Some(line) => line.base += amount,
                None => {
                    taxes.push(TaxLine { name: tax.name.clone(), rate: tax.rate, base: amount, amount: Decimal::ZERO })
                }
            }
        }
    }
    for line in &mut taxes {
        line.amount = round_cents(line.base * line.rate / Decimal::ONE_HUNDRED);
    }
    let tax_total = taxes.iter().map(|t| t.amount).sum();
    Totals { subtotal, tax_total, total: subtotal + tax_total, taxes }
}

/// An amount with its two decimals ("225.00"), as in CSV files.
pub fn money(value: Decimal) -> String {
    format!("{:.2}", round_cents(value))
}

/// An amount for reading, with thousands grouped and its currency ("12,500.00 EUR").
pub fn with_currency(value: Decimal, currency: &str) -> String {
    format!("{} {currency}", grouped(value))
}

/// An amount with thousands grouped and no currency ("12,500.00", "-1,000.00").
pub fn grouped(value: Decimal) -> String {
    let plain = money(value.abs());
    let (whole, cents) = plain.split_once('.').unwrap_or((&plain, "00"));
    let mut out = String::with_capacity(whole.len() + whole.len() / 3 + 4);
    if value.is_sign_negative() && !round_cents(value).is_zero() {
        out.push('-');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out.push('.');
    out.push_str(cents);
    out
}

/// A quantity as typed and shown: no trailing zeros ("2", "1.5", "0.333").
pub fn quantity(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A unit price: grouped, at least the currency's 2 decimals, more only when it has
/// them ("1,250.50", "0.1234").
pub fn unit_price(value: Decimal) -> String {
    let n = value.normalize();
    if n.scale() <= 2 {
        return grouped(n);
    }
    let plain = n.abs().to_string();
    let (whole, decimals) = plain.split_once('.').unwrap_or((&plain, ""));
    let whole = grouped(Decimal::from_str_exact(whole).unwrap_or_default());
    let whole = whole.trim_end_matches(".00");
    let sign = if n.is_sign_negative() { "-" } else { "" };
    format!("{sign}{whole}.{decimals}")
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A line: quantity with up to 3 decimals, a unit price with up to 4 (negative for a
    /// discount), and one of three taxes or none.
    fn line() -> impl Strategy<Value = (Decimal, Decimal, Option<usize>)> {
        (1i64..1_000_000_000, -10_000_000i64..100_000_000_000, proptest::option::of(0usize..3))
            .prop_map(|(q, p, t)| (Decimal::new(q, 3), Decimal::new(p, 4), t))
    }

    proptest! {
        #[test]
        fn subtotal_plus_taxes_is_the_total_and_every_figure_is_in_cents(lines in proptest::collection::vec(line(), 1..60)) {
            let taxes = [
                AppliedTax { name: "VAT".into(), rate: Decimal::new(20, 0) },
                AppliedTax { name: "Reduced".into(), rate: Decimal::new(55, 1) },
                AppliedTax { name: "Sales".into(), rate: Decimal::new(88750, 4) },
            ];
            let amounts: Vec<(Decimal, Option<&AppliedTax>)> =
                lines.iter().map(|(q, p, t)| (line_amount(*q, *p), t.map(|i| &taxes[i]))).collect();
            let t = totals(amounts.iter().copied());
            prop_assert_eq!(t.subtotal, amounts.iter().map(|(a, _)| *a).sum::<Decimal>());
            prop_assert_eq!(t.tax_total, t.taxes.iter().map(|x| x.amount).sum::<Decimal>());
            prop_assert_eq!(t.total, t.subtotal + t.tax_total);
            for (a, _) in &amounts {
                prop_assert!(a.scale() <= 2);
            }
            for tax in &t.taxes {
                prop_assert!(tax.amount.scale() <= 2);
                let base: Decimal = amounts.iter().filter(|(_, x)| x.is_some_and(|x| x.name == tax.name)).map(|(a, _)| *a).sum();
                prop_assert_eq!(tax.base, base);
                // Within half a cent of the exact tax on the base.
                prop_assert!((tax.amount - tax.base * tax.rate / Decimal::ONE_HUNDRED).abs() <= Decimal::new(5, 3));
            }
            // What people read is what is computed.
            prop_assert_eq!(grouped(t.total).replace(',', "").parse::<Decimal>().ok(), Some(t.total.round_dp(2)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn lines_round_half_away_from_zero() {
        assert_eq!(line_amount(d("3"), d("0.335")), d("1.01")); // 1.005
        assert_eq!(line_amount(d("1"), d("-0.005")), d("-0.01"));
        assert_eq!(line_amount(d("0.333"), d("100")), d("33.30"));
        assert_eq!(line_amount(d("2.5"), d("19.99")), d("49.98")); // 49.975
    }

    #[test]
    fn tax_is_computed_per_rate_on_the_sum_of_its_lines() {
        let vat = AppliedTax { name: "VAT".into(), rate: d("20") };
        let reduced = AppliedTax { name: "Reduced".into(), rate: d("5.5") };
        // Per line, 0.05 × 20% = 0.01 each (three cents); on the sum, 0.15 × 20% = 0.03.
        let t = totals([
            (d("0.05"), Some(&vat)),
            (d("0.05"), Some(&vat)),
            (d("0.05"), Some(&vat)),
            (d("10.00"), Some(&reduced)),
            (d("7.00"), None),
        ]);
        assert_eq!(t.subtotal, d("17.15"));
        assert_eq!(t.taxes.len(), 2);
        assert_eq!(t.taxes[0].base, d("0.15"));
        assert_eq!(t.taxes[0].amount, d("0.03"));
        assert_eq!(t.taxes[1].amount, d("0.55"));
        assert_eq!(t.taxes[1].label(), "Reduced 5.5%");
        assert_eq!(t.tax_total, d("0.58"));
        assert_eq!(t.total, d("17.73"));
    }

    #[test]
    fn amounts_for_reading_group_thousands_and_name_the_currency() {
        assert_eq!(with_currency(d("12500"), "EUR"), "12,500.00 EUR");
        assert_eq!(with_currency(d("999.5"), "USD"), "999.50 USD");
        assert_eq!(with_currency(d("1234567.891"), "GBP"), "1,234,567.89 GBP");
        assert_eq!(with_currency(d("-1000"), "EUR"), "-1,000.00 EUR");
        assert_eq!(with_currency(d("0"), "EUR"), "0.00 EUR");
        assert_eq!(grouped(d("-0.001")), "0.00");
    }

    #[test]
    fn quantities_and_prices_show_what_they_hold() {
        assert_eq!(quantity(d("2.000")), "2");
        assert_eq!(quantity(d("0.333")), "0.333");
        assert_eq!(unit_price(d("12.5")), "12.50");
        assert_eq!(unit_price(d("0.1234")), "0.1234");
        assert_eq!(unit_price(d("-100")), "-100.00");
        assert_eq!(unit_price(d("1250.5")), "1,250.50");
        assert_eq!(unit_price(d("-12345.6789")), "-12,345.6789");
    }
}

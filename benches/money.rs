//! `cargo bench --bench money`: the money arithmetic every page, PDF, email and CSV goes
//! through (`money::amounts`): a line's amount, a document's totals with its tax
//! breakdown, an amount typed into a form, and an amount shown. Prints nanoseconds per
//! call; asserts nothing.

mod support;

use clienthub::money::amounts::{AppliedTax, grouped, line_amount, totals, with_currency};
use clienthub::web::fields::amount;
use clienthub::web::form::FieldErrors;
use rust_decimal::Decimal;
use std::hint::black_box;

const RUNS: usize = 200;
const BATCH: usize = 1_000;

fn report(label: &str, times: &[f64]) {
    println!(
        "{label:<40} p50 {:>9.0} ns   p95 {:>9.0} ns   min {:>9.0} ns",
        support::pct(times, 0.5),
        support::pct(times, 0.95),
        times[0]
    );
}

/// Lines as an agency bills them: quantities of hours or pieces, prices with cents,
/// two tax rates.
fn lines(n: usize, taxes: &[AppliedTax]) -> Vec<(Decimal, Option<&AppliedTax>)> {
    (0..n)
        .map(|i| {
            let quantity = Decimal::new(i as i64 % 40 * 25 + 25, 2);
            let unit_price = Decimal::new(9_550 + i as i64 * 137, 2);
            (line_amount(quantity, unit_price), Some(&taxes[i % taxes.len()]))
        })
        .collect()
}

fn main() {
    println!("Money arithmetic (rust_decimal), {RUNS} runs of {BATCH} calls each:");
    let (quantity, price) = (Decimal::new(1_375, 2), Decimal::new(1_234_567, 4));
    report(
        "line amount (qty × price, to cents)",
        &support::times(RUNS, BATCH, 1e9, || {
            black_box(line_amount(black_box(quantity), black_box(price)));
        }),
    );

    let taxes = [
        AppliedTax { name: "VAT".into(), rate: Decimal::from(20) },
        AppliedTax { name: "Reduced".into(), rate: Decimal::new(55, 1) },
    ];
    for n in [5, 200] {
        let lines = lines(n, &taxes);
        report(
            &format!("totals of {n} lines, 2 tax rates"),
            &support::times(RUNS, BATCH / 10, 1e9, || {
                black_box(totals(black_box(lines.iter().copied())));
            }),
        );
    }

    report(
        "amount typed in a form (\"12,500.50\")",
        &support::times(RUNS, BATCH, 1e9, || {
            let mut errors = FieldErrors::default();
            black_box(amount(&mut errors, "amount", black_box("12,500.50"), 2, Decimal::from(1_000_000_000)));
        }),
    );

    let shown = Decimal::new(123_456_789, 2);
    report(
        "amount shown (\"1,234,567.89 EUR\")",
        &support::times(RUNS, BATCH, 1e9, || {
            black_box(with_currency(black_box(shown), "EUR"));
        }),
    );
    report(
        "amount shown, no currency",
        &support::times(RUNS, BATCH, 1e9, || {
            black_box(grouped(black_box(shown)));
        }),
    );
}

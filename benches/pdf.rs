//! `cargo bench --bench pdf`: the time to render an invoice PDF of one page and of 200
//! lines (several pages), and their sizes. Prints figures; asserts nothing.

mod support;

use chrono::NaiveDate;
use clienthub::db::ids::{ClientId, TaxId};
use clienthub::money::Issuer;
use clienthub::money::amounts::line_amount;
use clienthub::money::document::{self, DocKind, Document, Item};
use clienthub::money::pdf::{PdfInput, render};
use rust_decimal::Decimal;

fn document(total: Decimal) -> Document {
    let date = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
    Document {
        id: uuid::Uuid::now_v7(),
        client_id: ClientId::new(),
        project_id: None,
        number: Some("INV-2026-0042".into()),
        status: "sent".into(),
        issue_date: date("2026-11-02"),
        end_date: date("2026-12-02"),
        currency: "EUR".into(),
        notes: "Thank you for your business.".into(),
        terms: "Payable by bank transfer within 30 days.".into(),
        subtotal: total,
        tax_total: Decimal::ZERO,
        total,
        amount_paid: Decimal::ZERO,
        issued_at: None,
        sent_at: None,
        sent_by_name: None,
        responded_at: None,
        reason: None,
        linked_id: None,
        linked_number: None,
        client_name: "Hannah Weber".into(),
        client_company: "Weber Bau GmbH".into(),
        client_email: "hannah@weber-bau.example".into(),
        client_address: "Friedrichstraße 10\n10117 Berlin".into(),
        client_tax_id: "DE123456789".into(),
        project_title: Some("Website redesign".into()),
        issuer_name: None,
        issuer_address: None,
        issuer_tax_id: None,
    }
}

fn items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let quantity = Decimal::new(i as i64 % 7 + 1, 0);
            let unit_price = Decimal::new(12_550 + i as i64 * 37, 2);
            Item {
                position: i as i32,
                description: format!(
                    "Line {i}: design and development work on the café's shop — Größe, Łódź, ₹ ¥ €{}",
                    if i % 5 == 0 {
                        ", with a longer explanation that wraps onto a second line of the description column"
                    } else {
                        ""
                    }
                ),
                quantity,
                unit_price,
                amount: line_amount(quantity, unit_price),
                tax_id: Some(TaxId::new()),
                tax_name: Some(if i % 3 == 0 { "Reduced" } else { "VAT" }.into()),
                tax_rate: Some(if i % 3 == 0 { Decimal::new(55, 1) } else { Decimal::from(20) }),
            }
        })
        .collect()
}

fn measure(label: &str, lines: usize, runs: usize) {
    let issuer = Issuer {
        name: "Northwind Studio".into(),
        address: "12 Harbour Street\nBristol BS1 4RW".into(),
        tax_id: "GB123456789".into(),
        brand_color: "#4f46e5".into(),
        paper_size: "A4".into(),
        payment_terms_days: 30,
        logo: None,
        logo_content_type: None,
    };
    let items = items(lines);
    let totals = document::totals_of(&items);
    let doc = document(totals.total);
    let input =
        PdfInput { kind: DocKind::Invoice, doc: &doc, items: &items, totals: &totals, issuer: &issuer, status: "sent" };
    // The first render parses the fonts once for the process; not counted.
    let first = render(&input).expect("render");
    let times = support::times(runs, 1, 1e3, || {
        std::hint::black_box(render(&input).expect("render"));
    });
    let pct = |p: f64| support::pct(&times, p);
    println!(
        "{label:<18} {lines:>4} lines   p50 {:>6.2} ms   p95 {:>6.2} ms   min {:>6.2} ms   {:>6.1} kB",
        pct(0.5),
        pct(0.95),
        times[0],
        first.len() as f64 / 1024.0,
    );
}

fn main() {
    println!("Invoice PDF rendering (printpdf low-level ops, DejaVu Sans subset), {} runs each:", 200);
    measure("one-page invoice", 5, 200);
    measure("200-line invoice", 200, 50);
}

//! The document editor, shared by invoices and quotations: the form as typed (header
//! fields and `items[N][field]` rows), its validation into a draft, and the page.
//! Rows are added and removed by posting the form with an `op` (htmx swaps the page in
//! place; without JavaScript it is a plain post), so nothing is lost while editing,
//! and the totals always come from the server's arithmetic.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::amounts::{self, AppliedTax, Totals};
use super::document::{DocKind, Document, DraftHeader, Item};
use super::taxes::Tax;
use crate::db::ids::{ClientId, ProjectId, TaxId};
use crate::web::Arg;
use crate::web::choices::Choices;
use crate::web::fields;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

/// More lines than any real document has; a form with more is refused, not truncated.
pub const MAX_LINES: usize = 500;
/// An editor form may carry up to MAX_LINES long descriptions.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
const MAX_QUANTITY: i64 = 1_000_000;
const MAX_UNIT_PRICE: i64 = 1_000_000_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineForm {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub tax_id: String,
}

impl LineForm {
    /// A row with neither description nor price is an unused row (its quantity may hold
    /// the default 1): it is left out, and says nothing.
    fn is_blank(&self) -> bool {
        self.description.trim().is_empty() && self.unit_price.trim().is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct EditorForm {
    pub client_id: String,
    pub project_id: String,
    pub issue_date: String,
    pub end_date: String,
    pub currency: String,
    pub notes: String,
    pub terms: String,
    pub lines: Vec<LineForm>,
    /// What the post asks for: save (empty), "add", "remove-N" or "recalc".
    pub op: String,
    /// The form named more rows than MAX_LINES (they were not kept).
    pub too_many_lines: bool,
}

/// What a post to the editor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Save,
    AddLine,
    RemoveLine(usize),
    Recalculate,
}

impl EditorForm {
    /// Reads the posted pairs. Rows are `items[N][field]` with any N (a browser's
    /// numbering may have gaps after removals); they keep N's order.
    pub fn from_pairs(kind: DocKind, pairs: Vec<(String, String)>) -> EditorForm {
        let mut form = EditorForm::default();
        let mut rows: std::collections::BTreeMap<usize, LineForm> = Default::default();
        for (key, value) in pairs {
            if let Some((index, field)) = item_key(&key) {
                if index >= MAX_LINES * 4 || (rows.len() >= MAX_LINES && !rows.contains_key(&index)) {
                    form.too_many_lines = true;
                    continue;
                }
                let row = rows.entry(index).or_default();
                match field {
                    "description" => row.description = value,
                    "quantity" => row.quantity = value,
                    "unit_price" => row.unit_price = value,
                    "tax_id" => row.tax_id = value,
                    _ => {}
                }
                continue;
            }
            match key.as_str() {
                "client_id" => form.client_id = value,
                "project_id" => form.project_id = value,
                "issue_date" => form.issue_date = value,
                "due_date" if kind == DocKind::Invoice => form.end_date = value,
                "valid_until" if kind == DocKind::Quotation => form.end_date = value,
                "currency" => form.currency = value,
                "notes" => form.notes = value,
                "terms" => form.terms = value,
                "op" => form.op = value,
                _ => {}
            }
        }
        form.lines = rows.into_values().collect();
        form
    }

    pub fn op(&self) -> Op {
        match self.op.as_str() {
            "add" => Op::AddLine,
            "recalc" => Op::Recalculate,
            other => other.strip_prefix("remove-").and_then(|n| n.parse().ok()).map(Op::RemoveLine).unwrap_or(Op::Save),
        }
    }

    /// Applies an add or remove; the editor always keeps at least one row to type in.
    pub fn apply(&mut self, op: Op) {
        match op {
            Op::AddLine if self.lines.len() < MAX_LINES => {
                self.lines.push(LineForm { quantity: "1".into(), ..Default::default() })
            }
            Op::RemoveLine(i) if i < self.lines.len() => {
                self.lines.remove(i);
            }
            _ => {}
        }
        if self.lines.is_empty() {
            self.lines.push(LineForm { quantity: "1".into(), ..Default::default() });
        }
    }

    /// A new document's form: the client chosen (if any), today, the org's terms.
    pub fn new_document(kind: DocKind, client: Option<ClientId>, currency: &str, terms_days: i32) -> EditorForm {
        let today = super::document::today();
        let end = match kind {
            DocKind::Invoice => today + chrono::Duration::days(i64::from(terms_days)),
            DocKind::Quotation => today + chrono::Duration::days(30),
        };
        EditorForm {
            client_id: client.map(|c| c.to_string()).unwrap_or_default(),
            issue_date: today.to_string(),
            end_date: end.to_string(),
            currency: currency.to_string(),
            lines: vec![LineForm { quantity: "1".into(), ..Default::default() }],
            ..Default::default()
        }
    }

    /// The form of a saved draft.
    pub fn from_document(doc: &Document, items: &[Item]) -> EditorForm {
        EditorForm {
            client_id: doc.client_id.to_string(),
            project_id: doc.project_id.map(|p| p.to_string()).unwrap_or_default(),
            issue_date: doc.issue_date.to_string(),
            end_date: doc.end_date.to_string(),
            currency: doc.currency.clone(),
            notes: doc.notes.clone(),
            terms: doc.terms.clone(),
            lines: items
                .iter()
                .map(|i| LineForm {
                    description: i.description.clone(),
                    quantity: amounts::quantity(i.quantity),
                    unit_price: amounts::unit_price(i.unit_price),
                    tax_id: i.tax_id.map(|t| t.to_string()).unwrap_or_default(),
                })
                .collect(),
            ..Default::default()
        }
    }
}

fn item_key(key: &str) -> Option<(usize, &str)> {
    let rest = key.strip_prefix("items[")?;
    let (index, rest) = rest.split_once("][")?;
    let field = rest.strip_suffix(']')?;
    Some((index.parse().ok()?, field))
}

/// Errors of one line, by field ("description", "quantity", "unit_price", "tax_id").
pub type LineErrors = FieldErrors;

/// The outcome of checking a form: each line's amount where it could be computed, the
/// totals of those, and every error next to its field.
#[derive(Debug, Default)]
pub struct Checked {
    pub header: Option<DraftHeader>,
    pub items: Vec<Item>,
    pub line_amounts: Vec<Option<Decimal>>,
    pub totals: Totals,
    pub errors: FieldErrors,
    pub line_errors: Vec<LineErrors>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.line_errors.iter().all(FieldErrors::is_empty) && self.header.is_some()
    }

    pub fn draft(self) -> Option<(DraftHeader, Vec<Item>)> {
        if self.is_valid() { self.header.map(|h| (h, self.items)) } else { None }
    }
}

/// Checks the form against the organization's clients, projects and taxes (loaded by
/// the caller in the tenant transaction: a tax or client of another organization is
/// simply not among them).
pub fn check(kind: DocKind, form: &EditorForm, client_exists: bool, project_exists: bool, taxes: &[Tax]) -> Checked {
    let mut errors = FieldErrors::default();
    let client_id: Option<ClientId> = fields::optional_id(&mut errors, "client_id", &form.client_id);
    if client_id.is_none() && errors.get("client_id").is_none() {
        errors.add("client_id", "Choose the client.");
    }
    if client_id.is_some() && !client_exists {
        errors.add("client_id", "Choose one of the options in the list.");
    }
    let project_id: Option<ProjectId> = fields::optional_id(&mut errors, "project_id", &form.project_id);
    if project_id.is_some() && !project_exists {
        errors.add("project_id", "Choose one of the options in the list.");
    }
    let end_field = kind.end_date_column();
    let issue_date = required_date(&mut errors, "issue_date", &form.issue_date, "the issue date");
    let end_date = required_date(&mut errors, end_field, &form.end_date, "a date");
    if let (Some(start), Some(end)) = (issue_date, end_date)
        && end < start
    {
        errors.add(end_field, "This date is before the issue date.");
    }
    let currency = form.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors.add("currency", "Use a three-letter currency code, like EUR or USD.");
    }
    let notes = fields::text(&mut errors, "notes", &form.notes, 5000, None);
    let terms = fields::text(&mut errors, "terms", &form.terms, 5000, None);

    let mut items = Vec::new();
    let mut line_amounts = Vec::new();
    let mut line_errors = Vec::new();
    let mut applied: Vec<Option<AppliedTax>> = Vec::new();
    if form.too_many_lines {
        errors.add("items", format!("A document can have at most {MAX_LINES} lines. Split it into several."));
    }
    let lines: Vec<&LineForm> = form.lines.iter().filter(|l| !l.is_blank()).collect();
    if lines.is_empty() && !form.too_many_lines {
        errors.add("items", "Add at least one line with a description, quantity and price.");
    }
    for line in &form.lines {
        let mut e = FieldErrors::default();
        if line.is_blank() {
            // An empty row is ignored when saving, and says nothing.
            line_amounts.push(None);
            line_errors.push(e);
            continue;
        }
        let description = fields::text(&mut e, "description", &line.description, 5000, Some("a description"));
        let quantity = number(&mut e, "quantity", &line.quantity, 3, false, MAX_QUANTITY);
        if quantity.is_some_and(|q| q.is_zero()) {
            e.add("quantity", "Use a quantity above zero.");
        }
        let unit_price = number(&mut e, "unit_price", &line.unit_price, 4, true, MAX_UNIT_PRICE);
        let tax = match line.tax_id.trim() {
            "" => None,
            raw => match raw.parse::<TaxId>().ok().and_then(|id| taxes.iter().find(|t| t.id == id)) {
                Some(t) => Some(t),
                None => {
                    e.add("tax_id", "Choose one of the taxes in the list.");
                    None
                }
            },
        };
        let amount = match (quantity, unit_price) {
            (Some(q), Some(p)) => Some(amounts::line_amount(q, p)),
            _ => None,
        };
        line_amounts.push(amount);
        if let (Some(quantity), Some(unit_price), Some(amount), true) = (quantity, unit_price, amount, e.is_empty()) {
            applied.push(tax.map(|t| AppliedTax { name: t.name.clone(), rate: t.rate }));
            items.push(Item {
                position: i32::try_from(items.len()).unwrap_or(i32::MAX),
                description,
                quantity,
                unit_price,
                amount,
                tax_id: tax.map(|t| t.id),
                tax_name: tax.map(|t| t.name.clone()),
                tax_rate: tax.map(|t| t.rate),
            });
        }
        line_errors.push(e);
    }
    let totals = amounts::totals(items.iter().zip(&applied).map(|(i, t)| (i.amount, t.as_ref())));
    if totals.subtotal < Decimal::ZERO || totals.taxes.iter().any(|t| t.base < Decimal::ZERO) {
        errors.add(
            "items",
            "Discount lines cannot be larger than the lines they discount: the total would be below zero.",
        );
    }
    let header = match (client_id, issue_date, end_date, errors.is_empty()) {
        (Some(client_id), Some(issue_date), Some(end_date), true) => {
            Some(DraftHeader { client_id, project_id, issue_date, end_date, currency, notes, terms })
        }
        _ => None,
    };
    Checked { header, items, line_amounts, totals, errors, line_errors }
}

fn required_date(errors: &mut FieldErrors, field: &'static str, raw: &str, what: &str) -> Option<NaiveDate> {
    if raw.trim().is_empty() {
        errors.add(field, format!("Enter {what}."));
        return None;
    }
    fields::date(errors, field, raw)
}

/// A quantity or price: a plain decimal number with at most `scale` decimals, below
/// `max` in size; negative only where `negative_ok` (a discount's unit price).
fn number(
    errors: &mut FieldErrors,
    field: &'static str,
    raw: &str,
    scale: u32,
    negative_ok: bool,
    max: i64,
) -> Option<Decimal> {
    let text = match fields::ungrouped(raw) {
        Ok(text) => text,
        Err(message) => {
            errors.add(field, message);
            return None;
        }
    };
    if text.is_empty() {
        errors.add(field, "Enter a number.");
        return None;
    }
    let body = text.strip_prefix('-').unwrap_or(&text);
    let well_formed = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.chars().filter(|c| *c == '.').count() <= 1
        && body.chars().any(|c| c.is_ascii_digit())
        && body.len() <= 40;
    let value = if well_formed { text.parse::<Decimal>().ok() } else { None };
    let Some(value) = value else {
        errors.add(field, "Enter a number, like 2 or 1250.50.");
        return None;
    };
    if value.is_sign_negative() && !value.is_zero() && !negative_ok {
        errors.add(field, "Use a positive number. For a discount, add a line with a negative price.");
        return None;
    }
    if value.normalize().scale() > scale {
        errors.add(field, format!("Use at most {scale} decimal places."));
        return None;
    }
    if value.abs() >= Decimal::from(max) {
        errors.add(
            field,
            format!("Use a number below {}.", amounts::grouped(Decimal::from(max)).trim_end_matches(".00")),
        );
        return None;
    }
    Some(value.normalize())
}

#[derive(askama::Template)]
#[template(path = "money/editor.html")]
pub struct EditorPage {
    pub layout: Layout,
    pub kind: DocKind,
    /// Saved drafts are edited at their own URL; new ones post to the list.
    pub document: Option<Document>,
    pub form: EditorForm,
    pub checked: Checked,
    pub clients: Choices,
    pub projects: Choices,
    pub taxes: Vec<Tax>,
}

impl EditorPage {
    pub fn action(&self) -> String {
        match &self.document {
            Some(d) => format!("{}/{}", self.kind.base_path(), d.id),
            None => self.kind.base_path().to_string(),
        }
    }

    pub fn cancel_link(&self) -> String {
        match &self.document {
            Some(d) => format!("{}/{}", self.kind.base_path(), d.id),
            None => self.kind.base_path().to_string(),
        }
    }

    pub fn line_amount(&self, index: impl Arg<usize>) -> String {
        self.checked.line_amounts.get(index.value()).copied().flatten().map(amounts::grouped).unwrap_or_default()
    }

    pub fn line_error(&self, index: impl Arg<usize>, field: &str) -> Option<&str> {
        self.checked.line_errors.get(index.value()).and_then(|e| e.get(field))
    }

    pub fn money(&self, value: impl Arg<Decimal>) -> String {
        amounts::grouped(value.value())
    }

    /// The page whose totals `money/_totals.html` shows (itself, when included).
    pub fn page_ref(&self) -> &EditorPage {
        self
    }

    pub fn is_fragment(&self) -> bool {
        false
    }

    /// The currency as it will be saved.
    pub fn currency(&self) -> String {
        self.form.currency.trim().to_ascii_uppercase()
    }

    pub fn end_field(&self) -> &'static str {
        self.kind.end_date_column()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn tax() -> Tax {
        Tax { id: TaxId::new(), name: "VAT".into(), rate: "20".parse().unwrap(), drafts_using: 0 }
    }

    fn form(lines: &[(&str, &str, &str)]) -> EditorForm {
        let mut p = pairs(&[
            ("client_id", "0193a0c4-0000-7000-8000-000000000001"),
            ("issue_date", "2026-11-01"),
            ("due_date", "2026-12-01"),
            ("currency", "eur"),
        ]);
        for (i, (d, q, u)) in lines.iter().enumerate() {
            p.push((format!("items[{i}][description]"), d.to_string()));
            p.push((format!("items[{i}][quantity]"), q.to_string()));
            p.push((format!("items[{i}][unit_price]"), u.to_string()));
        }
        EditorForm::from_pairs(DocKind::Invoice, p)
    }

    #[test]
    fn rows_are_read_in_index_order_and_blank_rows_are_ignored() {
        let f = EditorForm::from_pairs(
            DocKind::Invoice,
            pairs(&[
                ("items[5][description]", "second"),
                ("items[2][description]", "first"),
                ("items[2][quantity]", "1"),
                ("items[9][description]", ""),
                ("op", "remove-1"),
            ]),
        );
        assert_eq!(f.lines.len(), 3);
        assert_eq!(f.lines[0].description, "first");
        assert_eq!(f.op(), Op::RemoveLine(1));
    }

    #[test]
    fn a_valid_form_becomes_a_draft_with_exact_totals() {
        let checked = check(DocKind::Invoice, &form(&[("Design", "2.5", "19.99"), ("", "", "")]), true, false, &[]);
        assert!(checked.is_valid(), "{checked:?}");
        assert_eq!(checked.totals.total, "49.98".parse().unwrap());
        let (header, items) = checked.draft().unwrap();
        assert_eq!(header.currency, "EUR");
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn bad_numbers_get_messages_next_to_their_field() {
        let checked = check(
            DocKind::Invoice,
            &form(&[
                ("A", "two", "10"),
                ("B", "-1", "10"),
                ("C", "1", "100000000000000000000"),
                ("D", "1.0001", "1.00001"),
                ("E", "1", "1e5"),
            ]),
            true,
            false,
            &[],
        );
        assert!(!checked.is_valid());
        assert_eq!(checked.line_errors[0].get("quantity"), Some("Enter a number, like 2 or 1250.50."));
        assert!(checked.line_errors[1].get("quantity").unwrap().contains("negative price"));
        assert_eq!(checked.line_errors[2].get("unit_price"), Some("Use a number below 1,000,000,000."));
        assert_eq!(checked.line_errors[3].get("quantity"), Some("Use at most 3 decimal places."));
        assert_eq!(checked.line_errors[3].get("unit_price"), Some("Use at most 4 decimal places."));
        assert!(checked.line_errors[4].get("unit_price").is_some());
    }

    #[test]
    fn discounts_are_negative_prices_that_cannot_take_the_total_below_zero() {
        let ok = check(DocKind::Invoice, &form(&[("Work", "1", "100"), ("Discount", "1", "-10")]), true, false, &[]);
        assert!(ok.is_valid());
        assert_eq!(ok.totals.total, Decimal::from(90));
        let too_much =
            check(DocKind::Invoice, &form(&[("Work", "1", "100"), ("Discount", "1", "-110")]), true, false, &[]);
        assert!(too_much.errors.get("items").is_some());
    }

    #[test]
    fn a_tax_must_be_one_of_the_organizations() {
        let mine = tax();
        let mut f = form(&[("Work", "1", "100")]);
        f.lines[0].tax_id = TaxId::new().to_string();
        let checked = check(DocKind::Invoice, &f, true, false, std::slice::from_ref(&mine));
        assert!(checked.line_errors[0].get("tax_id").is_some());
        f.lines[0].tax_id = mine.id.to_string();
        let checked = check(DocKind::Invoice, &f, true, false, &[mine]);
        assert!(checked.is_valid());
        assert_eq!(checked.totals.tax_total, Decimal::from(20));
    }

    #[test]
    fn ten_thousand_rows_are_refused_whole() {
        let mut p = pairs(&[("client_id", "0193a0c4-0000-7000-8000-000000000001")]);
        for i in 0..10_000 {
            p.push((format!("items[{i}][description]"), "x".into()));
        }
        let f = EditorForm::from_pairs(DocKind::Invoice, p);
        assert!(f.too_many_lines);
        assert!(f.lines.len() <= MAX_LINES);
        let checked = check(DocKind::Invoice, &f, true, false, &[]);
        assert!(checked.errors.get("items").unwrap().contains("at most 500 lines"));
    }
}

//! What invoices and quotations share: one shape (a header, line items, totals), kept
//! in two pairs of tables. `DocKind` names the tables and words of each; the queries
//! here serve both, so a fix to one is a fix to the other.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Int4, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;

use super::amounts::{self, AppliedTax, Totals};
use crate::db::ids::{ClientId, ProjectId, TaxId};
use crate::web::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Invoice,
    Quotation,
}

impl DocKind {
    pub fn table(self) -> &'static str {
        match self {
            DocKind::Invoice => "invoices",
            DocKind::Quotation => "quotations",
        }
    }

    pub fn items_table(self) -> &'static str {
        match self {
            DocKind::Invoice => "invoice_items",
            DocKind::Quotation => "quotation_items",
        }
    }

    pub fn parent_column(self) -> &'static str {
        match self {
            DocKind::Invoice => "invoice_id",
            DocKind::Quotation => "quotation_id",
        }
    }

    /// The column of the second date: when payment is due, or how long the offer holds.
    pub fn end_date_column(self) -> &'static str {
        match self {
            DocKind::Invoice => "due_date",
            DocKind::Quotation => "valid_until",
        }
    }

    pub fn end_date_label(self) -> &'static str {
        match self {
            DocKind::Invoice => "Due date",
            DocKind::Quotation => "Valid until",
        }
    }

    /// As in URLs and the audit log: "invoice", "quotation".
    pub fn key(self) -> &'static str {
        match self {
            DocKind::Invoice => "invoice",
            DocKind::Quotation => "quotation",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            DocKind::Invoice => "Invoice",
            DocKind::Quotation => "Quotation",
        }
    }

    pub fn plural_title(self) -> &'static str {
        match self {
            DocKind::Invoice => "Invoices",
            DocKind::Quotation => "Quotations",
        }
    }

    pub fn base_path(self) -> &'static str {
        match self {
            DocKind::Invoice => "/invoices",
            DocKind::Quotation => "/quotations",
        }
    }

    pub fn statuses(self) -> &'static [(&'static str, &'static str)] {
        match self {
            DocKind::Invoice => &[
                ("draft", "Draft"),
                ("sent", "Sent"),
                ("partially_paid", "Partially paid"),
                ("paid", "Paid"),
                ("void", "Void"),
                ("overdue", "Overdue"),
            ],
            DocKind::Quotation => &[
                ("draft", "Draft"),
                ("sent", "Sent"),
                ("accepted", "Accepted"),
                ("declined", "Declined"),
                ("expired", "Expired"),
            ],
        }
    }
}

/// A document's status as people should see it today: a sent invoice past its due date
/// with a balance is overdue; a sent quotation past its valid-until date has expired.
pub fn shown_status(
    kind: DocKind,
    status: &str,
    end_date: NaiveDate,
    balance: Decimal,
    today: NaiveDate,
) -> &'static str {
    let past = end_date < today;
    match (kind, status) {
        (DocKind::Invoice, "sent" | "partially_paid") if past && balance > Decimal::ZERO => "overdue",
        (DocKind::Quotation, "sent") if past => "expired",
        (_, other) => kind.statuses().iter().map(|(k, _)| *k).find(|k| *k == other).unwrap_or("draft"),
    }
}

pub fn status_label(kind: DocKind, status: &str) -> &'static str {
    kind.statuses().iter().find(|(k, _)| *k == status).map(|(_, l)| *l).unwrap_or("Draft")
}

/// The date of "today" that due dates are compared with.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Document {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub client_id: ClientId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub project_id: Option<ProjectId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub number: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Date)]
    pub issue_date: NaiveDate,
    #[diesel(sql_type = Date)]
    pub end_date: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub notes: String,
    #[diesel(sql_type = Text)]
    pub terms: String,
    #[diesel(sql_type = Numeric)]
    pub subtotal: Decimal,
    #[diesel(sql_type = Numeric)]
    pub tax_total: Decimal,
    #[diesel(sql_type = Numeric)]
    pub total: Decimal,
    #[diesel(sql_type = Numeric)]
    pub amount_paid: Decimal,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub issued_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub sent_by_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub responded_at: Option<DateTime<Utc>>,
    /// Why an invoice was voided, or why a quotation was declined.
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    /// The other side of a conversion: an invoice's quotation, a quotation's invoice.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub linked_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub linked_number: Option<String>,
    #[diesel(sql_type = Text)]
    pub client_name: String,
    #[diesel(sql_type = Text)]
    pub client_company: String,
    #[diesel(sql_type = Text)]
    pub client_email: String,
    #[diesel(sql_type = Text)]
    pub client_address: String,
    #[diesel(sql_type = Text)]
    pub client_tax_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub project_title: Option<String>,
    /// The organization's name, address and tax ID as they were when it was issued.
    #[diesel(sql_type = Nullable<Text>)]
    pub issuer_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub issuer_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub issuer_tax_id: Option<String>,
}

impl Document {
    pub fn is_draft(&self) -> bool {
        self.status == "draft"
    }

    pub fn balance(&self) -> Decimal {
        self.total - self.amount_paid
    }

    /// The number, or "Draft" before one is assigned.
    pub fn label(&self) -> &str {
        self.number.as_deref().unwrap_or("Draft")
    }
}

fn document_sql(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Invoice => {
            "SELECT d.id, d.client_id, d.project_id, d.number, d.status, d.issue_date, d.due_date AS end_date,
                    d.currency, d.notes, d.terms, d.subtotal, d.tax_total, d.total, d.amount_paid,
                    d.issued_at, d.sent_at, su.name AS sent_by_name, d.voided_at AS responded_at,
                    d.void_reason AS reason, d.quotation_id AS linked_id, q.number AS linked_number,
                    coalesce(d.parties->'client'->>'name', c.name) AS client_name, coalesce(d.parties->'client'->>'company', c.company) AS client_company, c.email AS client_email,
                    coalesce(d.parties->'client'->>'address', c.address) AS client_address, coalesce(d.parties->'client'->>'tax_id', c.tax_id) AS client_tax_id, p.title AS project_title,
                    d.parties->'issuer'->>'name' AS issuer_name, d.parties->'issuer'->>'address' AS issuer_address,
                    d.parties->'issuer'->>'tax_id' AS issuer_tax_id
             FROM invoices d
             JOIN clients c ON c.org_id = d.org_id AND c.id = d.client_id
             LEFT JOIN projects p ON p.org_id = d.org_id AND p.id = d.project_id
             LEFT JOIN quotations q ON q.org_id = d.org_id AND q.id = d.quotation_id
             LEFT JOIN users su ON su.id = d.sent_by
             WHERE d.id = $1 AND d.org_id = app_org_id()"
        }
        DocKind::Quotation => {
            "SELECT d.id, d.client_id, d.project_id, d.number, d.status, d.issue_date, d.valid_until AS end_date,
                    d.currency, d.notes, d.terms, d.subtotal, d.tax_total, d.total, 0::numeric AS amount_paid,
                    d.issued_at, d.sent_at, su.name AS sent_by_name, d.responded_at,
                    d.decline_reason AS reason, i.id AS linked_id, i.number AS linked_number,
                    coalesce(d.parties->'client'->>'name', c.name) AS client_name, coalesce(d.parties->'client'->>'company', c.company) AS client_company, c.email AS client_email,
                    coalesce(d.parties->'client'->>'address', c.address) AS client_address, coalesce(d.parties->'client'->>'tax_id', c.tax_id) AS client_tax_id, p.title AS project_title,
                    d.parties->'issuer'->>'name' AS issuer_name, d.parties->'issuer'->>'address' AS issuer_address,
                    d.parties->'issuer'->>'tax_id' AS issuer_tax_id
             FROM quotations d
             JOIN clients c ON c.org_id = d.org_id AND c.id = d.client_id
             LEFT JOIN projects p ON p.org_id = d.org_id AND p.id = d.project_id
             LEFT JOIN invoices i ON i.org_id = d.org_id AND i.quotation_id = d.id
             LEFT JOIN users su ON su.id = d.sent_by
             WHERE d.id = $1 AND d.org_id = app_org_id()"
        }
    }
}

/// The document, or 404 (also for another organization's: row-level security hides it).
pub fn find(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid) -> Result<Document, AppError> {
    crate::db::sql_query(document_sql(kind))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Locks the document's row for a change of state and returns its status, or 404.
pub fn lock_status(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid) -> Result<String, AppError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        status: String,
    }
    let row: Option<Row> = crate::db::sql_query(format!(
        "SELECT status FROM {} WHERE id = $1 AND org_id = app_org_id() FOR UPDATE",
        kind.table()
    ))
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()?;
    row.map(|r| r.status).ok_or(AppError::NotFound)
}

#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct Item {
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Numeric)]
    pub quantity: Decimal,
    #[diesel(sql_type = Numeric)]
    pub unit_price: Decimal,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tax_id: Option<TaxId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tax_name: Option<String>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub tax_rate: Option<Decimal>,
}

impl Item {
    pub fn tax(&self) -> Option<AppliedTax> {
        match (&self.tax_name, self.tax_rate) {
            (Some(name), Some(rate)) => Some(AppliedTax { name: name.clone(), rate }),
            _ => None,
        }
    }

    /// "VAT 20%", or empty.
    pub fn tax_label(&self) -> String {
        self.tax().map(|t| format!("{} {}%", t.name, t.rate.normalize())).unwrap_or_default()
    }
}

pub fn items(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid) -> QueryResult<Vec<Item>> {
    crate::db::sql_query(format!(
        "SELECT position, description, quantity, unit_price, amount, tax_id, tax_name, tax_rate
         FROM {} WHERE {} = $1 AND org_id = app_org_id() ORDER BY position",
        kind.items_table(),
        kind.parent_column()
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)
}

/// The totals of items, by the one arithmetic of [`amounts`].
pub fn totals_of(items: &[Item]) -> Totals {
    let taxes: Vec<Option<AppliedTax>> = items.iter().map(Item::tax).collect();
    amounts::totals(items.iter().zip(&taxes).map(|(i, t)| (i.amount, t.as_ref())))
}

/// Replaces a draft's items with `items` in one statement (hundreds of lines are one
/// round trip). The caller has checked that the document is a draft; a trigger refuses
/// anything else.
pub fn replace_items(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid, items: &[Item]) -> QueryResult<()> {
    crate::db::sql_query(format!(
        "DELETE FROM {} WHERE {} = $1 AND org_id = app_org_id()",
        kind.items_table(),
        kind.parent_column()
    ))
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = items.iter().map(|_| uuid::Uuid::now_v7()).collect();
    crate::db::sql_query(format!(
        "INSERT INTO {} (id, org_id, {}, position, description, quantity, unit_price, amount, tax_id, tax_name, tax_rate)
         SELECT u.id, app_org_id(), $2, u.position, u.description, u.quantity, u.unit_price, u.amount,
                u.tax_id, u.tax_name, u.tax_rate
         FROM unnest($1::uuid[], $3::int[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
                     $8::uuid[], $9::text[], $10::numeric[])
           AS u(id, position, description, quantity, unit_price, amount, tax_id, tax_name, tax_rate)",
        kind.items_table(),
        kind.parent_column()
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<SqlUuid, _>(id)
    .bind::<Array<Int4>, _>(items.iter().map(|i| i.position).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items.iter().map(|i| i.description.as_str()).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(items.iter().map(|i| i.quantity).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(items.iter().map(|i| i.unit_price).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(items.iter().map(|i| i.amount).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(items.iter().map(|i| i.tax_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(items.iter().map(|i| i.tax_name.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Numeric>>, _>(items.iter().map(|i| i.tax_rate).collect::<Vec<_>>())
    .execute(conn)?;
    Ok(())
}

/// The next number of the organization's `kind` series for `year` ("INV-2026-0007").
/// Runs in the issuing transaction: the counter row stays locked until it commits, so
/// concurrent issues wait in turn, and a rollback gives the number back.
pub fn next_number(conn: &mut PgConnection, kind: DocKind, year: i32) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int4)]
        last_number: i32,
        #[diesel(sql_type = Text)]
        prefix: String,
    }
    let prefix_column = match kind {
        DocKind::Invoice => "invoice_prefix",
        DocKind::Quotation => "quotation_prefix",
    };
    let row: Row = crate::db::sql_query(format!(
        "WITH n AS (
           INSERT INTO document_counters (org_id, kind, year, last_number) VALUES (app_org_id(), $1, $2, 1)
           ON CONFLICT (org_id, kind, year) DO UPDATE SET last_number = document_counters.last_number + 1
           RETURNING last_number)
         SELECT n.last_number, o.{prefix_column} AS prefix FROM n, organizations o WHERE o.id = app_org_id()"
    ))
    .bind::<Text, _>(kind.key())
    .bind::<Int4, _>(year)
    .get_result(conn)?;
    Ok(format!("{}-{year}-{:04}", row.prefix, row.last_number))
}

/// Issues a draft on `day` (today, for people): it takes that date, keeps its payment
/// term or validity length, gets the next number of that year, and keeps a copy of the
/// client's and the organization's details. A zero-total invoice is paid at once. The
/// caller holds the row lock.
pub fn issue(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid, day: NaiveDate) -> QueryResult<String> {
    let number = next_number(conn, kind, chrono::Datelike::year(&day))?;
    let end = kind.end_date_column();
    crate::db::sql_query(format!(
        "UPDATE {table} d SET
           status = CASE WHEN $3 AND d.total = 0 THEN 'paid' ELSE 'sent' END,
           number = $2, issued_at = now(), updated_at = now(),
           issue_date = $4, {end} = $4 + (d.{end} - d.issue_date),
           parties = jsonb_build_object(
             'client', (SELECT jsonb_build_object('name', c.name, 'company', c.company, 'address', c.address,
                                                  'tax_id', c.tax_id)
                        FROM clients c WHERE c.org_id = d.org_id AND c.id = d.client_id),
             'issuer', (SELECT jsonb_build_object('name', o.name, 'address', o.address, 'tax_id', o.tax_id)
                        FROM organizations o WHERE o.id = d.org_id))
         WHERE d.id = $1 AND d.org_id = app_org_id()",
        table = kind.table()
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&number)
    .bind::<diesel::sql_types::Bool, _>(kind == DocKind::Invoice)
    .bind::<Date, _>(day)
    .execute(conn)?;
    Ok(number)
}

/// The header of a draft as the editor saves it.
#[derive(Debug, Clone)]
pub struct DraftHeader {
    pub client_id: ClientId,
    pub project_id: Option<ProjectId>,
    pub issue_date: NaiveDate,
    pub end_date: NaiveDate,
    pub currency: String,
    pub notes: String,
    pub terms: String,
}

/// Inserts a new draft with its items and totals.
pub fn insert_draft(
    conn: &mut PgConnection,
    kind: DocKind,
    id: uuid::Uuid,
    created_by: crate::db::ids::UserId,
    header: &DraftHeader,
    items: &[Item],
) -> QueryResult<()> {
    let t = totals_of(items);
    crate::db::sql_query(format!(
        "INSERT INTO {} (id, org_id, client_id, project_id, issue_date, {}, currency, notes, terms,
                         subtotal, tax_total, total, created_by)
         VALUES ($1, app_org_id(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        kind.table(),
        kind.end_date_column()
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(header.client_id)
    .bind::<Nullable<SqlUuid>, _>(header.project_id)
    .bind::<Date, _>(header.issue_date)
    .bind::<Date, _>(header.end_date)
    .bind::<Text, _>(&header.currency)
    .bind::<Text, _>(&header.notes)
    .bind::<Text, _>(&header.terms)
    .bind::<Numeric, _>(t.subtotal)
    .bind::<Numeric, _>(t.tax_total)
    .bind::<Numeric, _>(t.total)
    .bind::<SqlUuid, _>(created_by)
    .execute(conn)?;
    replace_items(conn, kind, id, items)
}

/// Saves a draft's header, items and totals. False when it is no longer a draft.
pub fn update_draft(
    conn: &mut PgConnection,
    kind: DocKind,
    id: uuid::Uuid,
    header: &DraftHeader,
    items: &[Item],
) -> QueryResult<bool> {
    let t = totals_of(items);
    let updated = crate::db::sql_query(format!(
        "UPDATE {} SET client_id = $2, project_id = $3, issue_date = $4, {} = $5, currency = $6, notes = $7,
                terms = $8, subtotal = $9, tax_total = $10, total = $11, updated_at = now()
         WHERE id = $1 AND org_id = app_org_id() AND status = 'draft'",
        kind.table(),
        kind.end_date_column()
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(header.client_id)
    .bind::<Nullable<SqlUuid>, _>(header.project_id)
    .bind::<Date, _>(header.issue_date)
    .bind::<Date, _>(header.end_date)
    .bind::<Text, _>(&header.currency)
    .bind::<Text, _>(&header.notes)
    .bind::<Text, _>(&header.terms)
    .bind::<Numeric, _>(t.subtotal)
    .bind::<Numeric, _>(t.tax_total)
    .bind::<Numeric, _>(t.total)
    .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    replace_items(conn, kind, id, items)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn overdue_and_expired_are_shown_from_the_dates() {
        let today = date("2026-11-21");
        let past = date("2026-11-20");
        let d = Decimal::from(10);
        assert_eq!(shown_status(DocKind::Invoice, "sent", past, d, today), "overdue");
        assert_eq!(shown_status(DocKind::Invoice, "partially_paid", past, d, today), "overdue");
        assert_eq!(shown_status(DocKind::Invoice, "sent", today, d, today), "sent");
        assert_eq!(shown_status(DocKind::Invoice, "paid", past, Decimal::ZERO, today), "paid");
        assert_eq!(shown_status(DocKind::Invoice, "void", past, d, today), "void");
        assert_eq!(shown_status(DocKind::Quotation, "sent", past, d, today), "expired");
        assert_eq!(shown_status(DocKind::Quotation, "accepted", past, d, today), "accepted");
    }
}

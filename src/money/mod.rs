//! Money (SPEC §3): taxes, invoices and quotations with line items, payments, gapless
//! numbers, PDFs drawn on the server, and sending them to clients. The arithmetic
//! lives in `amounts`, once, for every page, PDF, email and CSV.

pub mod amounts;
pub mod document;
pub mod editor;
pub mod invoices;
pub mod list;
pub mod pages;
pub mod payments;
pub mod pdf;
pub mod quotations;
pub mod sending;
pub mod taxes;

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::schema::organizations;
use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/taxes" => Access::Permission(Permission::ManageTaxes), taxes::index;
    POST "/taxes" => Access::Permission(Permission::ManageTaxes), taxes::create;
    POST "/taxes/{id}/delete" => Access::Permission(Permission::ManageTaxes), taxes::delete;

    GET "/invoices" => Access::Permission(Permission::ViewInvoices), invoices::index;
    GET "/invoices.csv" => Access::Permission(Permission::ExportData), invoices::csv;
    GET "/invoices/new" => Access::Permission(Permission::ManageInvoices), invoices::new;
    POST "/invoices" => Access::Permission(Permission::ManageInvoices), invoices::create;
    GET "/invoices/from-time" => Access::Permission(Permission::ManageInvoices), invoices::from_time_page;
    POST "/invoices/from-time" => Access::Permission(Permission::ManageInvoices), invoices::from_time;
    GET "/invoices/{id}" => Access::Permission(Permission::ViewInvoices), invoices::show;
    GET "/invoices/{id}/edit" => Access::Permission(Permission::ManageInvoices), invoices::edit;
    POST "/invoices/{id}" => Access::Permission(Permission::ManageInvoices), invoices::update;
    POST "/invoices/{id}/delete" => Access::Permission(Permission::ManageInvoices), invoices::delete;
    GET "/invoices/{id}/pdf" => Access::Permission(Permission::ViewInvoices), invoices::pdf;
    POST "/invoices/{id}/issue" => Access::Permission(Permission::ManageInvoices), invoices::issue;
    POST "/invoices/{id}/send" => Access::Permission(Permission::SendInvoices), invoices::send;
    POST "/invoices/{id}/payments" => Access::Permission(Permission::ManageInvoices), payments::record;
    POST "/invoices/{id}/void" => Access::Permission(Permission::ManageInvoices), payments::void;

    GET "/quotations" => Access::Permission(Permission::ViewQuotations), quotations::index;
    GET "/quotations.csv" => Access::Permission(Permission::ExportData), quotations::csv;
    GET "/quotations/new" => Access::Permission(Permission::ManageQuotations), quotations::new;
    POST "/quotations" => Access::Permission(Permission::ManageQuotations), quotations::create;
    GET "/quotations/{id}" => Access::Permission(Permission::ViewQuotations), quotations::show;
    GET "/quotations/{id}/edit" => Access::Permission(Permission::ManageQuotations), quotations::edit;
    POST "/quotations/{id}" => Access::Permission(Permission::ManageQuotations), quotations::update;
    POST "/quotations/{id}/delete" => Access::Permission(Permission::ManageQuotations), quotations::delete;
    GET "/quotations/{id}/pdf" => Access::Permission(Permission::ViewQuotations), quotations::pdf;
    POST "/quotations/{id}/send" => Access::Permission(Permission::SendQuotations), quotations::send;
    POST "/quotations/{id}/convert" => Access::Permission(Permission::ManageInvoices), quotations::convert;
}

/// The organization as its documents present it.
#[derive(Debug, Clone, Queryable)]
pub struct Issuer {
    pub name: String,
    pub address: String,
    pub tax_id: String,
    pub brand_color: String,
    pub paper_size: String,
    pub payment_terms_days: i32,
    pub logo: Option<Vec<u8>>,
    pub logo_content_type: Option<String>,
}

impl Issuer {
    /// The organization of the tenant transaction.
    pub fn load(conn: &mut PgConnection) -> QueryResult<Issuer> {
        let org_id: crate::db::ids::OrgId =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Uuid>("app_org_id()")).get_result(conn)?;
        organizations::table
            .find(org_id)
            .select((
                organizations::name,
                organizations::address,
                organizations::tax_id,
                organizations::brand_color,
                organizations::paper_size,
                organizations::payment_terms_days,
                organizations::logo,
                organizations::logo_content_type,
            ))
            .first(conn)
    }
}

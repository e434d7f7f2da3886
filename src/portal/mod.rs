//! The client portal (SPEC §5): what a client user of an organization sees of their
//! own work — a summary, their client-visible projects and tasks, shared files, their
//! issued invoices and quotations (view, PDF, accept or decline). Every query runs in
//! the tenant transaction with `app.client_id` set, where restrictive row-level
//! policies narrow each table to that client's shared records: another client's id is
//! a 404 because the row is simply not there.

pub mod links;
pub mod pages;

use crate::web::routes::{Access, routes};

routes! {
    GET "/portal" => Access::Client, pages::summary;
    GET "/portal/projects" => Access::Client, pages::projects;
    GET "/portal/projects/{id}" => Access::Client, pages::project;
    GET "/portal/files" => Access::Client, pages::files;
    GET "/portal/files/{id}/download" => Access::Client, crate::files::download;
    GET "/portal/invoices" => Access::Client, pages::invoices;
    GET "/portal/invoices/{id}" => Access::Client, pages::invoice;
    GET "/portal/invoices/{id}/pdf" => Access::Client, pages::invoice_pdf;
    GET "/portal/quotations" => Access::Client, pages::quotations;
    GET "/portal/quotations/{id}" => Access::Client, pages::quotation;
    GET "/portal/quotations/{id}/pdf" => Access::Client, pages::quotation_pdf;
    POST "/portal/quotations/{id}/accept" => Access::Client, pages::accept;
    POST "/portal/quotations/{id}/decline" => Access::Client, pages::decline;
    GET "/p/{token}" => Access::Public, links::open;
    POST "/p/renew" => Access::Public, links::renew;
}

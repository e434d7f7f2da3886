//! The pages invoices and quotations share: the editor (new, create, edit, update),
//! the document page, the PDF, issuing, deleting drafts. Each takes the `DocKind`;
//! `invoices.rs` and `quotations.rs` route to them and add what only they have.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use serde::Deserialize;

use super::amounts::{self, Totals};
use super::document::{self, DocKind, Document, Item};
use super::editor::{self, Checked, EditorForm, EditorPage, Op};
use super::payments::Payment;
use super::{Issuer, taxes};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{ClientId, ProjectId};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::choices;
use crate::web::flash::{Flash, redirect_with};
use crate::web::htmx::wants_fragment;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Arg, Form, render};

pub fn parse_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Writes the audit entry of an action on a document.
pub fn audit_document(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    t: &Tenant,
    kind: DocKind,
    action: &str,
    id: uuid::Uuid,
    details: serde_json::Value,
) -> QueryResult<()> {
    audit::record(
        conn,
        meta,
        AuditEvent::new(&format!("{}.{action}", kind.key()))
            .org(t.org_id)
            .actor(t.user_id)
            .entity(kind.key(), id)
            .metadata(details),
    )
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    client_id: String,
}

/// What the editor needs from the database: the choices and the taxes.
fn editor_data(
    conn: &mut PgConnection,
    form: &EditorForm,
) -> Result<(choices::Choices, choices::Choices, Vec<taxes::Tax>), AppError> {
    let client = form.client_id.parse().ok();
    let project = form.project_id.parse().ok();
    Ok((choices::clients(conn, client)?, choices::projects(conn, project, true)?, taxes::choices(conn)?))
}

/// Whether the client and project the form names are the organization's.
fn references_exist(conn: &mut PgConnection, form: &EditorForm) -> QueryResult<(bool, bool)> {
    use crate::db::schema::{clients, projects};
    let client = match form.client_id.trim().parse::<ClientId>() {
        Ok(id) => clients::table.find(id).count().get_result::<i64>(conn)? > 0,
        Err(_) => false,
    };
    let project = match form.project_id.trim().parse::<ProjectId>() {
        Ok(id) => projects::table.find(id).count().get_result::<i64>(conn)? > 0,
        Err(_) => false,
    };
    Ok((client, project))
}

#[derive(Template)]
#[template(path = "money/_totals.html")]
struct TotalsFragment<'a> {
    page: &'a EditorPage,
}

impl TotalsFragment<'_> {
    fn page_ref(&self) -> &EditorPage {
        self.page
    }

    fn is_fragment(&self) -> bool {
        true
    }
}

fn editor_response(req: &HttpRequest, page: EditorPage, status: StatusCode, op: Op) -> Result<HttpResponse, AppError> {
    // Live totals while typing: only the figures change, so focus stays where it is.
    if op == Op::Recalculate && wants_fragment(req) {
        return render(StatusCode::OK, &TotalsFragment { page: &page });
    }
    render(status, &page)
}

fn editor_title(kind: DocKind, document: Option<&Document>) -> String {
    match document {
        Some(_) => format!("Edit draft {}", kind.title().to_lowercase()),
        None => format!("New {}", kind.title().to_lowercase()),
    }
}

/// GET /invoices/new, /quotations/new
pub async fn new(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let client = query.client_id.parse().ok();
    let currency = ctx.currency.clone();
    let (form, (clients, projects, taxes)) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let issuer = Issuer::load(conn)?;
        let form = EditorForm::new_document(kind, client, &currency, issuer.payment_terms_days);
        let data = editor_data(conn, &form)?;
        Ok((form, data))
    })
    .await?;
    let page = EditorPage {
        layout: Layout::member(&req, &ctx, editor_title(kind, None), kind.base_path()),
        kind,
        document: None,
        checked: Checked { line_amounts: vec![None; form.lines.len()], ..Default::default() },
        form,
        clients,
        projects,
        taxes,
    };
    render(StatusCode::OK, &page)
}

/// GET /invoices/{id}/edit, /quotations/{id}/edit — drafts only.
pub async fn edit(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let loaded = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let doc = document::find(conn, kind, id)?;
        if !doc.is_draft() {
            return Ok(Err(doc));
        }
        let items = document::items(conn, kind, id)?;
        let mut form = EditorForm::from_document(&doc, &items);
        form.apply(Op::Save);
        let data = editor_data(conn, &form)?;
        let (client_ok, project_ok) = references_exist(conn, &form)?;
        let checked = editor::check(kind, &form, client_ok, project_ok, &data.2);
        Ok(Ok((doc, form, checked, data)))
    })
    .await?;
    let (doc, form, checked, (clients, projects, taxes)) = match loaded {
        Ok(v) => v,
        Err(doc) => return Ok(issued_refusal(&req, kind, &doc)),
    };
    let page = EditorPage {
        layout: Layout::member(&req, &ctx, editor_title(kind, Some(&doc)), kind.base_path()),
        kind,
        document: Some(doc),
        form,
        checked,
        clients,
        projects,
        taxes,
    };
    render(StatusCode::OK, &page)
}

fn issued_refusal(req: &HttpRequest, kind: DocKind, doc: &Document) -> HttpResponse {
    redirect_with(
        req,
        &format!("{}/{}", kind.base_path(), doc.id),
        Flash::error(format!(
            "{} {} has been issued and can no longer be edited.{}",
            kind.title(),
            doc.label(),
            if kind == DocKind::Invoice { " Void it and issue a new one if it is wrong." } else { "" }
        )),
    )
}

/// POST /invoices, /quotations (create), and /…/{id} (update): saves the draft, or
/// adds/removes a row or recomputes the totals without saving.
pub async fn save(
    kind: DocKind,
    id: Option<uuid::Uuid>,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let mut form = EditorForm::from_pairs(kind, pairs);
    let op = form.op();
    form.apply(op);
    let tenant = ctx.tenant();
    enum Outcome {
        Saved(uuid::Uuid),
        Invalid(Option<Document>, Box<EditorForm>, Box<Checked>, choices::Choices, choices::Choices, Vec<taxes::Tax>),
        Issued(Document),
    }
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let existing = match id {
            Some(id) => {
                // Saving locks the row: a concurrent issue waits, or this save sees it
                // issued. Adding rows or updating totals changes nothing and takes no lock.
                if op == Op::Save {
                    document::lock_status(conn, kind, id)?;
                }
                let doc = document::find(conn, kind, id)?;
                if !doc.is_draft() {
                    return Ok(Outcome::Issued(doc));
                }
                Some(doc)
            }
            None => None,
        };
        let (clients, projects, taxes) = editor_data(conn, &form)?;
        let (client_ok, project_ok) = references_exist(conn, &form)?;
        let checked = editor::check(kind, &form, client_ok, project_ok, &taxes);
        if op != Op::Save || !checked.is_valid() {
            return Ok(Outcome::Invalid(existing, Box::new(form), Box::new(checked), clients, projects, taxes));
        }
        let Some((header, items)) = checked.draft() else {
            return Err(AppError::Internal(anyhow::anyhow!("a valid form has a draft")));
        };
        let totals = document::totals_of(&items);
        let details = serde_json::json!({ "lines": items.len(), "total": amounts::money(totals.total), "currency": header.currency });
        let saved = match id {
            Some(id) => {
                document::update_draft(conn, kind, id, &header, &items)?;
                audit_document(conn, &meta, &tenant, kind, "updated", id, details)?;
                id
            }
            None => {
                let id = uuid::Uuid::now_v7();
                document::insert_draft(conn, kind, id, tenant.user_id, &header, &items)?;
                audit_document(conn, &meta, &tenant, kind, "created", id, details)?;
                id
            }
        };
        Ok(Outcome::Saved(saved))
    })
    .await?;
    match outcome {
        Outcome::Saved(id) => Ok(redirect_with(
            &req,
            &format!("{}/{id}", kind.base_path()),
            Flash::success(format!("The draft {} has been saved.", kind.title().to_lowercase())),
        )),
        Outcome::Issued(doc) => Ok(issued_refusal(&req, kind, &doc)),
        Outcome::Invalid(document, form, mut checked, clients, projects, taxes) => {
            let status = if op == Op::Save { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            if op != Op::Save {
                // Adding a row or updating totals is not saving: half-typed rows are not errors yet.
                checked.errors = Default::default();
                checked.line_errors = Default::default();
            }
            let page = EditorPage {
                layout: Layout::member(&req, &ctx, editor_title(kind, document.as_ref()), kind.base_path()),
                kind,
                document,
                form: *form,
                checked: *checked,
                clients,
                projects,
                taxes,
            };
            editor_response(&req, page, status, op)
        }
    }
}

#[derive(Template)]
#[template(path = "money/show.html")]
pub struct ShowPage {
    pub layout: Layout,
    pub kind: DocKind,
    pub doc: Document,
    pub items: Vec<Item>,
    pub totals: Totals,
    pub payments: Vec<Payment>,
    pub status: &'static str,
    pub can_manage: bool,
    pub can_send: bool,
    /// Converting a quotation makes an invoice: it needs manage_invoices.
    pub can_convert: bool,
    pub billed_minutes: i64,
    pub today: String,
}

impl ShowPage {
    pub fn money(&self, value: impl Arg<rust_decimal::Decimal>) -> String {
        amounts::grouped(value.value())
    }

    pub fn with_currency(&self, value: impl Arg<rust_decimal::Decimal>) -> String {
        amounts::with_currency(value.value(), &self.doc.currency)
    }

    pub fn status_label(&self) -> &'static str {
        document::status_label(self.kind, self.status)
    }

    pub fn qty(&self, item: &Item) -> String {
        amounts::quantity(item.quantity)
    }

    pub fn price(&self, item: &Item) -> String {
        amounts::unit_price(item.unit_price)
    }

    pub fn billed_hours(&self) -> String {
        crate::time_tracking::money::hours(self.billed_minutes)
    }

    pub fn is_invoice(&self) -> bool {
        self.kind == DocKind::Invoice
    }

    pub fn payable(&self) -> bool {
        self.is_invoice() && matches!(self.doc.status.as_str(), "sent" | "partially_paid")
    }

    pub fn voidable(&self) -> bool {
        self.is_invoice() && self.doc.status != "draft" && self.doc.status != "void"
    }

    pub fn convertible(&self) -> bool {
        self.kind == DocKind::Quotation
            && self.can_convert
            && self.doc.linked_id.is_none()
            && matches!(self.status, "sent" | "accepted")
    }

    pub fn linked_path(&self) -> String {
        let other = if self.is_invoice() { "/quotations" } else { "/invoices" };
        self.doc.linked_id.map(|id| format!("{other}/{id}")).unwrap_or_default()
    }

    pub fn method_label(&self, method: &str) -> &'static str {
        super::payments::method_label(method)
    }

    pub fn date(&self, at: impl Arg<chrono::DateTime<chrono::Utc>>) -> String {
        Some(at.value()).map(|t| t.format("%-d %b %Y, %H:%M UTC").to_string()).unwrap_or_default()
    }
}

/// GET /invoices/{id}, /quotations/{id}
pub async fn show(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let (doc, items, payments, billed_minutes) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let doc = document::find(conn, kind, id)?;
        let items = document::items(conn, kind, id)?;
        let payments = if kind == DocKind::Invoice { super::payments::list(conn, id)? } else { Vec::new() };
        let billed: i64 = if kind == DocKind::Invoice {
            crate::db::sql_query(
                "SELECT coalesce(sum(minutes), 0)::bigint AS n FROM time_entries WHERE org_id = app_org_id() AND invoice_id = $1",
            )
            .bind::<SqlUuid, _>(id)
            .get_result::<db::Count>(conn)?
            .n
        } else {
            0
        };
        Ok((doc, items, payments, billed))
    })
    .await?;
    let today = document::today();
    let status = document::shown_status(kind, &doc.status, doc.end_date, doc.balance(), today);
    let (manage, send) = match kind {
        DocKind::Invoice => (Permission::ManageInvoices, Permission::SendInvoices),
        DocKind::Quotation => (Permission::ManageQuotations, Permission::SendQuotations),
    };
    let page = ShowPage {
        layout: Layout::member(&req, &ctx, format!("{} {}", kind.title(), doc.label()), kind.base_path()),
        kind,
        totals: document::totals_of(&items),
        items,
        payments,
        status,
        can_manage: ctx.can(manage),
        can_send: ctx.can(send),
        can_convert: ctx.can(Permission::ManageInvoices),
        billed_minutes,
        today: today.to_string(),
        doc,
    };
    render(StatusCode::OK, &page)
}

/// GET /invoices/{id}/pdf, /quotations/{id}/pdf
pub async fn pdf(
    kind: DocKind,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let loaded = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| super::pdf::Loaded::load(conn, kind, id)).await?;
    // Drawn after the transaction: no connection or lock is held while it renders.
    let (bytes, name) = web::block(move || loaded.render())
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a PDF failed: {e}")))??;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// POST /invoices/{id}/issue (quotations are issued by sending): assigns the next number.
pub async fn issue(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| issue_draft(conn, &meta, &tenant, kind, id)).await?;
    let location = format!("{}/{id}", kind.base_path());
    Ok(match outcome {
        Ok(number) => {
            redirect_with(&req, &location, Flash::success(format!("{} {number} has been issued.", kind.title())))
        }
        Err(refusal) => redirect_with(&req, &location, Flash::error(refusal)),
    })
}

/// Issues a draft in the caller's transaction: locks it, checks it still is a draft
/// with lines, assigns the number. `Err` says why not.
pub fn issue_draft(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    tenant: &Tenant,
    kind: DocKind,
    id: uuid::Uuid,
) -> Result<Result<String, String>, AppError> {
    let status = document::lock_status(conn, kind, id)?;
    let doc = document::find(conn, kind, id)?;
    if status != "draft" {
        return Ok(Err(format!("{} {} has been issued already.", kind.title(), doc.label())));
    }
    if document::items(conn, kind, id)?.is_empty() {
        return Ok(Err("Add at least one line before issuing.".into()));
    }
    let number = document::issue(conn, kind, id, document::today())?;
    audit_document(
        conn,
        meta,
        tenant,
        kind,
        "issued",
        id,
        serde_json::json!({ "number": number, "total": amounts::money(doc.total), "currency": doc.currency }),
    )?;
    Ok(Ok(number))
}

/// POST /invoices/{id}/delete, /quotations/{id}/delete — drafts only. Time reserved by
/// a draft invoice is released (the foreign key clears it).
pub async fn delete(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let status = document::lock_status(conn, kind, id)?;
        let doc = document::find(conn, kind, id)?;
        if status != "draft" {
            return Ok(Err(format!(
                "{} {} has been issued: it is kept for your records{}.",
                kind.title(),
                doc.label(),
                if kind == DocKind::Invoice { ". Void it instead" } else { "" }
            )));
        }
        crate::db::sql_query(format!("DELETE FROM {} WHERE id = $1 AND org_id = app_org_id()", kind.table()))
            .bind::<SqlUuid, _>(id)
            .execute(conn)?;
        audit_document(
            conn,
            &meta,
            &tenant,
            kind,
            "deleted",
            id,
            serde_json::json!({ "client": doc.client_name, "total": amounts::money(doc.total) }),
        )?;
        Ok(Ok(()))
    })
    .await?;
    Ok(match outcome {
        Ok(()) => redirect_with(
            &req,
            kind.base_path(),
            Flash::success(format!("The draft {} has been deleted.", kind.title().to_lowercase())),
        ),
        Err(refusal) => redirect_with(&req, &format!("{}/{id}", kind.base_path()), Flash::error(refusal)),
    })
}

/// The editor's form body: pairs, up to the editor's size limit.
pub type EditorBody = Form<Vec<(String, String)>, { editor::MAX_FORM_BYTES }>;

/// The handlers every kind of document routes to, each passing its kind to the shared
/// page: `document_handlers!(DocKind::Invoice)` in `invoices.rs`, and so on.
macro_rules! document_handlers {
    ($kind:expr) => {
        pub async fn index(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            query: actix_web::web::Query<$crate::money::list::ListQuery>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::list::index($kind, req, state, ctx, query).await
        }

        pub async fn csv(
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            query: actix_web::web::Query<$crate::money::list::ListQuery>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::list::csv($kind, state, ctx, query).await
        }

        pub async fn new(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            query: actix_web::web::Query<$crate::money::pages::NewQuery>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::new($kind, req, state, ctx, query).await
        }

        pub async fn create(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            meta: $crate::web::request_meta::RequestMeta,
            form: $crate::money::pages::EditorBody,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::save($kind, None, req, state, ctx, meta, form.0).await
        }

        pub async fn show(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            path: actix_web::web::Path<String>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::show($kind, req, state, ctx, path).await
        }

        pub async fn edit(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            path: actix_web::web::Path<String>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::edit($kind, req, state, ctx, path).await
        }

        pub async fn update(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            meta: $crate::web::request_meta::RequestMeta,
            path: actix_web::web::Path<String>,
            form: $crate::money::pages::EditorBody,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            let id = $crate::money::pages::parse_id(&path)?;
            $crate::money::pages::save($kind, Some(id), req, state, ctx, meta, form.0).await
        }

        pub async fn delete(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            meta: $crate::web::request_meta::RequestMeta,
            path: actix_web::web::Path<String>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::delete($kind, req, state, ctx, meta, path).await
        }

        pub async fn pdf(
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            path: actix_web::web::Path<String>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::pages::pdf($kind, state, ctx, path).await
        }

        pub async fn send(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            ctx: $crate::web::auth::OrgContext,
            meta: $crate::web::request_meta::RequestMeta,
            path: actix_web::web::Path<String>,
        ) -> Result<actix_web::HttpResponse, $crate::web::AppError> {
            $crate::money::sending::send($kind, req, state, ctx, meta, path).await
        }
    };
}
pub(crate) use document_handlers;

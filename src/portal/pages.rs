//! Portal pages. Thin: the tenant transaction (with the client's scope) decides what
//! exists; these pages only choose what to show.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::db;
use crate::db::ids::{ProjectId, UserId};
use crate::money::amounts;
use crate::money::document::{self, DocKind, Document, Item};
use crate::money::list::Row;
use crate::money::pages::{audit_document, parse_id};
use crate::money::payments::Payment;
use crate::money::quotations::{Answer, answer};
use crate::notifications::{self, Kind, Notice};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Arg, Form, render};

/// The client's issued documents of one kind, newest first (drafts are never visible).
fn documents(conn: &mut PgConnection, kind: DocKind) -> QueryResult<Vec<Row>> {
    let paid = if kind == DocKind::Invoice { "d.amount_paid" } else { "0::numeric" };
    crate::db::sql_query(format!(
        "SELECT d.id, d.number, d.status, c.name AS client_name, d.issue_date, d.{} AS end_date, d.currency,
                d.subtotal, d.tax_total, d.total, {paid} AS amount_paid
         FROM {} d JOIN clients c ON c.org_id = d.org_id AND c.id = d.client_id
         WHERE d.org_id = app_org_id() ORDER BY d.id DESC LIMIT 200",
        kind.end_date_column(),
        kind.table()
    ))
    .load(conn)
}

#[derive(QueryableByName, Debug, Clone)]
pub struct ProjectRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: ProjectId,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub due_date: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    pub tasks: i64,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

impl ProjectRow {
    pub fn status_label(&self) -> &'static str {
        crate::projects::status_label(&self.status)
    }
}

/// The client's shared projects with their shared tasks counted.
fn projects_of(conn: &mut PgConnection, id: Option<ProjectId>) -> QueryResult<Vec<ProjectRow>> {
    let only = if id.is_some() { "AND p.id = $1" } else { "AND $1::uuid IS NULL" };
    crate::db::sql_query(format!(
        "SELECT p.id, p.title, p.description, p.status, p.due_date,
                (SELECT count(*) FROM tasks t WHERE t.org_id = p.org_id AND t.project_id = p.id) AS tasks,
                (SELECT count(*) FROM tasks t WHERE t.org_id = p.org_id AND t.project_id = p.id AND t.status = 'done') AS done
         FROM projects p WHERE p.org_id = app_org_id() {only} ORDER BY p.id DESC LIMIT 200"
    ))
    .bind::<Nullable<SqlUuid>, _>(id)
    .load(conn)
}

/// Views of documents on portal pages.
pub struct Docs {
    pub kind: DocKind,
    pub rows: Vec<Row>,
    pub today: NaiveDate,
}

impl Docs {
    pub fn status(&self, row: &Row) -> &'static str {
        document::shown_status(self.kind, &row.status, row.end_date, row.balance(), self.today)
    }

    pub fn status_label(&self, row: &Row) -> &'static str {
        document::status_label(self.kind, self.status(row))
    }

    pub fn money(&self, value: impl Arg<Decimal>, currency: &str) -> String {
        amounts::with_currency(value.value(), currency)
    }

    pub fn path(&self, row: &Row) -> String {
        format!("/portal{}/{}", self.kind.base_path(), row.id)
    }
}

#[derive(Template)]
#[template(path = "portal/summary.html")]
struct SummaryPage {
    layout: Layout,
    org_name: String,
    open_invoices: Docs,
    waiting_quotations: Docs,
    projects: Vec<ProjectRow>,
}

/// GET /portal
pub async fn summary(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let today = document::today();
    let (invoices, quotations, projects) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        Ok((documents(conn, DocKind::Invoice)?, documents(conn, DocKind::Quotation)?, projects_of(conn, None)?))
    })
    .await?;
    let open = |r: &Row| matches!(r.status.as_str(), "sent" | "partially_paid");
    let waiting = |r: &Row| r.status == "sent" && r.end_date >= today;
    let page = SummaryPage {
        layout: Layout::member(&req, &ctx, "Overview", "/portal"),
        org_name: ctx.org_name.clone(),
        open_invoices: Docs { kind: DocKind::Invoice, rows: invoices.into_iter().filter(open).collect(), today },
        waiting_quotations: Docs {
            kind: DocKind::Quotation,
            rows: quotations.into_iter().filter(waiting).collect(),
            today,
        },
        projects: projects
            .into_iter()
            .filter(|p| matches!(p.status.as_str(), "planned" | "active" | "on_hold"))
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "portal/projects.html")]
struct ProjectsPage {
    layout: Layout,
    projects: Vec<ProjectRow>,
}

/// GET /portal/projects
pub async fn projects(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let projects = db::tenant_tx(&state.pool, ctx.tenant(), |conn| Ok(projects_of(conn, None)?)).await?;
    render(
        StatusCode::OK,
        &ProjectsPage { layout: Layout::member(&req, &ctx, "Projects", "/portal/projects"), projects },
    )
}

#[derive(QueryableByName, Debug, Clone)]
pub struct TaskRow {
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub due_date: Option<NaiveDate>,
}

impl TaskRow {
    pub fn status_label(&self) -> &'static str {
        crate::tasks::status_label(&self.status)
    }
}

#[derive(Template)]
#[template(path = "portal/project.html")]
struct ProjectPage {
    layout: Layout,
    project: ProjectRow,
    tasks: Vec<TaskRow>,
    files: Vec<crate::files::FileRow>,
}

/// GET /portal/projects/{id}
pub async fn project(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProjectId = path.parse().map_err(|_| AppError::NotFound)?;
    let (project, tasks, files) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let project = projects_of(conn, Some(id))?.into_iter().next().ok_or(AppError::NotFound)?;
        let tasks = crate::db::sql_query(
            "SELECT title, description, status, due_date FROM tasks
             WHERE org_id = app_org_id() AND project_id = $1 AND parent_id IS NULL
             ORDER BY CASE status WHEN 'in_progress' THEN 0 WHEN 'review' THEN 1 WHEN 'todo' THEN 2 ELSE 3 END, position",
        )
        .bind::<SqlUuid, _>(id)
        .load(conn)?;
        let files = crate::files::list_for_project(conn, id)?;
        Ok((project, tasks, files))
    })
    .await?;
    let page = ProjectPage {
        layout: Layout::member(&req, &ctx, project.title.clone(), "/portal/projects"),
        project,
        tasks,
        files,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "portal/files.html")]
struct FilesPage {
    layout: Layout,
    files: Vec<crate::files::FileRow>,
}

/// GET /portal/files
pub async fn files(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let client = ctx.client_id.ok_or(AppError::Forbidden)?;
    let files =
        db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(crate::files::list_for_client(conn, client)?)).await?;
    render(StatusCode::OK, &FilesPage { layout: Layout::member(&req, &ctx, "Files", "/portal/files"), files })
}

#[derive(Template)]
#[template(path = "portal/documents.html")]
struct DocumentsPage {
    layout: Layout,
    docs: Docs,
}

async fn list(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    let rows = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(documents(conn, kind)?)).await?;
    let active = if kind == DocKind::Invoice { "/portal/invoices" } else { "/portal/quotations" };
    let page = DocumentsPage {
        layout: Layout::member(&req, &ctx, kind.plural_title(), active),
        docs: Docs { kind, rows, today: document::today() },
    };
    render(StatusCode::OK, &page)
}

/// GET /portal/invoices
pub async fn invoices(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    list(DocKind::Invoice, req, state, ctx).await
}

/// GET /portal/quotations
pub async fn quotations(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    list(DocKind::Quotation, req, state, ctx).await
}

#[derive(Template)]
#[template(path = "portal/document.html")]
struct DocumentPage {
    layout: Layout,
    kind: DocKind,
    doc: Document,
    items: Vec<Item>,
    totals: amounts::Totals,
    payments: Vec<Payment>,
    status: &'static str,
    errors: FieldErrors,
    reason: String,
}

impl DocumentPage {
    fn money(&self, value: impl Arg<Decimal>) -> String {
        amounts::grouped(value.value())
    }

    fn with_currency(&self, value: impl Arg<Decimal>) -> String {
        amounts::with_currency(value.value(), &self.doc.currency)
    }

    fn status_label(&self) -> &'static str {
        document::status_label(self.kind, self.status)
    }

    fn qty(&self, item: &Item) -> String {
        amounts::quantity(item.quantity)
    }

    fn price(&self, item: &Item) -> String {
        amounts::unit_price(item.unit_price)
    }

    fn is_invoice(&self) -> bool {
        self.kind == DocKind::Invoice
    }

    /// A quotation the client can still answer.
    fn answerable(&self) -> bool {
        self.kind == DocKind::Quotation && self.status == "sent"
    }

    fn method_label(&self, method: &str) -> &'static str {
        crate::money::payments::method_label(method)
    }

    fn base(&self) -> String {
        format!("/portal{}/{}", self.kind.base_path(), self.doc.id)
    }
}

async fn document_page(
    kind: DocKind,
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    id: uuid::Uuid,
    errors: FieldErrors,
    reason: String,
) -> Result<HttpResponse, AppError> {
    let (doc, items, payments) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let doc = document::find(conn, kind, id)?;
        let items = document::items(conn, kind, id)?;
        let payments = if kind == DocKind::Invoice { crate::money::payments::list(conn, id)? } else { Vec::new() };
        Ok((doc, items, payments))
    })
    .await?;
    let status = document::shown_status(kind, &doc.status, doc.end_date, doc.balance(), document::today());
    let active = if kind == DocKind::Invoice { "/portal/invoices" } else { "/portal/quotations" };
    let page = DocumentPage {
        layout: Layout::member(req, ctx, format!("{} {}", kind.title(), doc.label()), active),
        kind,
        totals: document::totals_of(&items),
        items,
        payments,
        status,
        doc,
        errors: errors.clone(),
        reason,
    };
    render(if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST }, &page)
}

/// GET /portal/invoices/{id}
pub async fn invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    document_page(DocKind::Invoice, &req, &state, &ctx, parse_id(&path)?, FieldErrors::default(), String::new()).await
}

/// GET /portal/quotations/{id}
pub async fn quotation(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    document_page(DocKind::Quotation, &req, &state, &ctx, parse_id(&path)?, FieldErrors::default(), String::new()).await
}

/// GET /portal/invoices/{id}/pdf
pub async fn invoice_pdf(
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    crate::money::pages::pdf(DocKind::Invoice, state, ctx, path).await
}

/// GET /portal/quotations/{id}/pdf
pub async fn quotation_pdf(
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    crate::money::pages::pdf(DocKind::Quotation, state, ctx, path).await
}

#[derive(Deserialize, Default)]
pub struct DeclineForm {
    #[serde(default)]
    reason: String,
}

/// Records the client's answer, tells the staff member who sent the quotation, and
/// writes the audit log, in one transaction.
async fn respond(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    id: uuid::Uuid,
    given: Answer,
) -> Result<HttpResponse, AppError> {
    let tenant = ctx.tenant();
    let client_name = ctx.user.name.clone();
    let accepted = given == Answer::Accept;
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        if let Err(refused) = answer(conn, id, &given, document::today())? {
            return Ok(Err(refused.to_string()));
        }
        let doc = document::find(conn, DocKind::Quotation, id)?;
        #[derive(QueryableByName)]
        struct Sender {
            #[diesel(sql_type = Nullable<SqlUuid>)]
            user_id: Option<UserId>,
        }
        let sender: Sender = crate::db::sql_query(
            "SELECT coalesce(sent_by, created_by) AS user_id FROM quotations WHERE id = $1 AND org_id = app_org_id()",
        )
        .bind::<SqlUuid, _>(id)
        .get_result(conn)?;
        let (kind, verb) =
            if accepted { (Kind::QuotationAccepted, "accepted") } else { (Kind::QuotationDeclined, "declined") };
        if let Some(recipient) = sender.user_id {
            notifications::notify(
                conn,
                &tenant,
                recipient,
                &Notice {
                    kind,
                    title: format!("{client_name} {verb} quotation {}", doc.label()),
                    link: format!("/quotations/{id}"),
                    entity: ("quotation", id),
                },
            )?;
        }
        let reason = match &given {
            Answer::Decline { reason } if !reason.is_empty() => Some(reason.clone()),
            _ => None,
        };
        audit_document(
            conn,
            &meta,
            &tenant,
            DocKind::Quotation,
            verb,
            id,
            serde_json::json!({ "number": doc.number, "reason": reason }),
        )?;
        Ok(Ok(format!("Thank you: quotation {} is {verb}.", doc.label())))
    })
    .await?;
    let location = format!("/portal/quotations/{id}");
    Ok(match outcome {
        Ok(message) => redirect_with(&req, &location, Flash::success(message)),
        Err(refusal) => redirect_with(&req, &location, Flash::error(refusal)),
    })
}

/// POST /portal/quotations/{id}/accept
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    respond(req, state, ctx, meta, id, Answer::Accept).await
}

/// POST /portal/quotations/{id}/decline — with an optional reason.
pub async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<DeclineForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let mut errors = FieldErrors::default();
    let reason = fields::text(&mut errors, "reason", &form.reason, 2000, None);
    if !errors.is_empty() {
        return document_page(DocKind::Quotation, &req, &state, &ctx, id, errors, form.reason).await;
    }
    respond(req, state, ctx, meta, id, Answer::Decline { reason }).await
}

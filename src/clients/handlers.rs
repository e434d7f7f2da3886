//! Client pages: list, detail, create, edit, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use serde::Deserialize;

use super::list::{self, ListQuery, Listing};
use crate::audit::{self, AuditEvent};
use crate::auth::forms::Email;
use crate::db::ids::{ClientId, ProjectId};
use crate::db::schema::{clients, memberships};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::error::url_encode;
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = clients)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub tax_id: String,
    pub notes: String,
}

impl Client {
    pub fn label(&self) -> String {
        if self.company.is_empty() { self.name.clone() } else { format!("{} ({})", self.name, self.company) }
    }
}

pub fn find(conn: &mut PgConnection, id: ClientId) -> Result<Client, AppError> {
    clients::table.find(id).select(Client::as_select()).first(conn).optional()?.ok_or(AppError::NotFound)
}

fn parse_id(raw: &str) -> Result<ClientId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "clients/index.html")]
struct IndexPage {
    layout: Layout,
    query: ListQuery,
    listing: Listing,
    can_manage: bool,
    first_page: bool,
}

impl IndexPage {
    /// A column header's link: the same search, sorted by that column (toggling direction).
    fn sort_link(&self, column: &str) -> String {
        let dir = if self.listing.sort.key() == column && !self.listing.descending { "desc" } else { "asc" };
        format!("/clients?q={}&sort={column}&dir={dir}", url_encode(&self.query.q))
    }

    fn sort_mark(&self, column: &str) -> &'static str {
        match (self.listing.sort.key() == column, self.listing.descending) {
            (false, _) => "",
            (true, false) => " ↑",
            (true, true) => " ↓",
        }
    }

    fn aria_sort(&self, column: &str) -> &'static str {
        match (self.listing.sort.key() == column, self.listing.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    fn next_link(&self) -> Option<String> {
        self.listing.next.as_ref().map(|after| {
            format!(
                "/clients?q={}&sort={}&dir={}&after={}",
                url_encode(&self.query.q),
                self.listing.sort.key(),
                if self.listing.descending { "desc" } else { "asc" },
                url_encode(after)
            )
        })
    }
}

/// GET /clients
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q = query.clone();
    let org_id = ctx.org_id;
    let listing = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(list::list(conn, org_id, &q)?)).await?;
    let page = IndexPage {
        layout: Layout::member(&req, &ctx, "Clients", "/clients"),
        first_page: query.after.is_empty(),
        query,
        listing,
        can_manage: ctx.can(Permission::ManageClients),
    };
    render(StatusCode::OK, &page)
}

#[derive(QueryableByName)]
pub struct ClientProject {
    #[diesel(sql_type = SqlUuid)]
    pub id: ProjectId,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub tasks: i64,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

impl ClientProject {
    pub fn status_label(&self) -> &'static str {
        crate::projects::status_label(&self.status)
    }
}

/// An invoice or quotation of the client, for the list on their page.
#[derive(QueryableByName)]
pub struct ClientDocument {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub number: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub issue_date: chrono::NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub end_date: chrono::NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    pub total: rust_decimal::Decimal,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    pub balance: rust_decimal::Decimal,
}

impl ClientDocument {
    fn doc_kind(&self) -> crate::money::document::DocKind {
        if self.kind == "invoice" {
            crate::money::document::DocKind::Invoice
        } else {
            crate::money::document::DocKind::Quotation
        }
    }

    pub fn path(&self) -> String {
        format!("{}/{}", self.doc_kind().base_path(), self.id)
    }

    pub fn title(&self) -> String {
        format!("{} {}", self.doc_kind().title(), self.number.as_deref().unwrap_or("draft"))
    }

    pub fn status_key(&self) -> &'static str {
        let today = crate::money::document::today();
        crate::money::document::shown_status(self.doc_kind(), &self.status, self.end_date, self.balance, today)
    }

    pub fn status_label(&self) -> &'static str {
        crate::money::document::status_label(self.doc_kind(), self.status_key())
    }

    pub fn total_text(&self) -> String {
        crate::money::amounts::with_currency(self.total, &self.currency)
    }
}

#[derive(Queryable)]
pub struct PortalUser {
    pub name: String,
    pub email: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "clients/show.html")]
struct ShowPage {
    layout: Layout,
    client: Client,
    projects: Vec<ClientProject>,
    portal_users: Vec<PortalUser>,
    portal_links: Vec<crate::portal::links::LinkRow>,
    files: Vec<crate::files::FileRow>,
    documents: Vec<ClientDocument>,
    unbilled_minutes: i64,
    can_invoice: bool,
    can_quote: bool,
    return_to: String,
    can_manage: bool,
    can_see_files: bool,
    can_delete_files: bool,
}

/// GET /clients/{id}
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let can_see_files = ctx.can(Permission::ViewFiles);
    let (see_invoices, see_quotations) = (ctx.can(Permission::ViewInvoices), ctx.can(Permission::ViewQuotations));
    let (client, projects, (portal_users, portal_links), files, documents, unbilled_minutes) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let client = find(conn, id)?;
        let projects = crate::db::sql_query(
            "SELECT p.id, p.title, p.status,
                    (SELECT count(*) FROM tasks t WHERE t.org_id = p.org_id AND t.project_id = p.id) AS tasks,
                    (SELECT count(*) FROM tasks t WHERE t.org_id = p.org_id AND t.project_id = p.id AND t.status = 'done') AS done
             FROM projects p WHERE p.client_id = $1 ORDER BY p.id DESC",
        )
        .bind::<SqlUuid, _>(id)
        .load(conn)?;
        let portal_users = memberships::table
            .inner_join(crate::db::schema::users::table)
            .filter(memberships::client_id.eq(id))
            .select((crate::db::schema::users::name, crate::db::schema::users::email, memberships::status))
            .load(conn)?;
        let portal_links = crate::portal::links::latest_for_client(conn, id)?;
        let files = if can_see_files { crate::files::list_for_client(conn, id)? } else { Vec::new() };
        let documents = crate::db::sql_query(
            "SELECT * FROM (
               SELECT 'invoice' AS kind, id, number, status, issue_date, due_date AS end_date, currency, total,
                      total - amount_paid AS balance
               FROM invoices WHERE org_id = app_org_id() AND client_id = $1 AND $2
               UNION ALL
               SELECT 'quotation', id, number, status, issue_date, valid_until, currency, total, total
               FROM quotations WHERE org_id = app_org_id() AND client_id = $1 AND $3
             ) d ORDER BY id DESC LIMIT 20",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<diesel::sql_types::Bool, _>(see_invoices)
        .bind::<diesel::sql_types::Bool, _>(see_quotations)
        .load(conn)?;
        let unbilled = crate::money::invoices::unbilled_minutes(conn, crate::money::invoices::Source::Client(id))?;
        Ok((client, projects, (portal_users, portal_links), files, documents, unbilled))
    })
    .await?;
    let page = ShowPage {
        layout: Layout::member(&req, &ctx, client.name.clone(), "/clients"),
        client,
        projects,
        portal_users,
        portal_links,
        files,
        documents,
        unbilled_minutes,
        can_invoice: ctx.can(Permission::ManageInvoices),
        can_quote: ctx.can(Permission::ManageQuotations),
        return_to: format!("/clients/{id}"),
        can_manage: ctx.can(Permission::ManageClients),
        can_see_files,
        can_delete_files: ctx.can(Permission::DeleteFiles),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default, Clone)]
pub struct ClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    tax_id: String,
    #[serde(default)]
    notes: String,
}

impl From<&Client> for ClientForm {
    fn from(c: &Client) -> Self {
        ClientForm {
            name: c.name.clone(),
            company: c.company.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            address: c.address.clone(),
            tax_id: c.tax_id.clone(),
            notes: c.notes.clone(),
        }
    }
}

#[derive(AsChangeset, Insertable)]
#[diesel(table_name = clients)]
struct ValidClient {
    name: String,
    company: String,
    email: String,
    phone: String,
    address: String,
    tax_id: String,
    notes: String,
}

fn validate(form: &ClientForm) -> Result<ValidClient, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = fields::line(&mut errors, "name", &form.name, 120, Some("the client's name"));
    let company = fields::line(&mut errors, "company", &form.company, 120, None);
    let email = match form.email.trim() {
        "" => String::new(),
        raw => Email::parse(raw).map(|e| e.as_str().to_string()).unwrap_or_else(|message| {
            errors.add("email", message);
            String::new()
        }),
    };
    let phone = fields::line(&mut errors, "phone", &form.phone, 40, None);
    if !phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        errors.add("phone", "Use digits, spaces and + - ( ) only.");
    }
    let address = fields::text(&mut errors, "address", &form.address, 500, None);
    let tax_id = fields::line(&mut errors, "tax_id", &form.tax_id, 60, None);
    let notes = fields::text(&mut errors, "notes", &form.notes, 5000, None);
    if errors.is_empty() {
        Ok(ValidClient { name, company, email, phone, address, tax_id, notes })
    } else {
        Err(errors)
    }
}

#[derive(Template)]
#[template(path = "clients/form.html")]
struct FormPage {
    layout: Layout,
    client: Option<Client>,
    form: ClientForm,
    errors: FieldErrors,
}

fn form_page(
    req: &HttpRequest,
    ctx: &OrgContext,
    client: Option<Client>,
    form: ClientForm,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let title = client.as_ref().map(|c| format!("Edit {}", c.name)).unwrap_or_else(|| "New client".into());
    render(status, &FormPage { layout: Layout::member(req, ctx, title, "/clients"), client, form, errors })
}

/// GET /clients/new
pub async fn new(req: HttpRequest, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    form_page(&req, &ctx, None, ClientForm::default(), StatusCode::OK, FieldErrors::default())
}

/// GET /clients/{id}/edit
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let client = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| find(conn, id)).await?;
    let form = ClientForm::from(&client);
    form_page(&req, &ctx, Some(client), form, StatusCode::OK, FieldErrors::default())
}

fn audit_client(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    t: &Tenant,
    action: &str,
    id: ClientId,
    name: &str,
) -> QueryResult<()> {
    audit::record(
        conn,
        meta,
        AuditEvent::new(action)
            .org(t.org_id)
            .actor(t.user_id)
            .entity("client", id.0)
            .metadata(serde_json::json!({ "name": name })),
    )
}

/// POST /clients
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<ClientForm>,
) -> Result<HttpResponse, AppError> {
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &ctx, None, form, StatusCode::BAD_REQUEST, errors),
    };
    let tenant = ctx.tenant();
    let id = ClientId::new();
    let name = valid.name.clone();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        crate::plans::ensure_room(conn, tenant.org_id, crate::plans::Limit::Clients, 1)?;
        diesel::insert_into(clients::table)
            .values((clients::id.eq(id), clients::org_id.eq(tenant.org_id), &valid))
            .execute(conn)?;
        audit_client(conn, &meta, &tenant, "client.created", id, &valid.name)?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, &format!("/clients/{id}"), Flash::success(format!("{name} has been added."))))
}

/// POST /clients/{id}
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<ClientForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            let client = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| find(conn, id)).await?;
            return form_page(&req, &ctx, Some(client), form, StatusCode::BAD_REQUEST, errors);
        }
    };
    let tenant = ctx.tenant();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        let updated = diesel::update(clients::table.find(id))
            .set((&valid, clients::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        if updated == 0 {
            return Err(AppError::NotFound);
        }
        audit_client(conn, &meta, &tenant, "client.updated", id, &valid.name)?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, &format!("/clients/{id}"), Flash::success("The client has been saved.")))
}

/// POST /clients/{id}/delete — refused while someone still signs in as this client.
/// Their projects stay, without a client.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let client = find(conn, id)?;
        let portal_users: i64 = memberships::table.filter(memberships::client_id.eq(id)).count().get_result(conn)?;
        if portal_users > 0 {
            return Ok(Err(format!(
                "{} cannot be deleted: {} portal user(s) sign in as this client. Remove them from the team first.",
                client.name, portal_users
            )));
        }
        let documents: i64 = crate::db::schema::invoices::table
            .filter(crate::db::schema::invoices::client_id.eq(id))
            .count()
            .get_result::<i64>(conn)?
            + crate::db::schema::quotations::table
                .filter(crate::db::schema::quotations::client_id.eq(id))
                .count()
                .get_result::<i64>(conn)?;
        if documents > 0 {
            return Ok(Err(format!(
                "{} cannot be deleted: {} invoice(s) or quotation(s) are addressed to this client and are kept for your records.",
                client.name, documents
            )));
        }
        diesel::delete(clients::table.find(id)).execute(conn)?;
        audit_client(conn, &meta, &tenant, "client.deleted", id, &client.name)?;
        Ok(Ok(client.name))
    })
    .await?;
    Ok(match outcome {
        Ok(name) => redirect_with(&req, "/clients", Flash::success(format!("{name} has been deleted."))),
        Err(refusal) => redirect_with(&req, &format!("/clients/{id}"), Flash::error(refusal)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_needs_a_name_and_a_real_email_if_any() {
        let form = ClientForm { email: "not-an-email".into(), phone: "call me".into(), ..Default::default() };
        let errors = validate(&form).err().unwrap_or_default();
        assert!(errors.get("name").is_some());
        assert!(errors.get("email").is_some());
        assert!(errors.get("phone").is_some());
    }
}

//! Project pages: list with filters, detail, create, edit, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::STATUSES;
use super::messages::{self, Message};
use super::queries::{self, Person, Project, ProjectFilter};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{ClientId, ProjectId, UserId};
use crate::db::schema::{clients as clients_table, project_members, projects};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::team::Permission;
use crate::time_tracking::money::with_currency;
use crate::web::auth::OrgContext;
use crate::web::choices::{self, Choices};
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

pub fn parse_id(raw: &str) -> Result<ProjectId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "projects/index.html")]
struct IndexPage {
    layout: Layout,
    filter: ProjectFilter,
    projects: Vec<Project>,
    next: Option<ProjectId>,
    clients: Choices,
    statuses: &'static [(&'static str, &'static str)],
    can_create: bool,
}

/// GET /projects
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    filter: web::Query<ProjectFilter>,
) -> Result<HttpResponse, AppError> {
    let filter = filter.into_inner();
    let f = filter.clone();
    let chosen = f.client_id.parse().ok();
    let ((projects, next), clients) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        Ok((queries::list(conn, &f)?, choices::clients(conn, chosen)?))
    })
    .await?;
    let page = IndexPage {
        layout: Layout::member(&req, &ctx, "Projects", "/projects"),
        filter,
        projects,
        next,
        clients,
        statuses: STATUSES,
        can_create: ctx.can(Permission::CreateProject),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "projects/show.html")]
struct ShowPage {
    layout: Layout,
    project: Project,
    currency: String,
    counts: Vec<(String, i64)>,
    members: Vec<Person>,
    messages: Vec<Message>,
    message_error: Option<String>,
    message_body: String,
    files: Vec<crate::files::FileRow>,
    upload_limit: String,
    return_to: String,
    can_upload: bool,
    can_delete_files: bool,
    can_see_files: bool,
    can_edit: bool,
    can_delete: bool,
    can_add_tasks: bool,
    can_invoice: bool,
    /// Billable time not yet on an invoice, offered for invoicing.
    unbilled_minutes: i64,
}

impl ShowPage {
    fn unbilled_hours(&self) -> String {
        crate::time_tracking::money::hours(self.unbilled_minutes)
    }

    fn column_label(&self, key: &str) -> &'static str {
        crate::tasks::status_label(key)
    }

    fn budget(&self) -> Option<String> {
        self.project.budget.map(|b| with_currency(b, &self.currency))
    }

    fn hourly_rate(&self) -> Option<String> {
        self.project.hourly_rate.map(|r| with_currency(r, &self.currency))
    }
}

/// GET /projects/{id}
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let can_see_files = ctx.can(Permission::ViewFiles);
    let can_invoice = ctx.can(Permission::ManageInvoices);
    let (project, counts, members, messages, files, unbilled_minutes) =
        db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
            let project = queries::find(conn, id)?;
            let counts = queries::task_counts(conn, id)?;
            let members = queries::staff(conn, Some(id))?.into_iter().filter(|p| p.selected).collect();
            let messages = messages::recent(conn, id)?;
            let files = if can_see_files { crate::files::list_for_project(conn, id)? } else { Vec::new() };
            let unbilled = if can_invoice {
                crate::money::invoices::unbilled_minutes(conn, crate::money::invoices::Source::Project(id))?
            } else {
                0
            };
            Ok((project, counts, members, messages, files, unbilled))
        })
        .await?;
    let page = ShowPage {
        layout: Layout::member(&req, &ctx, project.title.clone(), "/projects"),
        project,
        currency: ctx.currency.clone(),
        counts,
        members,
        messages,
        message_error: None,
        message_body: String::new(),
        files,
        upload_limit: crate::files::upload_limit(&state),
        return_to: format!("/projects/{id}"),
        can_upload: ctx.can(Permission::UploadFiles),
        can_delete_files: ctx.can(Permission::DeleteFiles),
        can_see_files,
        can_edit: ctx.can(Permission::EditProject),
        can_delete: ctx.can(Permission::DeleteProject),
        can_add_tasks: ctx.can(Permission::ManageTasks),
        can_invoice,
        unbilled_minutes,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default, Clone)]
pub struct ProjectForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    budget: String,
    #[serde(default)]
    hourly_rate: String,
    #[serde(default)]
    client_visible: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

impl From<&Project> for ProjectForm {
    fn from(p: &Project) -> Self {
        let show = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        ProjectForm {
            title: p.title.clone(),
            description: p.description.clone(),
            client_id: p.client_id.map(|c| c.to_string()).unwrap_or_default(),
            status: p.status.clone(),
            start_date: show(p.start_date),
            due_date: show(p.due_date),
            budget: p.budget.map(|b| b.to_string()).unwrap_or_default(),
            hourly_rate: p.hourly_rate.map(|b| b.to_string()).unwrap_or_default(),
            client_visible: p.client_visible.then(String::new),
            members: Vec::new(),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = projects, treat_none_as_null = true)]
struct ValidProject {
    title: String,
    description: String,
    client_id: Option<ClientId>,
    status: String,
    start_date: Option<NaiveDate>,
    due_date: Option<NaiveDate>,
    budget: Option<Decimal>,
    hourly_rate: Option<Decimal>,
    client_visible: bool,
}

struct Valid {
    project: ValidProject,
    members: Vec<UserId>,
}

/// Checks the form's shape; whether the client and members belong to this organization
/// is checked in the saving transaction.
fn validate(form: &ProjectForm) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::default();
    let title = fields::line(&mut errors, "title", &form.title, 160, Some("a title"));
    let description = fields::text(&mut errors, "description", &form.description, 10_000, None);
    let client_id = fields::optional_id(&mut errors, "client_id", &form.client_id);
    let keys: Vec<&str> = STATUSES.iter().map(|(k, _)| *k).collect();
    let status = fields::choice(&mut errors, "status", &form.status, &keys);
    let start_date = fields::date(&mut errors, "start_date", &form.start_date);
    let due_date = fields::date(&mut errors, "due_date", &form.due_date);
    fields::date_order(&mut errors, "due_date", start_date, due_date);
    let budget = fields::amount(&mut errors, "budget", &form.budget, 2, Decimal::from(1_000_000_000_000i64));
    let hourly_rate = fields::amount(&mut errors, "hourly_rate", &form.hourly_rate, 2, Decimal::from(100_000_000));
    let mut members = Vec::new();
    for raw in &form.members {
        match raw.parse::<UserId>() {
            Ok(id) if !members.contains(&id) => members.push(id),
            Ok(_) => {}
            Err(_) => errors.add("members", "Choose members from the list."),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        project: ValidProject {
            title,
            description,
            client_id,
            status,
            start_date,
            due_date,
            budget,
            hourly_rate,
            client_visible: fields::checked(&form.client_visible),
        },
        members,
    })
}

/// What only the database can say: the client and the members exist in this organization.
fn check_references(conn: &mut PgConnection, valid: &Valid) -> QueryResult<FieldErrors> {
    let mut errors = FieldErrors::default();
    if let Some(client) = valid.project.client_id {
        let found: i64 = clients_table::table.find(client).count().get_result(conn)?;
        if found == 0 {
            errors.add("client_id", "Choose one of the options in the list.");
        }
    }
    let staff: Vec<UserId> = queries::staff(conn, None)?.into_iter().map(|p| p.id).collect();
    if valid.members.iter().any(|m| !staff.contains(m)) {
        errors.add("members", "Choose members from the list.");
    }
    Ok(errors)
}

fn save_members(conn: &mut PgConnection, tenant: &Tenant, project: ProjectId, members: &[UserId]) -> QueryResult<()> {
    diesel::delete(project_members::table.filter(project_members::project_id.eq(project))).execute(conn)?;
    let rows: Vec<_> = members
        .iter()
        .map(|m| {
            (
                project_members::org_id.eq(tenant.org_id),
                project_members::project_id.eq(project),
                project_members::user_id.eq(*m),
            )
        })
        .collect();
    diesel::insert_into(project_members::table).values(&rows).execute(conn)?;
    Ok(())
}

#[derive(Template)]
#[template(path = "projects/form.html")]
struct FormPage {
    layout: Layout,
    project: Option<Project>,
    form: ProjectForm,
    clients: Choices,
    staff: Vec<Person>,
    statuses: &'static [(&'static str, &'static str)],
    errors: FieldErrors,
}

impl FormPage {
    fn member_checked(&self, person: &Person) -> bool {
        self.form.members.iter().any(|m| *m == person.id.to_string())
    }
}

async fn form_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    project: Option<Project>,
    mut form: ProjectForm,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let project_id = project.as_ref().map(|p| p.id);
    let first_view = status == StatusCode::OK;
    let chosen = form.client_id.parse().ok();
    let (clients, staff) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        Ok((choices::clients(conn, chosen)?, queries::staff(conn, project_id)?))
    })
    .await?;
    if first_view {
        // A new project starts with its creator on it; an edited one with its members.
        form.members = match project_id {
            Some(_) => staff.iter().filter(|p| p.selected).map(|p| p.id.to_string()).collect(),
            None => vec![ctx.user.id.to_string()],
        };
    }
    let title = project.as_ref().map(|p| format!("Edit {}", p.title)).unwrap_or_else(|| "New project".into());
    let page = FormPage {
        layout: Layout::member(req, ctx, title, "/projects"),
        project,
        form,
        clients,
        staff,
        statuses: STATUSES,
        errors,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    client_id: String,
}

/// GET /projects/new
pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = ProjectForm { status: "active".into(), client_id: query.client_id.clone(), ..Default::default() };
    form_page(&req, &state, &ctx, None, form, StatusCode::OK, FieldErrors::default()).await
}

/// GET /projects/{id}/edit
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let project = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| queries::find(conn, id)).await?;
    let form = ProjectForm::from(&project);
    form_page(&req, &state, &ctx, Some(project), form, StatusCode::OK, FieldErrors::default()).await
}

fn audit_project(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    t: &Tenant,
    action: &str,
    id: ProjectId,
    title: &str,
) -> QueryResult<()> {
    audit::record(
        conn,
        meta,
        AuditEvent::new(action)
            .org(t.org_id)
            .actor(t.user_id)
            .entity("project", id.0)
            .metadata(serde_json::json!({ "title": title })),
    )
}

/// POST /projects
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<ProjectForm>,
) -> Result<HttpResponse, AppError> {
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &state, &ctx, None, form, StatusCode::BAD_REQUEST, errors).await,
    };
    let tenant = ctx.tenant();
    let id = ProjectId::new();
    let saved = db::tenant_tx(&state.pool, tenant, move |conn| {
        let errors = check_references(conn, &valid)?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        crate::plans::ensure_room(conn, tenant.org_id, crate::plans::Limit::Projects, 1)?;
        diesel::insert_into(projects::table)
            .values((
                projects::id.eq(id),
                projects::org_id.eq(tenant.org_id),
                projects::created_by.eq(tenant.user_id),
                projects::title.eq(&valid.project.title),
            ))
            .execute(conn)?;
        diesel::update(projects::table.find(id)).set(&valid.project).execute(conn)?;
        save_members(conn, &tenant, id, &valid.members)?;
        audit_project(conn, &meta, &tenant, "project.created", id, &valid.project.title)?;
        Ok(Ok(()))
    })
    .await?;
    if let Err(errors) = saved {
        return form_page(&req, &state, &ctx, None, form, StatusCode::BAD_REQUEST, errors).await;
    }
    Ok(redirect_with(&req, &format!("/projects/{id}"), Flash::success("The project has been created.")))
}

/// POST /projects/{id}
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<ProjectForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let project = db::tenant_tx(&state.pool, tenant, move |conn| queries::find(conn, id)).await?;
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            return form_page(&req, &state, &ctx, Some(project), form, StatusCode::BAD_REQUEST, errors).await;
        }
    };
    let saved = db::tenant_tx(&state.pool, tenant, move |conn| {
        let errors = check_references(conn, &valid)?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        diesel::update(projects::table.find(id))
            .set((&valid.project, projects::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        save_members(conn, &tenant, id, &valid.members)?;
        audit_project(conn, &meta, &tenant, "project.updated", id, &valid.project.title)?;
        Ok(Ok(()))
    })
    .await?;
    if let Err(errors) = saved {
        return form_page(&req, &state, &ctx, Some(project), form, StatusCode::BAD_REQUEST, errors).await;
    }
    Ok(redirect_with(&req, &format!("/projects/{id}"), Flash::success("The project has been saved.")))
}

/// POST /projects/{id}/delete — its tasks, time, messages go with it; files stay, unfiled.
/// Refused while any of its time is billed on an invoice.
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
        let project = queries::find(conn, id)?;
        // Serialises with time being billed or tasks being added meanwhile.
        crate::tasks::queries::lock_project(conn, id)?;
        if crate::time_tracking::queries::billed_entries(conn, Some(id), None)? > 0 {
            return Ok(Err(format!(
                "The project {} cannot be deleted: some of its time is billed on an invoice. \
                 Mark it completed instead.",
                project.title
            )));
        }
        diesel::delete(projects::table.find(id)).execute(conn)?;
        audit_project(conn, &meta, &tenant, "project.deleted", id, &project.title)?;
        Ok(Ok(project.title))
    })
    .await?;
    Ok(match outcome {
        Ok(title) => redirect_with(&req, "/projects", Flash::success(format!("The project {title} has been deleted."))),
        Err(refusal) => redirect_with(&req, &format!("/projects/{id}"), Flash::error(refusal)),
    })
}

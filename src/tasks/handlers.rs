//! Task pages: list with filters, detail (subtasks, comments, history), create, edit,
//! delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::activity::{self, Change};
use super::comments::{self, Comment};
use super::queries::{self, Task, TaskFilter};
use super::{PRIORITIES, STATUSES};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{ProjectId, TaskId, UserId};
use crate::db::schema::{projects, tasks};
use crate::db::{self, Tenant};
use crate::notifications::{self, Kind, Notice};
use crate::projects::queries::{Person, staff};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::choices::{self, Choices};
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

type Options = &'static [(&'static str, &'static str)];

pub fn parse_id(raw: &str) -> Result<TaskId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "tasks/index.html")]
struct IndexPage {
    layout: Layout,
    filter: TaskFilter,
    tasks: Vec<Task>,
    next: Option<TaskId>,
    problems: Vec<&'static str>,
    projects: Choices,
    people: Vec<Person>,
    statuses: Options,
    priorities: Options,
    can_manage: bool,
}

/// GET /tasks
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    filter: web::Query<TaskFilter>,
) -> Result<HttpResponse, AppError> {
    let filter = filter.into_inner();
    let parsed = filter.parse(ctx.user.id);
    let problems = parsed.problems.clone();
    let ((tasks, next), projects, people) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let chosen = parsed.project.map(|p| p.0);
        Ok((queries::list(conn, &parsed)?, choices::projects(conn, chosen, false)?, staff(conn, None)?))
    })
    .await?;
    let page = IndexPage {
        layout: Layout::member(&req, &ctx, "Tasks", "/tasks"),
        filter,
        tasks,
        next,
        problems,
        projects,
        people,
        statuses: STATUSES,
        priorities: PRIORITIES,
        can_manage: ctx.can(Permission::ManageTasks),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "tasks/show.html")]
struct ShowPage {
    layout: Layout,
    task: Task,
    subtasks: Vec<Task>,
    comments: Vec<Comment>,
    history: Vec<activity::Entry>,
    errors: FieldErrors,
    comment_body: String,
    /// Time on this task, for those who log time.
    task_time: Option<crate::time_tracking::TaskTime>,
    can_manage: bool,
}

/// The task page; a comment that failed validation comes back with its message.
pub async fn show_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    id: TaskId,
    errors: FieldErrors,
    comment_body: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let logs_time = ctx.can(Permission::ManageTasks);
    let me = ctx.user.id;
    let (task, subtasks, comments, history, task_time) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let task = queries::find(conn, id)?;
        let task_time = if logs_time { Some(crate::time_tracking::for_task(conn, id, me)?) } else { None };
        Ok((task, queries::subtasks(conn, id)?, comments::list(conn, id)?, activity::history(conn, id)?, task_time))
    })
    .await?;
    let page = ShowPage {
        layout: Layout::member(req, ctx, task.title.clone(), "/tasks"),
        task,
        subtasks,
        comments,
        history,
        errors,
        comment_body,
        task_time,
        can_manage: ctx.can(Permission::ManageTasks),
    };
    render(status, &page)
}

/// GET /tasks/{id}
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    show_page(&req, &state, &ctx, id, FieldErrors::default(), String::new(), StatusCode::OK).await
}

#[derive(Deserialize, Default, Clone)]
pub struct TaskForm {
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    assignee_id: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    estimate_hours: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    client_visible: Option<String>,
}

impl From<&Task> for TaskForm {
    fn from(t: &Task) -> Self {
        TaskForm {
            project_id: t.project_id.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            status: t.status.clone(),
            priority: t.priority.clone(),
            assignee_id: t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
            due_date: t.due_date.map(|d| d.to_string()).unwrap_or_default(),
            estimate_hours: t.estimate_hours.map(|e| e.to_string()).unwrap_or_default(),
            parent_id: t.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            client_visible: t.client_visible.then(String::new),
        }
    }
}

struct ValidTask {
    project_id: Option<ProjectId>,
    title: String,
    description: String,
    status: String,
    priority: String,
    assignee_id: Option<UserId>,
    due_date: Option<NaiveDate>,
    estimate_hours: Option<Decimal>,
    parent_id: Option<TaskId>,
    client_visible: bool,
}

fn keys(options: Options) -> Vec<&'static str> {
    options.iter().map(|(k, _)| *k).collect()
}

fn validate(form: &TaskForm) -> Result<ValidTask, FieldErrors> {
    let mut errors = FieldErrors::default();
    let project_id = fields::optional_id(&mut errors, "project_id", &form.project_id);
    if form.project_id.trim().is_empty() {
        errors.add("project_id", "Choose the project this task belongs to.");
    }
    let valid = ValidTask {
        project_id,
        title: fields::line(&mut errors, "title", &form.title, 200, Some("a title")),
        description: fields::text(&mut errors, "description", &form.description, 10_000, None),
        status: fields::choice(&mut errors, "status", &form.status, &keys(STATUSES)),
        priority: fields::choice(&mut errors, "priority", &form.priority, &keys(PRIORITIES)),
        assignee_id: fields::optional_id(&mut errors, "assignee_id", &form.assignee_id),
        due_date: fields::date(&mut errors, "due_date", &form.due_date),
        estimate_hours: fields::amount(&mut errors, "estimate_hours", &form.estimate_hours, 2, Decimal::from(100_000)),
        parent_id: fields::optional_id(&mut errors, "parent_id", &form.parent_id),
        client_visible: fields::checked(&form.client_visible),
    };
    if errors.is_empty() { Ok(valid) } else { Err(errors) }
}

/// What only the database can say: the project, assignee and parent are this
/// organization's, and the parent is a top-level task of the same project.
fn check_references(
    conn: &mut PgConnection,
    valid: &ValidTask,
    project: ProjectId,
    editing: Option<&Task>,
) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::default();
    if projects::table.find(project).count().get_result::<i64>(conn)? == 0 {
        errors.add("project_id", "Choose one of the options in the list.");
    }
    if let Some(assignee) = valid.assignee_id
        && !staff(conn, None)?.iter().any(|p| p.id == assignee)
    {
        errors.add("assignee_id", "Choose someone from your team.");
    }
    if let Some(parent_id) = valid.parent_id {
        let parent: Option<(ProjectId, Option<TaskId>)> =
            tasks::table.find(parent_id).select((tasks::project_id, tasks::parent_id)).first(conn).optional()?;
        match parent {
            None => errors.add("parent_id", "Choose one of the options in the list."),
            Some((parent_project, _)) if parent_project != project => {
                errors.add("parent_id", "Choose a parent task from the same project.")
            }
            Some((_, Some(_))) => errors.add("parent_id", "A subtask cannot have subtasks of its own."),
            Some(_) if editing.is_some_and(|t| t.id == parent_id) => {
                errors.add("parent_id", "A task cannot be its own parent.")
            }
            Some(_) if editing.is_some_and(|t| t.subtasks > 0) => {
                errors.add("parent_id", "This task has subtasks, so it cannot become a subtask itself.")
            }
            Some(_) => {}
        }
    }
    Ok(errors)
}

#[derive(Template)]
#[template(path = "tasks/form.html")]
struct FormPage {
    layout: Layout,
    task: Option<Task>,
    form: TaskForm,
    projects: Choices,
    people: Vec<Person>,
    parents: Vec<(TaskId, String)>,
    statuses: Options,
    priorities: Options,
    errors: FieldErrors,
}

async fn form_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    task: Option<Task>,
    form: TaskForm,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let project: Option<ProjectId> = form.project_id.parse().ok();
    let editing = task.as_ref().map(|t| t.id);
    let (projects, people, parents) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let parents = match project {
            Some(p) => tasks::table
                .filter(tasks::project_id.eq(p))
                .filter(tasks::parent_id.is_null())
                .filter(tasks::id.nullable().ne(editing))
                .select((tasks::id, tasks::title))
                .order(tasks::id.desc())
                .limit(500)
                .load(conn)?,
            None => Vec::new(),
        };
        Ok((choices::projects(conn, project.map(|p| p.0), true)?, staff(conn, None)?, parents))
    })
    .await?;
    let title = task.as_ref().map(|t| format!("Edit {}", t.title)).unwrap_or_else(|| "New task".into());
    let page = FormPage {
        layout: Layout::member(req, ctx, title, "/tasks"),
        task,
        form,
        projects,
        people,
        parents,
        statuses: STATUSES,
        priorities: PRIORITIES,
        errors,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    status: String,
}

/// GET /tasks/new
pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let status = if STATUSES.iter().any(|(k, _)| *k == query.status) { query.status.clone() } else { "todo".into() };
    let form = TaskForm {
        project_id: query.project_id.clone(),
        parent_id: query.parent_id.clone(),
        status,
        priority: "medium".into(),
        ..Default::default()
    };
    form_page(&req, &state, &ctx, None, form, StatusCode::OK, FieldErrors::default()).await
}

/// GET /tasks/{id}/edit
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let task = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| queries::find(conn, id)).await?;
    let form = TaskForm::from(&task);
    form_page(&req, &state, &ctx, Some(task), form, StatusCode::OK, FieldErrors::default()).await
}

fn notify_assignee(
    conn: &mut PgConnection,
    tenant: &Tenant,
    ctx_name: &str,
    id: TaskId,
    title: &str,
    assignee: Option<UserId>,
) -> QueryResult<()> {
    let Some(assignee) = assignee else { return Ok(()) };
    let notice = Notice {
        kind: Kind::TaskAssigned,
        title: format!("{ctx_name} assigned you “{title}”"),
        link: format!("/tasks/{id}"),
        entity: ("task", id.0),
    };
    notifications::notify(conn, tenant, assignee, &notice)
}

/// POST /tasks
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    Form(form): Form<TaskForm>,
) -> Result<HttpResponse, AppError> {
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &state, &ctx, None, form, StatusCode::BAD_REQUEST, errors).await,
    };
    let Some(project) = valid.project_id else { return Err(AppError::NotFound) };
    let tenant = ctx.tenant();
    let me = ctx.user.name.clone();
    let id = TaskId::new();
    let saved = db::tenant_tx(&state.pool, tenant, move |conn| {
        // Lock before checking the parent, so it cannot become a subtask meanwhile. An
        // unknown project is not an error yet: the check says so next to the field.
        match queries::lock_project(conn, project) {
            Ok(()) | Err(AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
        let errors = check_references(conn, &valid, project, None)?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let position = match valid.parent_id {
            None => queries::put_in(conn, project, id, &valid.status, None)?,
            Some(_) => 0,
        };
        diesel::insert_into(tasks::table)
            .values((
                tasks::id.eq(id),
                tasks::org_id.eq(tenant.org_id),
                tasks::project_id.eq(project),
                tasks::parent_id.eq(valid.parent_id),
                tasks::title.eq(&valid.title),
                tasks::description.eq(&valid.description),
                tasks::status.eq(&valid.status),
                tasks::priority.eq(&valid.priority),
                tasks::assignee_id.eq(valid.assignee_id),
                tasks::due_date.eq(valid.due_date),
                tasks::estimate_hours.eq(valid.estimate_hours),
                tasks::position.eq(position),
                tasks::client_visible.eq(valid.client_visible),
                tasks::created_by.eq(tenant.user_id),
                tasks::completed_at.eq((valid.status == "done").then(chrono::Utc::now)),
            ))
            .execute(conn)?;
        activity::record(conn, &tenant, id, &[Change { field: "created", old: None, new: Some(valid.title.clone()) }])?;
        notify_assignee(conn, &tenant, &me, id, &valid.title, valid.assignee_id)?;
        Ok(Ok(valid.parent_id))
    })
    .await?;
    match saved {
        Err(errors) => form_page(&req, &state, &ctx, None, form, StatusCode::BAD_REQUEST, errors).await,
        // A subtask added from its parent's page goes back there.
        Ok(Some(parent)) => {
            Ok(redirect_with(&req, &format!("/tasks/{parent}#subtasks"), Flash::success("The subtask has been added.")))
        }
        Ok(None) => Ok(redirect_with(&req, &format!("/tasks/{id}"), Flash::success("The task has been created."))),
    }
}

/// The changes an edit makes, with values as people read them.
fn changes(old: &Task, new: &ValidTask, people: &[Person], parent_title: Option<String>) -> Vec<Change> {
    let name = |id: Option<UserId>| id.and_then(|id| people.iter().find(|p| p.id == id).map(|p| p.name.clone()));
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let dec = |d: Option<Decimal>| d.map(|d| d.normalize().to_string());
    [
        Change::of("title", Some(old.title.clone()), Some(new.title.clone())),
        Change::of("description", Some(old.description.clone()), Some(new.description.clone())),
        Change::of("status", Some(old.status_label().into()), Some(super::status_label(&new.status).into())),
        Change::of("priority", Some(old.priority_label().into()), Some(super::priority_label(&new.priority).into())),
        Change::of("assignee", old.assignee_name.clone().filter(|_| old.assignee_id.is_some()), name(new.assignee_id)),
        Change::of("due_date", date(old.due_date), date(new.due_date)),
        Change::of(
            "estimate",
            dec(old.estimate_hours).map(|e| format!("{e} h")),
            dec(new.estimate_hours).map(|e| format!("{e} h")),
        ),
        Change::of("parent", old.parent_title.clone(), parent_title),
        Change::of(
            "client_visibility",
            Some(if old.client_visible { "visible" } else { "hidden" }.into()),
            Some(if new.client_visible { "visible" } else { "hidden" }.into()),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// POST /tasks/{id} — the project stays; everything else may change.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(mut form): Form<TaskForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let task = db::tenant_tx(&state.pool, tenant, move |conn| queries::find(conn, id)).await?;
    form.project_id = task.project_id.to_string();
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &state, &ctx, Some(task), form, StatusCode::BAD_REQUEST, errors).await,
    };
    let me = ctx.user.name.clone();
    let saved = db::tenant_tx(&state.pool, tenant, move |conn| {
        queries::lock_project(conn, task.project_id)?;
        // Read again under the lock: a concurrent move may have changed the position.
        let old = queries::find(conn, id)?;
        let errors = check_references(conn, &valid, old.project_id, Some(&old))?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let moved = old.status != valid.status || old.parent_id != valid.parent_id;
        let position = if !moved {
            old.position
        } else {
            queries::take_out(conn, &old)?;
            match valid.parent_id {
                None => queries::put_in(conn, old.project_id, id, &valid.status, None)?,
                Some(_) => 0,
            }
        };
        let parent_title = match valid.parent_id {
            Some(p) => Some(tasks::table.find(p).select(tasks::title).first::<String>(conn)?),
            None => None,
        };
        let people = staff(conn, None)?;
        let changed = changes(&old, &valid, &people, parent_title);
        diesel::update(tasks::table.find(id))
            .set((
                tasks::parent_id.eq(valid.parent_id),
                tasks::title.eq(&valid.title),
                tasks::description.eq(&valid.description),
                tasks::status.eq(&valid.status),
                tasks::priority.eq(&valid.priority),
                tasks::assignee_id.eq(valid.assignee_id),
                tasks::due_date.eq(valid.due_date),
                tasks::estimate_hours.eq(valid.estimate_hours),
                tasks::position.eq(position),
                tasks::client_visible.eq(valid.client_visible),
                tasks::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        set_completed(conn, id, &old.status, &valid.status)?;
        activity::record(conn, &tenant, id, &changed)?;
        if valid.assignee_id != old.assignee_id {
            notify_assignee(conn, &tenant, &me, id, &valid.title, valid.assignee_id)?;
        }
        Ok(Ok(()))
    })
    .await?;
    if let Err(errors) = saved {
        let task = db::tenant_tx(&state.pool, tenant, move |conn| queries::find(conn, id)).await?;
        return form_page(&req, &state, &ctx, Some(task), form, StatusCode::BAD_REQUEST, errors).await;
    }
    Ok(redirect_with(&req, &format!("/tasks/{id}"), Flash::success("The task has been saved.")))
}

/// Keeps `completed_at` in step with the done column.
pub fn set_completed(conn: &mut PgConnection, id: TaskId, old: &str, new: &str) -> QueryResult<()> {
    if old != "done" && new == "done" {
        diesel::update(tasks::table.find(id)).set(tasks::completed_at.eq(diesel::dsl::now)).execute(conn)?;
    } else if old == "done" && new != "done" {
        diesel::update(tasks::table.find(id))
            .set(tasks::completed_at.eq(None::<chrono::DateTime<chrono::Utc>>))
            .execute(conn)?;
    }
    Ok(())
}

const BILLED_TASK: &str =
    "This task cannot be deleted: some of its time is billed on an invoice. Mark it done instead.";

/// POST /tasks/{id}/delete — with its subtasks, comments and time (unless billed).
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
        let task = queries::find(conn, id)?;
        queries::lock_project(conn, task.project_id)?;
        let task = queries::find(conn, id)?;
        if crate::time_tracking::queries::billed_entries(conn, None, Some(id))? > 0 {
            return Ok(Err(BILLED_TASK));
        }
        queries::take_out(conn, &task)?;
        diesel::delete(tasks::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("task.deleted")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("task", id.0)
                .metadata(serde_json::json!({ "title": task.title, "project": task.project_title })),
        )?;
        Ok(Ok(task))
    })
    .await?;
    let task = match outcome {
        Ok(task) => task,
        Err(refusal) => return Ok(redirect_with(&req, &format!("/tasks/{id}"), Flash::error(refusal))),
    };
    let back = match task.parent_id {
        Some(parent) => format!("/tasks/{parent}"),
        None => format!("/projects/{}/board", task.project_id),
    };
    Ok(redirect_with(&req, &back, Flash::success(format!("The task {} has been deleted.", task.title))))
}

//! The Kanban board of a project: one column per status, cards in position order.
//! Cards move by drag and drop (Sortable.js posting through htmx) or, without
//! JavaScript, with a column select and up/down buttons; both post to the same route.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::STATUSES;
use super::activity::{self, Change};
use super::handlers::{parse_id, set_completed};
use super::queries::{self, Task};
use crate::db;
use crate::db::schema::tasks;
use crate::projects::queries::{self as projects, Project};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::htmx::wants_fragment;
use crate::web::layout::Layout;
use crate::web::{AppError, Form, render};

pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub cards: Vec<Task>,
}

#[derive(Template)]
#[template(path = "tasks/board.html")]
struct BoardPage {
    layout: Layout,
    project: Project,
    columns: Vec<Column>,
    statuses: &'static [(&'static str, &'static str)],
    can_move: bool,
}

/// GET /projects/{id}/board
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = crate::projects::handlers::parse_id(&path)?;
    let (project, cards) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        Ok((projects::find(conn, id)?, queries::board(conn, id)?))
    })
    .await?;
    let mut columns: Vec<Column> =
        STATUSES.iter().map(|(key, label)| Column { key, label, cards: Vec::new() }).collect();
    for card in cards {
        if let Some(column) = columns.iter_mut().find(|c| c.key == card.status) {
            column.cards.push(card);
        }
    }
    let page = BoardPage {
        layout: Layout::member(&req, &ctx, format!("Board · {}", project.title), "/projects"),
        project,
        columns,
        statuses: STATUSES,
        can_move: ctx.can(Permission::ManageTasks),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    status: String,
    /// The 0-based place in the column, or "end".
    #[serde(default)]
    position: String,
}

/// POST /tasks/{id}/move
pub async fn move_task(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let column = STATUSES.iter().find(|(k, _)| *k == form.status).copied();
    let position = match form.position.trim() {
        "" | "end" => Ok(None),
        raw => raw.parse::<i32>().ok().filter(|p| *p >= 0).map(Some).ok_or(()),
    };
    let tenant = ctx.tenant();
    let (project, label) = db::tenant_tx(&state.pool, tenant, move |conn| {
        let task = queries::find(conn, id)?;
        // The task is found first: another organization's id is a 404 whatever the form says.
        let Some((status, label)) = column else {
            return Err(AppError::BadRequest(
                "That column does not exist on the board. Reload the page and try again.".into(),
            ));
        };
        let Ok(position) = position else {
            return Err(AppError::BadRequest(
                "That place on the board does not exist. Reload the page and try again.".into(),
            ));
        };
        queries::lock_project(conn, task.project_id)?;
        // Read again under the lock: the position (or the parent) may have changed meanwhile.
        let task = queries::find(conn, id)?;
        if task.is_subtask() {
            return Err(AppError::BadRequest("Subtasks move with their parent's page, not on the board.".into()));
        }
        queries::take_out(conn, &task)?;
        let at = queries::put_in(conn, task.project_id, id, status, position)?;
        diesel::update(tasks::table.find(id))
            .set((tasks::status.eq(status), tasks::position.eq(at), tasks::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        set_completed(conn, id, &task.status, status)?;
        if let Some(change) = Change::of("status", Some(task.status_label().into()), Some(label.into())) {
            activity::record(conn, &tenant, id, &[change])?;
        }
        Ok((task.project_id, label))
    })
    .await?;
    if wants_fragment(&req) {
        return Ok(HttpResponse::NoContent().finish());
    }
    Ok(redirect_with(
        &req,
        &format!("/projects/{project}/board#task-{id}"),
        Flash::success(format!("Moved to {label}.")),
    ))
}

//! The timer: a time entry whose minutes are still empty. It lives in the database, so
//! it survives a reload, a closed tab or another device. One runs per person: starting
//! one stops the other in the same transaction.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::duration::format_minutes;
use super::forms::safe_return_to;
use super::queries::{self, NewEntry, Stopped};
use crate::db::ids::{TaskId, TimeEntryId};
use crate::db::{self};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::Form;

#[derive(Deserialize, Default)]
pub struct TimerForm {
    #[serde(default)]
    return_to: String,
}

enum Started {
    Now {
        task: String,
        stopped: Option<Stopped>,
    },
    AlreadyHere {
        task: String,
    },
    /// The person's timer runs in another organization (the one-per-person index spans them).
    Elsewhere,
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

fn task_id(raw: &str) -> Result<TaskId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// POST /tasks/{id}/timer/start
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<TimerForm>,
) -> Result<HttpResponse, AppError> {
    let task_id = task_id(&path)?;
    let tenant = ctx.tenant();
    let me = tenant.user_id;
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        queries::lock_member(conn, me)?;
        let task = queries::task_for_entry(conn, task_id, me)?.ok_or(AppError::NotFound)?;
        let running = queries::running_timer(conn, me)?;
        if running.as_ref().is_some_and(|r| r.task_id == task_id) {
            return Ok(Started::AlreadyHere { task: task.title });
        }
        let stopped = match running {
            Some(r) => Some(queries::stop(conn, &r)?),
            None => None,
        };
        let today = queries::org_clock(conn)?.today;
        let entry = NewEntry {
            id: TimeEntryId::new(),
            org_id: tenant.org_id,
            task_id,
            user_id: me,
            entry_date: today,
            minutes: None,
            note: "",
            billable: true,
            hourly_rate: task.rate,
        };
        // A savepoint: the transaction stays usable if the insert is refused.
        match diesel::Connection::transaction(conn, |conn| queries::start(conn, &entry)) {
            Err(e) if is_unique_violation(&e) => Ok(Started::Elsewhere),
            other => {
                other?;
                Ok(Started::Now { task: task.title, stopped })
            }
        }
    })
    .await?;
    let location = safe_return_to(&form.return_to).unwrap_or("/time");
    let flash = match outcome {
        Started::Now { task, stopped: None } => Flash::success(format!("Timer started on {task}.")),
        Started::Now { task, stopped: Some(s) } => Flash::success(format!(
            "Timer started on {task}. Your timer on {} was stopped first ({} logged).",
            s.task_title,
            format_minutes(i64::from(s.minutes))
        )),
        Started::AlreadyHere { task } => Flash::info(format!("Your timer is already running on {task}.")),
        Started::Elsewhere => {
            Flash::error("Your timer is running in another organization. Switch to it and stop the timer there first.")
        }
    };
    Ok(redirect_with(&req, location, flash))
}

/// POST /tasks/{id}/timer/stop
pub async fn stop(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<TimerForm>,
) -> Result<HttpResponse, AppError> {
    let task_id = task_id(&path)?;
    let me = ctx.user.id;
    let stopped = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        queries::lock_member(conn, me)?;
        queries::task_for_entry(conn, task_id, me)?.ok_or(AppError::NotFound)?;
        match queries::running_timer(conn, me)? {
            Some(r) if r.task_id == task_id => Ok(Some(queries::stop(conn, &r)?)),
            _ => Ok(None),
        }
    })
    .await?;
    let location = safe_return_to(&form.return_to).unwrap_or("/time");
    let flash = match stopped {
        None => Flash::info("No timer of yours is running on this task."),
        Some(s) if s.capped => Flash::error(format!(
            "The timer on {} ran for more than a day, so 24 hours were recorded. Please correct the entry.",
            s.task_title
        )),
        Some(s) => Flash::success(format!(
            "Timer stopped: {} logged on {}.",
            format_minutes(i64::from(s.minutes)),
            s.task_title
        )),
    };
    Ok(redirect_with(&req, location, flash))
}

//! The person's own time: the week's entries, the running timer, the entry form; and
//! changing or deleting an entry. Your own entries are yours to change; someone who
//! manages members may change anyone's. A billed entry (on an invoice) is locked.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use super::duration::format_minutes;
use super::forms::{self, EntryForm, TASK_MESSAGE};
use super::queries::{self, EntryChange, EntryFilter, EntryRow, NewEntry, ProjectTasks};
use crate::audit::{self, AuditEvent};
use crate::db::ids::TimeEntryId;
use crate::db::{self};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

/// Why a billed entry stays as it is, in words for the person who tried.
pub const BILLED_MESSAGE: &str = "This entry is on an invoice, so it can no longer be changed or deleted. \
     If it is wrong, the invoice has to be voided first.";
const RUNNING_MESSAGE: &str = "This timer is still running. Stop it first, then change the entry.";

/// The Monday that starts the ISO week of `day`.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// One ISO week, Monday to Sunday.
pub struct Week {
    pub monday: NaiveDate,
    pub current: bool,
}

impl Week {
    pub fn label(&self) -> String {
        let sunday = self.monday + Duration::days(6);
        format!(
            "Week {} · {} – {}",
            self.monday.iso_week().week(),
            self.monday.format("%-d %b"),
            sunday.format("%-d %b %Y")
        )
    }

    pub fn previous(&self) -> String {
        format!("/time?week={}", self.monday - Duration::weeks(1))
    }

    pub fn next(&self) -> String {
        format!("/time?week={}", self.monday + Duration::weeks(1))
    }

    /// This week's page, where forms on it send the person back to.
    pub fn here(&self) -> String {
        format!("/time?week={}", self.monday)
    }
}

#[derive(Deserialize, Default)]
pub struct TimeQuery {
    #[serde(default)]
    week: String,
}

#[derive(Template)]
#[template(path = "time/index.html")]
struct TimePage {
    layout: Layout,
    week: Week,
    entries: Vec<EntryRow>,
    total: String,
    billable_total: String,
    running: Option<EntryRow>,
    projects: Vec<ProjectTasks>,
    form: EntryForm,
    errors: FieldErrors,
    problem: Option<&'static str>,
    can_view_timesheets: bool,
}

/// What the /time page needs besides the request.
struct TimeView {
    week: Option<NaiveDate>,
    form: Option<EntryForm>,
    errors: FieldErrors,
    problem: Option<&'static str>,
    status: StatusCode,
}

async fn time_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    view: TimeView,
) -> Result<HttpResponse, AppError> {
    let me = ctx.user.id;
    let wanted = view.week;
    let (today, monday, entries, running, projects) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let today = queries::org_clock(conn)?.today;
        let monday = monday_of(wanted.unwrap_or(today));
        let filter = EntryFilter {
            user: Some(me),
            from: Some(monday),
            to: Some(monday + Duration::days(6)),
            finished_only: true,
            ..Default::default()
        };
        Ok((
            today,
            monday,
            queries::entries(conn, &filter)?,
            queries::running_timer(conn, me)?,
            queries::open_tasks(conn, me)?,
        ))
    })
    .await?;
    let minutes: i64 = entries.iter().filter_map(|e| e.minutes).map(i64::from).sum();
    let billable: i64 = entries.iter().filter(|e| e.billable).filter_map(|e| e.minutes).map(i64::from).sum();
    let page = TimePage {
        layout: Layout::member(req, ctx, "Time", "/time"),
        week: Week { monday, current: monday == monday_of(today) },
        entries,
        total: format_minutes(minutes),
        billable_total: format_minutes(billable),
        running,
        projects,
        form: view.form.unwrap_or_else(|| EntryForm::blank(today)),
        errors: view.errors,
        problem: view.problem,
        can_view_timesheets: ctx.can(Permission::ViewProjects),
    };
    render(view.status, &page)
}

/// GET /time — this week, or `?week=` (any day of the wanted week).
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<TimeQuery>,
) -> Result<HttpResponse, AppError> {
    let raw = query.week.trim();
    let (week, problem) = match raw {
        "" => (None, None),
        _ => match crate::web::fields::parse_date(raw) {
            Ok(d) => (Some(d), None),
            Err(_) => (None, Some("That week could not be read, so this week is shown.")),
        },
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    time_page(&req, &state, &ctx, TimeView { week, form: None, errors: FieldErrors::default(), problem, status }).await
}

/// POST /time — a manual entry. The rate is copied now, so later rate changes do not
/// rewrite what past work was worth.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    Form(form): Form<EntryForm>,
) -> Result<HttpResponse, AppError> {
    let tenant = ctx.tenant();
    let typed = form.clone();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let today = queries::org_clock(conn)?.today;
        let mut errors = FieldErrors::default();
        let task = match forms::parse_task(&typed) {
            Some(id) => queries::task_for_entry(conn, id, tenant.user_id)?.map(|t| (id, t)),
            None => None,
        };
        if task.is_none() {
            errors.add("task_id", TASK_MESSAGE);
        }
        let fields = forms::validate_fields(&typed, today, &mut errors);
        let (Some((task_id, task)), Some(v)) = (task, fields) else {
            return Ok(Err(errors));
        };
        queries::insert(
            conn,
            &NewEntry {
                id: TimeEntryId::new(),
                org_id: tenant.org_id,
                task_id,
                user_id: tenant.user_id,
                entry_date: v.date,
                minutes: Some(v.minutes),
                note: &v.note,
                billable: v.billable,
                hourly_rate: task.rate,
            },
        )?;
        Ok(Ok((v.date, v.minutes, task.title)))
    })
    .await?;
    match outcome {
        Ok((date, minutes, title)) => {
            let back = forms::safe_return_to(&form.return_to).map(str::to_string);
            let location = back.unwrap_or_else(|| format!("/time?week={}", monday_of(date)));
            let message =
                format!("Logged {} on {title} ({}).", format_minutes(i64::from(minutes)), date.format("%a %-d %b"));
            Ok(redirect_with(&req, &location, Flash::success(message)))
        }
        Err(errors) => {
            let week = crate::web::fields::parse_date(&form.date).ok();
            let view = TimeView { week, form: Some(form), errors, problem: None, status: StatusCode::BAD_REQUEST };
            time_page(&req, &state, &ctx, view).await
        }
    }
}

/// Your own entries, or, for those who manage members, the entries of people whose
/// role ranks below yours (the rule for every other member action).
fn may_change(ctx: &OrgContext, entry: &EntryRow, owner_power: Option<i32>) -> Result<(), AppError> {
    let outranked = owner_power.unwrap_or(0) < ctx.power;
    if entry.user_id == ctx.user.id || (ctx.can(Permission::ManageMembers) && outranked) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn parse_id(raw: &str) -> Result<TimeEntryId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Where to go after changing `entry`: the form's `return_to` if safe, else its week.
fn back_to(return_to: &str, entry_date: NaiveDate) -> String {
    forms::safe_return_to(return_to)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/time?week={}", monday_of(entry_date)))
}

#[derive(Template)]
#[template(path = "time/edit.html")]
struct EditPage {
    layout: Layout,
    /// Why the entry cannot be edited now (billed, or its timer still runs).
    locked: Option<&'static str>,
    entry: EntryRow,
    mine: bool,
    form: EntryForm,
    errors: FieldErrors,
}

fn edit_page(
    req: &HttpRequest,
    ctx: &OrgContext,
    entry: EntryRow,
    mut form: EntryForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    // The page links back to it: never a `javascript:` or foreign address from a form.
    form.return_to = forms::safe_return_to(&form.return_to).unwrap_or_default().to_string();
    let page = EditPage {
        layout: Layout::member(req, ctx, "Edit time entry", "/time"),
        mine: entry.user_id == ctx.user.id,
        locked: refusal(&entry),
        entry,
        form,
        errors,
    };
    render(status, &page)
}

async fn load(state: &AppState, ctx: &OrgContext, id: TimeEntryId) -> Result<EntryRow, AppError> {
    let (entry, owner_power) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let entry = queries::find(conn, id)?;
        let power = queries::member_power(conn, entry.user_id)?;
        Ok((entry, power))
    })
    .await?;
    may_change(ctx, &entry, owner_power)?;
    Ok(entry)
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    #[serde(default)]
    return_to: String,
}

/// GET /time/{id}/edit — a billed or running entry shows why it cannot be edited.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    query: web::Query<EditQuery>,
) -> Result<HttpResponse, AppError> {
    let entry = load(&state, &ctx, parse_id(&path)?).await?;
    let form = EntryForm {
        task_id: entry.task_id.to_string(),
        date: entry.entry_date.to_string(),
        minutes: entry.minutes_value(),
        note: entry.note.clone(),
        billable: entry.billable.then(|| "on".to_string()),
        return_to: forms::safe_return_to(&query.return_to).unwrap_or_default().to_string(),
    };
    edit_page(&req, &ctx, entry, form, FieldErrors::default(), StatusCode::OK)
}

/// POST /time/{id} — date, minutes, note, billable.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<EntryForm>,
) -> Result<HttpResponse, AppError> {
    let entry = load(&state, &ctx, parse_id(&path)?).await?;
    if let Some(refusal) = refusal(&entry) {
        return Ok(redirect_with(&req, &back_to(&form.return_to, entry.entry_date), Flash::error(refusal)));
    }
    let typed = form.clone();
    let id = entry.id;
    let outcome = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let today = queries::org_clock(conn)?.today;
        let mut errors = FieldErrors::default();
        let Some(v) = forms::validate_fields(&typed, today, &mut errors) else {
            return Ok(Err(errors));
        };
        let change = EntryChange { date: v.date, minutes: v.minutes, note: v.note, billable: v.billable };
        // Billed between the check and now: the update matches nothing and says so.
        Ok(Ok(queries::update(conn, id, &change)?.then_some(v.date)))
    })
    .await?;
    match outcome {
        Ok(Some(date)) => {
            Ok(redirect_with(&req, &back_to(&form.return_to, date), Flash::success("The time entry has been saved.")))
        }
        Ok(None) => Ok(redirect_with(&req, &back_to(&form.return_to, entry.entry_date), Flash::error(BILLED_MESSAGE))),
        Err(errors) => edit_page(&req, &ctx, entry, form, errors, StatusCode::BAD_REQUEST),
    }
}

/// Why an entry cannot be edited right now, if it cannot.
fn refusal(entry: &EntryRow) -> Option<&'static str> {
    if entry.billed() {
        Some(BILLED_MESSAGE)
    } else if entry.running() {
        Some(RUNNING_MESSAGE)
    } else {
        None
    }
}

/// POST /time/{id}/delete — a running timer may be discarded this way too. Deleting
/// someone else's entry is audited (it changes what they are paid or billed for).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<EditQuery>,
) -> Result<HttpResponse, AppError> {
    let entry = load(&state, &ctx, parse_id(&path)?).await?;
    let location = back_to(&form.return_to, entry.entry_date);
    if entry.billed() {
        return Ok(redirect_with(&req, &location, Flash::error(BILLED_MESSAGE)));
    }
    let tenant = ctx.tenant();
    let gone = entry.clone();
    let deleted = db::tenant_tx(&state.pool, tenant, move |conn| {
        if !queries::delete(conn, gone.id)? {
            return Ok(false);
        }
        if gone.user_id != tenant.user_id {
            let event = AuditEvent::new("time.deleted")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("time_entry", gone.id.0)
                .metadata(serde_json::json!({
                    "member": gone.person(),
                    "member_id": gone.user_id,
                    "task": gone.task_title,
                    "date": gone.entry_date.to_string(),
                    "minutes": gone.minutes,
                }));
            audit::record(conn, &meta, event)?;
        }
        Ok(true)
    })
    .await?;
    Ok(if deleted {
        redirect_with(&req, &location, Flash::success("The time entry has been deleted."))
    } else {
        redirect_with(&req, &location, Flash::error(BILLED_MESSAGE))
    })
}

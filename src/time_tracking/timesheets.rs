//! Timesheets: a member's or a project's finished time over a date range, totalled by
//! ISO week (hours, billable hours, billable amount), with the entries below, and the
//! same selection as CSV. Seeing anyone's time but your own needs view_team.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::entries::monday_of;
use super::money;
use super::queries::{self, EntryFilter, EntryRow};
use crate::audit::page::csv_cell;
use crate::db::ids::{ProjectId, UserId};
use crate::db::{self};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::choices::{self, Choice, Choices};
use crate::web::layout::Layout;
use crate::web::{AppError, render};

/// Default range: this week and the seven before it.
const DEFAULT_WEEKS: i64 = 8;
/// The longest range one sheet covers.
const MAX_RANGE_DAYS: i64 = 366;
/// Entries listed under the totals (the CSV has them all).
const LIST_MAX: usize = 1000;

#[derive(Deserialize, Default, Clone)]
pub struct SheetQuery {
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// The selection as typed values; what could not be read is reported, not guessed.
struct Selection {
    member: Option<UserId>,
    project: Option<ProjectId>,
    from: NaiveDate,
    to: NaiveDate,
    problems: Vec<&'static str>,
}

impl Selection {
    fn parse(q: &SheetQuery, today: NaiveDate, me: UserId) -> Selection {
        let mut problems = Vec::new();
        let mut id = |raw: &str, problem: &'static str| match raw.trim() {
            "" => None,
            raw => raw.parse::<uuid::Uuid>().ok().or_else(|| {
                problems.push(problem);
                None
            }),
        };
        let member = id(&q.member, "Choose someone from the list.").map(UserId);
        let project = id(&q.project, "Choose a project from the list.").map(ProjectId);
        let this_monday = monday_of(today);
        let mut date = |raw: &str, default: NaiveDate, problem: &'static str| match raw.trim() {
            "" => default,
            raw => crate::web::fields::parse_date(raw).unwrap_or_else(|_| {
                problems.push(problem);
                default
            }),
        };
        let from = date(
            &q.from,
            this_monday - Duration::weeks(DEFAULT_WEEKS - 1),
            "The start date must be a real date from 2000 to 2100 (YYYY-MM-DD).",
        );
        let to = date(
            &q.to,
            this_monday + Duration::days(6),
            "The end date must be a real date from 2000 to 2100 (YYYY-MM-DD).",
        );
        if from > to {
            problems.push("The start date is after the end date.");
        } else if (to - from).num_days() > MAX_RANGE_DAYS {
            problems.push("Choose a range of at most one year.");
        }
        // Nothing chosen: your own time.
        let member = if member.is_none() && project.is_none() { Some(me) } else { member };
        Selection { member, project, from, to, problems }
    }

    /// Anyone's time but your own needs view_team (a project sheet lists everyone's).
    fn only_mine(&self, me: UserId) -> bool {
        self.member == Some(me)
    }

    fn filter(&self) -> EntryFilter {
        EntryFilter {
            user: self.member,
            project: self.project,
            from: Some(self.from),
            to: Some(self.to),
            finished_only: true,
            ..Default::default()
        }
    }

    /// The query string of this selection, for the CSV link (ids and dates need no escaping).
    fn query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(m) = self.member {
            pairs.push(format!("member={m}"));
        }
        if let Some(p) = self.project {
            pairs.push(format!("project={p}"));
        }
        pairs.push(format!("from={}", self.from));
        pairs.push(format!("to={}", self.to));
        pairs.join("&")
    }
}

/// Totals of one ISO week (or of the whole range).
pub struct WeekRow {
    pub monday: Option<NaiveDate>,
    pub minutes: i64,
    pub billable_minutes: i64,
    pub amount: Decimal,
    /// Billable entries without a rate: counted in hours, not in the amount.
    pub unpriced: usize,
}

impl WeekRow {
    fn new(monday: Option<NaiveDate>) -> WeekRow {
        WeekRow { monday, minutes: 0, billable_minutes: 0, amount: Decimal::ZERO, unpriced: 0 }
    }

    fn add(&mut self, e: &EntryRow) {
        let minutes = i64::from(e.minutes.unwrap_or(0));
        self.minutes += minutes;
        if e.billable {
            self.billable_minutes += minutes;
            match e.amount() {
                Some(a) => self.amount += a,
                None => self.unpriced += 1,
            }
        }
    }

    pub fn label(&self) -> String {
        match self.monday {
            Some(m) => format!(
                "Week {} · {} – {}",
                m.iso_week().week(),
                m.format("%-d %b"),
                (m + Duration::days(6)).format("%-d %b %Y")
            ),
            None => "Total".into(),
        }
    }

    pub fn hours(&self) -> String {
        money::hours(self.minutes)
    }

    pub fn billable_hours(&self) -> String {
        money::hours(self.billable_minutes)
    }

    pub fn amount_text(&self) -> String {
        money::money(self.amount)
    }

    pub fn empty(&self) -> bool {
        self.minutes == 0
    }
}

/// One row per ISO week from `from` to `to` (weeks without time included), and the total.
/// Amounts are sums of each entry's own rounded amount, as an invoice would add its lines.
fn weekly(entries: &[EntryRow], from: NaiveDate, to: NaiveDate) -> (Vec<WeekRow>, WeekRow) {
    let mut weeks = Vec::new();
    let mut monday = monday_of(from);
    while monday <= to {
        weeks.push(WeekRow::new(Some(monday)));
        monday += Duration::weeks(1);
    }
    let mut total = WeekRow::new(None);
    for e in entries {
        let week = weeks.iter_mut().find(|w| w.monday == Some(monday_of(e.entry_date)));
        if let Some(w) = week {
            w.add(e);
        }
        total.add(e);
    }
    (weeks, total)
}

#[derive(Template)]
#[template(path = "time/timesheets.html")]
struct SheetPage {
    layout: Layout,
    heading: String,
    members: Vec<Choice>,
    projects: Choices,
    can_choose_members: bool,
    weeks: Vec<WeekRow>,
    total: WeekRow,
    entries: Vec<EntryRow>,
    more: usize,
    currency: String,
    problems: Vec<&'static str>,
    csv_link: Option<String>,
    from: String,
    to: String,
    selected_member: String,
    selected_project: String,
    /// The viewer's own id (the member of the sheet when they may not choose others).
    layout_user_id: String,
}

/// What one selection loads.
struct Sheet {
    selection: Selection,
    entries: Vec<EntryRow>,
    members: Vec<Choice>,
    projects: Choices,
    currency: String,
}

/// Loads the selection's entries after checking who may see them and that the member
/// and project chosen are this organization's.
async fn load(state: &AppState, ctx: &OrgContext, q: SheetQuery) -> Result<Sheet, AppError> {
    let me = ctx.user.id;
    let may_see_team = ctx.can(Permission::ViewTeam);
    db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let clock = queries::org_clock(conn)?;
        let mut selection = Selection::parse(&q, clock.today, me);
        if !selection.only_mine(me) && !may_see_team {
            return Err(AppError::Forbidden);
        }
        let members = queries::member_choices(conn)?;
        let projects = choices::projects(conn, selection.project.map(|p| p.0), false)?;
        if selection.member.is_some_and(|m| !members.iter().any(|c| c.id == m.0)) {
            selection.problems.push("Choose someone from the list.");
        }
        if selection.project.is_some_and(|p| !projects.contains(p.0)) {
            selection.problems.push("Choose a project from the list.");
        }
        let entries =
            if selection.problems.is_empty() { queries::entries(conn, &selection.filter())? } else { Vec::new() };
        Ok(Sheet { selection, entries, members, projects, currency: clock.currency })
    })
    .await
}

fn name_of(choices: &[Choice], id: uuid::Uuid) -> String {
    choices.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default()
}

/// GET /timesheets
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<SheetQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let sheet = load(&state, &ctx, query.clone()).await?;
    let s = &sheet.selection;
    // A refused range shows no weeks: only a valid one (at most a year) is laid out.
    let (weeks, total) = weekly(&sheet.entries, s.from, if s.problems.is_empty() { s.to } else { s.from });
    let heading = match (s.project, s.member) {
        (Some(p), Some(m)) => {
            format!("{} — {}", sheet.projects.name_of(p.0).unwrap_or_default(), name_of(&sheet.members, m.0))
        }
        (Some(p), None) => sheet.projects.name_of(p.0).unwrap_or_default().to_string(),
        (None, Some(m)) => name_of(&sheet.members, m.0),
        (None, None) => String::new(),
    };
    let status = if s.problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let more = sheet.entries.len().saturating_sub(LIST_MAX);
    let csv_link =
        (ctx.can(Permission::ExportData) && s.problems.is_empty()).then(|| format!("/timesheets.csv?{}", s.query()));
    let page = SheetPage {
        layout: Layout::member(&req, &ctx, "Timesheets", "/timesheets"),
        heading,
        can_choose_members: ctx.can(Permission::ViewTeam),
        weeks,
        total,
        more,
        currency: sheet.currency,
        problems: s.problems.clone(),
        csv_link,
        from: s.from.to_string(),
        to: s.to.to_string(),
        selected_member: s.member.map(|m| m.to_string()).unwrap_or_default(),
        selected_project: s.project.map(|p| p.to_string()).unwrap_or_default(),
        layout_user_id: ctx.user.id.to_string(),
        members: sheet.members,
        projects: sheet.projects,
        entries: sheet.entries.into_iter().take(LIST_MAX).collect(),
    };
    render(status, &page)
}

/// The CSV header and one line per entry; every cell through `csv_cell`.
fn csv_body(entries: &[EntryRow]) -> String {
    let mut out = String::from("date,member,project,task,minutes,hours,billable,rate,amount,note\r\n");
    for e in entries {
        let cells = [
            e.entry_date.to_string(),
            e.person().to_string(),
            e.project_title.clone(),
            e.task_title.clone(),
            e.minutes_value(),
            e.hours(),
            if e.billable { "yes" } else { "no" }.to_string(),
            e.rate_text(),
            e.amount_text(),
            e.note.clone(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// GET /timesheets.csv — the same selection as the page, every entry.
pub async fn csv(
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<SheetQuery>,
) -> Result<HttpResponse, AppError> {
    // Exporting needs export_data (the route's policy) and seeing timesheets as well.
    ctx.require(Permission::ViewProjects)?;
    let sheet = load(&state, &ctx, query.into_inner()).await?;
    if let Some(problem) = sheet.selection.problems.first() {
        return Err(AppError::BadRequest(problem.to_string()));
    }
    let s = &sheet.selection;
    Ok(crate::audit::page::csv_download(&format!("timesheet-{}-to-{}.csv", s.from, s.to), csv_body(&sheet.entries)))
}

//! Plans and their limits. The limits live in the `plans` table (one place); every path
//! that creates a member, client, project or file calls [`ensure_room`] in the same
//! transaction as its insert. An advisory lock per organization and limit makes
//! parallel creates take turns, so none slips past the limit.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};

use crate::db::ids::OrgId;
use crate::web::AppError;

/// What a plan limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Members,
    Clients,
    Projects,
    Storage,
}

impl Limit {
    pub const ALL: [Limit; 4] = [Limit::Members, Limit::Clients, Limit::Projects, Limit::Storage];

    pub fn label(self) -> &'static str {
        match self {
            Limit::Members => "Team members",
            Limit::Clients => "Clients",
            Limit::Projects => "Projects",
            Limit::Storage => "File storage",
        }
    }

    /// Names the advisory lock that makes creates of this kind take turns.
    fn lock_name(self) -> &'static str {
        match self {
            Limit::Members => "members",
            Limit::Clients => "clients",
            Limit::Projects => "projects",
            Limit::Storage => "storage",
        }
    }

    /// "10 projects", "1 GB of file storage".
    pub fn amount(self, n: i64) -> String {
        match self {
            Limit::Storage => format!("{} of file storage", human_bytes(n)),
            Limit::Members => crate::web::error::plural(n.unsigned_abs(), "team member"),
            Limit::Clients => crate::web::error::plural(n.unsigned_abs(), "client"),
            Limit::Projects => crate::web::error::plural(n.unsigned_abs(), "project"),
        }
    }
}

pub fn human_bytes(n: i64) -> String {
    const GB: i64 = 1024 * 1024 * 1024;
    const MB: i64 = 1024 * 1024;
    if n >= GB {
        let tenths = n * 10 / GB;
        if tenths % 10 == 0 { format!("{} GB", tenths / 10) } else { format!("{}.{} GB", tenths / 10, tenths % 10) }
    } else if n >= MB {
        format!("{} MB", n / MB)
    } else if n >= 1024 {
        format!("{} kB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Plan {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub price: String,
    #[diesel(sql_type = Nullable<Integer>)]
    pub max_members: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub max_clients: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub max_projects: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub max_storage_bytes: Option<i64>,
}

impl Plan {
    /// The limit, None for unlimited.
    pub fn max(&self, limit: Limit) -> Option<i64> {
        match limit {
            Limit::Members => self.max_members.map(i64::from),
            Limit::Clients => self.max_clients.map(i64::from),
            Limit::Projects => self.max_projects.map(i64::from),
            Limit::Storage => self.max_storage_bytes,
        }
    }

    /// "25 team members", "Unlimited team members".
    pub fn describe(&self, limit: Limit) -> String {
        match self.max(limit) {
            Some(n) => limit.amount(n),
            None => format!("Unlimited {}", limit.label().to_lowercase()),
        }
    }
}

const PLAN_COLUMNS: &str = "p.key, p.name, p.price, p.max_members, p.max_clients, p.max_projects, p.max_storage_bytes";

/// Every plan, cheapest first.
pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Plan>> {
    crate::db::sql_query(format!("SELECT {PLAN_COLUMNS} FROM plans p ORDER BY p.position")).load(conn)
}

/// An organization's subscription and the plan whose limits apply (a canceled
/// subscription falls back to the free plan).
#[derive(QueryableByName, Debug, Clone)]
pub struct Subscription {
    #[diesel(sql_type = Text)]
    pub plan_key: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub current_period_end: Option<chrono::NaiveDate>,
}

#[derive(QueryableByName)]
struct EffectivePlan {
    #[diesel(embed)]
    plan: Plan,
    #[diesel(embed)]
    subscription: Subscription,
}

pub fn of_org(conn: &mut PgConnection, org_id: OrgId) -> QueryResult<(Plan, Subscription)> {
    let row: EffectivePlan = crate::db::sql_query(format!(
        "SELECT {PLAN_COLUMNS}, s.plan AS plan_key, s.status, s.current_period_end
         FROM subscriptions s JOIN plans p ON p.key = CASE WHEN s.status = 'canceled' THEN 'free' ELSE s.plan END
         WHERE s.org_id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(org_id)
    .get_result(conn)?;
    Ok((row.plan, row.subscription))
}

/// How many are in use now, of every limit (`org_usage()`, one statement): team seats
/// count staff members and staff invitations still pending.
#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct InUse {
    #[diesel(sql_type = BigInt)]
    members: i64,
    #[diesel(sql_type = BigInt)]
    clients: i64,
    #[diesel(sql_type = BigInt)]
    projects: i64,
    #[diesel(sql_type = BigInt)]
    storage: i64,
}

impl InUse {
    pub fn of(&self, limit: Limit) -> i64 {
        match limit {
            Limit::Members => self.members,
            Limit::Clients => self.clients,
            Limit::Projects => self.projects,
            Limit::Storage => self.storage,
        }
    }
}

pub fn in_use(conn: &mut PgConnection, org_id: OrgId) -> QueryResult<InUse> {
    crate::db::sql_query("SELECT members, clients, projects, storage FROM org_usage($1)")
        .bind::<diesel::sql_types::Uuid, _>(org_id)
        .get_result(conn)
}

/// Refused because the plan allows no more.
#[derive(Debug, Clone)]
pub struct LimitReached {
    pub limit: Limit,
    pub plan: String,
    pub max: i64,
    pub used: i64,
}

impl LimitReached {
    /// What the 402 page says.
    pub fn message(&self) -> String {
        let what = match self.limit {
            Limit::Members => "No one else can join",
            Limit::Clients => "No new client can be added",
            Limit::Projects => "No new project can be created",
            Limit::Storage => "This file cannot be stored",
        };
        let over = if self.used > self.max {
            format!(" It uses {} now, more than the plan allows.", self.limit.amount(self.used))
        } else {
            String::new()
        };
        format!(
            "Your organization is on the {} plan, which includes {}.{over} {what} until an owner upgrades the plan \
             (Pro and Enterprise include more) or makes room by removing some.",
            self.plan,
            self.limit.amount(self.max)
        )
    }
}

/// Refuses (402) when `adding` more would take the organization past its plan's
/// limit. Call it inside the transaction that inserts, before the insert: the lock it
/// takes is held until that transaction ends.
pub fn ensure_room(conn: &mut PgConnection, org_id: OrgId, limit: Limit, adding: i64) -> Result<(), AppError> {
    crate::db::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('plan-limit:' || $1 || ':' || $2, 0))")
        .bind::<Text, _>(org_id.to_string())
        .bind::<Text, _>(limit.lock_name())
        .execute(conn)?;
    let (plan, _) = of_org(conn, org_id)?;
    let Some(max) = plan.max(limit) else {
        return Ok(());
    };
    let used = in_use(conn, org_id)?.of(limit);
    if used + adding > max {
        return Err(AppError::PlanLimit(LimitReached { limit, plan: plan.name, max, used }));
    }
    Ok(())
}

/// One meter on the dashboard.
pub struct Meter {
    pub label: &'static str,
    pub used: String,
    pub max: Option<String>,
    /// 0–100, for the bar.
    pub percent: i64,
    pub warning: bool,
    pub over: bool,
}

/// Usage against the plan, for the dashboard and settings.
pub fn meters(conn: &mut PgConnection, org_id: OrgId) -> QueryResult<(Plan, Subscription, Vec<Meter>)> {
    let (plan, subscription) = of_org(conn, org_id)?;
    let in_use = in_use(conn, org_id)?;
    let mut meters = Vec::new();
    for limit in Limit::ALL {
        let used = in_use.of(limit);
        let max = plan.max(limit);
        let percent = max.map(|m| (used * 100 / m.max(1)).min(100)).unwrap_or(0);
        let show = |n: i64| if limit == Limit::Storage { human_bytes(n) } else { n.to_string() };
        meters.push(Meter {
            label: limit.label(),
            used: show(used),
            max: max.map(show),
            percent,
            warning: max.is_some_and(|m| used * 100 >= m * 80),
            over: max.is_some_and(|m| used > m),
        });
    }
    Ok((plan, subscription, meters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(1024 * 1024 * 1024), "1 GB");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.5 GB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5 MB");
        assert_eq!(human_bytes(900), "900 bytes");
    }

    #[test]
    fn the_refusal_names_the_plan_the_limit_and_the_way_out() {
        let refusal = LimitReached { limit: Limit::Projects, plan: "Free".into(), max: 10, used: 10 };
        let text = refusal.message();
        assert!(text.contains("Free plan, which includes 10 projects"), "{text}");
        assert!(text.contains("upgrades the plan"), "{text}");
        let over = LimitReached { limit: Limit::Projects, plan: "Free".into(), max: 10, used: 12 };
        assert!(over.message().contains("It uses 12 projects now"), "{}", over.message());
    }
}

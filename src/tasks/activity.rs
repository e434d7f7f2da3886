//! A task's history: who changed which field from what to what, and when.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz};

use crate::db::Tenant;
use crate::db::ids::{ActivityId, TaskId};
use crate::db::schema::task_activity;

/// One changed field, with its values as shown to people (names, labels, dates).
pub struct Change {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    /// A change if the values differ.
    pub fn of(field: &'static str, old: Option<String>, new: Option<String>) -> Option<Change> {
        (old != new).then_some(Change { field, old, new })
    }
}

pub fn record(conn: &mut PgConnection, tenant: &Tenant, task: TaskId, changes: &[Change]) -> QueryResult<()> {
    let rows: Vec<_> = changes
        .iter()
        .map(|c| {
            (
                task_activity::id.eq(ActivityId::new()),
                task_activity::org_id.eq(tenant.org_id),
                task_activity::task_id.eq(task),
                task_activity::actor_id.eq(tenant.user_id),
                task_activity::field.eq(c.field),
                task_activity::old_value.eq(&c.old),
                task_activity::new_value.eq(&c.new),
            )
        })
        .collect();
    diesel::insert_into(task_activity::table).values(&rows).execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
pub struct Entry {
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Text)]
    pub field: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub old_value: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub new_value: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Entry {
    pub fn actor_name(&self) -> &str {
        self.actor.as_deref().unwrap_or("A former member")
    }

    pub fn when(&self) -> String {
        crate::web::time::ago(self.created_at)
    }

    /// "changed status from To do to Done", "created the task", "set the due date to …".
    pub fn summary(&self) -> String {
        let field = self.field.replace('_', " ");
        match (self.field.as_str(), &self.old_value, &self.new_value) {
            ("created", _, _) => "created the task".into(),
            ("description", _, _) => "changed the description".into(),
            (_, None, Some(new)) => format!("set the {field} to {new}"),
            (_, Some(old), None) => format!("cleared the {field} (was {old})"),
            (_, Some(old), Some(new)) => format!("changed the {field} from {old} to {new}"),
            (_, None, None) => format!("changed the {field}"),
        }
    }
}

pub fn history(conn: &mut PgConnection, task: TaskId) -> QueryResult<Vec<Entry>> {
    crate::db::sql_query(
        "SELECT u.name AS actor, a.field, a.old_value, a.new_value, a.created_at
         FROM task_activity a LEFT JOIN users u ON u.id = a.actor_id
         WHERE a.task_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT 100",
    )
    .bind::<diesel::sql_types::Uuid, _>(task)
    .load(conn)
}

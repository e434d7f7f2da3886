//! Options for a select over records that can number in the thousands (clients,
//! projects): the newest `LIMIT`, plus the one already chosen, in name order. A select
//! of 10,000 clients would make every form half a megabyte; past the limit the page
//! says where to find the others.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};

pub const LIMIT: usize = 200;

#[derive(QueryableByName, Debug, Clone)]
pub struct Choice {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub items: Vec<Choice>,
    /// Some records are not listed (only the newest `LIMIT` are).
    pub more: bool,
}

impl Choices {
    pub fn contains(&self, id: uuid::Uuid) -> bool {
        self.items.iter().any(|c| c.id == id)
    }

    pub fn name_of(&self, id: uuid::Uuid) -> Option<&str> {
        self.items.iter().find(|c| c.id == id).map(|c| c.name.as_str())
    }
}

/// The organization's clients.
pub fn clients(conn: &mut PgConnection, selected: Option<uuid::Uuid>) -> QueryResult<Choices> {
    let all = "SELECT id, name FROM clients WHERE org_id = app_org_id()";
    load(conn, all, all, selected)
}

/// The organization's projects; `open_only` leaves out completed and cancelled ones
/// (the one selected stays, so an edit form keeps its value).
pub fn projects(conn: &mut PgConnection, selected: Option<uuid::Uuid>, open_only: bool) -> QueryResult<Choices> {
    let all = "SELECT id, title AS name FROM projects WHERE org_id = app_org_id()";
    let open = "SELECT id, title AS name FROM projects
                WHERE org_id = app_org_id() AND status NOT IN ('completed', 'cancelled')";
    load(conn, if open_only { open } else { all }, all, selected)
}

/// `listed` selects the `id` and `name` of the records to offer, `all` of any record
/// the selected one may be (constants, never user text). Ids are UUIDv7, so `id DESC`
/// is newest first and uses the (org_id, id) index.
fn load(
    conn: &mut PgConnection,
    listed: &'static str,
    all: &'static str,
    selected: Option<uuid::Uuid>,
) -> QueryResult<Choices> {
    let mut items: Vec<Choice> =
        crate::db::sql_query(format!("{listed} ORDER BY id DESC LIMIT {}", LIMIT + 1)).load(conn)?;
    let more = items.len() > LIMIT;
    items.truncate(LIMIT);
    if let Some(id) = selected.filter(|id| !items.iter().any(|c| c.id == *id)) {
        let chosen: Option<Choice> = crate::db::sql_query(format!("SELECT id, name FROM ({all}) s WHERE id = $1"))
            .bind::<SqlUuid, _>(id)
            .get_result(conn)
            .optional()?;
        items.extend(chosen);
    }
    items.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id));
    Ok(Choices { items, more })
}

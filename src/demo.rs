//! Demo data: an agency with members of every role, loaded by `clienthub seed-demo`
//! and on the first start of `make run`.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::auth::{password, queries};
use crate::db::schema::users;
use crate::team::roles::BuiltinRole;

pub const PASSWORD: &str = "clienthub-demo";

pub const LOGINS: &[(&str, &str, BuiltinRole)] = &[
    ("Olivia Bennett", "owner@northwind.example", BuiltinRole::Owner),
    ("Adam Okafor", "admin@northwind.example", BuiltinRole::Admin),
    ("Mia Laurent", "member@northwind.example", BuiltinRole::Member),
    ("Mateo Ruiz", "mateo@northwind.example", BuiltinRole::Member),
    ("Chloé Durand", "client@northwind.example", BuiltinRole::Client),
];

/// Whether the database has no users yet (a first start).
pub fn is_empty(conn: &mut PgConnection) -> QueryResult<bool> {
    Ok(users::table.count().get_result::<i64>(conn)? == 0)
}

/// Loads the demo agency; does nothing if its owner already exists.
pub fn seed(conn: &mut PgConnection) -> anyhow::Result<bool> {
    if queries::find_by_email(conn, LOGINS[0].1)?.is_some() {
        return Ok(false);
    }
    let hash = password::hash(PASSWORD)?;
    let (owner_name, owner_email, _) = LOGINS[0];
    let (_, org_id) =
        match queries::sign_up(conn, &Default::default(), owner_name, owner_email, &hash, "Northwind Studio") {
            Ok(ids) => ids,
            Err(queries::SignupError::EmailTaken) => return Ok(false),
            Err(queries::SignupError::Db(e)) => return Err(e.into()),
        };
    for (name, email, role) in &LOGINS[1..] {
        queries::create_member(conn, org_id, *role, name, email, &hash)?;
    }
    Ok(true)
}

/// The lines `make run` prints so a newcomer can sign in at once.
pub fn describe_logins() -> String {
    let mut out = String::from("Demo logins (password: clienthub-demo):\n");
    for (name, email, role) in LOGINS {
        out.push_str(&format!("  {:<8} {:<28} {}\n", role.name(), email, name));
    }
    out
}

//! src/db/schema.rs matches the migrated database, and every migration reverts cleanly.

use clienthub::db::MIGRATIONS;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use crate::support::*;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

/// (table, column, nullable) triples as schema.rs declares them.
fn declared() -> Vec<(String, String, bool)> {
    let source = include_str!("../../src/db/schema.rs");
    let mut out = Vec::new();
    let mut table: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_suffix('{').map(str::trim)
            && let Some((name, _)) = rest.split_once(" (")
        {
            table = Some(name.trim().to_string());
            continue;
        }
        if line == "}" {
            table = None;
            continue;
        }
        if let (Some(t), Some((col, ty))) = (&table, line.split_once(" -> ")) {
            out.push((t.clone(), col.trim().to_string(), ty.starts_with("Nullable<")));
        }
    }
    out.sort();
    out
}

#[test]
fn schema_rs_matches_the_migrations() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let mut actual: Vec<(String, String, bool)> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, is_nullable::text AS nullable
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load::<Column>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|c| (c.table_name, c.column_name, c.nullable == "YES"))
    .collect();
    actual.sort();
    assert_eq!(declared(), actual);
}

#[test]
fn every_migration_reverts_and_reapplies() {
    let db = TestDb::new();
    let mut conn = db.conn();
    conn.revert_all_migrations(MIGRATIONS).unwrap();
    let left: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(left, 0);
    conn.run_pending_migrations(MIGRATIONS).unwrap();
}

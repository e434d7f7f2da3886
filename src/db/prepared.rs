//! Raw SQL that PostgreSQL parses once per connection. Diesel keeps its query builder's
//! statements prepared, but never a `diesel::sql_query`: it cannot know that the text
//! was not built from values. Ours is not: every value is a bind parameter, and the
//! text comes from a fixed set of shapes (a list's filters choose among a few), so
//! [`sql_query`] tells Diesel to keep each statement prepared on its connection.
//!
//! Measured on the benchmark dataset: parsing and planning a page's statements under
//! row-level security, every time, took most of PostgreSQL's time for the cheap pages
//! (the invoice page's statements ran at 400 per second unprepared, 1,600 prepared).
//!
//! PostgreSQL may then reuse a generic plan (after five executions, when it is
//! estimated no dearer than the custom ones). Row-level security's `app_org_id()` is
//! never a parameter and is planned alike either way. Where a query passes the
//! organization as a parameter too (the clients list, so that its first page is read
//! in index order), check the generic plan with `bench/explain.sh`: it must suit an
//! organization of any size, as the index-ordered one does.

use diesel::RunQueryDsl;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A statement's text and its bind parameters, in `$1, $2, …` order.
#[must_use = "a query runs only when loaded or executed"]
pub struct Sql<'a> {
    text: String,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'a>>,
}

/// Like `diesel::sql_query`, but prepared once per connection. Never format a value
/// into `text`: bind it.
pub fn sql_query<'a>(text: impl Into<String>) -> Sql<'a> {
    Sql { text: text.into(), binds: Vec::new() }
}

impl<'a> Sql<'a> {
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'a,
        ST: Send + 'a,
    {
        // Diesel's own bind of a raw query, on an empty text: it adds the value only.
        self.binds.push(Box::new(diesel::sql_query(String::new()).bind::<ST, V>(value)));
        self
    }
}

impl QueryFragment<Pg> for Sql<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&self.text);
        for bind in &self.binds {
            bind.walk_ast(out.reborrow())?;
        }
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl QueryId for Sql<'_> {
    type QueryId = ();
    // Cached by its text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Sql<'_> {}

//! The `files` table: lists (per organization and per project), lookups and changes.
//! Every function runs inside the tenant transaction; row-level security keeps it to
//! the organization, and those that take the `org` also say so in their SQL.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};

use crate::db::ids::{ClientId, FileId, OrgId, ProjectId, UserId};
use crate::db::schema::{files, organizations, projects};

/// A file as lists show it.
#[derive(QueryableByName, Debug, Clone)]
pub struct FileRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: FileId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub project_id: Option<ProjectId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub project_title: Option<String>,
    #[diesel(sql_type = Text)]
    pub original_name: String,
    #[diesel(sql_type = Text)]
    pub content_type: String,
    #[diesel(sql_type = BigInt)]
    pub size_bytes: i64,
    /// None when the uploader has left the organization.
    #[diesel(sql_type = Nullable<Text>)]
    pub uploader: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl FileRow {
    /// "12.4 MB"
    pub fn size(&self) -> String {
        human_size(self.size_bytes)
    }

    /// "21 Nov 2026"
    pub fn uploaded_on(&self) -> String {
        self.created_at.format("%-d %b %Y").to_string()
    }

    /// The exact time, for a tooltip.
    pub fn uploaded_at(&self) -> String {
        self.created_at.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    pub fn uploader_name(&self) -> &str {
        self.uploader.as_deref().unwrap_or("A former member")
    }

    pub fn download_url(&self) -> String {
        format!("/files/{}/download", self.id)
    }

    pub fn delete_url(&self) -> String {
        format!("/files/{}/delete", self.id)
    }
}

/// Sizes as people read them: "512 bytes", "3.2 kB", "12.4 MB", "1.1 GB" (1 kB = 1024 bytes).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 3] = ["kB", "MB", "GB"];
    if bytes < 1024 {
        return if bytes == 1 { "1 byte".into() } else { format!("{bytes} bytes") };
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let shown = format!("{value:.1}");
    format!("{} {}", shown.strip_suffix(".0").unwrap_or(&shown), UNITS[unit])
}

const SELECT_ROWS: &str = "SELECT f.id, f.project_id, p.title AS project_title, f.original_name, f.content_type,
            f.size_bytes, u.name AS uploader, f.created_at
     FROM files f
     LEFT JOIN projects p ON p.org_id = f.org_id AND p.id = f.project_id
     LEFT JOIN users u ON u.id = f.uploaded_by";

/// Which files a list shows: newest first, optionally one project's, older than a cursor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub project: Option<ProjectId>,
    /// Keyset cursor: files older than this one (ids are time-ordered UUIDv7).
    pub before: Option<FileId>,
}

pub fn list(conn: &mut PgConnection, org: OrgId, filter: ListFilter, limit: i64) -> QueryResult<Vec<FileRow>> {
    crate::db::sql_query(format!(
        "{SELECT_ROWS}
         WHERE f.org_id = $1 AND ($2::uuid IS NULL OR f.project_id = $2) AND ($3::uuid IS NULL OR f.id < $3)
         ORDER BY f.id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Nullable<SqlUuid>, _>(filter.project)
    .bind::<Nullable<SqlUuid>, _>(filter.before)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The files of one project, newest first, for the project page. Call it inside the
/// tenant transaction (`db::tenant_tx`): row-level security keeps it to the organization.
pub fn list_for_project(conn: &mut PgConnection, project: ProjectId) -> QueryResult<Vec<FileRow>> {
    crate::db::sql_query(format!("{SELECT_ROWS} WHERE f.project_id = $1 ORDER BY f.id DESC LIMIT 500"))
        .bind::<SqlUuid, _>(project)
        .load(conn)
}

/// The files on a client's projects, newest first, for the client's page.
pub fn list_for_client(conn: &mut PgConnection, client: ClientId) -> QueryResult<Vec<FileRow>> {
    crate::db::sql_query(format!(
        "{SELECT_ROWS} WHERE f.project_id IN (SELECT id FROM projects WHERE client_id = $1) ORDER BY f.id DESC LIMIT 200"
    ))
    .bind::<SqlUuid, _>(client)
    .load(conn)
}

/// What a download or a delete needs of one file.
#[derive(Queryable, Debug, Clone)]
pub struct FileRecord {
    pub id: FileId,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
}

/// The file `id` of `org`; Diesel's `NotFound` (a 404) for any other.
pub fn find(conn: &mut PgConnection, org: OrgId, id: FileId) -> QueryResult<FileRecord> {
    files::table
        .filter(files::org_id.eq(org))
        .filter(files::id.eq(id))
        .select((files::id, files::original_name, files::content_type, files::size_bytes, files::storage_key))
        .first(conn)
}

#[derive(Insertable, Debug)]
#[diesel(table_name = files)]
pub struct NewFile<'a> {
    pub id: FileId,
    pub org_id: OrgId,
    pub project_id: Option<ProjectId>,
    pub uploaded_by: Option<UserId>,
    pub original_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub storage_key: &'a str,
    pub sha256: &'a [u8],
}

pub fn insert(conn: &mut PgConnection, file: &NewFile<'_>) -> QueryResult<()> {
    diesel::insert_into(files::table).values(file).execute(conn).map(|_| ())
}

/// Deletes the row (the database trigger gives its bytes back to the organization's storage).
pub fn delete(conn: &mut PgConnection, org: OrgId, id: FileId) -> QueryResult<usize> {
    diesel::delete(files::table.filter(files::org_id.eq(org)).filter(files::id.eq(id))).execute(conn)
}

/// A project to choose in the upload form or the filter.
#[derive(Queryable, Debug, Clone)]
pub struct ProjectOption {
    pub id: ProjectId,
    pub title: String,
}

/// The organization's projects, by title (bounded: a select beyond this is unusable anyway).
pub fn project_options(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<ProjectOption>> {
    projects::table
        .filter(projects::org_id.eq(org))
        .order((diesel::dsl::sql::<Text>("lower(title)"), projects::id))
        .select((projects::id, projects::title))
        .limit(500)
        .load(conn)
}

/// Whether `project` is a project of `org` (another organization's looks like none).
pub fn project_exists(conn: &mut PgConnection, org: OrgId, project: ProjectId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        projects::table.filter(projects::org_id.eq(org)).filter(projects::id.eq(project)),
    ))
    .get_result(conn)
}

/// The bytes of every file of the organization, as the database keeps count.
pub fn storage_used(conn: &mut PgConnection, org: OrgId) -> QueryResult<i64> {
    organizations::table.find(org).select(organizations::storage_bytes).first(conn)
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 kB");
        assert_eq!(human_size(3277), "3.2 kB");
        assert_eq!(human_size(13_002_342), "12.4 MB");
        assert_eq!(human_size(25 * 1024 * 1024), "25 MB");
        assert_eq!(human_size(1_181_116_006), "1.1 GB");
    }
}

//! Files: uploads streamed to a storage backend with their type checked by content, listed
//! per organization and per project, downloaded only through an authorized route.
//!
//! For a project's page: [`list_for_project`] (inside `db::tenant_tx`) gives the rows,
//! `templates/files/_table.html` shows them and `templates/files/_upload.html` adds one.

mod handlers;
pub mod kinds;
pub mod queries;
pub mod store;
mod upload;

pub use handlers::{download, upload_limit};
pub use queries::{FileRow, human_size, list_for_client, list_for_project};
pub use store::{FileStore, LocalDisk, StorageKey, StoreWriter};

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/files" => Access::Permission(Permission::ViewFiles), handlers::index;
    POST "/files" => Access::Permission(Permission::UploadFiles), handlers::upload;
    GET "/files/{id}/download" => Access::Permission(Permission::ViewFiles), handlers::download;
    POST "/files/{id}/delete" => Access::Permission(Permission::DeleteFiles), handlers::delete;
}

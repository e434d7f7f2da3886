//! Where the bytes of uploaded files live. Handlers talk to the [`FileStore`] trait, so
//! an S3-compatible store can replace the local disk without touching them. Its methods
//! block: callers run them on `web::block`, never on the async workers.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::db::ids::{FileId, OrgId};

/// The name of a stored object: `{org_id}/{file_id}`. Always generated from ids, never
/// from anything a user typed, so it can be used as a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageKey {
    org: Uuid,
    file: Uuid,
}

impl StorageKey {
    pub fn new(org: OrgId, file: FileId) -> StorageKey {
        StorageKey { org: org.0, file: file.0 }
    }

    /// Reads a key as stored in the `files` table; anything but two UUIDs is refused.
    pub fn parse(raw: &str) -> Option<StorageKey> {
        let (org, file) = raw.split_once('/')?;
        Some(StorageKey { org: Uuid::parse_str(org).ok()?, file: Uuid::parse_str(file).ok()? })
    }

    /// The file the key was made for.
    pub fn file_id(&self) -> FileId {
        FileId(self.file)
    }

    pub fn as_string(&self) -> String {
        format!("{}/{}", self.org, self.file)
    }
}

/// A backend that keeps file bytes under generated keys.
pub trait FileStore: Send + Sync {
    /// Starts a new object. Nothing is visible under `key` until [`StoreWriter::commit`].
    fn create(&self, key: &StorageKey) -> io::Result<Box<dyn StoreWriter>>;
    /// Opens a committed object for reading.
    fn open(&self, key: &StorageKey) -> io::Result<Box<dyn Read + Send>>;
    /// Removes an object; removing one that is not there is not an error.
    fn delete(&self, key: &StorageKey) -> io::Result<()>;
}

/// An object being written, chunk by chunk.
pub trait StoreWriter: Send {
    fn write_chunk(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes the object readable under its key.
    fn commit(self: Box<Self>) -> io::Result<()>;
    /// Discards what was written so far.
    fn abort(self: Box<Self>);
}

/// Files on the local disk, as `{root}/{org_id}/{file_id}` (root: `DATA_DIR/files`).
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: impl Into<PathBuf>) -> LocalDisk {
        LocalDisk { root: root.into() }
    }

    /// The store under the data directory of the settings.
    pub fn in_data_dir(data_dir: &Path) -> LocalDisk {
        LocalDisk::new(data_dir.join("files"))
    }

    fn path(&self, key: &StorageKey) -> PathBuf {
        self.root.join(key.org.to_string()).join(key.file.to_string())
    }
}

impl FileStore for LocalDisk {
    fn create(&self, key: &StorageKey) -> io::Result<Box<dyn StoreWriter>> {
        let path = self.path(key);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        // Written beside its final name and renamed at commit, so a half-written upload
        // never looks like a file.
        let partial = path.with_extension("part");
        let file = OpenOptions::new().write(true).create_new(true).open(&partial)?;
        Ok(Box::new(LocalWriter { file: Some(file), partial, path }))
    }

    fn open(&self, key: &StorageKey) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.path(key))?))
    }

    fn delete(&self, key: &StorageKey) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

struct LocalWriter {
    /// `None` once committed or aborted.
    file: Option<File>,
    partial: PathBuf,
    path: PathBuf,
}

impl StoreWriter for LocalWriter {
    fn write_chunk(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.write_all(bytes),
            None => Err(io::Error::other("the upload was already finished")),
        }
    }

    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().ok_or_else(|| io::Error::other("the upload was already finished"))?;
        let synced = file.sync_all().and_then(|()| fs::rename(&self.partial, &self.path));
        if synced.is_err() {
            let _ = fs::remove_file(&self.partial);
        }
        synced
    }

    fn abort(mut self: Box<Self>) {
        self.discard();
    }
}

impl LocalWriter {
    fn discard(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.partial);
        }
    }
}

/// An upload dropped half-way (the browser went away) leaves no partial file behind.
impl Drop for LocalWriter {
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (LocalDisk, PathBuf) {
        let root = std::env::temp_dir().join(format!("clienthub-store-{}", Uuid::new_v4().simple()));
        (LocalDisk::new(&root), root)
    }

    #[test]
    fn committed_bytes_read_back_and_delete_removes_them() {
        let (store, root) = temp_store();
        let key = StorageKey::new(OrgId::new(), FileId::new());
        let mut writer = store.create(&key).unwrap();
        writer.write_chunk(b"hello ").unwrap();
        writer.write_chunk(b"world").unwrap();
        writer.commit().unwrap();
        let mut read = String::new();
        store.open(&key).unwrap().read_to_string(&mut read).unwrap();
        assert_eq!(read, "hello world");
        store.delete(&key).unwrap();
        assert!(store.open(&key).is_err());
        store.delete(&key).unwrap();
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn an_aborted_or_dropped_upload_leaves_nothing() {
        let (store, root) = temp_store();
        let org = OrgId::new();
        let mut writer = store.create(&StorageKey::new(org, FileId::new())).unwrap();
        writer.write_chunk(b"partial").unwrap();
        writer.abort();
        let dropped = store.create(&StorageKey::new(org, FileId::new())).unwrap();
        drop(dropped);
        assert_eq!(fs::read_dir(root.join(org.to_string())).unwrap().count(), 0);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn keys_are_two_uuids_only() {
        let key = StorageKey::new(OrgId::new(), FileId::new());
        assert_eq!(StorageKey::parse(&key.as_string()), Some(key));
        assert_eq!(StorageKey::parse("../../etc/passwd"), None);
        assert_eq!(StorageKey::parse("a/b"), None);
    }
}

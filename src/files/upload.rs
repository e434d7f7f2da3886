//! Reading an upload: the small fields of the form, then the file streamed to the store
//! chunk by chunk (never whole in memory) while its size and SHA-256 are counted and its
//! content is checked against its name. A refusal leaves nothing stored.

use std::sync::Arc;

use actix_multipart::{Field, Multipart};
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::kinds::{self, Allowed, Content, TextCheck};
use super::store::{FileStore, StorageKey, StoreWriter};
use crate::web::AppError;

/// Bytes gathered before one write to the store, so the blocking pool is not woken per chunk.
const FLUSH_BYTES: usize = 256 * 1024;
/// The most a small field (project, return address) may hold.
const SMALL_FIELD_BYTES: usize = 1024;
/// The most all fields the form does not know may hold together.
const UNKNOWN_FIELDS_BYTES: usize = 16 * 1024;

/// The small fields of the upload form, as sent.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    pub project_id: String,
    pub return_to: String,
    /// Bytes of fields the form does not know, read and dropped.
    unknown_bytes: usize,
}

/// Why an upload is not kept; each is shown next to its field.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Larger than the limit (413).
    TooLarge,
    /// Something about the file (400), with the message for the user.
    File(String),
    /// The project is not one of the organization's (400).
    Project,
}

impl Refusal {
    fn file(message: impl Into<String>) -> Refusal {
        Refusal::File(message.into())
    }

    fn unreadable() -> Refusal {
        Refusal::file("We could not read this upload. Choose the file again and retry.")
    }
}

/// A file that is in the store, ready for its row.
#[derive(Debug)]
pub struct Stored {
    pub key: StorageKey,
    pub name: String,
    pub content_type: &'static str,
    pub size: i64,
    pub sha256: Vec<u8>,
}

/// Reads the fields before the file and returns the file's field (None: no file sent).
pub async fn fields_before_file(form: &mut Multipart, fields: &mut Fields) -> Result<Option<Field>, Refusal> {
    while let Some(field) = form.next().await {
        let field = field.map_err(|_| Refusal::unreadable())?;
        if field.name() == Some("file") {
            return Ok(Some(field));
        }
        read_small_field(field, fields).await?;
    }
    Ok(None)
}

/// Reads what follows the file; a second file is refused (one upload, one file).
pub async fn fields_after_file(form: &mut Multipart, fields: &mut Fields) -> Result<(), Refusal> {
    while let Some(field) = form.next().await {
        let field = field.map_err(|_| Refusal::unreadable())?;
        if field.name() == Some("file") {
            return Err(Refusal::file("Upload one file at a time."));
        }
        read_small_field(field, fields).await?;
    }
    Ok(())
}

async fn read_small_field(mut field: Field, fields: &mut Fields) -> Result<(), Refusal> {
    let name = field.name().unwrap_or_default().to_string();
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|_| Refusal::unreadable())?;
        value.extend_from_slice(&chunk);
        let too_long = match name.as_str() {
            "project_id" | "return_to" => value.len() > SMALL_FIELD_BYTES,
            _ => fields.unknown_bytes + value.len() > UNKNOWN_FIELDS_BYTES,
        };
        if too_long {
            return Err(Refusal::unreadable());
        }
    }
    let text = String::from_utf8(value).map_err(|_| Refusal::unreadable())?;
    match name.as_str() {
        "project_id" => fields.project_id = text.trim().to_string(),
        "return_to" => fields.return_to = text.trim().to_string(),
        _ => fields.unknown_bytes += text.len(),
    }
    Ok(())
}

/// The name the browser gave the file: `filename*` (UTF-8) when sent, else `filename`.
fn file_name(field: &Field) -> Option<String> {
    let disposition = field.content_disposition()?;
    if let Some(ext) = disposition.get_filename_ext()
        && ext.charset.to_string().eq_ignore_ascii_case("utf-8")
        && let Ok(name) = String::from_utf8(ext.value.clone())
    {
        return Some(name);
    }
    disposition.get_filename().map(str::to_string)
}

/// What is counted while the bytes go by.
struct Tally {
    kind: Allowed,
    size: u64,
    limit: u64,
    hasher: Sha256,
    /// Followed only for text files, which must be text to the end.
    text: Option<TextCheck>,
}

impl Tally {
    fn new(kind: &Allowed, limit: u64) -> Tally {
        let text = (kind.content == Content::Text).then(TextCheck::default);
        Tally { kind: *kind, size: 0, limit, hasher: Sha256::new(), text }
    }

    fn add(&mut self, chunk: &[u8]) -> Result<(), Refusal> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(Refusal::TooLarge);
        }
        self.hasher.update(chunk);
        if let Some(text) = self.text.as_mut() {
            text.feed(chunk);
            // Refused at the first bad byte, not after reading the rest.
            if text.failed() {
                return Err(Refusal::File(kinds::mismatch(&self.kind, Content::Unknown)));
            }
        }
        Ok(())
    }
}

async fn next_chunk(field: &mut Field) -> Result<Option<Bytes>, Refusal> {
    field.next().await.transpose().map_err(|_| Refusal::unreadable())
}

/// Checks the file's name, sniffs its first bytes, then streams it into the store under
/// `key`. The outer error is a failure of ours (500); the inner one is the user's refusal.
pub async fn store_file(
    mut field: Field,
    store: Arc<dyn FileStore>,
    key: StorageKey,
    limit: u64,
) -> Result<Result<Stored, Refusal>, AppError> {
    let name = match file_name(&field).map(|n| n.trim().to_string()) {
        Some(name) if !name.is_empty() => name,
        _ => return Ok(Err(Refusal::file("Choose a file to upload."))),
    };
    if let Err(message) = kinds::check_name(&name) {
        return Ok(Err(Refusal::file(message)));
    }
    let kind = match kinds::allowed_for_name(&name) {
        Ok(kind) => kind,
        Err(message) => return Ok(Err(Refusal::File(message))),
    };
    let mut tally = Tally::new(&kind, limit);
    let (head, ended) = match read_head(&mut field, &mut tally).await {
        Ok(read) => read,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if head.is_empty() {
        return Ok(Err(Refusal::file("This file is empty. Choose a file that has something in it.")));
    }
    if let Err(message) = kinds::check_content(&kind, kinds::sniff(&head)) {
        return Ok(Err(Refusal::File(message)));
    }
    let mut writer = Writer::create(store, key.clone()).await?;
    let copied = match writer.push(&head).await {
        Ok(()) if ended => Ok(Ok(())),
        Ok(()) => copy_rest(&mut field, &mut writer, &mut tally).await,
        Err(e) => Err(e),
    };
    let text_ok = tally.text.as_ref().is_none_or(TextCheck::finish);
    let failure = match copied {
        Ok(Ok(())) if text_ok => None,
        Ok(Ok(())) => Some(Ok(Refusal::File(kinds::mismatch(&kind, Content::Unknown)))),
        Ok(Err(refusal)) => Some(Ok(refusal)),
        Err(e) => Some(Err(e)),
    };
    if let Some(failure) = failure {
        writer.abort().await;
        return failure.map(Err);
    }
    writer.commit().await?;
    Ok(Ok(Stored {
        key,
        name,
        content_type: kind.content_type,
        size: i64::try_from(tally.size).unwrap_or(i64::MAX),
        sha256: tally.hasher.finalize().to_vec(),
    }))
}

/// The first bytes (at least [`kinds::SNIFF_BYTES`] unless the file is shorter), and
/// whether the file ended there (a finished field may not be read again).
async fn read_head(field: &mut Field, tally: &mut Tally) -> Result<(Vec<u8>, bool), Refusal> {
    let mut head = Vec::new();
    while head.len() < kinds::SNIFF_BYTES {
        match next_chunk(field).await? {
            Some(chunk) => {
                tally.add(&chunk)?;
                head.extend_from_slice(&chunk);
            }
            None => return Ok((head, true)),
        }
    }
    Ok((head, false))
}

async fn copy_rest(field: &mut Field, writer: &mut Writer, tally: &mut Tally) -> Result<Result<(), Refusal>, AppError> {
    loop {
        let chunk = match next_chunk(field).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(Ok(())),
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Err(refusal) = tally.add(&chunk) {
            return Ok(Err(refusal));
        }
        writer.push(&chunk).await?;
    }
}

/// A store writer driven from async code: bytes are gathered, then written on the
/// blocking pool.
struct Writer {
    /// Out while a write runs on the blocking pool; `None` after a failed one.
    inner: Option<Box<dyn StoreWriter>>,
    pending: Vec<u8>,
}

fn blocking_failed(e: actix_web::error::BlockingError) -> AppError {
    AppError::Internal(anyhow::anyhow!("blocking file task failed: {e}"))
}

impl Writer {
    async fn create(store: Arc<dyn FileStore>, key: StorageKey) -> Result<Writer, AppError> {
        let inner = web::block(move || store.create(&key))
            .await
            .map_err(blocking_failed)?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("creating a stored file: {e}")))?;
        Ok(Writer { inner: Some(inner), pending: Vec::with_capacity(FLUSH_BYTES) })
    }

    async fn push(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= FLUSH_BYTES { self.flush().await } else { Ok(()) }
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        let Some(mut inner) = self.inner.take() else {
            return Err(AppError::Internal(anyhow::anyhow!("the stored file is no longer open")));
        };
        let mut bytes = std::mem::take(&mut self.pending);
        let (inner, bytes, written) = web::block(move || {
            let written = inner.write_chunk(&bytes);
            bytes.clear();
            (inner, bytes, written)
        })
        .await
        .map_err(blocking_failed)?;
        self.inner = Some(inner);
        self.pending = bytes;
        written.map_err(|e| AppError::Internal(anyhow::anyhow!("writing a stored file: {e}")))
    }

    async fn commit(mut self) -> Result<(), AppError> {
        if !self.pending.is_empty() {
            self.flush().await?;
        }
        let inner = self.inner.take().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no stored file to commit")))?;
        web::block(move || inner.commit())
            .await
            .map_err(blocking_failed)?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("committing a stored file: {e}")))
    }

    /// Removes what was written. If even that fails, the writer's own drop cleans up.
    async fn abort(mut self) {
        if let Some(inner) = self.inner.take() {
            let _ = web::block(move || inner.abort()).await;
        }
    }
}

//! A snapshot set on disk: every public table in every format, all from one consistent read
//! of the store, each file hashed as it is written. Files are written under a temporary name
//! and renamed only when all of them are complete, so a failed export leaves nothing behind
//! that looks like a snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::manifest::{MANIFEST_FILE, Manifest, ManifestFile, snapshot_event};
use super::{Encoder, Format, file_name};
use crate::store::{Exported, Store, StoreError, Table};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("无法写入 {path} / cannot write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The files written and the log size they reflect.
#[derive(Debug)]
pub struct WrittenSet {
    pub log_size: u64,
    pub files: Vec<ManifestFile>,
}

/// One file being written: its bytes counted and hashed on the way.
struct Output {
    encoder: Encoder,
    name: String,
    partial: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    hasher: Sha256,
    rows: u64,
    bytes: u64,
    buffer: Vec<u8>,
}

impl Output {
    fn create(dir: &Path, table: Table, format: Format) -> Result<Output, SnapshotError> {
        let name = file_name(table, format);
        let partial = dir.join(format!("{name}.partial"));
        let file = std::fs::File::create(&partial).map_err(|e| io(&partial, e))?;
        let mut out = Output {
            encoder: Encoder::new(table, format),
            name,
            partial,
            file: std::io::BufWriter::new(file),
            hasher: Sha256::new(),
            rows: 0,
            bytes: 0,
            buffer: Vec::new(),
        };
        out.encoder.header(&mut out.buffer);
        out.write_buffer()?;
        Ok(out)
    }

    fn write_buffer(&mut self) -> Result<(), SnapshotError> {
        self.hasher.update(&self.buffer);
        self.bytes += self.buffer.len() as u64;
        self.file.write_all(&self.buffer).map_err(|e| io(&self.partial, e))?;
        self.buffer.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<ManifestFile, SnapshotError> {
        self.file.flush().map_err(|e| io(&self.partial, e))?;
        self.file.get_ref().sync_all().map_err(|e| io(&self.partial, e))?;
        let file = ManifestFile {
            name: self.name,
            table: self.encoder.table,
            format: self.encoder.format,
            rows: self.rows,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        };
        Ok(file)
    }
}

fn io(path: &Path, source: std::io::Error) -> SnapshotError {
    SnapshotError::Io { path: path.display().to_string(), source }
}

/// Writes every table of `tables` in every format of `formats` into `dir`; `progress` is told
/// each table as it starts and the rows written so far.
pub async fn write_set(
    store: &dyn Store,
    tables: &[Table],
    formats: &[Format],
    dir: &Path,
    progress: &(dyn Fn(Table, u64) + Sync),
) -> Result<WrittenSet, SnapshotError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let (sender, mut receiver) = mpsc::channel(4);
    let export = store.export(tables, sender);
    let mut partials = Vec::new();
    let write = async {
        let mut log_size = 0;
        let mut open: Vec<Output> = Vec::new();
        let mut done = Vec::new();
        let mut rows = 0;
        while let Some(item) = receiver.recv().await {
            match item {
                Exported::LogSize(size) => log_size = size,
                Exported::Start(table) => {
                    done.extend(close(&mut open)?);
                    for &format in formats {
                        let out = Output::create(dir, table, format)?;
                        partials.push(out.partial.clone());
                        open.push(out);
                    }
                    rows = 0;
                    progress(table, 0);
                }
                Exported::Rows(chunk) => {
                    for out in &mut open {
                        for row in &chunk {
                            out.encoder.row(row, &mut out.buffer);
                        }
                        out.rows += chunk.len() as u64;
                        out.write_buffer()?;
                    }
                    rows += chunk.len() as u64;
                    if let Some(out) = open.first() {
                        progress(out.encoder.table, rows);
                    }
                }
            }
        }
        done.extend(close(&mut open)?);
        Ok::<_, SnapshotError>((log_size, done))
    };
    let (exported, written) = tokio::join!(export, write);
    let outcome = exported.map_err(SnapshotError::from).and(written);
    match outcome {
        Ok((log_size, files)) => {
            for (partial, file) in partials.iter().zip(&files) {
                let target = dir.join(&file.name);
                std::fs::rename(partial, &target).map_err(|e| io(&target, e))?;
            }
            Ok(WrittenSet { log_size, files })
        }
        Err(e) => {
            for partial in &partials {
                let _ = std::fs::remove_file(partial);
            }
            Err(e)
        }
    }
}

fn close(open: &mut Vec<Output>) -> Result<Vec<ManifestFile>, SnapshotError> {
    open.drain(..).map(Output::finish).collect()
}

/// Completes a written set: its manifest (with `checkpoint`, which must cover the set's log
/// size) signed with `key` and written beside the files, and the manifest's hash entered in the
/// log as published by `authority_id`. Returns the manifest's bytes and the log index.
pub async fn publish_manifest(
    store: &dyn Store,
    dir: &Path,
    written: WrittenSet,
    checkpoint: Option<String>,
    key: &ed25519_dalek::SigningKey,
    authority_id: &str,
) -> Result<(Vec<u8>, i64), SnapshotError> {
    let manifest = Manifest {
        created_at: chrono::Utc::now(),
        log_size: written.log_size,
        checkpoint,
        files: written.files,
        signed_by: String::new(),
        signature: None,
    }
    .sign(key);
    let bytes = manifest.to_bytes();
    let path = dir.join(MANIFEST_FILE);
    std::fs::write(&path, &bytes).map_err(|e| io(&path, e))?;
    let index = store.log_record(snapshot_event(written.log_size, &bytes, authority_id, chrono::Utc::now())).await?;
    Ok((bytes, index))
}

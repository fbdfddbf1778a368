//! `zhicheng export`: a snapshot set with its signed manifest, entered in the log.

use crate::cli::config::ExportArgs;
use crate::domain::code::Code;
use crate::export::Format;
use crate::export::manifest::sha256_hex;
use crate::export::snapshot::{SnapshotError, publish_manifest, write_set};
use crate::http::problem::AppError;
use crate::store::Table;

pub async fn run(args: &ExportArgs) -> Result<(), AppError> {
    let store = super::open(&args.database.database_url, false).await?;
    let super::keys::NodeKeys { registry, log } =
        super::keys::load(&store, &args.keys.registry_key, &args.keys.log_key, &args.keys.deployment).await?;
    let graph = store.authority_graph().await?;
    let root = graph.authorities().find(|a| a.parent_id.is_none()).map(|a| a.id.clone()).ok_or_else(|| {
        AppError::Config("数据库中没有部门，无可导出 / the database holds no authority; nothing to export".into())
    })?;

    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
            .expect("valid progress template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = |table: Table, rows: u64| {
        if rows == 0 {
            bar.reset();
            bar.set_message(table.code());
        }
        bar.set_position(rows);
    };
    let started = std::time::Instant::now();
    let written = write_set(store.as_ref(), &Table::ALL, &Format::ALL, &args.out, &progress).await;
    bar.finish_and_clear();
    let written = written.map_err(error)?;

    // A checkpoint that covers every entry the files reflect.
    crate::transparency::sign_checkpoint(store.as_ref(), &log).await?;
    let checkpoint = store.latest_checkpoint().await?.filter(|c| c.size >= written.log_size).map(|c| c.note);
    let (log_size, rows) =
        (written.log_size, written.files.iter().filter(|f| f.format == Format::Ndjson).map(|f| f.rows).sum::<u64>());
    let (bytes, index) =
        publish_manifest(store.as_ref(), &args.out, written, checkpoint, registry.signing_key(), &root)
            .await
            .map_err(error)?;
    tracing::info!(
        out = %args.out.display(),
        log_size,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        manifest.sha256 = %sha256_hex(&bytes),
        log.index = index,
        "snapshot written; its manifest's hash is in the log"
    );
    Ok(())
}

fn error(e: SnapshotError) -> AppError {
    match e {
        SnapshotError::Store(e) => AppError::from(e),
        io => AppError::Config(io.to_string()),
    }
}

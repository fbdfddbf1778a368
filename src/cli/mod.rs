//! Sub-commands. Each one sets up what it needs and hands over to the library.

mod backup;
mod certs;
pub mod config;
mod export;
mod init;
mod keys;
mod log;

use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::cli::config::{
    Cli, Command, DEFAULT_DATABASE_URL, DemoArgs, ImportArgs, LogFormat, ServeArgs, TokenCommand,
};
use crate::domain::code::Code;
use crate::http::problem::AppError;
use crate::http::router::build_router;
use crate::http::state::AppState;
use crate::store::{self, Dataset, DynStore, redact_url};

pub async fn run(cli: Cli) -> ExitCode {
    // Held to the end: dropping it writes out the lines still queued.
    let _log_writer = init_tracing(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args, cli.log_format).await,
        Command::Demo(args) => demo(&args).await,
        Command::Migrate(args) => {
            open(&args.database_url, true).await.map(|_| tracing::info!("database schema is up to date"))
        }
        Command::Openapi => {
            println!("{}", openapi_json());
            Ok(())
        }
        Command::Token { command } => token(command).await,
        Command::Import(args) => import(args).await,
        Command::Init(args) => init::run(&args).await,
        Command::Healthcheck { url } => return healthcheck(&url).await,
        Command::Export(args) => export::run(&args).await,
        Command::Backup(args) => backup::run(&args).await,
        Command::Keygen { output } => certs::keygen(&output),
        Command::Issue(args) => certs::issue(&args).await,
        Command::Revoke(args) => certs::change_status(&args, "revoke").await,
        Command::Suspend(args) => certs::change_status(&args, "suspend").await,
        Command::Unsuspend(args) => certs::change_status(&args, "unsuspend").await,
        Command::Qr { certificate, output, registry_url } => certs::qr(&certificate, &output, &registry_url),
        Command::Verify(args) => return certs::verify(args).await,
        Command::Log { command } => return log::run(command).await,
        Command::BenchBaseline { seconds } => {
            println!("{:.0}", certs::raw_verifications_per_second(seconds));
            Ok(())
        }
        Command::BenchBaselineServer { listen, body } => baseline_server(&listen, &body).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "zhicheng stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    crate::http::router::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

/// Log lines go to stderr through a background thread, so a request's access line costs no
/// write(2) on its path; when that thread falls 128k lines behind, lines are dropped, not waited for.
fn init_tracing(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Buffered: the writer thread drains every queued line before it flushes, so under load
    // many lines go out in one write(2).
    let buffered = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking(buffered);
    // Colours only for a person at a terminal: escape codes in a file cost and clutter.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}

pub(crate) async fn open(url: &str, create_if_missing: bool) -> Result<DynStore, AppError> {
    open_with_replica(url, create_if_missing, None).await
}

async fn open_with_replica(
    url: &str,
    create_if_missing: bool,
    replica: Option<&store::ReplicaSettings>,
) -> Result<DynStore, AppError> {
    let store = store::connect_with_replica(url, create_if_missing, replica).await?;
    tracing::info!(database.url = %redact_url(url), database.backend = store.backend(), "database ready");
    if let Some(replica) = replica {
        tracing::info!(replica.url = %redact_url(&replica.url), replica.max_lag = ?replica.max_lag, "lag-tolerant reads may use the replica");
    }
    Ok(store)
}

async fn demo(args: &DemoArgs) -> Result<(), AppError> {
    let store = open(&args.database.database_url, true).await?;
    let registry = crate::verify::registry_key::RegistryKey::load_or_create(&args.registry_key)?;
    let registry = demo_registry(&registry, &args.public_url);
    load_demo(&store, &registry, args.committees, args.certificates, &args.examples).await
}

fn demo_registry(key: &crate::verify::registry_key::RegistryKey, public_url: &str) -> crate::demo::DemoRegistry {
    crate::demo::DemoRegistry {
        url: public_url.trim_end_matches('/').to_string(),
        holder_key: Arc::new(key.holder_id_key()),
    }
}

/// Records per transaction when loading the demo at scale.
const DEMO_BATCH: usize = 50_000;

/// Loads the demo registry unless the database already holds a registry, and writes the
/// example certificates. Large demos are generated and written in batches.
async fn load_demo(
    store: &DynStore,
    registry: &crate::demo::DemoRegistry,
    committees: usize,
    certificates: usize,
    examples: &std::path::Path,
) -> Result<(), AppError> {
    let counts = store.counts().await?;
    if counts.authorities > 0 {
        tracing::info!(
            committees = counts.committees,
            "the database already holds a registry; demo data not loaded again"
        );
        return Ok(());
    }
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(certificates as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} certificates ({per_sec}, {eta} left)")
            .expect("valid progress template"),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Dataset>(1);
    // Generation (CPU) and writing (database) overlap: one batch is written while the next is made.
    let today = store::today();
    let generating = registry.clone();
    let generator = tokio::task::spawn_blocking(move || {
        crate::demo::demo_in_batches(today, committees, certificates, DEMO_BATCH, &generating, |batch| {
            sender.blocking_send(batch).map_err(|_| ())
        })
    });
    let mut certificates_written = 0;
    while let Some(batch) = receiver.recv().await {
        store.import_dataset(&batch, "demo").await?;
        certificates_written += batch.certificates.len();
        bar.inc(batch.certificates.len() as u64);
    }
    bar.finish_and_clear();
    let written = generator.await.map_err(|e| AppError::Internal(format!("demo generator: {e}")))?;
    let examples_made = written.map_err(|_| AppError::Internal("the demo generator stopped early".into()))?;
    certs::write_examples(examples, &examples_made, &registry.url)?;
    let supervision = crate::demo::supervision::supervision(&crate::demo::dataset(today), today);
    for (authority, role, operations) in supervision.publications {
        let actor = crate::domain::publish::Actor::new(authority, "demo", role);
        store.execute(&actor, &operations, None, None).await.map_err(demo_refused)?;
    }
    for (complaint, concluded) in supervision.complaints {
        let handler = crate::domain::publish::Actor::new(
            crate::demo::authority_id("220000"),
            "demo",
            crate::domain::publish::Role::Publisher,
        );
        let refused =
            |v: crate::domain::publish::Violation| AppError::Internal(format!("demo complaint: {}", v.message_en));
        let received = crate::publish::complaints::receive(complaint, &handler.authority_id, chrono::Utc::now())
            .map_err(refused)?;
        store.file_complaint(&received.complaint, &received.access_sha256, received.event).await?;
        if concluded {
            let mut case = received.complaint;
            let note = "经核查，该专家已按规定回避，反映情况不属实".to_string();
            let event = crate::publish::complaints::decide(
                &mut case,
                crate::domain::complaint::ComplaintStatus::Unfounded,
                Some(note),
                &handler,
                chrono::Utc::now(),
            )
            .map_err(refused)?;
            store.update_complaint(&case, event).await?;
        }
    }
    let counts = store.counts().await?;
    tracing::info!(
        authorities = counts.authorities,
        committees = counts.committees,
        authorizations = counts.authorizations,
        sanctions = counts.sanctions,
        certificates = certificates_written,
        seconds = started.elapsed().as_secs_f64(),
        examples = %examples.display(),
        "demo registry loaded"
    );
    Ok(())
}

/// Makes the demo's draws (a checkpoint past their plans) and records an inspection of each
/// draw's first committee, unless one is recorded already.
async fn demo_inspections(store: &DynStore, log: &crate::transparency::LogSigner) -> Result<(), AppError> {
    crate::transparency::sign_checkpoint(store.as_ref(), log).await?;
    for (plan, seed) in store.draw_plans_after(None, 100).await? {
        let Some(selected) = crate::http::draws::selected(&plan, seed.as_ref()) else { continue };
        let filter = store::InspectionFilter { plan_id: Some(plan.id.clone()), committee_id: None };
        if !store.inspections_after(&filter, None, 1).await?.is_empty() {
            continue;
        }
        let Some(operation) = crate::demo::supervision::inspection(&plan, &selected, store::today()) else { continue };
        let actor = crate::domain::publish::Actor::new(
            plan.authority_id.clone(),
            "demo",
            crate::domain::publish::Role::Publisher,
        );
        store.execute(&actor, &[operation], None, None).await.map_err(demo_refused)?;
    }
    Ok(())
}

/// A demo publication the rules refused is a bug in the demo: say which rule, and where.
fn demo_refused(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Rejected(lines) => {
            let first = lines.first().map(|l| {
                format!(
                    "operation {}: {} ({}): {}",
                    l.line, l.violation.code, l.violation.field, l.violation.message_en
                )
            });
            AppError::Internal(format!("the demo's supervision records were refused: {}", first.unwrap_or_default()))
        }
        other => other.into(),
    }
}

/// How clients reach the service: `--public-url`, or the listen address when that is one a
/// client can use. Signed ids and status-list URLs carry it, so an unspecified address
/// (0.0.0.0, [::]) is refused rather than written into every credential.
fn public_url(args: &ServeArgs) -> Result<String, AppError> {
    if let Some(url) = &args.public_url {
        return Ok(url.clone());
    }
    let unspecified = args.listen.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_unspecified());
    if unspecified {
        return Err(AppError::Config(format!(
            "监听 {0} 时须用 --public-url（或 ZHICHENG_PUBLIC_URL）给出客户端访问本服务的地址 / listening on {0}, \
             set --public-url (or ZHICHENG_PUBLIC_URL) to the URL clients reach this service at: it goes into \
             everything the registry signs",
            args.listen
        )));
    }
    Ok(format!("http://{}", args.listen))
}

/// `zhicheng healthcheck`: the exit code says whether the server is ready.
async fn healthcheck(url: &str) -> ExitCode {
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).build();
    let ready = match client {
        Ok(client) => client.get(url).send().await.is_ok_and(|r| r.status() == reqwest::StatusCode::OK),
        Err(_) => false,
    };
    if ready { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn serve(args: ServeArgs, log_format: LogFormat) -> Result<(), AppError> {
    use crate::http::limits::{Quota, RateLimits};
    use crate::http::serve::ConnectionLimits;
    use crate::http::state::Settings;
    let url = &args.database.database_url;
    let public_url = public_url(&args)?;
    // Only the default location, an explicit --demo or --create-database may create a new database file.
    let create = args.demo || args.create_database || url == DEFAULT_DATABASE_URL;
    let store = open_with_replica(url, create, args.replica.settings().as_ref()).await?;
    let keys::NodeKeys { registry, log } =
        keys::load(&store, &args.registry_key, &args.log_key, &args.deployment).await?;
    if args.demo {
        let demo = demo_registry(&registry, &public_url);
        load_demo(&store, &demo, 0, 10_000, std::path::Path::new("data/examples")).await?;
        demo_inspections(&store, &log).await?;
    }
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| AppError::Config(format!("无法监听 {0} / cannot listen on {0}: {e}", args.listen)))?;
    let sizes = store::cached::CacheSizes { committees: args.cache_committees, certificates: args.cache_certificates };
    let cached = Arc::new(store::cached::CachedStore::new(store, sizes));
    // Writes by other nodes sharing the database reach this node's cache within a second.
    cached.clone().follow_log(std::time::Duration::from_millis(500)).await;
    let store: DynStore = cached;
    crate::transparency::spawn_sequencer(store.clone(), Arc::new(log.clone()), std::time::Duration::from_secs(1));
    tracing::info!(listen = %args.listen, "zhicheng is serving; API docs at /docs");
    let p = &args.protection;
    let access_log = crate::http::access_log::AccessLog::start(matches!(log_format, LogFormat::Json));
    let settings = Settings {
        public_url: public_url.trim_end_matches('/').to_string(),
        limits: RateLimits {
            lookups: Quota::per_minute(p.lookups_per_minute),
            verifications: Quota::per_minute(p.verifications_per_minute),
            bulk: Quota::per_minute(p.bulk_requests_per_minute),
            trust_forwarded_for: p.trust_forwarded_for,
            key_factor: p.key_quota_factor,
        },
        name_check_floor: std::time::Duration::from_millis(p.name_check_floor_ms),
        scan_budget: crate::http::limits::SCAN_BUDGET,
        webhooks_allow_private: p.webhooks_allow_private,
        access_log: access_log.clone(),
    };
    let webhooks = crate::webhooks::WebhookSettings { allow_private: p.webhooks_allow_private, ..Default::default() };
    crate::webhooks::Dispatcher::new(store.clone(), registry.signing_key().clone(), webhooks).spawn();
    let connections = ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(p.header_read_timeout.max(1)),
        max_connections: p.max_connections.max(1),
        ..ConnectionLimits::default()
    };
    let router = build_router(AppState::new(store, registry, log, settings));
    let served = crate::http::serve::serve(listener, router, connections, shutdown_signal()).await;
    if let Some(log) = access_log {
        log.flush();
    }
    served.map_err(|e| AppError::Internal(format!("server error: {e}")))
}

/// The minimal axum handler the benchmarks compare against: same runtime, same JSON bytes,
/// no database, no cache, no middleware.
async fn baseline_server(listen: &str, body: &std::path::Path) -> Result<(), AppError> {
    let bytes = axum::body::Bytes::from(
        std::fs::read(body).map_err(|e| AppError::Config(format!("cannot read {}: {e}", body.display())))?,
    );
    let app = axum::Router::new().fallback(move || {
        let bytes = bytes.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], bytes) }
    });
    let listener =
        TcpListener::bind(listen).await.map_err(|e| AppError::Config(format!("cannot listen on {listen}: {e}")))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn token(command: TokenCommand) -> Result<(), AppError> {
    match command {
        TokenCommand::Create { authority, role, committee, label, database } => {
            let role: crate::domain::publish::Role = role.into();
            if committee.is_some() && role != crate::domain::publish::Role::Publisher {
                return Err(AppError::Config(
                    "--committee 只用于 publisher 凭证 / --committee needs --role publisher".into(),
                ));
            }
            let store = open(&database.database_url, false).await?;
            let (info, secret) =
                store.create_token(&authority, role, committee.as_deref(), label.as_deref(), "cli", None).await?;
            tracing::info!(token.id = %info.id, authority.id = %info.authority_id, role = info.role.code(), "token created; the secret is shown once");
            println!("{secret}");
        }
        TokenCommand::List { authority, database } => {
            let store = open(&database.database_url, false).await?;
            for t in store.tokens(&authority).await? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let last = t.last_used_at.map_or("never".to_string(), |d| d.to_rfc3339());
                println!("{}\t{}\t{}\t{}\tlast used {}", t.id, t.role.code(), state, t.label.unwrap_or_default(), last);
            }
        }
        TokenCommand::Revoke { authority, id, database } => {
            let store = open(&database.database_url, false).await?;
            store.revoke_token(&authority, &id).await?.ok_or_else(|| AppError::not_found("token", &id))?;
            tracing::info!(token.id = %id, "token revoked");
        }
    }
    Ok(())
}

/// Applies a bulk file directly to the database, as the given authority's publisher.
async fn import(args: ImportArgs) -> Result<(), AppError> {
    use crate::publish::import::Format;
    let format = args.format.map(Format::from).unwrap_or(match args.file.extension().and_then(|e| e.to_str()) {
        Some("csv") => Format::Csv,
        _ => Format::Ndjson,
    });
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| AppError::Config(format!("无法读取 {0} / cannot read {0}: {e}", args.file.display())))?;
    let csv_type = args.csv_type.map(Into::into);
    // A publisher cannot issue certificates, so no certificate needs this registry's bindings.
    let operations =
        crate::publish::import::check(&text, format, csv_type, |_| Ok(())).map_err(|e| report_rejection(e.into()))?;
    let store = open(&args.database.database_url, false).await?;
    let actor =
        crate::domain::publish::Actor::new(args.authority.clone(), "cli", crate::domain::publish::Role::Publisher);
    let bar = indicatif::ProgressBar::new(operations as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} operations ({per_sec}, {eta} left)")
            .expect("valid progress template"),
    );
    let progress = |n: usize| bar.set_position(n as u64);
    let started = std::time::Instant::now();
    let mut source = crate::publish::import::FileOperations::new(&text, format, csv_type)?;
    let outcome = store.execute_from(&actor, &mut source, None, Some(&progress)).await;
    bar.finish_and_clear();
    let applied = match outcome.map_err(|e| report_rejection(e.into()))? {
        crate::store::WriteOutcome::Applied(a) | crate::store::WriteOutcome::Replayed(a) => a.len(),
    };
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(operations = applied, seconds, rate = applied as f64 / seconds.max(1e-9), "import applied");
    println!("{applied} operations applied in {seconds:.2} s ({:.0} per second)", applied as f64 / seconds.max(1e-9));
    Ok(())
}

/// Prints every bad line of a rejected file; the error itself then ends the command.
fn report_rejection(e: AppError) -> AppError {
    if let AppError::Rejected(lines) = &e {
        for l in lines {
            eprintln!(
                "line {}: {}: {} / {}",
                l.line, l.violation.field, l.violation.message_zh, l.violation.message_en
            );
        }
        eprintln!("nothing was written / 未写入任何内容");
    }
    e
}

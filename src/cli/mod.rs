//! Sub-commands. Each one sets up what it needs and hands over to the library.

use std::process::ExitCode;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::app::{AppState, build_router};
use crate::config::{Cli, Command, DEFAULT_DATABASE_URL, LogFormat, ServeArgs};
use crate::error::AppError;
use crate::store::{self, DynStore, redact_url};

pub async fn run(cli: Cli) -> ExitCode {
    init_tracing(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => demo(&args.database_url).await,
        Command::Migrate(args) => {
            open(&args.database_url, true).await.map(|_| tracing::info!("database schema is up to date"))
        }
        Command::Openapi => {
            println!("{}", openapi_json());
            Ok(())
        }
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
    crate::app::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn open(url: &str, create_if_missing: bool) -> Result<DynStore, AppError> {
    let store = store::connect(url, create_if_missing).await?;
    tracing::info!(database.url = %redact_url(url), database.backend = store.backend(), "database ready");
    Ok(store)
}

async fn demo(url: &str) -> Result<(), AppError> {
    let store = open(url, true).await?;
    load_demo(&store).await
}

/// Loads the demo registry unless the database already holds a registry.
async fn load_demo(store: &DynStore) -> Result<(), AppError> {
    let counts = store.counts().await?;
    if counts.authorities > 0 {
        tracing::info!(
            committees = counts.committees,
            "the database already holds a registry; demo data not loaded again"
        );
        return Ok(());
    }
    let dataset = crate::demo::dataset(store::today());
    store.import_dataset(&dataset).await?;
    let counts = store.counts().await?;
    tracing::info!(
        authorities = counts.authorities,
        committees = counts.committees,
        authorizations = counts.authorizations,
        sanctions = counts.sanctions,
        "demo registry loaded"
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), AppError> {
    let url = &args.database.database_url;
    // Only the default location, or an explicit --demo, may create a new database file.
    let store = open(url, args.demo || url == DEFAULT_DATABASE_URL).await?;
    if args.demo {
        load_demo(&store).await?;
    }
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| AppError::Config(format!("无法监听 {0} / cannot listen on {0}: {e}", args.listen)))?;
    tracing::info!(listen = %args.listen, "zhicheng is serving; API docs at /docs");
    axum::serve(listener, build_router(AppState { store }))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| AppError::Internal(format!("server error: {e}")))
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

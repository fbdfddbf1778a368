//! Command-line and environment configuration (clap with `env` on every field).

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/zhicheng.db";

#[derive(Debug, Parser)]
#[command(
    name = "zhicheng",
    version,
    about = "职称评审开放登记与核验 — open registry and verifier for Chinese professional titles"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log output: human-readable text or one JSON object a line (production).
    #[arg(long, env = "ZHICHENG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Fill the database with the realistic demo registry, and write example certificates to data/examples/.
    Demo(DemoArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DatabaseArgs),
    /// Exit 0 when the server answers /readyz with 200 (for container health checks, which
    /// may have no shell or curl), 1 otherwise.
    Healthcheck {
        #[arg(long, env = "ZHICHENG_HEALTHCHECK_URL", default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
    /// Start a real registry on an empty database: the national authority (hr-000000) and the
    /// provinces named, then print the national authority's first admin token (once).
    Init(InitArgs),
    /// Print the OpenAPI document (what `openapi/openapi.json` must equal).
    Openapi,
    /// Create, list and revoke API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Apply a bulk file (NDJSON or CSV) as one authority, all or nothing.
    Import(ImportArgs),
    /// Write a snapshot set into a directory: every public table as NDJSON and CSV from one
    /// consistent read, and a signed manifest.json whose hash is entered in the transparency log.
    Export(ExportArgs),
    /// Back the registry up into a new directory: an online, consistent copy of a SQLite
    /// database, and BACKUP.json naming the keys (public halves) and where they live. For
    /// PostgreSQL it writes BACKUP.json and prints the pg_dump command (docs/OPERATIONS.md).
    Backup(BackupArgs),
    /// Write a new Ed25519 key pair: the secret to FILE (mode 0600), the public Multikey to stdout.
    Keygen {
        /// Where to write the secret key.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Sign a certificate locally from its fields.
    Issue(IssueArgs),
    /// Render a certificate's compact form as a QR code PNG.
    Qr {
        /// The signed certificate (JSON).
        certificate: std::path::PathBuf,
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// The registry's public URL: the QR code is a link to its verify page.
        #[arg(long, env = "ZHICHENG_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        registry_url: String,
    },
    /// Verify a certificate (JSON file or ZC1: QR text), offline with a bundle or against the database.
    Verify(VerifyArgs),
    /// Revoke a certificate (final), in the local database.
    Revoke(StatusArgs),
    /// Suspend a certificate, in the local database.
    Suspend(StatusArgs),
    /// Lift a certificate's suspension, in the local database.
    Unsuspend(StatusArgs),
    /// The transparency log: verify a server's whole log, monitor its checkpoints, audit the
    /// local database, or check a tlog-proof file offline. Exit code 2 means the log failed a check.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Benchmark baseline: raw ed25519-dalek signature verifications per second on one core.
    #[command(hide = true)]
    BenchBaseline {
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Benchmark baseline: the framework's ceiling, a minimal axum server answering every GET
    /// with the bytes of FILE as JSON, from memory.
    #[command(hide = true)]
    BenchBaselineServer {
        #[arg(long)]
        listen: String,
        #[arg(long)]
        body: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The issuer's secret key file (from `zhicheng keygen`).
    #[arg(long)]
    pub key: std::path::PathBuf,
    /// The certificate's fields (credentialSubject, camelCase; `holderIdNumber` is sent to the
    /// registry with --token, which answers its keyed digest, and is never written), plus
    /// `issuer` and `issuerName`; see docs/CERTIFICATE_FORMAT.md.
    #[arg(long)]
    pub input: std::path::PathBuf,
    /// Where to write the signed certificate (JSON).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
    /// The registry's public URL, for the status-list entries (and --publish).
    #[arg(long, env = "ZHICHENG_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub registry_url: String,
    /// The indexes of the certificate's bits in the issuer's revocation and suspension lists
    /// (unique per issuer); without them the certificate has no credentialStatus.
    #[arg(long)]
    pub status_index: Option<u64>,
    /// Publish the signed certificate to the registry at --registry-url.
    #[arg(long, requires = "token")]
    pub publish: bool,
    /// An issuer token for --publish, and to have the registry digest `holderIdNumber`.
    #[arg(long, env = "ZHICHENG_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The certificate number.
    pub number: String,
    #[arg(long)]
    pub reason: String,
    /// The authority acting (its issuer role; events are attributed to it and to `cli`).
    #[arg(long)]
    pub authority: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A certificate JSON file, a file holding ZC1: QR text, or the QR text itself.
    pub input: String,
    /// A registry bundle (GET /api/v1/bundle) to verify offline.
    #[arg(long)]
    pub bundle: Option<std::path::PathBuf>,
    /// The registry key to trust (z6Mk…, from the registry's operator): a bundle is only
    /// believed when this key signed it.
    #[arg(long, requires = "bundle")]
    pub registry_key: Option<String>,
    /// Against the local database: the registry's secret key file, which keys holder ID
    /// digests (without it an ID number cannot be checked).
    #[arg(long, env = "ZHICHENG_REGISTRY_KEY", default_value = "data/registry.key")]
    pub registry_key_file: std::path::PathBuf,
    /// The holder's name, to check.
    #[arg(long)]
    pub name: Option<String>,
    /// The holder's resident ID number, to check against the certificate's digest.
    #[arg(long)]
    pub id_number: Option<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Publisher,
    Issuer,
    Admin,
    /// An API key for an outside user: bulk reads and a watch-list, no writes.
    Reader,
}

impl From<RoleArg> for crate::domain::publish::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Publisher => Self::Publisher,
            RoleArg::Issuer => Self::Issuer,
            RoleArg::Admin => Self::Admin,
            RoleArg::Reader => Self::Reader,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Download the whole log, recompute every tile and the root, and check the signed checkpoint.
    Verify {
        /// The service, e.g. https://zhicheng.example.cn
        #[arg(long)]
        url: String,
        /// The log's verifier key (`zhicheng.registry/…+…+…`), obtained out of band; without
        /// it the server's own /api/v1/log/key is used and shown.
        #[arg(long)]
        key: Option<String>,
    },
    /// Check every new checkpoint against the last one seen (kept in --state); on a conflict,
    /// print both signed notes as evidence and exit 2.
    Monitor {
        #[arg(long)]
        url: String,
        /// Where the last checkpoint seen is kept.
        #[arg(long)]
        state: std::path::PathBuf,
        /// The log's verifier key; defaults to the one in the state file, else the server's.
        #[arg(long)]
        key: Option<String>,
        /// Check once and exit (for cron), instead of every --interval seconds.
        #[arg(long)]
        once: bool,
        #[arg(long, default_value_t = 10)]
        interval: u64,
    },
    /// Recompute the tree from this database's event table; compare with the stored tiles and
    /// the latest signed checkpoint.
    Audit {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The log's verifier key; by default derived from --log-key and --deployment.
        #[arg(long)]
        key: Option<String>,
        #[arg(long, env = "ZHICHENG_LOG_KEY", default_value = "data/log.key")]
        log_key: std::path::PathBuf,
        #[arg(long, env = "ZHICHENG_DEPLOYMENT", default_value = "local")]
        deployment: String,
    },
    /// Check a tlog-proof file (GET /api/v1/certificates/{number}/tlog-proof) offline.
    CheckProof {
        proof: std::path::PathBuf,
        /// The log's verifier key.
        #[arg(long)]
        key: String,
        /// The certificate the proof is for: its number and digest must be the logged ones.
        #[arg(long)]
        certificate: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; the secret is printed once, on standard output.
    Create {
        /// The authority the token acts for.
        #[arg(long)]
        authority: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A token for this committee's organizing unit (role publisher; the committee must be
        /// the authority's): it registers the committee's sessions, outcomes and notices only.
        #[arg(long)]
        committee: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List an authority's tokens (never their secrets).
    List {
        #[arg(long)]
        authority: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        authority: String,
        /// The token id (`tok_…`).
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: `.ndjson` (one operation a line) or `.csv` (with --type).
    pub file: std::path::PathBuf,
    /// The authority publishing the file; the events are attributed to it and to `cli`.
    #[arg(long)]
    pub authority: String,
    /// Defaults to the file's extension.
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// The record type of a CSV file.
    #[arg(long = "type", value_enum)]
    pub csv_type: Option<CsvRecords>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (embedded default) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A province's GB/T 2260 code (e.g. 220000): its HR department is created under the
    /// ministry. Repeat for more; provinces can also be added later through the API.
    #[arg(long)]
    pub province: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The directory to write the files and manifest.json into (created when missing).
    #[arg(long)]
    pub out: std::path::PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The registry key signs the manifest; the manifest carries a checkpoint covering the export.
    #[command(flatten)]
    pub keys: RegistryKeyArgs,
}

/// The registry's two keys and the log's name, for commands that sign or describe them.
#[derive(Debug, Clone, Args)]
pub struct RegistryKeyArgs {
    /// The registry's key file (ZHICHENG_REGISTRY_SECRET, when set, holds the key itself).
    #[arg(long, env = "ZHICHENG_REGISTRY_KEY", default_value = "data/registry.key")]
    pub registry_key: std::path::PathBuf,
    /// The transparency log's key file (ZHICHENG_LOG_SECRET, when set, holds the key itself).
    #[arg(long, env = "ZHICHENG_LOG_KEY", default_value = "data/log.key")]
    pub log_key: std::path::PathBuf,
    #[arg(long, env = "ZHICHENG_DEPLOYMENT", default_value = "local")]
    pub deployment: String,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The directory to write into; it must not exist yet.
    #[arg(long)]
    pub out: std::path::PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Only the keys' public halves are recorded, unless --with-secret-keys.
    #[command(flatten)]
    pub keys: RegistryKeyArgs,
    /// Also copy the two secret key files into the backup (mode 0600): a backup that must
    /// restore the registry on its own. Without it, keep the keys' own copy safe elsewhere.
    #[arg(long)]
    pub with_secret_keys: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// About how many certificates to generate.
    #[arg(long, default_value_t = 10_000)]
    pub certificates: usize,
    /// How many synthetic committees to add to the realistic demo (for scale tests).
    #[arg(long, default_value_t = 0)]
    pub committees: usize,
    /// Where to write the example certificates, QR texts and QR images.
    #[arg(long, default_value = "data/examples")]
    pub examples: std::path::PathBuf,
    /// The registry's signing key, which also keys the certificates' holder ID digests; created
    /// when missing (the same file `serve` uses).
    #[arg(long, env = "ZHICHENG_REGISTRY_KEY", default_value = "data/registry.key")]
    pub registry_key: std::path::PathBuf,
    /// The URL the registry will be served at: the certificates' status lists point there.
    #[arg(long, env = "ZHICHENG_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ZHICHENG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub replica: ReplicaArgs,
    /// Load the demo registry first when the database is empty.
    #[arg(long, env = "ZHICHENG_DEMO")]
    pub demo: bool,
    /// Create the SQLite database file when it is missing (a container's new volume). Without
    /// it only the default location is created: a typo in a path must not start an empty registry.
    #[arg(long, env = "ZHICHENG_CREATE_DATABASE")]
    pub create_database: bool,
    /// The registry's signing key file (status lists, bundles), unless ZHICHENG_REGISTRY_SECRET
    /// holds the key itself; created only for a database that holds no checkpoint yet.
    #[arg(long, env = "ZHICHENG_REGISTRY_KEY", default_value = "data/registry.key")]
    pub registry_key: std::path::PathBuf,
    /// The transparency log's signing key file (checkpoints), unless ZHICHENG_LOG_SECRET holds
    /// the key itself; created only for a database that holds no checkpoint yet, and refused
    /// when it did not sign the checkpoints already there.
    #[arg(long, env = "ZHICHENG_LOG_KEY", default_value = "data/log.key")]
    pub log_key: std::path::PathBuf,
    /// This deployment's name: the log's origin is `zhicheng.registry/<deployment>`.
    #[arg(long, env = "ZHICHENG_DEPLOYMENT", default_value = "local")]
    pub deployment: String,
    /// Committee records kept in memory.
    #[arg(long, env = "ZHICHENG_CACHE_COMMITTEES", default_value_t = 10_000)]
    pub cache_committees: u64,
    /// Registered certificates kept in memory.
    #[arg(long, env = "ZHICHENG_CACHE_CERTIFICATES", default_value_t = 100_000)]
    pub cache_certificates: u64,
    /// The URL clients use to reach this service (ids of the credentials it signs).
    /// Defaults to http://<listen>.
    #[arg(long, env = "ZHICHENG_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub protection: ProtectionArgs,
}

/// How the service protects itself from one client (docs/DECISIONS.md, "Bounded cost").
#[derive(Debug, Clone, Args)]
pub struct ProtectionArgs {
    /// Certificate lookups (number + name) a minute from one client IP; 0 turns the limit off.
    #[arg(long, env = "ZHICHENG_LOOKUPS_PER_MINUTE", default_value_t = crate::http::limits::DEFAULT_LOOKUPS_PER_MINUTE)]
    pub lookups_per_minute: u32,
    /// Verifications a minute from one client IP; 0 turns the limit off.
    #[arg(long, env = "ZHICHENG_VERIFICATIONS_PER_MINUTE", default_value_t = crate::http::limits::DEFAULT_VERIFICATIONS_PER_MINUTE)]
    pub verifications_per_minute: u32,
    /// Bulk verification requests a minute from one client IP; 0 turns the limit off.
    #[arg(long, env = "ZHICHENG_BULK_REQUESTS_PER_MINUTE", default_value_t = crate::http::limits::DEFAULT_BULK_REQUESTS_PER_MINUTE)]
    pub bulk_requests_per_minute: u32,
    /// A request with a valid API token counts against the token, with this many times each
    /// per-IP quota.
    #[arg(long, env = "ZHICHENG_KEY_QUOTA_FACTOR", default_value_t = crate::http::limits::DEFAULT_KEY_QUOTA_FACTOR)]
    pub key_quota_factor: u32,
    /// Count requests against the client a reverse proxy names in X-Forwarded-For / X-Real-IP /
    /// Forwarded. Only behind a proxy that sets them: a direct client could name anyone.
    #[arg(long, env = "ZHICHENG_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// The least time, in milliseconds, any answer to a number and a name takes.
    #[arg(long, env = "ZHICHENG_NAME_CHECK_FLOOR_MS", default_value_t = 30)]
    pub name_check_floor_ms: u64,
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive connection stays open.
    #[arg(long, env = "ZHICHENG_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,
    /// Let watch-list webhooks call loopback and private-network addresses (a closed network,
    /// tests). Off by default: the registry must not be made to call into its own network.
    #[arg(long, env = "ZHICHENG_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// Open connections at most; more wait in the listen backlog.
    #[arg(long, env = "ZHICHENG_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
}

#[derive(Clone, Args)]
pub struct ReplicaArgs {
    /// A PostgreSQL streaming replica of the primary (`postgres://…`): searches, lists, counts
    /// and exports are read there while it keeps up (docs/SCALING.md).
    #[arg(long, env = "ZHICHENG_REPLICA_URL", hide_env_values = true)]
    pub replica_url: Option<String>,
    /// Seconds the replica may be behind the primary before reads go back to the primary.
    #[arg(long, env = "ZHICHENG_REPLICA_MAX_LAG", default_value_t = 5.0)]
    pub replica_max_lag: f64,
}

impl ReplicaArgs {
    pub fn settings(&self) -> Option<crate::store::ReplicaSettings> {
        let url = self.replica_url.clone()?;
        let max_lag = std::time::Duration::try_from_secs_f64(self.replica_max_lag.max(0.0)).unwrap_or_default();
        Some(crate::store::ReplicaSettings { url, max_lag })
    }
}

impl std::fmt::Debug for ReplicaArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaArgs")
            .field("replica_url", &self.replica_url.as_deref().map(crate::store::redact_url))
            .field("replica_max_lag", &self.replica_max_lag)
            .finish()
    }
}

/// The database URL may carry a password: Debug shows it redacted.
impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseArgs").field("database_url", &crate::store::redact_url(&self.database_url)).finish()
    }
}

/// A bulk file's format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Ndjson,
    Csv,
}

impl From<FileFormat> for crate::publish::import::Format {
    fn from(f: FileFormat) -> Self {
        match f {
            FileFormat::Ndjson => crate::publish::import::Format::Ndjson,
            FileFormat::Csv => crate::publish::import::Format::Csv,
        }
    }
}

/// The record type of a CSV file (`--type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvRecords {
    Committees,
    Authorizations,
    Sanctions,
}

impl From<CsvRecords> for crate::publish::import::CsvType {
    fn from(t: CsvRecords) -> Self {
        use crate::publish::import::CsvType;
        match t {
            CsvRecords::Committees => CsvType::Committees,
            CsvRecords::Authorizations => CsvType::Authorizations,
            CsvRecords::Sanctions => CsvType::Sanctions,
        }
    }
}

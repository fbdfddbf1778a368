//! `zhicheng log …`: what an outside auditor runs against a server (verify, monitor), what
//! the operator runs against its own database (audit), and the offline check of a proof file.
//! Exit codes: 0 the log passed, 1 the check could not run (network, files), 2 the log failed.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::config::LogCommand;
use crate::domain::log::check_entry;
use crate::http::problem::AppError;
use crate::tlog::merkle::{self, leaf_hash};
use crate::tlog::signed_note::{Checkpoint, NoteVerifier};
use crate::tlog::tiles::{self, TilePath, TreeBuilder};

/// Why a check did not pass.
enum Failure {
    /// Could not check: network, files, arguments.
    Run(AppError),
    /// Checked, and the log is not what it claims.
    Log(String),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Run(e)
    }
}

fn failed(msg: impl Into<String>) -> Failure {
    Failure::Log(msg.into())
}

pub async fn run(command: LogCommand) -> ExitCode {
    let result = match command {
        LogCommand::Verify { url, key } => verify(&url, key).await,
        LogCommand::Monitor { url, state, key, once, interval } => monitor(&url, &state, key, once, interval).await,
        LogCommand::Audit { database, key, log_key, deployment } => {
            audit(&database.database_url, key, &log_key, &deployment).await
        }
        LogCommand::CheckProof { proof, key, certificate } => check_proof(&proof, &key, certificate.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Run(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Log(msg)) => {
            eprintln!("LOG CHECK FAILED / 日志核查未通过: {msg}");
            ExitCode::from(2)
        }
    }
}

struct Remote {
    base: String,
    client: reqwest::Client,
}

impl Remote {
    fn new(url: &str) -> Remote {
        Remote { base: url.trim_end_matches('/').to_string(), client: reqwest::Client::new() }
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| AppError::Config(format!("无法连接 / cannot reach {url}: {e}")))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| AppError::Config(format!("{url}: {e}")))?;
        if !status.is_success() {
            return Err(failed(format!("{url} answered {status}")));
        }
        Ok(bytes.to_vec())
    }

    async fn text(&self, path: &str) -> Result<String, Failure> {
        String::from_utf8(self.get(path).await?).map_err(|_| failed(format!("{path} is not UTF-8 text")))
    }

    /// The verifier key: the one given, else the server's own (said so).
    async fn verifier(&self, key: Option<String>) -> Result<NoteVerifier, Failure> {
        let key = match key {
            Some(k) => k,
            None => {
                let k = self.text("/api/v1/log/key").await?.trim().to_string();
                eprintln!("using the server's own log key {k} (pass --key to pin the key you trust)");
                k
            }
        };
        NoteVerifier::parse(&key).map_err(|e| Failure::Run(AppError::Config(format!("--key: {e}"))))
    }

    /// The latest checkpoint, signature checked.
    async fn checkpoint(&self, verifier: &NoteVerifier) -> Result<(String, Checkpoint), Failure> {
        let note = self.text("/log/checkpoint").await?;
        let checkpoint = open_checkpoint(verifier, &note)?;
        Ok((note, checkpoint))
    }
}

fn open_checkpoint(verifier: &NoteVerifier, note: &str) -> Result<Checkpoint, Failure> {
    crate::tlog::proof::open_checkpoint(verifier, note).map_err(|e| failed(e.0))
}

async fn verify(url: &str, key: Option<String>) -> Result<(), Failure> {
    let remote = Remote::new(url);
    let verifier = remote.verifier(key).await?;
    let (_, checkpoint) = remote.checkpoint(&verifier).await?;
    let size = checkpoint.size;
    let mut tree = TreeBuilder::default();
    let mut heads = HashMap::new();
    for n in 0..size.div_ceil(tiles::WIDTH) {
        let width = tiles::width_at(size, 0, n);
        let path = TilePath { level: None, index: n, width: (width < tiles::WIDTH).then_some(width) };
        let bundle = remote.get(&format!("/log/tile/{}", path.format())).await?;
        let entries =
            tiles::parse_entry_bundle(&bundle).ok_or_else(|| failed(format!("entry bundle {n} is malformed")))?;
        if entries.len() as u64 != width {
            return Err(failed(format!("entry bundle {n} holds {} entries, not {width}", entries.len())));
        }
        let mut leaves = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            check_entry(entry, tree.size + i as u64, &mut heads).map_err(failed)?;
            leaves.push(leaf_hash(entry));
        }
        tree.push(&leaves);
    }
    let mut keys: Vec<_> = tree.tiles.keys().copied().collect();
    keys.sort();
    for (level, index) in &keys {
        let width = tiles::width_at(size, *level, *index);
        let path = TilePath { level: Some(*level), index: *index, width: (width < tiles::WIDTH).then_some(width) };
        let served = remote.get(&format!("/log/tile/{}", path.format())).await?;
        if served != tiles::bytes_of(&tree.tiles[&(*level, *index)]) {
            return Err(failed(format!("tile {} differs from the tile recomputed from the entries", path.format())));
        }
    }
    if tree.root(size) != checkpoint.root {
        return Err(failed("the entries do not produce the signed root hash: the log was forked or rewritten"));
    }
    println!(
        "{}: {size} entries and {} tiles recomputed; the root matches the signed checkpoint / 日志完整，与签名检查点一致",
        checkpoint.origin,
        keys.len()
    );
    Ok(())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MonitorState {
    key: String,
    checkpoint: String,
}

async fn monitor(url: &str, state_path: &Path, key: Option<String>, once: bool, interval: u64) -> Result<(), Failure> {
    let remote = Remote::new(url);
    let mut state: Option<MonitorState> = match std::fs::read_to_string(state_path) {
        Ok(text) => {
            Some(serde_json::from_str(&text).map_err(|e| AppError::Config(format!("{}: {e}", state_path.display())))?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(AppError::Config(format!("{}: {e}", state_path.display())).into()),
    };
    let verifier = remote.verifier(key.or_else(|| state.as_ref().map(|s| s.key.clone()))).await?;
    let key_text = verifier.key_text();
    loop {
        let (note, checkpoint) = remote.checkpoint(&verifier).await?;
        if let Some(old) = &state {
            let previous = open_checkpoint(&verifier, &old.checkpoint)?;
            if let Err(reason) = consistent(&remote, &previous, &checkpoint).await? {
                println!(
                    "INCONSISTENT LOG / 日志不一致: {reason}\n\n--- earlier checkpoint ---\n{}\n--- new checkpoint ---\n{note}",
                    old.checkpoint
                );
                return Err(failed(reason));
            }
            if checkpoint.size > previous.size {
                println!("checkpoint {} is consistent with {} / 检查点一致", checkpoint.size, previous.size);
            }
        } else {
            println!("first checkpoint seen: size {}", checkpoint.size);
        }
        let new_state = MonitorState { key: key_text.clone(), checkpoint: note };
        write_atomically(state_path, &serde_json::to_string_pretty(&new_state).expect("JSON"))?;
        state = Some(new_state);
        if once {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
    }
}

/// Whether `new` extends `old`: `Err(reason)` inside when it provably does not.
async fn consistent(remote: &Remote, old: &Checkpoint, new: &Checkpoint) -> Result<Result<(), String>, Failure> {
    if new.size < old.size {
        return Ok(Err(format!("the log shrank from {} to {} entries", old.size, new.size)));
    }
    if new.size == old.size {
        return Ok(if new.root == old.root {
            Ok(())
        } else {
            Err(format!("two different trees of size {}", new.size))
        });
    }
    if old.size == 0 {
        return Ok(Ok(()));
    }
    let body = remote.get(&format!("/api/v1/log/proof/consistency?from={}&to={}", old.size, new.size)).await?;
    let proof: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| failed(format!("consistency proof: {e}")))?;
    let hashes: Option<Vec<merkle::Hash>> =
        proof["hashes"].as_array().map(|a| a.iter().filter_map(decode_hash).collect());
    let hashes = hashes.ok_or_else(|| failed("consistency proof without hashes"))?;
    Ok(if merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &hashes) {
        Ok(())
    } else {
        Err(format!("no valid consistency proof from {} to {}: the log was rewritten", old.size, new.size))
    })
}

fn decode_hash(v: &serde_json::Value) -> Option<merkle::Hash> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str()?).ok()?;
    bytes.try_into().ok()
}

fn write_atomically(path: &Path, text: &str) -> Result<(), AppError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| AppError::Config(format!("cannot write {}: {e}", path.display())))
}

async fn audit(database_url: &str, key: Option<String>, log_key: &Path, deployment: &str) -> Result<(), Failure> {
    let verifier = match key {
        Some(k) => NoteVerifier::parse(&k).map_err(|e| AppError::Config(format!("--key: {e}")))?,
        None => {
            if !log_key.exists() {
                return Err(
                    AppError::Config(format!("{} not found: pass --key or --log-key", log_key.display())).into()
                );
            }
            let signing = crate::verify::registry_key::RegistryKey::load_or_create(log_key)
                .map_err(AppError::from)?
                .signing_key()
                .clone();
            crate::transparency::LogSigner::new(deployment, signing).map_err(AppError::from)?.verifier()
        }
    };
    let store = super::open(database_url, false).await?;
    let report = crate::transparency::audit(store.as_ref(), &verifier).await.map_err(AppError::from)?;
    for p in &report.problems {
        println!("problem: {p}");
    }
    let checkpoint =
        report.checkpoint.as_ref().map_or("no checkpoint yet".to_string(), |c| format!("checkpoint {}", c.size));
    if report.problems.is_empty() {
        println!("{} events recomputed; tiles and {checkpoint} match / 审计通过", report.size);
        Ok(())
    } else {
        Err(failed(format!("{} problem(s) in {} events ({checkpoint})", report.problems.len(), report.size)))
    }
}

fn check_proof(path: &Path, key: &str, certificate: Option<&Path>) -> Result<(), Failure> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| AppError::Config(format!("cannot read {}: {e}", p.display())))
    };
    let verifier = NoteVerifier::parse(key).map_err(|e| AppError::Config(format!("--key: {e}")))?;
    let proven =
        crate::tlog::proof::check(&read(path)?, &verifier).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    let (entry, checkpoint) = (&proven.entry, &proven.checkpoint);
    if let Some(cert) = certificate {
        let credential: serde_json::Value =
            serde_json::from_str(&read(cert)?).map_err(|e| AppError::Config(format!("{}: {e}", cert.display())))?;
        let presented = crate::domain::verification::Presented::new(credential);
        let number = presented.parsed.as_ref().map(|p| p.subject.certificate_number.clone()).unwrap_or_default();
        if !crate::publish::event::records_issuance(entry, &number, &presented.digest()) {
            return Err(failed("the logged entry is not this certificate's issuance"));
        }
    }
    println!(
        "entry {} ({}) is in {} at size {} / 已收录于签名日志",
        proven.index, entry["kind"], checkpoint.origin, checkpoint.size
    );
    Ok(())
}

//! Certificate commands: keygen, issue, qr, verify.

use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use rand::Rng;
use serde_json::Value;

use crate::cli::config::{IssueArgs, VerifyArgs};
use crate::crypto::{compact, data_integrity, multikey};
use crate::domain::certificate::{IssuerRef, StatusEntry, TitleSubject, unsigned_credential};
use crate::domain::verification::{HolderClaim, Presented};
use crate::http::problem::AppError;
use crate::verify::registry_key::write_secret;

fn read(path: &Path) -> Result<String, AppError> {
    std::fs::read_to_string(path)
        .map_err(|e| AppError::Config(format!("无法读取 {0} / cannot read {0}: {e}", path.display())))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, contents)
        .map_err(|e| AppError::Config(format!("无法写入 {0} / cannot write {0}: {e}", path.display())))
}

pub fn keygen(output: &Path) -> Result<(), AppError> {
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::rng().random());
    write_secret(output, &multikey::encode_secret(&key))?;
    println!("{}", multikey::encode_public(&key.verifying_key()));
    Ok(())
}

/// Signs the certificate described by `--input` with `--key`.
pub async fn issue(args: &IssueArgs) -> Result<(), AppError> {
    let key = multikey::decode_secret(read(&args.key)?.trim())
        .map_err(|e| AppError::Config(format!("{}: {e}", args.key.display())))?;
    let mut fields: Value = serde_json::from_str(&read(&args.input)?)
        .map_err(|e| AppError::Config(format!("{}: {e}", args.input.display())))?;
    let object = fields.as_object_mut().ok_or_else(|| AppError::Config("the input must be a JSON object".into()))?;
    let issuer = object.remove("issuer").and_then(|v| v.as_str().and_then(IssuerRef::parse)).ok_or_else(|| {
        AppError::Config(
            "the input needs \"issuer\": \"urn:zhicheng:authority:<id>\" or \"urn:zhicheng:committee:<id>\"".into(),
        )
    })?;
    let issuer_name = object.remove("issuerName").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let index = args.status_index.map(Value::from);
    let status = [("revocation", index.clone()), ("suspension", index)];
    // The ID number is sent to the registry once, which answers its keyed digest; only the
    // digest is signed or written.
    if let Some(id) = object.remove("holderIdNumber").and_then(|v| v.as_str().map(str::to_string)) {
        let number = object.get("certificateNumber").and_then(Value::as_str).unwrap_or_default().to_string();
        let token = args.token.as_deref().ok_or_else(|| {
            AppError::Config(
                "holderIdNumber needs --token: the registry computes the keyed digest of an ID number".into(),
            )
        })?;
        let digest = holder_id_digest(&args.registry_url, token, &number, &id).await?;
        object.insert("holderIdDigest".into(), digest.into());
    }
    object.entry("type").or_insert("ProfessionalTitle".into());
    object.entry("formatVersion").or_insert(1.into());
    let subject: TitleSubject = serde_path_to_error::deserialize(fields)
        .map_err(|e| AppError::Config(format!("input field {}: {}", e.path(), e.inner())))?;
    let authority = match &issuer {
        IssuerRef::Authority(a) => a.clone(),
        IssuerRef::Committee(_) => String::new(),
    };
    let entries: Vec<StatusEntry> = status
        .into_iter()
        .filter_map(|(purpose, index)| {
            let index = index?.as_u64()?;
            Some(StatusEntry {
                purpose,
                list_url: format!(
                    "{}/api/v1/status-lists/{authority}.{purpose}",
                    args.registry_url.trim_end_matches('/')
                ),
                index,
            })
        })
        .collect();
    let now = Utc::now();
    let unsigned = unsigned_credential(&subject, &issuer, &issuer_name, now, &entries);
    let public = multikey::encode_public(&key.verifying_key());
    let signed = data_integrity::sign(
        &unsigned,
        &key,
        &format!("did:key:{public}#{public}"),
        &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    write(&args.output, serde_json::to_string_pretty(&signed).expect("JSON").as_bytes())?;
    eprintln!("signed {} → {}", subject.certificate_number, args.output.display());
    if args.publish {
        publish(&args.registry_url, args.token.as_deref().unwrap_or_default(), &signed).await?;
    }
    Ok(())
}

/// Asks the registry for the keyed digest of a holder's ID number.
async fn holder_id_digest(
    registry: &str,
    token: &str,
    certificate_number: &str,
    id_number: &str,
) -> Result<String, AppError> {
    let url = format!("{}/api/v1/admin/holder-id-digests", registry.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "certificate_number": certificate_number, "id_number": id_number }))
        .send()
        .await
        .map_err(|e| AppError::Config(format!("无法连接登记服务 / cannot reach {url}: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["holder_id_digest"].as_str() {
        Some(digest) if status.is_success() => Ok(digest.to_string()),
        _ => Err(AppError::Config(format!(
            "the registry did not digest the ID number ({status}): {}",
            body["detail"].as_str().unwrap_or("").trim()
        ))),
    }
}

/// POSTs a signed certificate to a registry with an issuer token; the registry answers with
/// the failing check if it would not verify.
async fn publish(registry: &str, token: &str, credential: &Value) -> Result<(), AppError> {
    let url = format!("{}/api/v1/admin/certificates", registry.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "credential": credential }))
        .send()
        .await
        .map_err(|e| AppError::Config(format!("无法连接登记服务 / cannot reach {url}: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        eprintln!("published: event {}", body["applied"][0]["event_seq"]);
        Ok(())
    } else {
        Err(AppError::Config(format!(
            "the registry refused the certificate ({status}): {}",
            body["detail"].as_str().unwrap_or("").trim()
        )))
    }
}

/// Revokes, suspends or unsuspends a certificate in the local database, as an issuer of `--authority`.
pub async fn change_status(args: &crate::cli::config::StatusArgs, act: &str) -> Result<(), AppError> {
    use crate::domain::publish::{Actor, CertificateAct, Operation, Role};
    let store = super::open(&args.database.database_url, false).await?;
    let body = CertificateAct { number: args.number.clone(), reason: args.reason.clone(), effective_at: None };
    let op = match act {
        "revoke" => Operation::RevokeCertificate(body),
        "suspend" => Operation::SuspendCertificate(body),
        _ => Operation::UnsuspendCertificate(body),
    };
    let actor = Actor::new(args.authority.clone(), "cli", Role::Issuer);
    store.execute(&actor, &[op], None, None).await.map_err(|e| AppError::from(e).single())?;
    eprintln!("{} {act}d", args.number);
    Ok(())
}

/// The QR code of a certificate's compact form, as a PNG (4 pixels a module, 4-module margin).
/// The certificate's QR code: a link to the registry's verify page carrying the certificate.
pub fn qr(certificate: &Path, output: &Path, registry_url: &str) -> Result<(), AppError> {
    let credential: Value = serde_json::from_str(&read(certificate)?)
        .map_err(|e| AppError::Config(format!("{}: {e}", certificate.display())))?;
    write(output, &qr_png(&compact::url(registry_url, &credential))?)
}

pub fn qr_png(text: &str) -> Result<Vec<u8>, AppError> {
    crate::verify::qr_image::encode_png(text)
        .map_err(|e| AppError::Config(format!("the certificate does not fit in a QR code: {e}")))
}

/// Reads a certificate from a JSON file, a file of QR text, or QR text.
pub fn presented(input: &str) -> Result<Presented, AppError> {
    let text = if Path::new(input).is_file() { read(Path::new(input))? } else { input.to_string() };
    let credential = if text.trim_start().starts_with(compact::PREFIX) {
        compact::decode(&text).map_err(|e| AppError::Config(format!("QR text: {e}")))?
    } else {
        serde_json::from_str(&text)
            .map_err(|e| AppError::Config(format!("{input}: not a certificate JSON file or ZC1: QR text ({e})")))?
    };
    Ok(Presented::new(credential))
}

/// Prints the same answer as POST /api/v1/verify; exits 0 only for a valid certificate.
pub async fn verify(args: VerifyArgs) -> ExitCode {
    match verify_answer(&args).await {
        Ok(answer) => {
            println!("{}", serde_json::to_string_pretty(&answer).expect("JSON"));
            if answer["verdict"] == "valid" { ExitCode::SUCCESS } else { ExitCode::from(2) }
        }
        Err(e) => {
            eprintln!("zhicheng verify: {e}");
            ExitCode::FAILURE
        }
    }
}

pub async fn verify_answer(args: &VerifyArgs) -> Result<Value, AppError> {
    let mut presented = presented(&args.input)?;
    let holder = HolderClaim { name: args.name.clone(), id_number: args.id_number.clone() };
    let (outcome, as_of, log_size) = match &args.bundle {
        Some(path) => {
            let bundle: Value =
                serde_json::from_str(&read(path)?).map_err(|e| AppError::Config(format!("{}: {e}", path.display())))?;
            // A bundle that vouches for its own key proves nothing: anyone can sign one.
            let Some(pinned) = args.registry_key.as_deref() else {
                let signer = crate::verify::offline::open(&bundle, None).map(|r| r.registry_key).unwrap_or_default();
                return Err(AppError::Config(format!(
                    "离线核验须指定信任的登记机构公钥 / offline verification needs --registry-key z6Mk… (the key the registry's operator publishes); this bundle says it was signed by {signer}"
                )));
            };
            let registry = crate::verify::offline::open(&bundle, Some(pinned)).map_err(AppError::Config)?;
            let outcome = registry.verify(&presented, &holder, Utc::now());
            (outcome, registry.content.generated_at, registry.content.log_size)
        }
        None => {
            let store = super::open(&args.database.database_url, false).await?;
            let holder_key = match args.registry_key_file.exists() {
                true => Some(std::sync::Arc::new(
                    crate::verify::registry_key::RegistryKey::load_or_create(&args.registry_key_file)?.holder_id_key(),
                )),
                false => None,
            };
            let verifier = crate::verify::Verifier::new(store.clone(), holder_key);
            let (outcome, _) = verifier.verify(&mut presented, &holder).await?;
            (outcome, Utc::now(), store.log_size().await?)
        }
    };
    Ok(serde_json::json!({
        "verdict": outcome.verdict,
        "checks": outcome.checks,
        "checked_against": {"as_of": as_of, "log_size": log_size},
    }))
}

/// Writes each example as `<name>.json`, `<name>.qr.txt` and `<name>.png`, with a README.
/// Each example as `.json`, its compact text as `.qr.txt`, and its QR code as `.png` — a URL on
/// the registry (`<registry>/v#ZC1:…`) that a phone camera opens on the verify page.
pub fn write_examples(
    dir: &Path,
    examples: &[crate::demo::certificates::Example],
    registry_url: &str,
) -> Result<(), AppError> {
    std::fs::create_dir_all(dir).map_err(|e| AppError::Config(format!("cannot create {}: {e}", dir.display())))?;
    let mut readme = String::from(
        "# 示例证书 / Example certificates\n\nVerify one: `zhicheng verify data/examples/<name>.json` (against the local database),\nor offline: `curl -s http://127.0.0.1:8080/api/v1/bundle > bundle.json && zhicheng verify data/examples/<name>.json --bundle bundle.json --registry-key z6Mk…` (the key `serve` logs at start),\nor open http://127.0.0.1:8080/verify and upload the `.json` or the `.png`; the `.png` is a QR code of a link to the verify page,\nor `curl -s -X POST http://127.0.0.1:8080/api/v1/verify -H 'content-type: application/json' -d \"{\\\"credential\\\": $(cat data/examples/<name>.json)}\"`.\n\n",
    );
    for e in examples {
        write(
            &dir.join(format!("{}.json", e.name)),
            serde_json::to_string_pretty(&e.credential).expect("JSON").as_bytes(),
        )?;
        let text = compact::encode(&e.credential);
        write(&dir.join(format!("{}.qr.txt", e.name)), text.as_bytes())?;
        write(&dir.join(format!("{}.png", e.name)), &qr_png(&compact::url(registry_url, &e.credential))?)?;
        readme.push_str(&format!("- `{}`: {}\n", e.name, e.description));
    }
    write(&dir.join("README.md"), readme.as_bytes())
}

/// Raw Ed25519 verifications of one 64-byte message (the size of eddsa-jcs-2022's hash data)
/// per second, on the calling thread: the baseline `POST /api/v1/verify` is compared with.
pub fn raw_verifications_per_second(seconds: f64) -> f64 {
    use ed25519_dalek::{Signer, Verifier};
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let message = [7u8; 64];
    let signature = key.sign(&message);
    let public = key.verifying_key();
    let started = std::time::Instant::now();
    let mut count = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..256 {
            public.verify(std::hint::black_box(&message), std::hint::black_box(&signature)).expect("valid signature");
        }
        count += 256;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

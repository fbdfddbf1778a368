//! Issuer keys, certificates, and verification.

use axum::Json;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::publish_one;
use super::extract::{Authenticated, JsonBody, idempotency};
use super::params;
use crate::domain::certificate::{IssuerKey, ParsedCertificate, mask_name, parse_credential};
use crate::domain::publish::{CertificateAct, CertificateSubmission, KeyAct, NewKey, Operation};
use crate::domain::verification::{CertificateState, Check, HolderClaim, RegisteredCertificate, Verdict};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{Applied, WriteOutcome};

/// Verification bodies are small; anything larger is refused with 413 before parsing.
pub const MAX_VERIFY_BYTES: usize = 64 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<IssuerKey>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyEnvelope {
    pub key: IssuerKey,
}

/// Registered issuer keys (public).
#[utoipa::path(get, path = "/api/v1/keys", tag = "certificates", responses((status = 200, body = KeyList)))]
pub async fn list_keys(State(state): State<AppState>) -> Result<Json<KeyList>, AppError> {
    Ok(Json(KeyList { keys: state.store.keys().await?.to_vec() }))
}

/// One issuer key.
#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "certificates", params(("id" = String, Path, description = "Key id")),
    responses((status = 200, body = KeyEnvelope), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_key(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<KeyEnvelope>, AppError> {
    let keys = state.store.keys().await?;
    let key = keys.iter().find(|k| k.id == id).cloned().ok_or_else(|| AppError::not_found("key", &id))?;
    Ok(Json(KeyEnvelope { key }))
}

/// Register an issuer's public key (admin role), for the authority itself or a unit it supervises.
#[utoipa::path(post, path = "/api/v1/admin/keys", tag = "admin", request_body = NewKey, security(("bearer" = [])),
    responses((status = 201, body = super::admin::PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn register_key(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewKey>,
) -> Result<Response, AppError> {
    publish_one(&state, &actor, &headers, "POST /api/v1/admin/keys", &body.digest, Operation::RegisterKey(body.value))
        .await
}

/// Retire a key, or mark it compromised, from an instant (admin role).
#[utoipa::path(post, path = "/api/v1/admin/keys/{id}/{act}", tag = "admin", request_body = KeyAct, security(("bearer" = [])),
    params(("id" = String, Path, description = "Key id"), ("act" = String, Path, description = "retire or compromise")),
    responses((status = 201, body = super::admin::PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn act_on_key(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((id, act)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<KeyAct>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    super::admin::target(&mut value.key_id, &id, "key_id")?;
    let op = match act.as_str() {
        "retire" => Operation::RetireKey(value),
        "compromise" => Operation::CompromiseKey(value),
        _ => return Err(AppError::RouteNotFound),
    };
    publish_one(&state, &actor, &headers, &format!("POST /api/v1/admin/keys/{id}/{act}"), &body.digest, op).await
}

/// One signed credential, or several.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum CertificateUpload {
    One(CertificateSubmission),
    Many {
        #[schema(value_type = Vec<Object>)]
        credentials: Vec<serde_json::Value>,
    },
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificatesApplied {
    pub applied: Vec<Applied>,
    pub replayed: bool,
}

/// A holder's ID number, to be digested for the certificate it will appear on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderIdDigestRequest {
    pub certificate_number: String,
    /// The resident ID number (GB 11643): used once to compute the digest, never stored or logged.
    pub id_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolderIdDigest {
    /// `hmac-sha256:<key id>:<digest>`, for the certificate's `holderIdDigest`.
    pub holder_id_digest: String,
}

/// The keyed digest of a holder's ID number (issuer role). Only the registry holds the key, so a
/// certificate carrying the digest gives no offline search a foothold: docs/PRIVACY.md.
#[utoipa::path(post, path = "/api/v1/admin/holder-id-digests", tag = "admin", request_body = HolderIdDigestRequest, security(("bearer" = [])),
    responses((status = 200, body = HolderIdDigest), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn holder_id_digest(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<HolderIdDigestRequest>,
) -> Result<Json<HolderIdDigest>, AppError> {
    may_issue(&actor)?;
    let request = body.value;
    crate::domain::text::check_text("certificate_number", &request.certificate_number).map_err(AppError::Rule)?;
    crate::domain::publish::non_empty("certificate_number", &request.certificate_number).map_err(AppError::Rule)?;
    if !crate::domain::text::is_resident_id_number(&request.id_number) {
        return Err(AppError::Rule(crate::domain::publish::Violation::new(
            crate::domain::publish::ViolationKind::Invalid,
            "invalid_id_number",
            "id_number",
            "不是有效的居民身份证号码（18 位，末位校验码须相符）",
            "not a valid resident ID number (18 characters with a matching check character)",
        )));
    }
    let digest = state.bindings.holder_key.digest(request.certificate_number.trim(), &request.id_number);
    Ok(Json(HolderIdDigest { holder_id_digest: digest }))
}

/// Whether the token's role may issue certificates.
fn may_issue(actor: &crate::domain::publish::Actor) -> Result<(), AppError> {
    let probe = Operation::IssueCertificate(CertificateSubmission { credential: serde_json::Value::Null });
    crate::domain::publish::check_role(actor, &probe).map_err(AppError::Rule)
}

/// Register signed certificates (issuer role). Each must pass every check short of being
/// registered; a batch is all or nothing, and a refusal names the failing check.
#[utoipa::path(post, path = "/api/v1/admin/certificates", tag = "admin", request_body = CertificateUpload, security(("bearer" = [])),
    responses((status = 201, body = CertificatesApplied), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn issue_certificates(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<CertificateUpload>,
) -> Result<Response, AppError> {
    let (ops, single): (Vec<Operation>, bool) = match body.value {
        CertificateUpload::One(c) => (vec![Operation::IssueCertificate(c)], true),
        CertificateUpload::Many { credentials } => (
            credentials
                .into_iter()
                .map(|credential| Operation::IssueCertificate(CertificateSubmission { credential }))
                .collect(),
            false,
        ),
    };
    // The role is checked before anything else, so an empty batch tells a wrong token no less.
    may_issue(&actor)?;
    if ops.is_empty() {
        return Err(AppError::Rule(crate::domain::publish::Violation::new(
            crate::domain::publish::ViolationKind::Invalid,
            "empty_batch",
            "credentials",
            "至少提交一张证书",
            "send at least one certificate",
        )));
    }
    let idem = idempotency(&headers, "POST /api/v1/admin/certificates", &body.digest)?;
    let outcome = state
        .execute(&actor, &ops, idem.as_ref())
        .await
        .map_err(|e| if single { AppError::from(e).single() } else { e.into() })?;
    let (applied, replayed) = match outcome {
        WriteOutcome::Applied(a) => (a, false),
        WriteOutcome::Replayed(a) => (a, true),
    };
    tracing::info!(certificates = applied.len(), authority.id = %actor.authority_id, credential = %actor.credential, replayed, "certificates registered");
    let status = if replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(CertificatesApplied { applied, replayed })).into_response())
}

/// Revoke (final), suspend or unsuspend a certificate, with a reason (issuer role).
#[utoipa::path(post, path = "/api/v1/admin/certificates/{number}/{act}", tag = "admin", request_body = CertificateAct, security(("bearer" = [])),
    params(("number" = String, Path, description = "Certificate number"), ("act" = String, Path, description = "revoke, suspend or unsuspend")),
    responses((status = 201, body = super::admin::PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn act_on_certificate(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((number, act)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<CertificateAct>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    super::admin::target(&mut value.number, &number, "number")?;
    let op = match act.as_str() {
        "revoke" => Operation::RevokeCertificate(value),
        "suspend" => Operation::SuspendCertificate(value),
        "unsuspend" => Operation::UnsuspendCertificate(value),
        _ => return Err(AppError::RouteNotFound),
    };
    publish_one(&state, &actor, &headers, &format!("POST /api/v1/admin/certificates/{number}/{act}"), &body.digest, op)
        .await
}

/// What to verify: a credential, or a certificate number with the holder's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// A signed certificate (W3C VC with an eddsa-jcs-2022 proof).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credential: Option<serde_json::Map<String, serde_json::Value>>,
    /// The text of a certificate's QR code (`ZC1:…`).
    #[serde(default)]
    pub qr: Option<String>,
    #[serde(default)]
    pub certificate_number: Option<String>,
    /// The holder's name: required with `certificate_number`, optional with a credential.
    #[serde(default)]
    pub name: Option<String>,
    /// Optional: the holder's resident ID number, checked against the certificate's digest; never stored or logged.
    #[serde(default)]
    pub id_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedAgainst {
    pub as_of: chrono::DateTime<Utc>,
    /// Events in the registry's log when the answer was computed.
    pub log_size: i64,
    /// The newest signed checkpoint of the transparency log (C2SP signed note) when the answer
    /// was computed. Events past its size (at most a second's worth) are in the next one.
    pub checkpoint: Option<String>,
}

impl CheckedAgainst {
    pub async fn now(state: &AppState) -> Result<CheckedAgainst, AppError> {
        Ok(CheckedAgainst {
            as_of: Utc::now(),
            log_size: state.store.log_size().await?,
            checkpoint: state.store.latest_checkpoint().await?.map(|c| c.note),
        })
    }
}

/// A certificate summary safe to show: the name masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateSummary {
    pub certificate_number: String,
    /// Masked, e.g. 张*三.
    pub holder: String,
    pub title_name: String,
    pub series: String,
    pub level: crate::domain::catalog::Level,
    /// The evaluating committee's registry id.
    pub committee_id: String,
    pub committee_name: String,
    pub evaluation_date: crate::domain::Date,
    pub status: Option<CertificateState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub certificate: Option<CertificateSummary>,
    pub checked_against: CheckedAgainst,
}

fn summary(
    parsed: Option<&ParsedCertificate>,
    registered: Option<&RegisteredCertificate>,
) -> Option<CertificateSummary> {
    let s = &parsed?.subject;
    Some(CertificateSummary {
        certificate_number: s.certificate_number.clone(),
        holder: mask_name(&s.holder_name),
        title_name: s.title_name.clone(),
        series: s.series.clone(),
        level: s.level,
        committee_id: s.committee_id.clone(),
        committee_name: s.committee_name.clone(),
        evaluation_date: s.evaluation_date,
        status: registered.map(|r| r.state.clone()),
    })
}

/// Verify a certificate: a signed file, or a number and a name. Every step of "what verified
/// means" is reported with a stable code; a wrong name looks exactly like an unknown number.
#[utoipa::path(post, path = "/api/v1/verify", tag = "certificates", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse),
        (status = 429, description = "Too many verifications from this address; `Retry-After` says when to retry", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn verify_certificate(
    State(state): State<AppState>,
    body: JsonBody<VerifyRequest, MAX_VERIFY_BYTES>,
) -> Result<Json<VerifyResponse>, AppError> {
    let request = body.value;
    let holder = HolderClaim { name: request.name.clone(), id_number: request.id_number.clone() };
    let credential = match (request.credential, request.qr, request.certificate_number) {
        (Some(credential), None, None) => serde_json::Value::Object(credential),
        (None, Some(qr), None) => crate::crypto::compact::decode(&qr).map_err(|e| {
            AppError::invalid(
                "qr",
                "malformed_qr",
                format!("二维码内容无法解析：{e}"),
                format!("the QR text cannot be read: {e}"),
            )
        })?,
        (None, None, Some(number)) => {
            let name = params::required("name", &request.name)?.to_string();
            return verify_by_number(&state, &number, &name, &holder).await.map(Json);
        }
        _ => {
            return Err(AppError::invalid(
                "credential",
                "one_of",
                "请只提供 credential、qr，或 certificate_number 与 name 之一",
                "send exactly one of credential, qr, or certificate_number with name",
            ));
        }
    };
    verify_presented(&state, credential, &holder).await.map(Json)
}

/// The answer for a presented credential (a file, or decoded from a QR code).
pub async fn verify_presented(
    state: &AppState,
    credential: serde_json::Value,
    holder: &HolderClaim,
) -> Result<VerifyResponse, AppError> {
    let verified = check_presented(state, credential, holder).await?;
    verified.answer(state).await
}

/// The answer for a certificate number and its holder's name, in the same time whether the
/// number or the name was wrong.
pub async fn verify_by_number(
    state: &AppState,
    number: &str,
    name: &str,
    holder: &HolderClaim,
) -> Result<VerifyResponse, AppError> {
    let verified = check_by_number(state, number, name, holder).await?;
    verified.answer(state).await
}

/// A verdict, its checks and the certificate they were about: an answer without the log state
/// it was checked against (bulk verification states that once for all its answers).
pub struct Verified {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub certificate: Option<CertificateSummary>,
}

impl Verified {
    async fn answer(self, state: &AppState) -> Result<VerifyResponse, AppError> {
        Ok(VerifyResponse {
            verdict: self.verdict,
            checks: self.checks,
            certificate: self.certificate,
            checked_against: CheckedAgainst::now(state).await?,
        })
    }
}

/// [`verify_presented`] without the log state.
pub async fn check_presented(
    state: &AppState,
    credential: serde_json::Value,
    holder: &HolderClaim,
) -> Result<Verified, AppError> {
    check(state, &mut state.verifier.presented(credential), holder).await
}

/// [`verify_by_number`] without the log state.
pub async fn check_by_number(
    state: &AppState,
    number: &str,
    name: &str,
    holder: &HolderClaim,
) -> Result<Verified, AppError> {
    in_constant_time(state.name_check_floor, verify_registered(state, number.trim(), name, holder)).await
}

/// Verifies a credential already parsed (and perhaps with its signature already checked).
pub async fn check(
    state: &AppState,
    presented: &mut crate::domain::verification::Presented,
    holder: &HolderClaim,
) -> Result<Verified, AppError> {
    let (outcome, registered) = state.verifier.verify(presented, holder).await?;
    tracing::debug!(verdict = ?outcome.verdict, "certificate verified");
    Ok(Verified {
        certificate: summary(presented.parsed.as_ref().ok(), registered.as_ref()),
        verdict: outcome.verdict,
        checks: outcome.checks,
    })
}

/// Verifies the registered certificate numbered `number` when `name` is its holder's; otherwise
/// `not_found`, whichever of the two was wrong.
async fn verify_registered(
    state: &AppState,
    number: &str,
    name: &str,
    holder: &HolderClaim,
) -> Result<Verified, AppError> {
    match state.store.certificate(number).await? {
        Some((registered, credential)) if same_name(&registered.holder_name, name) => {
            check(state, &mut state.verifier.presented(credential), holder).await
        }
        _ => Ok(Verified { verdict: Verdict::NotFound, checks: vec![], certificate: None }),
    }
}

/// A certificate number and the holder's full name. They travel in the body, never in a URL, so
/// no proxy or access log records whose title was looked up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// Certificate number.
    pub number: String,
    /// The holder's full name.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub certificate: CertificateSummary,
}

/// Runs `work`, then waits out the rest of `floor` (sleeping costs no CPU).
async fn in_constant_time<T>(floor: std::time::Duration, work: impl Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + floor;
    let answer = work.await;
    tokio::time::sleep_until(deadline).await;
    answer
}

/// Whether `claimed` is the registered name, comparing every byte whatever the first difference.
fn same_name(registered: &str, claimed: &str) -> bool {
    let (a, b) = (registered.as_bytes(), claimed.trim().as_bytes());
    let mut differ = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        differ |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    differ == 0
}

/// Look a certificate up by number and holder name: a masked summary and its status. An
/// unknown number and a wrong name get the same 404, in the same time.
#[utoipa::path(post, path = "/api/v1/certificates/lookup", tag = "certificates", request_body = LookupRequest,
    responses((status = 200, body = LookupResponse), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address; `Retry-After` says when to retry", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn lookup(
    State(state): State<AppState>,
    body: JsonBody<LookupRequest>,
) -> Result<Json<LookupResponse>, AppError> {
    let request = body.value;
    in_constant_time(state.name_check_floor, async {
        let not_found = || AppError::not_found("certificate", "(number, name)");
        let (registered, credential) = state.store.certificate(request.number.trim()).await?.ok_or_else(not_found)?;
        if !same_name(&registered.holder_name, &request.name) {
            return Err(not_found());
        }
        // A lookup shows the registered certificate: no proof to check, only its subject to read.
        let certificate = summary(parse_credential(&credential).ok().as_ref(), Some(&registered))
            .ok_or_else(|| AppError::Internal("a registered certificate no longer parses".into()))?;
        Ok(Json(LookupResponse { certificate }))
    })
    .await
}

/// The W3C Bitstring Status List of one issuing authority and purpose (`<authority>.revocation`
/// or `<authority>.suspension`), signed by the registry; re-signed the moment a title changes.
#[utoipa::path(get, path = "/api/v1/status-lists/{id}", tag = "certificates",
    params(("id" = String, Path, description = "`<authority id>.revocation` or `<authority id>.suspension`")),
    responses((status = 200, description = "BitstringStatusListCredential", body = Object), (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn status_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    use axum::http::{HeaderValue, header};
    let (authority, purpose) = id
        .rsplit_once('.')
        .filter(|(_, p)| matches!(*p, "revocation" | "suspension"))
        .ok_or_else(|| AppError::not_found("status list", &id))?;
    if state.store.authority_graph().await?.get(authority).is_none() {
        return Err(AppError::not_found("status list", &id));
    }
    let set: Vec<u64> = state
        .store
        .certificate_states(Some(authority))
        .await?
        .into_iter()
        .filter_map(|c| match (&c.state, purpose) {
            (CertificateState::Revoked { .. }, "revocation") => c.revocation_index,
            (CertificateState::Suspended { .. }, "suspension") => c.suspension_index,
            _ => None,
        })
        .filter_map(|i| u64::try_from(i).ok())
        .collect();
    let encoded = crate::crypto::status_list::encode(&set);
    // A weak ETag: it names the list's content; nodes sign that content at different instants.
    let etag =
        format!("W/\"{}\"", &hex::encode(crate::crypto::sha256(format!("{purpose}:{encoded}").as_bytes()))[..32]);
    let cache = HeaderValue::from_static("public, max-age=60");
    let matches = |tag: &str| tag.trim().trim_start_matches("W/") == etag.trim_start_matches("W/");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(matches)) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
        response.headers_mut().insert(header::CACHE_CONTROL, cache);
        return Ok(response);
    }
    // Signed at most once per log size, dated by the log: every node serves the same bytes for
    // the same log size, and an anonymous GET signs nothing unless the registry changed.
    let size = state.store.log_size().await?;
    let body = match state.status_lists.get(&id).filter(|(kept, at, _)| *kept == etag && *at == size) {
        Some((_, _, body)) => body,
        None => {
            let url = format!("{}/api/v1/status-lists/{id}", state.public_url);
            let now = crate::store::log_time(state.store.as_ref(), size)
                .await?
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let document = serde_json::json!({
                "@context": [crate::domain::certificate::VC_CONTEXT],
                "id": url,
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": "urn:zhicheng:registry",
                "validFrom": now,
                "credentialSubject": {"id": format!("{url}#list"), "type": "BitstringStatusList", "statusPurpose": purpose, "encodedList": encoded},
            });
            let signed = crate::crypto::data_integrity::sign(
                &document,
                state.registry.signing_key(),
                &state.registry.verification_method(),
                &now,
            )
            .map_err(|e| AppError::Internal(e.to_string()))?;
            let body =
                axum::body::Bytes::from(serde_json::to_vec(&signed).map_err(|e| AppError::Internal(e.to_string()))?);
            state.status_lists.insert(id.clone(), (etag.clone(), size, body.clone()));
            body
        }
    };
    let mut response = ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    Ok(response)
}

/// The registry's own public key: what signs its status lists, offline bundles, export
/// manifests and webhooks. Every node of one registry serves the same key.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryPublicKey {
    /// Multikey (`z6Mk…`).
    pub multikey: String,
    /// The `did:key` verification method the registry's signatures name.
    pub verification_method: String,
}

/// The registry's signing key, for verifiers to pin (`zhicheng verify --registry-key`).
#[utoipa::path(get, path = "/api/v1/registry/key", tag = "certificates",
    responses((status = 200, body = RegistryPublicKey)))]
pub async fn registry_key(State(state): State<AppState>) -> Response {
    let key = RegistryPublicKey {
        multikey: state.registry.public.clone(),
        verification_method: state.registry.verification_method(),
    };
    use axum::http::{HeaderValue, header};
    ([(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"))], Json(key)).into_response()
}

/// The signed registry bundle for offline verification (`zhicheng verify --bundle`):
/// authorities, delegations, committees with authorizations and sanctions, issuer keys, and
/// every certificate's digest and state — no holder names.
#[utoipa::path(get, path = "/api/v1/bundle", tag = "certificates", responses((status = 200, description = "The bundle, a credential signed by the registry", body = Object)))]
pub async fn bundle(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    use axum::http::{HeaderValue, header};
    // Built and signed once per log size: every change to what a bundle holds is an event, so
    // until the log grows every request gets the same bytes (one build at a time).
    let size = state.store.log_size().await?;
    let etag = format!("W/\"bundle-{size}\"");
    let cache = HeaderValue::from_static("public, max-age=60");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
        response.headers_mut().insert(header::CACHE_CONTROL, cache);
        return Ok(response);
    }
    let mut kept = state.bundle.lock().await;
    let body = match kept.as_ref().filter(|(at, _)| *at >= size) {
        Some((_, body)) => body.clone(),
        None => {
            let content = crate::verify::offline::content(state.store.as_ref()).await?;
            let signed = crate::verify::offline::sign(&content, &state.registry, &state.public_url);
            let body =
                axum::body::Bytes::from(serde_json::to_vec(&signed).map_err(|e| AppError::Internal(e.to_string()))?);
            *kept = Some((size, body.clone()));
            body
        }
    };
    drop(kept);
    let mut response = ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    Ok(response)
}

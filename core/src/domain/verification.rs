//! "What verified means" (docs/DOMAIN.md): nine steps, each with a stable code and a message
//! in Chinese and English. Pure: the caller gathers the registry's evidence (from the
//! database, or offline from a signed bundle) and both get the same answer from here.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authority::AuthorityGraph;
use super::certificate::{IssuerKey, IssuerRef, ParsedCertificate, parse_credential};
use super::committee::CommitteeRecord;
use super::coverage::{CoverageQuery, authorization_coverage, sanction_reasons};
use super::holder_id::{self, HolderIdCheck, HolderIdKey};
use super::session::{self, EvaluationSession};
use super::supervisor::ParsedSupervisor;
use crate::crypto::data_integrity::{self, Proof, ProofError, SignatureCheck};
use crate::crypto::{jcs, multikey, sha256};
use ed25519_dalek::VerifyingKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Format,
    Signature,
    Key,
    Issuer,
    Authority,
    Sanctions,
    Session,
    Status,
    Registry,
    Holder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub step: Step,
    pub status: CheckStatus,
    // Borrowed when fixed text (most are): a verification writes ten checks, and these were
    // thirty allocations of every bulk line's (docs/PERFORMANCE.md).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Cow<'static, str>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message_zh: Cow<'static, str>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message_en: Cow<'static, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    Revoked,
    Suspended,
    NotFound,
}

/// A certificate's current state in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CertificateState {
    Active,
    Revoked { since: DateTime<Utc>, reason: String },
    Suspended { since: DateTime<Utc>, reason: String },
}

impl CertificateState {
    /// The state after a history of (action, reason, effective time) changes, oldest first.
    pub fn after<'a>(changes: impl IntoIterator<Item = (&'a str, &'a str, DateTime<Utc>)>) -> CertificateState {
        changes
            .into_iter()
            .fold(CertificateState::Active, |state, (action, reason, since)| state.then(action, reason, since))
    }

    /// The state after one more change: revocation is final.
    pub fn then(self, action: &str, reason: &str, since: DateTime<Utc>) -> CertificateState {
        match (self, action) {
            (revoked @ CertificateState::Revoked { .. }, _) => revoked,
            (_, "revoked") => CertificateState::Revoked { since, reason: reason.to_string() },
            (_, "suspended") => CertificateState::Suspended { since, reason: reason.to_string() },
            (_, _) => CertificateState::Active,
        }
    }
}

/// What the registry holds about a certificate number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredCertificate {
    pub number: String,
    /// SHA-256 (hex) of the registered credential's JCS form, proof included.
    pub credential_sha256: String,
    pub holder_name: String,
    pub state: CertificateState,
    pub logged_at: DateTime<Utc>,
}

/// A presented credential, parsed as far as it goes without the registry.
pub struct Presented {
    pub credential: Value,
    pub parsed: Result<ParsedCertificate, super::certificate::FormatError>,
    pub proof: Result<Proof, ProofError>,
    /// The key named by the proof, when it is a well-formed Ed25519 `did:key`.
    signer: Option<VerifyingKey>,
    /// The signature check's result when it was made elsewhere (the server batches them).
    signature_valid: Option<bool>,
}

impl Presented {
    pub fn new(credential: Value) -> Presented {
        Presented::with_key_decoder(credential, |key| multikey::decode_public(key).ok())
    }

    /// As `new`, with the signer's Multikey decoded by `decode`: the server passes a cache, since
    /// decoding a point costs about a tenth of a signature check.
    pub fn with_key_decoder(credential: Value, decode: impl FnOnce(&str) -> Option<VerifyingKey>) -> Presented {
        let proof = data_integrity::parse(&credential);
        let signer = proof.as_ref().ok().and_then(Proof::did_key).and_then(decode);
        Presented { parsed: parse_credential(&credential), proof, credential, signer, signature_valid: None }
    }

    /// The signature check to make, when the proof is well-formed and names a usable key.
    pub fn signature_check(&self) -> Option<SignatureCheck> {
        Some(self.proof.as_ref().ok()?.check_with(self.signer?))
    }

    /// The result of `signature_check()` when it was made elsewhere.
    pub fn signature_valid(&self) -> Option<bool> {
        self.signature_valid
    }

    /// Records the result of `signature_check()` made elsewhere, so `verify` does not redo it.
    pub fn set_signature_valid(&mut self, valid: bool) {
        self.signature_valid = Some(valid);
    }

    /// The Multikey named by the proof's `did:key` verification method.
    pub fn public_key(&self) -> Option<&str> {
        self.proof.as_ref().ok()?.did_key()
    }

    pub fn certificate_number(&self) -> Option<&str> {
        self.parsed.as_ref().ok().map(|p| p.subject.certificate_number.as_str())
    }

    pub fn committee_id(&self) -> Option<&str> {
        self.parsed.as_ref().ok().map(|p| p.subject.committee_id.as_str())
    }

    /// The registry's digest of the credential: SHA-256 of its JCS form.
    pub fn digest(&self) -> String {
        match &self.proof {
            Ok(proof) => hex::encode(proof.secured_sha256),
            Err(_) => hex::encode(sha256(&jcs(&self.credential))),
        }
    }
}

/// What the registry knows that bears on one credential.
pub struct Evidence<'a> {
    pub key: Option<&'a IssuerKey>,
    pub committee: Option<&'a CommitteeRecord>,
    pub graph: &'a AuthorityGraph,
    pub registered: Option<&'a RegisteredCertificate>,
    /// The registry's holder ID key: only the registry itself can check an ID number.
    pub holder_key: Option<&'a HolderIdKey>,
    /// The evaluation session the certificate names, or the committee's on its evaluation date.
    pub session: SessionEvidence<'a>,
    pub now: DateTime<Utc>,
}

/// What the verifier found of the certificate's evaluation session.
#[derive(Debug, Clone, Copy)]
pub enum SessionEvidence<'a> {
    /// Not looked for: none was needed, or the verifier holds no sessions (an offline bundle).
    NotLooked,
    Found(&'a EvaluationSession),
    NotFound,
}

/// The session step: a certificate naming a session, or evaluated on or after
/// [`session::required_from`], must rest on a session registered before it met, for this
/// committee, date, series and level.
fn session_check(parsed: &ParsedCertificate, evidence: &Evidence<'_>) -> Check {
    let s = &parsed.subject;
    if !session::needed(s) {
        return check(
            Step::Session,
            CheckStatus::Skip,
            "not_required",
            format!("评审日早于 {}，不要求登记评审会议", session::required_from()),
            format!("evaluated before {}: no registered session is required", session::required_from()),
        );
    }
    match evidence.session {
        SessionEvidence::NotLooked => skip(
            Step::Session,
            "未核对评审会议记录（该离线数据包早于会议登记，不含会议记录）",
            "the session was not checked (this offline bundle predates session registration and holds none)",
        ),
        SessionEvidence::NotFound => fail(
            Step::Session,
            "session_unregistered",
            format!("评委会在评审日 {} 没有登记评审会议", s.evaluation_date),
            format!("the committee registered no evaluation session for {}", s.evaluation_date),
        ),
        SessionEvidence::Found(found) => match session::mismatch(found, s) {
            Some((code, zh, en)) => fail(Step::Session, code, zh, en),
            None => pass(
                Step::Session,
                format!("评审会议 {} 于会前登记", found.id),
                format!("evaluation session {} was registered before it met", found.id),
            ),
        },
    }
}

/// Optional claims about the holder to check against the certificate.
#[derive(Debug, Clone, Default)]
pub struct HolderClaim {
    pub name: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

type Text = Cow<'static, str>;

fn check(step: Step, status: CheckStatus, code: impl Into<Text>, zh: impl Into<Text>, en: impl Into<Text>) -> Check {
    Check { step, status, code: code.into(), message_zh: zh.into(), message_en: en.into() }
}

fn pass(step: Step, zh: impl Into<Text>, en: impl Into<Text>) -> Check {
    check(step, CheckStatus::Pass, "ok", zh, en)
}

fn fail(step: Step, code: impl Into<Text>, zh: impl Into<Text>, en: impl Into<Text>) -> Check {
    check(step, CheckStatus::Fail, code, zh, en)
}

fn skip(step: Step, zh: &'static str, en: &'static str) -> Check {
    check(step, CheckStatus::Skip, "skipped", zh, en)
}

const ALL_STEPS: [Step; 10] = [
    Step::Format,
    Step::Signature,
    Step::Key,
    Step::Issuer,
    Step::Authority,
    Step::Sanctions,
    Step::Session,
    Step::Status,
    Step::Registry,
    Step::Holder,
];

/// Checks every step. After a failed format or signature nothing else can be trusted, so the
/// later steps are skipped; otherwise every step is reported, so a reader sees all that is wrong.
pub fn verify(presented: &Presented, evidence: &Evidence<'_>, holder: &HolderClaim) -> Outcome {
    let mut checks = Vec::with_capacity(9);
    let parsed = match &presented.parsed {
        Ok(p) => {
            checks.push(pass(Step::Format, "格式正确", "well-formed certificate"));
            p
        }
        Err(e) => {
            checks.push(fail(
                Step::Format,
                "malformed",
                format!("证书格式错误：{}（{}）", e.field, e.message),
                format!("malformed certificate: {}: {}", e.field, e.message),
            ));
            return finish(checks);
        }
    };
    if !signature_and_key(presented, &parsed.issuer, evidence, &mut checks) {
        return finish(checks);
    }
    checks.push(issuer_check(parsed, evidence));
    checks.extend(committee_checks(parsed, evidence));
    checks.push(session_check(parsed, evidence));
    checks.push(status_check(evidence));
    checks.push(registry_check(presented, evidence));
    checks.push(holder_check(parsed, holder, evidence.holder_key));
    finish(checks)
}

/// The signature step, then the key step for `issuer`; `false` when the signature failed, after
/// which nothing can be trusted.
fn signature_and_key(
    presented: &Presented,
    issuer: &IssuerRef,
    evidence: &Evidence<'_>,
    checks: &mut Vec<Check>,
) -> bool {
    let signature = signature_step(presented);
    let signed = signature.status == CheckStatus::Pass;
    checks.push(signature);
    if signed {
        let proof = presented.proof.as_ref().expect("the signature passed");
        checks.push(key_check(issuer, proof, evidence));
    }
    signed
}

/// A supervisor credential's checks, in the same ten steps: its signature and key as for a
/// certificate; the issuing authority's jurisdiction must contain the credential's; the
/// period must include now; status and registry from the registered copy; the holder's name
/// when one is given. Committee, sanction and session steps do not apply.
pub fn verify_supervisor(
    presented: &Presented,
    parsed: &ParsedSupervisor,
    evidence: &Evidence<'_>,
    holder: &HolderClaim,
) -> Outcome {
    let mut checks = vec![pass(Step::Format, "监管凭证格式正确", "well-formed supervisor credential")];
    if !signature_and_key(presented, &parsed.issuer, evidence, &mut checks) {
        return finish(checks);
    }
    checks.push(supervisor_issuer_check(parsed, evidence.graph));
    checks.push(supervisor_period_check(parsed, evidence.now));
    let not_applicable =
        |step| check(step, CheckStatus::Skip, "not_applicable", "监管凭证不适用", "not for a supervisor credential");
    checks.push(not_applicable(Step::Sanctions));
    checks.push(not_applicable(Step::Session));
    checks.push(status_check(evidence));
    checks.push(registry_check(presented, evidence));
    checks.push(match &holder.name {
        None => skip(Step::Holder, "未提供持证人信息", "no holder details were presented"),
        Some(name) if name.trim() != parsed.subject.holder_name => {
            fail(Step::Holder, "holder_name_mismatch", "持证人姓名不符", "the holder's name does not match")
        }
        Some(_) => pass(Step::Holder, "持证人信息相符", "the holder details match"),
    });
    finish(checks)
}

/// The answer for a credential that says it is a supervisor credential but is not a well-formed one.
pub fn malformed_supervisor(e: &super::certificate::FormatError) -> Outcome {
    finish(vec![fail(
        Step::Format,
        "malformed",
        format!("监管凭证格式错误：{}（{}）", e.field, e.message),
        format!("malformed supervisor credential: {}: {}", e.field, e.message),
    )])
}

fn supervisor_issuer_check(parsed: &ParsedSupervisor, graph: &AuthorityGraph) -> Check {
    let IssuerRef::Authority(id) = &parsed.issuer else {
        return fail(Step::Issuer, "not_an_authority", "监管凭证应由人社部门签发", "only an HR authority issues it");
    };
    match graph.get(id) {
        None => fail(
            Step::Issuer,
            "unknown_authority",
            "签发部门不在登记中",
            "the issuing authority is not in the registry",
        ),
        Some(a) if !super::catalog::region_contains(&a.region, &parsed.subject.jurisdiction) => fail(
            Step::Issuer,
            "jurisdiction_not_issuers",
            format!("凭证的监管地域 {} 超出签发部门的辖区", parsed.subject.jurisdiction),
            format!("the jurisdiction {} lies outside the issuing authority's", parsed.subject.jurisdiction),
        ),
        Some(a) => pass(
            Step::Issuer,
            format!("由{}签发，辖区相符", a.name),
            format!("issued by {} within its jurisdiction", a.name),
        ),
    }
}

fn supervisor_period_check(parsed: &ParsedSupervisor, now: DateTime<Utc>) -> Check {
    if now < parsed.valid_from {
        fail(Step::Authority, "supervisor_not_yet_valid", "监管凭证尚未生效", "the credential is not valid yet")
    } else if now > parsed.valid_until {
        fail(
            Step::Authority,
            "supervisor_expired",
            format!("监管凭证已于{}到期", parsed.valid_until),
            format!("the credential expired at {}", parsed.valid_until),
        )
    } else {
        pass(
            Step::Authority,
            format!("监管凭证在有效期内（至{}）", parsed.valid_until),
            format!("valid until {}", parsed.valid_until),
        )
    }
}

fn finish(mut checks: Vec<Check>) -> Outcome {
    for step in ALL_STEPS.iter().skip(checks.len()) {
        checks.push(skip(*step, "前序检查未通过，未检查", "not checked: an earlier step failed"));
    }
    let failed = |step: Step| checks.iter().any(|c| c.step == step && c.status == CheckStatus::Fail);
    let other_failure = checks.iter().any(|c| c.step != Step::Status && c.status == CheckStatus::Fail);
    let status_code = checks.iter().find(|c| c.step == Step::Status).map(|c| c.code.as_ref());
    let verdict = if other_failure {
        Verdict::Invalid
    } else if failed(Step::Status) && status_code == Some("revoked") {
        Verdict::Revoked
    } else if failed(Step::Status) {
        Verdict::Suspended
    } else {
        Verdict::Valid
    };
    Outcome { verdict, checks }
}

fn signature_step(presented: &Presented) -> Check {
    let proof = match &presented.proof {
        Ok(p) => p,
        Err(e) => {
            return fail(
                Step::Signature,
                e.code(),
                format!("签名无法验证：{e}"),
                format!("the signature cannot be checked: {e}"),
            );
        }
    };
    let Some(key) = &presented.signer else {
        return fail(
            Step::Signature,
            "unknown_verification_method",
            "签名所用密钥无法识别（应为 did:key Ed25519 密钥）",
            "the verification method is not a did:key Ed25519 key",
        );
    };
    if presented.signature_valid.unwrap_or_else(|| proof.verify(key).is_ok()) {
        pass(Step::Signature, "签名有效", "the Ed25519 signature is valid")
    } else {
        fail(
            Step::Signature,
            "bad_signature",
            "签名无效：证书内容被篡改或伪造",
            "invalid signature: the certificate was altered or forged",
        )
    }
}

/// Clock skew tolerated between an issuer's clock and the registry's.
const SKEW: i64 = 5;

fn key_check(issuer: &IssuerRef, proof: &Proof, evidence: &Evidence<'_>) -> Check {
    let Some(key) = evidence.key else {
        return fail(Step::Key, "key_unregistered", "签名密钥未在登记中注册", "the signing key is not registered");
    };
    if key.owner != *issuer {
        return fail(
            Step::Key,
            "key_not_issuers",
            "签名密钥不属于证书的签发机构",
            "the signing key is not registered to this issuer",
        );
    }
    let Ok(signed_at) = DateTime::parse_from_rfc3339(&proof.created).map(|t| t.with_timezone(&Utc)) else {
        return fail(Step::Key, "malformed_created", "签名时间格式错误", "the proof's created time is not RFC 3339");
    };
    if signed_at > evidence.now + Duration::minutes(SKEW) {
        return fail(
            Step::Key,
            "signed_in_future",
            "签名时间晚于当前时间",
            "the signature claims a time in the future",
        );
    }
    // A backdated `created` cannot hide use after compromise when the registry logged the certificate later.
    let used_at = evidence.registered.map_or(signed_at, |r| r.logged_at.max(signed_at));
    if let Some(at) = key.compromised_at
        && used_at >= at
    {
        return fail(
            Step::Key,
            "key_compromised",
            format!("签名密钥已于{at}泄露，此后的签名无效"),
            format!("the key was compromised at {at}; signatures from then on are worthless"),
        );
    }
    if signed_at < key.valid_from {
        return fail(Step::Key, "key_not_yet_valid", "签名时密钥尚未生效", "the key was not yet valid when it signed");
    }
    if key.valid_until.is_some_and(|u| signed_at > u) {
        return fail(Step::Key, "key_expired", "签名时密钥已过期", "the key had expired when it signed");
    }
    if key.retired_at.is_some_and(|r| signed_at > r) {
        return fail(Step::Key, "key_retired", "签名时密钥已停用", "the key had been retired when it signed");
    }
    pass(
        Step::Key,
        format!("签名密钥 {} 已注册且签名时有效", key.id),
        format!("key {} is registered to the issuer and was valid when it signed", key.id),
    )
}

fn issuer_check(parsed: &ParsedCertificate, evidence: &Evidence<'_>) -> Check {
    let Some(record) = evidence.committee else {
        return fail(
            Step::Issuer,
            "unknown_committee",
            "证书所列评委会不在登记中",
            format!("the committee {} is not in the registry", parsed.subject.committee_id),
        );
    };
    let allowed = match &parsed.issuer {
        IssuerRef::Authority(a) => evidence.graph.is_self_or_ancestor(a, &record.committee.authority_id),
        IssuerRef::Committee(c) => *c == record.committee.id,
    };
    if allowed {
        pass(Step::Issuer, "签发机构可为该评委会签发证书", "the issuer may issue for this committee")
    } else {
        fail(
            Step::Issuer,
            "issuer_not_for_committee",
            "签发机构无权为该评委会签发证书",
            "the issuer may not issue certificates for this committee",
        )
    }
}

fn committee_checks(parsed: &ParsedCertificate, evidence: &Evidence<'_>) -> [Check; 2] {
    let Some(record) = evidence.committee else {
        let s = skip(Step::Authority, "评委会不在登记中，无法检查", "the committee is not in the registry");
        return [s, skip(Step::Sanctions, "评委会不在登记中，无法检查", "the committee is not in the registry")];
    };
    let s = &parsed.subject;
    let query = CoverageQuery {
        series: &s.series,
        specialty: s.specialty.as_deref(),
        level: s.level,
        region: Some(&s.applicant_region),
        own_staff: s.own_staff,
        on: s.evaluation_date,
    };
    let answer = authorization_coverage(record, evidence.graph, &query);
    let authority = match answer.reasons.first() {
        None => {
            let a = answer.authorization.expect("a covering authorization");
            pass(
                Step::Authority,
                format!("评审日{}时评委会持有有效评审权限（{}）", s.evaluation_date, a.document_number),
                format!("on {} the committee was authorized for this ({})", s.evaluation_date, a.document_number),
            )
        }
        Some(r) => fail(Step::Authority, r.code.clone(), r.message_zh.clone(), r.message_en.clone()),
    };
    let sanctions = match sanction_reasons(&record.sanctions, s.evaluation_date).first() {
        None => pass(
            Step::Sanctions,
            "评审日无暂停或收回评审权限的处理",
            "no suspension or withdrawal voided the evaluation date",
        ),
        Some(r) => fail(Step::Sanctions, r.code.clone(), r.message_zh.clone(), r.message_en.clone()),
    };
    [authority, sanctions]
}

fn status_check(evidence: &Evidence<'_>) -> Check {
    match evidence.registered.map(|r| &r.state) {
        None => skip(Step::Status, "登记中无此证书，状态未知", "not in the registry: status unknown"),
        Some(CertificateState::Active) => pass(Step::Status, "证书有效，未被撤销或暂停", "not revoked or suspended"),
        Some(CertificateState::Revoked { since, reason }) => fail(
            Step::Status,
            "revoked",
            format!("证书已于{since}撤销：{reason}"),
            format!("revoked at {since}: {reason}"),
        ),
        Some(CertificateState::Suspended { since, reason }) => fail(
            Step::Status,
            "suspended",
            format!("证书自{since}暂停：{reason}"),
            format!("suspended since {since}: {reason}"),
        ),
    }
}

fn registry_check(presented: &Presented, evidence: &Evidence<'_>) -> Check {
    match evidence.registered {
        None => fail(
            Step::Registry,
            "not_in_registry",
            "登记中无此证书编号",
            "the registry holds no certificate with this number",
        ),
        Some(r) if r.credential_sha256 != presented.digest() => fail(
            Step::Registry,
            "registry_mismatch",
            "所出示证书与登记内容不一致",
            "the presented certificate differs from the registered one",
        ),
        Some(_) => pass(Step::Registry, "与登记内容一致", "matches the registered certificate"),
    }
}

fn holder_check(parsed: &ParsedCertificate, holder: &HolderClaim, key: Option<&HolderIdKey>) -> Check {
    let s = &parsed.subject;
    if holder.name.is_none() && holder.id_number.is_none() {
        return skip(Step::Holder, "未提供持证人信息", "no holder details were presented");
    }
    if let Some(name) = &holder.name
        && name.trim() != s.holder_name
    {
        return fail(Step::Holder, "holder_name_mismatch", "持证人姓名不符", "the holder's name does not match");
    }
    if let Some(id) = &holder.id_number {
        let found = s.holder_id_digest.as_deref().map(|d| holder_id::check(d, &s.certificate_number, id, key));
        match found {
            Some(HolderIdCheck::Matches) => {}
            Some(HolderIdCheck::NeedsRegistry) => {
                return skip(
                    Step::Holder,
                    "身份证号码只能由登记机构在线核对",
                    "only the registry can check an ID number: verify online",
                );
            }
            Some(HolderIdCheck::DoesNotMatch) | None => {
                return fail(Step::Holder, "holder_id_mismatch", "身份证号码不符", "the ID number does not match");
            }
        }
    }
    pass(Step::Holder, "持证人信息相符", "the holder details match")
}

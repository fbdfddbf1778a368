//! Supervisor credentials (监管凭证): W3C Verifiable Credentials an HR authority issues to a
//! named supervisor (监管员) for a jurisdiction and a period, signed and registered like title
//! certificates, revocable, checked on the same `/verify` path (a QR at the venue door).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::certificate::{FormatError, IssuerRef, VC_CONTEXT, VOCABULARY};

pub const SUPERVISOR_CREDENTIAL_TYPE: &str = "SupervisorCredential";
pub const SUBJECT_TYPE: &str = "Supervisor";

/// The credential's `credentialSubject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupervisorSubject {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub format_version: u64,
    /// The credential's number, unique among supervisor credentials.
    pub credential_number: String,
    pub holder_name: String,
    /// Where the holder may supervise: a 6-digit GB/T 2260 code (its subtree).
    pub jurisdiction: String,
}

/// A supervisor credential as read: its subject, issuer and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSupervisor {
    pub subject: SupervisorSubject,
    pub issuer: IssuerRef,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

/// The credential before signing: issued by `authority` for `valid_from..valid_until`.
pub fn unsigned_supervisor_credential(
    subject: &SupervisorSubject,
    authority: &str,
    authority_name: &str,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
) -> Value {
    serde_json::json!({
        "@context": [VC_CONTEXT, {"@vocab": VOCABULARY}],
        "id": format!("urn:zhicheng:supervisor:{}", subject.credential_number),
        "type": ["VerifiableCredential", SUPERVISOR_CREDENTIAL_TYPE],
        "issuer": {"id": IssuerRef::Authority(authority.to_string()).urn(), "name": authority_name},
        "validFrom": valid_from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "validUntil": valid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "credentialSubject": subject,
    })
}

/// The fewest supervisors a supervision visit records (the rules: at least two).
pub const MIN_VISIT_SUPERVISORS: usize = 2;
const MAX_VISIT_SUPERVISORS: usize = 20;
const MAX_FINDINGS_CHARS: usize = 2000;

/// On-site supervision of an evaluation session (现场监管), recorded afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    /// The session supervised. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub session_id: String,
    /// The supervisors present: their credential numbers, at least two.
    pub supervisors: Vec<String>,
    /// What they found, for the public.
    pub findings: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    pub id: String,
    pub session_id: String,
    pub supervisors: Vec<String>,
    pub findings: String,
    pub recorded_by: String,
    pub logged_at: DateTime<Utc>,
}

/// What the registry holds of a supervisor credential, for checking a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorStanding {
    pub jurisdiction: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub revoked: bool,
}

/// A visit names at least two different supervisors, each registered, unrevoked, valid on the
/// meeting day (Beijing time) and holding a jurisdiction that contains the committee's region.
pub fn check_visit(
    v: &NewVisit,
    meets_on: super::Date,
    committee_region: &str,
    standing: impl Fn(&str) -> Option<SupervisorStanding>,
) -> super::violation::Checked<()> {
    use super::violation::Violation;
    let distinct: std::collections::BTreeSet<&String> = v.supervisors.iter().collect();
    if distinct.len() < MIN_VISIT_SUPERVISORS || v.supervisors.len() > MAX_VISIT_SUPERVISORS {
        return Err(Violation::invalid(
            "too_few_supervisors",
            "supervisors",
            format!("现场监管应有至少 {MIN_VISIT_SUPERVISORS} 名不同的监管员（至多 {MAX_VISIT_SUPERVISORS} 名）"),
            format!(
                "a visit records at least {MIN_VISIT_SUPERVISORS} different supervisors (at most {MAX_VISIT_SUPERVISORS})"
            ),
        ));
    }
    if v.findings.trim().is_empty() || v.findings.chars().count() > MAX_FINDINGS_CHARS {
        return Err(Violation::invalid(
            "required",
            "findings",
            format!("请填写监管情况（不超过 {MAX_FINDINGS_CHARS} 字）"),
            format!("describe the findings (at most {MAX_FINDINGS_CHARS} characters)"),
        ));
    }
    for (i, number) in v.supervisors.iter().enumerate() {
        let field = format!("supervisors[{i}]");
        let Some(s) = standing(number) else {
            return Err(Violation::unknown(&field, "监管凭证", "supervisor credential", number));
        };
        let valid_that_day =
            super::china_date(s.valid_from) <= meets_on && meets_on <= super::china_date(s.valid_until);
        if s.revoked || !valid_that_day || !super::catalog::region_contains(&s.jurisdiction, committee_region) {
            return Err(Violation::conflict(
                "supervisor_not_qualified",
                &field,
                format!("监管凭证 {number} 在会议当日无效、已撤销或不含评委会所在地"),
                format!(
                    "supervisor credential {number} was not valid that day, is revoked, or does not cover the committee's region"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a credential claims to be a supervisor credential (then it is read as one).
pub fn is_supervisor_credential(credential: &Value) -> bool {
    credential.get("type").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == SUPERVISOR_CREDENTIAL_TYPE))
}

fn error(field: &str, message: &str) -> FormatError {
    FormatError { field: field.to_string(), message: message.to_string() }
}

fn time(object: &serde_json::Map<String, Value>, field: &str) -> Result<DateTime<Utc>, FormatError> {
    object
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| error(field, "missing or not an RFC 3339 time"))
}

pub fn parse_supervisor(credential: &Value) -> Result<ParsedSupervisor, FormatError> {
    let object = credential.as_object().ok_or_else(|| error("credential", "not a JSON object"))?;
    let context = object.get("@context").and_then(Value::as_array).ok_or_else(|| error("@context", "missing"))?;
    if context.first().and_then(Value::as_str) != Some(VC_CONTEXT) {
        return Err(error("@context", "must start with https://www.w3.org/ns/credentials/v2"));
    }
    if !is_supervisor_credential(credential) {
        return Err(error("type", "must include SupervisorCredential"));
    }
    let issuer = match object.get("issuer") {
        Some(Value::String(s)) => IssuerRef::parse(s),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).and_then(IssuerRef::parse),
        _ => None,
    };
    let Some(issuer @ IssuerRef::Authority(_)) = issuer else {
        return Err(error(
            "issuer",
            "must be urn:zhicheng:authority:…: only HR authorities issue supervisor credentials",
        ));
    };
    let (valid_from, valid_until) = (time(object, "validFrom")?, time(object, "validUntil")?);
    if valid_until <= valid_from {
        return Err(error("validUntil", "must be after validFrom"));
    }
    let subject_value = object.get("credentialSubject").ok_or_else(|| error("credentialSubject", "missing"))?;
    let subject = serde_path_to_error::deserialize::<_, SupervisorSubject>(subject_value).map_err(|e| FormatError {
        field: format!("credentialSubject.{}", e.path()),
        message: e.into_inner().to_string(),
    })?;
    if subject.subject_type != SUBJECT_TYPE || subject.format_version != 1 {
        return Err(error("credentialSubject.type", "must be Supervisor, format version 1"));
    }
    if subject.credential_number.trim().is_empty() || subject.holder_name.trim().is_empty() {
        return Err(error("credentialSubject", "credentialNumber and holderName are required"));
    }
    if subject.jurisdiction.len() != 6 || !subject.jurisdiction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error("credentialSubject.jurisdiction", "must be a 6-digit region code"));
    }
    Ok(ParsedSupervisor { subject, issuer, valid_from, valid_until })
}

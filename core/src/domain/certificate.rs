//! Electronic title certificates (电子职称证书) as W3C Verifiable Credentials 2.0, and the
//! issuer keys that sign them. Format: docs/CERTIFICATE_FORMAT.md.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Date;
use super::catalog::Level;

pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub const CREDENTIAL_TYPE: &str = "ProfessionalTitleCredential";
/// The vocabulary of zhicheng's own terms, given inline so the credential needs no fetched context.
pub const VOCABULARY: &str = "urn:zhicheng:vocab:v1#";
pub const FORMAT_VERSION: u64 = 1;

/// How the title was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObtainedBy {
    /// 评审
    Evaluation,
    /// 考试
    Examination,
    /// 考评结合
    ExamAndEvaluation,
    /// 认定
    Recognition,
}

/// The certificate's content: `credentialSubject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TitleSubject {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub format_version: u64,
    pub certificate_number: String,
    pub holder_name: String,
    /// `hmac-sha256:<key id>:<digest>` of the resident ID number under the registry's secret
    /// (domain::holder_id); never the number, and nothing an offline search can use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_id_digest: Option<String>,
    pub series: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    pub level: Level,
    /// e.g. 高级工程师
    pub title_name: String,
    pub obtained_by: ObtainedBy,
    pub committee_id: String,
    pub committee_name: String,
    /// The day the committee evaluated: authority and sanctions are judged on this date.
    pub evaluation_date: Date,
    /// The registered evaluation session (评审会议) that evaluated the holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_session: Option<String>,
    /// 审批文号
    pub approval_document: String,
    /// The applicant's region (6-digit GB/T 2260) when evaluated.
    pub applicant_region: String,
    /// The applicant was the organizing unit's own staff (自主评审 scope).
    #[serde(default)]
    pub own_staff: bool,
}

/// Who issued: an authority, or a committee's organizing unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "snake_case", deny_unknown_fields)]
pub enum IssuerRef {
    Authority(String),
    Committee(String),
}

impl IssuerRef {
    pub fn urn(&self) -> String {
        match self {
            IssuerRef::Authority(id) => format!("urn:zhicheng:authority:{id}"),
            IssuerRef::Committee(id) => format!("urn:zhicheng:committee:{id}"),
        }
    }
    pub fn parse(urn: &str) -> Option<IssuerRef> {
        if let Some(id) = urn.strip_prefix("urn:zhicheng:authority:") {
            Some(IssuerRef::Authority(id.to_string()))
        } else {
            urn.strip_prefix("urn:zhicheng:committee:").map(|id| IssuerRef::Committee(id.to_string()))
        }
    }
}

/// W3C Bitstring Status List entries of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// `revocation` or `suspension`.
    pub purpose: &'static str,
    pub list_url: String,
    pub index: u64,
}

impl StatusEntry {
    fn to_json(&self) -> Value {
        json!({
            "id": format!("{}#{}", self.list_url, self.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": self.index.to_string(),
            "statusListCredential": self.list_url,
        })
    }
}

/// The credential before signing.
pub fn unsigned_credential(
    subject: &TitleSubject,
    issuer: &IssuerRef,
    issuer_name: &str,
    issued_at: DateTime<Utc>,
    status: &[StatusEntry],
) -> Value {
    let mut credential = json!({
        "@context": [VC_CONTEXT, {"@vocab": VOCABULARY}],
        "id": format!("urn:zhicheng:certificate:{}", subject.certificate_number),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": {"id": issuer.urn(), "name": issuer_name},
        "validFrom": issued_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "credentialSubject": subject,
    });
    if !status.is_empty() {
        credential["credentialStatus"] = Value::Array(status.iter().map(StatusEntry::to_json).collect());
    }
    credential
}

/// A credential whose shape was checked (step 1 of verification).
#[derive(Debug, Clone)]
pub struct ParsedCertificate {
    pub subject: TitleSubject,
    pub issuer: IssuerRef,
    pub issued_at: DateTime<Utc>,
    pub status: Vec<(String, String, u64)>,
}

/// Why a credential is not a well-formed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub field: String,
    pub message: String,
}

fn format_error(field: &str, message: impl Into<String>) -> FormatError {
    FormatError { field: field.to_string(), message: message.into() }
}

pub fn parse_credential(credential: &Value) -> Result<ParsedCertificate, FormatError> {
    let object = credential.as_object().ok_or_else(|| format_error("credential", "not a JSON object"))?;
    let context =
        object.get("@context").and_then(Value::as_array).ok_or_else(|| format_error("@context", "missing"))?;
    if context.first().and_then(Value::as_str) != Some(VC_CONTEXT) {
        return Err(format_error("@context", format!("must start with {VC_CONTEXT}")));
    }
    let types = object.get("type").and_then(Value::as_array).ok_or_else(|| format_error("type", "missing"))?;
    if !types.iter().any(|t| t == CREDENTIAL_TYPE) || !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(format_error("type", format!("must include VerifiableCredential and {CREDENTIAL_TYPE}")));
    }
    let issuer_urn = match object.get("issuer") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    let issuer = IssuerRef::parse(issuer_urn)
        .ok_or_else(|| format_error("issuer", "must be urn:zhicheng:authority:… or urn:zhicheng:committee:…"))?;
    let issued_at = object
        .get("validFrom")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .ok_or_else(|| format_error("validFrom", "missing or not an RFC 3339 time"))?
        .with_timezone(&Utc);
    let subject_value = object.get("credentialSubject").ok_or_else(|| format_error("credentialSubject", "missing"))?;
    // Read in place; only a subject that fails is read again, tracking the path, to say where.
    let subject = TitleSubject::deserialize(subject_value).or_else(|_| {
        serde_path_to_error::deserialize::<_, TitleSubject>(subject_value).map_err(|e| {
            let path = e.path().to_string();
            format_error(&format!("credentialSubject.{path}"), e.into_inner().to_string())
        })
    })?;
    if subject.format_version != FORMAT_VERSION {
        return Err(format_error(
            "credentialSubject.formatVersion",
            format!("unknown version {}", subject.format_version),
        ));
    }
    if subject.subject_type != "ProfessionalTitle" {
        return Err(format_error("credentialSubject.type", "must be ProfessionalTitle"));
    }
    if subject.certificate_number.trim().is_empty() || subject.holder_name.trim().is_empty() {
        return Err(format_error("credentialSubject", "certificateNumber and holderName are required"));
    }
    let status = match object.get("credentialStatus") {
        None => vec![],
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|e| {
                let purpose = e.get("statusPurpose").and_then(Value::as_str).unwrap_or("").to_string();
                let list = e.get("statusListCredential").and_then(Value::as_str).unwrap_or("").to_string();
                let index = e
                    .get("statusListIndex")
                    .and_then(Value::as_str)
                    .and_then(|i| i.parse::<u64>().ok())
                    .filter(|i| *i <= MAX_STATUS_LIST_INDEX);
                match index {
                    Some(i) if !list.is_empty() && matches!(purpose.as_str(), "revocation" | "suspension") => {
                        Ok((purpose, list, i))
                    }
                    _ => Err(format_error(
                        "credentialStatus",
                        "each entry needs statusPurpose, statusListCredential and a numeric statusListIndex of at most 16777215",
                    )),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format_error("credentialStatus", "must be a list")),
    };
    Ok(ParsedCertificate { subject, issuer, issued_at, status })
}

/// The largest `statusListIndex` accepted: a status list holds one bit per index, so its size
/// (what every anonymous GET of the list builds) is bounded by this, at 2 MiB.
pub const MAX_STATUS_LIST_INDEX: u64 = (1 << 24) - 1;

/// A registered Ed25519 signing key of an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuerKey {
    pub id: String,
    pub owner: IssuerRef,
    /// Multikey, `z6Mk…`.
    pub public_key: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Signatures made after this instant are not accepted; earlier ones stand.
    pub retired_at: Option<DateTime<Utc>>,
    /// Signatures made at or after this instant are worthless.
    pub compromised_at: Option<DateTime<Utc>>,
    /// The authority that registered it.
    pub registered_by: String,
}

/// Masks a name for public answers: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_list_indexes_are_bounded() {
        let subject: TitleSubject = serde_json::from_value(json!({
            "type": "ProfessionalTitle", "formatVersion": 1, "certificateNumber": "N-1", "holderName": "张小三",
            "series": "ENGINEERING", "level": "intermediate", "titleName": "工程师", "obtainedBy": "evaluation",
            "committeeId": "c", "committeeName": "评委会", "evaluationDate": "2023-05-01",
            "approvalDocument": "x", "applicantRegion": "220102", "ownStaff": false
        }))
        .unwrap();
        let credential = |index: u64| {
            let entry =
                StatusEntry { purpose: "revocation", list_url: "https://r.example/status/a.revocation".into(), index };
            unsigned_credential(&subject, &IssuerRef::Authority("a".into()), "某厅", Utc::now(), &[entry])
        };
        assert!(parse_credential(&credential(MAX_STATUS_LIST_INDEX)).is_ok());
        let refused = parse_credential(&credential(MAX_STATUS_LIST_INDEX + 1)).unwrap_err();
        assert_eq!(refused.field, "credentialStatus");
        assert!(parse_credential(&credential(1_000_000_000_000)).is_err());
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
    }
}

//! Bulk files: NDJSON (one operation a line, any kind) or CSV for the common record types
//! (committees, authorizations, sanctions). `check` reads the whole file once and reports every
//! bad line before anything is written; `FileOperations` then parses it again a chunk at a
//! time as the store applies it, all or nothing (`Store::execute_from`), so a file is never
//! held parsed whole.

use serde::Deserialize;

use crate::domain::Date;
use crate::domain::authorization::Scope;
use crate::domain::catalog::Level;
use crate::domain::code::Code;
use crate::domain::committee::{CommitteeKind, OrganizingUnit};
use crate::domain::publish::{LineViolation, MAX_REPORTED_LINES};
use crate::domain::publish::{NewAuthorization, NewCommittee, NewSanction, Operation, Violation, ViolationKind};
use crate::domain::sanction::{Measure, Subject, SubjectKind};
use crate::publish::json::{from_value, parse_json};

/// Why a file cannot be imported. Nothing of it is written either way.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Lines that do not parse or break a rule of their own, each with its 1-based line.
    #[error("{} bad line(s)", .0.len())]
    Rejected(Vec<LineViolation>),
    /// The file as a whole: an unreadable CSV header, no records, no CSV type.
    #[error("{field}: {message_en}")]
    File { field: &'static str, code: &'static str, message_zh: String, message_en: String },
}

fn file_error(field: &'static str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ImportError {
    ImportError::File { field, code, message_zh: zh.into(), message_en: en.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Ndjson,
    Csv,
}

/// The record type of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvType {
    Committees,
    Authorizations,
    Sanctions,
}

/// Operations with the file line each came from.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub operations: Vec<Operation>,
    /// `lines[i]` is the 1-based file line of `operations[i]`.
    pub lines: Vec<usize>,
}

/// Parses a whole file into memory; every line that does not parse is reported.
pub fn parse(text: &str, format: Format, csv_type: Option<CsvType>) -> Result<ParsedFile, ImportError> {
    collect(records(text, format, csv_type)?)
}

fn invalid(line: usize, field: &str, code: &'static str, zh: String, en: String) -> LineViolation {
    LineViolation { line, violation: Violation::new(ViolationKind::Invalid, code, field, zh, en) }
}

fn finish(operations: usize, errors: Vec<LineViolation>) -> Result<(), ImportError> {
    if !errors.is_empty() {
        return Err(ImportError::Rejected(errors));
    }
    if operations == 0 {
        return Err(file_error("body", "empty_file", "文件中没有任何记录", "the file holds no records"));
    }
    Ok(())
}

/// One NDJSON line. The `op` tag is read first, then the operation's own fields are
/// deserialized with path tracking, so an error names the field (serde's internally tagged
/// enums would buffer the line and lose the path).
pub fn parse_operation(line: &str) -> Result<Operation, Violation> {
    let mut value: serde_json::Value = parse_json(line.as_bytes()).map_err(|e| e.violation())?;
    let object = value.as_object_mut().ok_or_else(|| {
        Violation::new(
            ViolationKind::Invalid,
            "not_an_object",
            "body",
            "每行应为一个 JSON 对象",
            "each line must be a JSON object",
        )
    })?;
    let tag = match object.remove("op") {
        Some(serde_json::Value::String(tag)) => tag,
        _ => {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "required",
                "op",
                "缺少操作类型 op",
                "missing the operation type \"op\"",
            ));
        }
    };
    fn fields<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Violation> {
        from_value(value).map_err(|e| e.violation())
    }
    Ok(match tag.as_str() {
        "create_authority" => Operation::CreateAuthority(fields(value)?),
        "amend_authority" => Operation::AmendAuthority(fields(value)?),
        "delegate" => Operation::Delegate(fields(value)?),
        "create_committee" => Operation::CreateCommittee(fields(value)?),
        "amend_committee" => Operation::AmendCommittee(fields(value)?),
        "grant_authorization" => Operation::GrantAuthorization(fields(value)?),
        "amend_authorization" => Operation::AmendAuthorization(fields(value)?),
        "suspend_authorization" => Operation::SuspendAuthorization(fields(value)?),
        "reinstate_authorization" => Operation::ReinstateAuthorization(fields(value)?),
        "withdraw_authorization" => Operation::WithdrawAuthorization(fields(value)?),
        "publish_sanction" => Operation::PublishSanction(fields(value)?),
        "lift_sanction" => Operation::LiftSanction(fields(value)?),
        "register_key" => Operation::RegisterKey(fields(value)?),
        "retire_key" => Operation::RetireKey(fields(value)?),
        "compromise_key" => Operation::CompromiseKey(fields(value)?),
        "issue_certificate" => Operation::IssueCertificate(fields(value)?),
        "revoke_certificate" => Operation::RevokeCertificate(fields(value)?),
        "suspend_certificate" => Operation::SuspendCertificate(fields(value)?),
        "unsuspend_certificate" => Operation::UnsuspendCertificate(fields(value)?),
        "register_session" => Operation::RegisterSession(fields(value)?),
        "publish_session_outcome" => Operation::PublishSessionOutcome(fields(value)?),
        "plan_draw" => Operation::PlanDraw(fields(value)?),
        "record_inspection" => Operation::RecordInspection(fields(value)?),
        "publish_notice" => Operation::PublishNotice(fields(value)?),
        "issue_supervisor_credential" => Operation::IssueSupervisorCredential(fields(value)?),
        "revoke_supervisor_credential" => Operation::RevokeSupervisorCredential(fields(value)?),
        "record_visit" => Operation::RecordVisit(fields(value)?),
        other => {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "unknown_operation",
                "op",
                format!("未知的操作类型“{other}”"),
                format!("unknown operation {other:?}"),
            ));
        }
    })
}

pub fn parse_ndjson(text: &str) -> Result<ParsedFile, ImportError> {
    collect(Box::new(ndjson_records(text)))
}

/// The operations of an NDJSON text, one a non-empty line, parsed as they are read.
fn ndjson_records(text: &str) -> impl Iterator<Item = Record> + Send + '_ {
    text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).map(|(index, line)| {
        let number = index + 1;
        (number, parse_operation(line).map_err(|violation| LineViolation { line: number, violation }))
    })
}

#[derive(Deserialize)]
struct CommitteeRecord {
    #[serde(default)]
    id: Option<String>,
    name: String,
    kind: String,
    unit_name: String,
    credit_code: String,
    region: String,
    #[serde(default)]
    domains: Option<String>,
    #[serde(default)]
    contact: Option<String>,
}

#[derive(Deserialize)]
struct AuthorizationRecord {
    #[serde(default)]
    id: Option<String>,
    committee_id: String,
    series: String,
    #[serde(default)]
    specialties: Option<String>,
    /// `;`-separated level codes.
    levels: String,
    /// `own_staff`, or `;`-separated region codes.
    scope: String,
    valid_from: String,
    valid_until: String,
    document_number: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct SanctionRecord {
    #[serde(default)]
    id: Option<String>,
    subject_kind: String,
    #[serde(default)]
    subject_id: Option<String>,
    #[serde(default)]
    subject_name: Option<String>,
    measure: String,
    #[serde(default)]
    region: Option<String>,
    effective_from: String,
    #[serde(default)]
    effective_until: Option<String>,
    #[serde(default)]
    void_from: Option<String>,
    document_number: String,
    legal_basis: String,
    summary: String,
}

/// CSV dates are read as text and parsed here, so an error names the column.
fn date(value: &str, field: &str, line: usize) -> Result<Date, LineViolation> {
    Date::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            line,
            field,
            "invalid_date",
            format!("日期“{value}”格式应为 YYYY-MM-DD"),
            format!("{value:?} is not a date of the form YYYY-MM-DD"),
        )
    })
}

fn optional_date(value: Option<&str>, field: &str, line: usize) -> Result<Option<Date>, LineViolation> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(|v| date(v, field, line)).transpose()
}

/// An enumerated column (`kind`, `measure` …), parsed by its serde name so the error names the column.
fn code<T: serde::de::DeserializeOwned>(value: &str, field: &str, line: usize) -> Result<T, LineViolation> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_string())).map_err(|e| {
        invalid(
            line,
            field,
            "invalid_field",
            format!("“{value}”不是有效的 {field} 值"),
            format!("{value:?} is not a valid {field}: {e}"),
        )
    })
}

fn list(value: Option<&str>) -> Vec<String> {
    value.unwrap_or("").split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn levels(value: &str, line: usize) -> Result<Vec<Level>, LineViolation> {
    list(Some(value))
        .iter()
        .map(|l| {
            Level::parse(l).ok_or_else(|| {
                invalid(line, "levels", "unknown_level", format!("未知的级别“{l}”"), format!("unknown level {l:?}"))
            })
        })
        .collect()
}

fn to_operation(
    record: &csv::StringRecord,
    headers: &csv::StringRecord,
    csv_type: CsvType,
    line: usize,
) -> Result<Operation, LineViolation> {
    let data_error = |e: csv::Error| {
        let field = match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => {
                err.field().and_then(|i| headers.get(i as usize)).unwrap_or("record").to_string()
            }
            _ => "record".to_string(),
        };
        invalid(line, &field, "invalid_field", format!("字段“{field}”无效：{e}"), e.to_string())
    };
    Ok(match csv_type {
        CsvType::Committees => {
            let r: CommitteeRecord = record.deserialize(Some(headers)).map_err(data_error)?;
            Operation::CreateCommittee(NewCommittee {
                id: r.id.filter(|s| !s.is_empty()),
                name: r.name,
                kind: code::<CommitteeKind>(&r.kind, "kind", line)?,
                organizing_unit: OrganizingUnit { name: r.unit_name, credit_code: r.credit_code },
                region: r.region,
                domains: list(r.domains.as_deref()),
                contact: r.contact.filter(|s| !s.is_empty()),
            })
        }
        CsvType::Authorizations => {
            let r: AuthorizationRecord = record.deserialize(Some(headers)).map_err(data_error)?;
            let scope = if r.scope.trim() == "own_staff" {
                Scope::OwnStaff { own_staff: true }
            } else {
                Scope::Regions { regions: list(Some(&r.scope)) }
            };
            Operation::GrantAuthorization(NewAuthorization {
                id: r.id.filter(|s| !s.is_empty()),
                committee_id: r.committee_id,
                series: r.series,
                specialties: list(r.specialties.as_deref()),
                levels: levels(&r.levels, line)?,
                scope,
                valid_from: date(&r.valid_from, "valid_from", line)?,
                valid_until: date(&r.valid_until, "valid_until", line)?,
                document_number: r.document_number,
                note: r.note.filter(|s| !s.is_empty()),
            })
        }
        CsvType::Sanctions => {
            let r: SanctionRecord = record.deserialize(Some(headers)).map_err(data_error)?;
            Operation::PublishSanction(NewSanction {
                id: r.id.filter(|s| !s.is_empty()),
                subject: Subject {
                    kind: code::<SubjectKind>(&r.subject_kind, "subject_kind", line)?,
                    id: r.subject_id.filter(|s| !s.is_empty()),
                    name: r.subject_name.filter(|s| !s.is_empty()),
                },
                measure: code::<Measure>(&r.measure, "measure", line)?,
                region: r.region.filter(|s| !s.is_empty()),
                effective_from: date(&r.effective_from, "effective_from", line)?,
                effective_until: optional_date(r.effective_until.as_deref(), "effective_until", line)?,
                void_from: optional_date(r.void_from.as_deref(), "void_from", line)?,
                document_number: r.document_number,
                legal_basis: r.legal_basis,
                summary: r.summary,
            })
        }
    })
}

pub fn parse_csv(text: &str, csv_type: CsvType) -> Result<ParsedFile, ImportError> {
    collect(csv_records(text, csv_type)?)
}

/// The operations of a CSV text, one a record, parsed as they are read; an unreadable header
/// fails the whole file.
fn csv_records(text: &str, csv_type: CsvType) -> Result<Records<'_>, ImportError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            file_error(
                "body",
                "malformed_csv",
                format!("CSV 表头无法读取：{e}"),
                format!("cannot read the CSV header: {e}"),
            )
        })?
        .clone();
    Ok(Box::new(reader.into_records().map(move |result| match result {
        Ok(record) => {
            let line = record.position().map_or(0, |p| p.line() as usize);
            (line, to_operation(&record, &headers, csv_type, line))
        }
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line() as usize);
            (line, Err(invalid(line, "record", "malformed_csv", format!("CSV 记录格式错误：{e}"), e.to_string())))
        }
    })))
}

/// Every operation of a file in memory (small files, tests).
fn collect(records: Records<'_>) -> Result<ParsedFile, ImportError> {
    let mut parsed = ParsedFile::default();
    let mut errors = Vec::new();
    for (line, record) in records {
        match record {
            Ok(op) => {
                parsed.operations.push(op);
                parsed.lines.push(line);
            }
            Err(e) => errors.push(e),
        }
        if errors.len() >= MAX_REPORTED_LINES {
            break;
        }
    }
    finish(parsed.operations.len(), errors).map(|()| parsed)
}

/// Reads a whole file once without keeping it parsed: every line that does not parse, or that
/// `also` refuses, is reported before anything is written. Returns the number of operations.
pub fn check(
    text: &str,
    format: Format,
    csv_type: Option<CsvType>,
    also: impl Fn(&Operation) -> Result<(), Violation>,
) -> Result<usize, ImportError> {
    let mut count = 0;
    let mut errors = Vec::new();
    for (line, record) in records(text, format, csv_type)? {
        match record.and_then(|op| also(&op).map_err(|violation| LineViolation { line, violation })) {
            Ok(()) => count += 1,
            Err(e) => errors.push(e),
        }
        if errors.len() >= MAX_REPORTED_LINES {
            break;
        }
    }
    finish(count, errors).map(|()| count)
}

/// A file's operations for `Store::execute_from`, parsed a chunk at a time as the store takes
/// them, each with its file line. Run `check` first: a line that does not parse is skipped here.
pub struct FileOperations<'a> {
    records: Records<'a>,
}

impl<'a> FileOperations<'a> {
    pub fn new(text: &'a str, format: Format, csv_type: Option<CsvType>) -> Result<FileOperations<'a>, ImportError> {
        Ok(FileOperations { records: records(text, format, csv_type)? })
    }
}

impl crate::publish::OperationSource for FileOperations<'_> {
    fn next_chunk(&mut self, max: usize) -> Vec<(usize, Operation)> {
        self.records.by_ref().filter_map(|(line, record)| record.ok().map(|op| (line, op))).take(max).collect()
    }
}

type Record = (usize, Result<Operation, LineViolation>);
type Records<'a> = Box<dyn Iterator<Item = Record> + Send + 'a>;

fn records(text: &str, format: Format, csv_type: Option<CsvType>) -> Result<Records<'_>, ImportError> {
    match format {
        Format::Ndjson => Ok(Box::new(ndjson_records(text))),
        Format::Csv => csv_records(text, csv_type.ok_or_else(csv_type_required)?),
    }
}

fn csv_type_required() -> ImportError {
    file_error(
        "type",
        "required",
        "CSV 文件需要指明类型：committees、authorizations 或 sanctions",
        "a CSV file needs type=committees, authorizations or sanctions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(e: ImportError) -> Vec<(usize, String)> {
        match e {
            ImportError::Rejected(lines) => lines.into_iter().map(|l| (l.line, l.violation.field)).collect(),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn ndjson_reports_every_bad_line_with_its_number() {
        let text = r#"{"op":"lift_sanction","sanction_id":"s1","effective_on":"2024-01-01","document_number":"x"}

{"op":"lift_sanction","sanction_id":"s1","effective_on":"2024-13-01","document_number":"x"}
not json
{"op":"explode"}
"#;
        let errors = lines_of(parse_ndjson(text).unwrap_err());
        assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(errors[0].1, "effective_on");
    }

    #[test]
    fn ndjson_rejects_unknown_fields() {
        let text = r#"{"op":"lift_sanction","sanction_id":"s1","effective_on":"2024-01-01","document_number":"x","colour":"red"}"#;
        assert_eq!(lines_of(parse_ndjson(text).unwrap_err())[0].0, 1);
    }

    #[test]
    fn csv_committees_authorizations_and_sanctions_parse() {
        let committees = "name,kind,unit_name,credit_code,region,domains\n某评委会,intermediate,某单位,91350100M000100Y43,220100,a.cn;b.cn\n";
        let parsed = parse_csv(committees, CsvType::Committees).unwrap();
        assert!(matches!(&parsed.operations[0], Operation::CreateCommittee(c) if c.domains.len() == 2));
        assert_eq!(parsed.lines, vec![2]);
        let grants = "committee_id,series,levels,scope,valid_from,valid_until,document_number\nc1,HEALTH,intermediate;associate_senior,220100;220200,2024-01-01,2026-12-31,吉人社函〔2024〕1号\nc2,HEALTH,intermediate,own_staff,2024-01-01,2026-12-31,x\n";
        let parsed = parse_csv(grants, CsvType::Authorizations).unwrap();
        assert!(
            matches!(&parsed.operations[1], Operation::GrantAuthorization(g) if g.scope == Scope::OwnStaff { own_staff: true })
        );
        let bad = "committee_id,series,levels,scope,valid_from,valid_until,document_number\nc1,HEALTH,chief,220100,2024-01-01,2026-12-31,x\nc1,HEALTH,senior,220100,2024-02-30,2026-12-31,x\n";
        assert_eq!(
            lines_of(parse_csv(bad, CsvType::Authorizations).unwrap_err()),
            vec![(2, "levels".into()), (3, "valid_from".into())]
        );
        let sanctions = "subject_kind,subject_name,measure,region,effective_from,document_number,legal_basis,summary\napplicant,张某某,dishonesty_record,220100,2024-01-01,x,y,z\n";
        assert!(parse_csv(sanctions, CsvType::Sanctions).is_ok());
    }
}

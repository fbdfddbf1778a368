//! Exports of the public tables: the encodings (NDJSON, CSV, either gzipped), snapshot sets
//! with their signed manifest, and the mirror that replays the change feed onto a snapshot.
//!
//! An encoding is a pure function of the rows: the same rows give the same bytes on every
//! machine, which is what lets a mirror prove it holds what the next snapshot holds.

pub mod manifest;
pub mod mirror;
pub mod snapshot;

use serde::{Deserialize, Serialize};

use crate::domain::code::Code;
use crate::store::{ExportRow, Table};

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object a line, fields in a fixed order.
    Ndjson,
    /// A header line, then one row a line; lists and objects as JSON text in their cell.
    Csv,
}

impl Code for Format {}

impl Format {
    pub const ALL: [Format; 2] = [Format::Ndjson, Format::Csv];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The file a table is written to in a snapshot set, e.g. `committees.ndjson`.
pub fn file_name(table: Table, format: Format) -> String {
    format!("{}.{}", table.code(), format.extension())
}

/// The CSV columns of a table, in order: the fields of its NDJSON objects.
pub fn columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Authorities => &["id", "name", "level", "region", "parent_id"],
        Table::Delegations => &[
            "id",
            "authority_id",
            "delegated_by",
            "series",
            "specialties",
            "levels",
            "valid_from",
            "valid_until",
            "document_number",
        ],
        Table::Committees => &["id", "name", "kind", "organizing_unit", "authority_id", "region", "domains", "contact"],
        Table::Authorizations => &["id", "committee_id", "granted_by", "document_number", "history"],
        Table::Sanctions => &[
            "id",
            "subject",
            "measure",
            "region",
            "effective_from",
            "effective_until",
            "void_from",
            "decided_by",
            "document_number",
            "legal_basis",
            "summary",
            "logged_at",
            "lift",
        ],
        Table::Keys => {
            &["id", "owner", "public_key", "valid_from", "valid_until", "retired_at", "compromised_at", "registered_by"]
        }
        Table::Certificates => &["number", "credential_sha256", "state", "since", "reason"],
        Table::Sessions => &[
            "id",
            "committee_id",
            "series",
            "specialty",
            "levels",
            "meets_on",
            "applicants",
            "pass_rate_cap",
            "registered_by",
            "logged_at",
            "outcome",
        ],
        Table::Notices => &[
            "id",
            "committee_id",
            "session_id",
            "title",
            "published_on",
            "working_days",
            "ends_on",
            "url",
            "complaint_channel",
            "published_by",
            "logged_at",
        ],
        Table::Draws => {
            &["id", "name", "authority_id", "eligible", "count", "document_number", "logged_at", "log_index"]
        }
        Table::Inspections => {
            &["id", "plan_id", "committee_id", "inspected_on", "result", "summary", "inspected_by", "logged_at"]
        }
        Table::Visits => &["id", "session_id", "supervisors", "findings", "recorded_by", "logged_at"],
    }
}

/// Writes one table's rows in one format.
#[derive(Debug, Clone, Copy)]
pub struct Encoder {
    pub table: Table,
    pub format: Format,
}

impl Encoder {
    pub fn new(table: Table, format: Format) -> Encoder {
        Encoder { table, format }
    }

    /// What comes before the first row: the CSV header line.
    pub fn header(&self, out: &mut Vec<u8>) {
        if self.format == Format::Csv {
            write_csv(out, columns(self.table).iter().map(|c| c.to_string()));
        }
    }

    /// One row, with its line end.
    pub fn row(&self, row: &ExportRow, out: &mut Vec<u8>) {
        match self.format {
            Format::Ndjson => {
                serde_json::to_writer(&mut *out, row).expect("a row is plain data");
                out.push(b'\n');
            }
            Format::Csv => {
                let value = serde_json::to_value(row).expect("a row is plain data");
                write_csv(out, columns(self.table).iter().map(|c| cell(value.get(c))));
            }
        }
    }
}

/// A CSV cell: text as it is, absent and null empty, anything else as JSON.
fn cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// One CSV record and its line end.
pub fn write_csv(out: &mut Vec<u8>, cells: impl Iterator<Item = String>) {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out);
    let cells: Vec<String> = cells.collect();
    writer.write_record(&cells).expect("writing to memory cannot fail");
    writer.flush().expect("writing to memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authority::{Authority, AuthorityLevel};

    fn authority(name: &str) -> ExportRow {
        ExportRow::Authority(Authority {
            id: "auth_1".into(),
            name: name.into(),
            level: AuthorityLevel::Provincial,
            region: "110000".into(),
            parent_id: None,
        })
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_leaves_absent_cells_empty() {
        let encoder = Encoder::new(Table::Authorities, Format::Csv);
        let mut out = Vec::new();
        encoder.header(&mut out);
        encoder.row(&authority("北京市人社局, \"职称处\""), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id,name,level,region,parent_id\nauth_1,\"北京市人社局, \"\"职称处\"\"\",provincial,110000,\n"
        );
    }

    #[test]
    fn ndjson_is_one_object_a_line_in_field_order() {
        let mut out = Vec::new();
        Encoder::new(Table::Authorities, Format::Ndjson).row(&authority("北京"), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"id\":\"auth_1\",\"name\":\"北京\",\"level\":\"provincial\",\"region\":\"110000\",\"parent_id\":null}\n"
        );
    }
}

//! JSON from outside (request bodies, lines of a bulk file), parsed so that an error names the
//! field at fault.

use serde::de::DeserializeOwned;

use crate::domain::publish::{Violation, ViolationKind};

/// Why a JSON document did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all.
    Malformed { line: usize, column: usize, message: String },
    /// JSON, but a field is missing, unknown or of the wrong shape.
    Field { field: String, message: String },
}

impl JsonError {
    /// The error as a broken rule of the document: code `malformed_json` or `invalid_field`.
    pub fn violation(&self) -> Violation {
        match self {
            JsonError::Malformed { line, column, message } => Violation::new(
                ViolationKind::Invalid,
                "malformed_json",
                "body",
                format!("JSON 格式错误（第{line}行第{column}列）"),
                format!("malformed JSON at line {line} column {column}: {message}"),
            ),
            JsonError::Field { field, message } => Violation::new(
                ViolationKind::Invalid,
                "invalid_field",
                field,
                format!("字段“{field}”的值无效（缺失、多余或类型不符）"),
                message.clone(),
            ),
        }
    }
}

/// Parses JSON, naming the failing field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    // Tracking the path costs a tenth of a verification; only a failure needs it, so a body that
    // does not parse is parsed a second time to say where.
    serde_json::from_slice(bytes).or_else(|_| parse_json_tracking_path(bytes))
}

fn parse_json_tracking_path<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            JsonError::Malformed { line: inner.line(), column: inner.column(), message: inner.to_string() }
        } else {
            let field = if path == "." { "body".to_string() } else { path };
            JsonError::Field { field, message: without_type_names(&inner.to_string()) }
        }
    })
}

/// serde's message with the Rust type names it mentions put in the reader's terms: "expected
/// struct VerifyRequest" is "expected a JSON object".
pub fn without_type_names(message: &str) -> String {
    let replacements = [
        ("data did not match any variant of untagged enum ", "matches none of the accepted shapes"),
        ("expected struct variant ", "expected an object of the right shape"),
        ("expected struct ", "expected a JSON object"),
        ("expected enum ", "expected one of the allowed values"),
        ("expected unit struct ", "expected null"),
    ];
    let mut out = message.to_string();
    for (pattern, replacement) in replacements {
        while let Some(at) = out.find(pattern) {
            let name_end = out[at + pattern.len()..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(out.len(), |n| at + pattern.len() + n);
            out.replace_range(at..name_end, replacement);
        }
    }
    out
}

/// Deserializes an already parsed value, naming the failing field path.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "body".to_string() } else { field };
        JsonError::Field { field, message: without_type_names(&e.into_inner().to_string()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_json_shapes_not_rust_types() {
        let cases = [
            (
                "invalid type: string \"x\", expected struct VerifyRequest",
                "invalid type: string \"x\", expected a JSON object",
            ),
            ("data did not match any variant of untagged enum Scope", "matches none of the accepted shapes"),
            ("expected enum Level", "expected one of the allowed values"),
            ("missing field `series`", "missing field `series`"),
        ];
        for (serde, plain) in cases {
            assert_eq!(without_type_names(serde), plain);
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct VerifyRequest {
            credential: serde_json::Value,
        }
        let err = parse_json::<VerifyRequest>(b"\"x\"").unwrap_err();
        assert!(matches!(&err, JsonError::Field { message, .. } if !message.contains("VerifyRequest")), "{err:?}");
    }
}

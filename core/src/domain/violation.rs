//! A broken rule of a write, with the field at fault: what every publishing check returns.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// The actor may not do this (403).
    Forbidden,
    /// The registry's current state refuses it (409).
    Conflict,
    /// The operation itself is malformed or inconsistent (422).
    Invalid,
}

/// A broken publishing rule, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub code: String,
    pub field: String,
    pub message_zh: String,
    pub message_en: String,
}

impl Violation {
    pub fn new(kind: ViolationKind, code: &str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Violation {
            kind,
            code: code.to_string(),
            field: field.to_string(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
    pub(crate) fn invalid(code: &'static str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ViolationKind::Invalid, code, field, zh, en)
    }
    pub(crate) fn forbidden(code: &'static str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ViolationKind::Forbidden, code, field, zh, en)
    }
    pub fn conflict(code: &'static str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ViolationKind::Conflict, code, field, zh, en)
    }
    pub fn duplicate_document(field: &str, document_number: &str) -> Self {
        Self::conflict(
            "duplicate_document_number",
            field,
            format!("文号“{document_number}”已用于同一事项"),
            format!("the document number {document_number:?} was already published for the same act"),
        )
    }
    pub fn unknown(field: &str, what_zh: &str, what_en: &str, id: &str) -> Self {
        Self::invalid(
            "unknown_reference",
            field,
            format!("不存在的{what_zh}“{id}”"),
            format!("no {what_en} with id {id:?}"),
        )
    }
}

pub type Checked<T> = Result<T, Violation>;

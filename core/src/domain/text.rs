//! What text a publication may carry. Every string of every operation passes one check, by its
//! field, so a field added later cannot escape it: a bounded length, no control or
//! bidirectional-override characters (a NUL or U+202E in a committee's name is spoofing, not a
//! name), client-chosen ids that fit in a URL path, and no resident ID number anywhere — a
//! sanction's summary is public and logged for good.

use serde_json::Value;

use super::publish::{Checked, Violation, ViolationKind};

/// Longest name of a committee, unit, authority or person, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest document number, in characters.
pub const MAX_DOCUMENT_CHARS: usize = 100;
/// Longest client-chosen id, in characters (`A-Z a-z 0-9 . _ ~ -`).
pub const MAX_ID_CHARS: usize = 64;
/// Longest free text (a summary, a legal basis, a note, a reason), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most items in any list of an operation (specialties, levels, regions, domains).
pub const MAX_LIST_ITEMS: usize = 100;

/// Checks every string and list of an operation (its JSON form), naming the first field at fault.
/// `skip` names subtrees checked elsewhere (a signed credential's own format).
pub fn check_operation_text(operation: &Value, skip: &[&str]) -> Checked<()> {
    check_value(operation, "", skip)
}

fn check_value(value: &Value, path: &str, skip: &[&str]) -> Checked<()> {
    match value {
        Value::String(text) => check_text(path, text),
        Value::Array(items) => {
            if items.len() > MAX_LIST_ITEMS {
                return Err(invalid(
                    "too_many_items",
                    path,
                    format!("最多 {MAX_LIST_ITEMS} 项"),
                    format!("at most {MAX_LIST_ITEMS} items"),
                ));
            }
            items.iter().enumerate().try_for_each(|(i, item)| check_value(item, &format!("{path}[{i}]"), skip))
        }
        Value::Object(fields) => fields.iter().try_for_each(|(key, child)| {
            let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if skip.contains(&child_path.as_str()) { Ok(()) } else { check_value(child, &child_path, skip) }
        }),
        _ => Ok(()),
    }
}

/// The last name in a field path: `subject.name` → `name`, `domains[2]` → `domains`.
fn leaf(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// Checks one string by what its field holds.
pub fn check_text(field: &str, text: &str) -> Checked<()> {
    let name = leaf(field);
    let is_id = name == "id" || name.ends_with("_id") || name == "number";
    let max = if is_id {
        MAX_ID_CHARS
    } else if name == "name" || name == "label" || name == "contact" || name == "domains" {
        MAX_NAME_CHARS
    } else if name == "document_number" {
        MAX_DOCUMENT_CHARS
    } else {
        MAX_TEXT_CHARS
    };
    let chars = text.chars().count();
    if chars > max {
        return Err(invalid(
            "too_long",
            field,
            format!("最多 {max} 个字符（现有 {chars} 个）"),
            format!("at most {max} characters ({chars} given)"),
        ));
    }
    if is_id && !text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')) {
        return Err(invalid(
            "invalid_id",
            field,
            "编号只能由字母、数字和 . _ ~ - 组成",
            "an id may hold only letters, digits and . _ ~ -",
        ));
    }
    let multiline = max == MAX_TEXT_CHARS;
    if let Some(c) = text.chars().find(|&c| forbidden(c, multiline)) {
        return Err(invalid(
            "invalid_character",
            field,
            format!("含有不可见的控制字符 U+{:04X}", c as u32),
            format!("holds the invisible control character U+{:04X}", c as u32),
        ));
    }
    if contains_id_number(text) {
        return Err(invalid(
            "id_number_in_text",
            field,
            "不得填写居民身份证号码：公开信息中不保存身份证号",
            "must not hold a resident ID number: the registry never keeps one in public text",
        ));
    }
    Ok(())
}

/// Control characters (line breaks and tabs allowed in free text) and the bidirectional
/// formatting characters that make text display other than it reads.
fn forbidden(c: char, multiline: bool) -> bool {
    (c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `text` holds a resident ID number (GB 11643): 18 characters, 17 digits and a check
/// character that matches, with a plausible birth date, not part of a longer run of digits.
pub fn contains_id_number(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(17)).any(|start| {
        let window = &chars[start..start + 18];
        let before_is_digit = start > 0 && chars[start - 1].is_ascii_digit();
        let after_is_digit = chars.get(start + 18).is_some_and(char::is_ascii_digit);
        !before_is_digit && !after_is_digit && is_id_number(window)
    })
}

/// Whether `text`, trimmed, is exactly one resident ID number (GB 11643).
pub fn is_resident_id_number(text: &str) -> bool {
    let chars: Vec<char> = text.trim().chars().collect();
    chars.len() == 18 && is_id_number(&chars)
}

fn is_id_number(chars: &[char]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let Some(digits) = chars[..17].iter().map(|c| c.to_digit(10)).collect::<Option<Vec<u32>>>() else {
        return false;
    };
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let check = chars[17].to_ascii_uppercase();
    let number = |range: std::ops::Range<usize>| digits[range].iter().fold(0, |n, d| n * 10 + d);
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    CHECK[(sum % 11) as usize] == check
        && (1900..=2100).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
}

fn invalid(code: &str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Violation {
    Violation::new(ViolationKind::Invalid, code, if field.is_empty() { "body" } else { field }, zh, en)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_string_is_checked_by_its_field() {
        let long_name = "评".repeat(MAX_NAME_CHARS + 1);
        let cases: Vec<(Value, Option<(&str, &str)>)> = vec![
            (json!({"name": "吉林省工程技术人员中级职称评审委员会"}), None),
            (json!({"name": long_name}), Some(("too_long", "name"))),
            (json!({"name": "评委会\u{0}"}), Some(("invalid_character", "name"))),
            (json!({"name": "评委会\u{7}"}), Some(("invalid_character", "name"))),
            (
                json!({"organizing_unit": {"name": "\u{202E}会员委审评"}}),
                Some(("invalid_character", "organizing_unit.name")),
            ),
            (json!({"name": "第一行\n第二行"}), Some(("invalid_character", "name"))),
            (json!({"summary": "第一行\n第二行"}), None),
            (json!({"summary": "张三 220102198001011234 伪造论文"}), Some(("id_number_in_text", "summary"))),
            (json!({"subject": {"name": "220102198001011234"}}), Some(("id_number_in_text", "subject.name"))),
            (json!({"note": "吉人社函〔2022〕38号"}), None),
            (json!({"id": "cmt-110000-01"}), None),
            (json!({"committee_id": "c/../x"}), Some(("invalid_id", "committee_id"))),
            (json!({"id": "x".repeat(MAX_ID_CHARS + 1)}), Some(("too_long", "id"))),
            (json!({"document_number": "文".repeat(MAX_DOCUMENT_CHARS + 1)}), Some(("too_long", "document_number"))),
            (json!({"domains": vec!["a.cn"; MAX_LIST_ITEMS + 1]}), Some(("too_many_items", "domains"))),
            (json!({"domains": ["zcps.jl.gov.cn", "\u{0}"]}), Some(("invalid_character", "domains[1]"))),
            (json!({"credential": {"x": "\u{0}"}}), None),
        ];
        for (op, expected) in cases {
            let got = check_operation_text(&op, &["credential"]).err().map(|v| (v.code, v.field));
            let expected = expected.map(|(code, field)| (code.to_string(), field.to_string()));
            assert_eq!(got, expected, "{op}");
        }
    }

    #[test]
    fn id_numbers_are_found_by_their_check_character_and_birth_date() {
        assert!(contains_id_number("220102198001011234"));
        assert!(contains_id_number("身份证11010519491231002X。"));
        assert!(contains_id_number("11010519491231002x"));
        // A wrong check character, an impossible date, a longer run of digits: not an ID number.
        assert!(!contains_id_number("220102198001011237"));
        assert!(!contains_id_number("220102198013011231"));
        assert!(!contains_id_number("9220102198001011234"));
        assert!(!contains_id_number("统一社会信用代码 91220000123456789X"));
        assert!(!contains_id_number("吉人社函〔2022〕38号"));
    }
}

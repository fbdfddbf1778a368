//! Complaints (投诉举报) about an evaluation: taken from named complainants (the rules exclude
//! anonymous ones), kept out of public view and out of the transparency log (which records
//! only that a complaint was received and how it was concluded), followed by the complainant
//! with a tracking number and a secret code, and counted publicly per session.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::violation::{Checked, Violation};

const MAX_NAME_CHARS: usize = 50;
const MAX_CONTACT_CHARS: usize = 100;
const MAX_SUMMARY_CHARS: usize = 2000;
const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComplaint {
    pub committee_id: String,
    #[serde(default)]
    pub session_id: Option<String>,
    /// The complainant's name: anonymous complaints are not taken.
    pub complainant_name: String,
    /// A telephone number or mailbox to reach the complainant.
    pub contact: String,
    /// What happened. No resident ID numbers.
    pub summary: String,
}

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Received,
    UnderReview,
    /// 核查属实
    Substantiated,
    /// 核查不实
    Unfounded,
}

impl super::code::Code for ComplaintStatus {}

impl ComplaintStatus {
    /// Reviewed to a conclusion (已核查).
    pub fn concluded(self) -> bool {
        matches!(self, ComplaintStatus::Substantiated | ComplaintStatus::Unfounded)
    }
}

/// A complaint as the registry keeps it (never public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub tracking_number: String,
    pub committee_id: String,
    pub session_id: Option<String>,
    pub complainant_name: String,
    pub contact: String,
    pub summary: String,
    pub status: ComplaintStatus,
    /// The handling authority's note to the complainant.
    pub note: Option<String>,
    /// The authority that supervises the committee and handles the complaint.
    pub handled_by: String,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Counts a session's page shows: 收到信访件数量 / 已核查.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintCounts {
    pub received: u64,
    pub concluded: u64,
}

fn bounded(field: &str, value: &str, max: usize, zh: &str) -> Checked<()> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(Violation::invalid(
            "required",
            field,
            format!("请填写{zh}（不超过 {max} 字）"),
            format!("{field} is required, at most {max} characters"),
        ));
    }
    super::text::check_text(field, value)
}

pub fn check_complaint(c: &NewComplaint) -> Checked<()> {
    bounded("complainant_name", &c.complainant_name, MAX_NAME_CHARS, "投诉人姓名（不受理匿名投诉）")?;
    bounded("contact", &c.contact, MAX_CONTACT_CHARS, "联系方式")?;
    bounded("summary", &c.summary, MAX_SUMMARY_CHARS, "投诉内容")
}

/// A handling authority's update: the new status and, optionally, a note to the complainant.
pub fn check_update(from: ComplaintStatus, to: ComplaintStatus, note: Option<&str>) -> Checked<()> {
    if from.concluded() || to == ComplaintStatus::Received {
        return Err(Violation::conflict(
            "complaint_concluded",
            "status",
            "该投诉已核查完毕或状态不可回退",
            "the complaint is concluded, or the status cannot go back",
        ));
    }
    match note {
        Some(note) => bounded("note", note, MAX_NOTE_CHARS, "处理说明"),
        None if to.concluded() => Err(Violation::invalid(
            "required",
            "note",
            "核查结论须附处理说明",
            "a conclusion needs a note to the complainant",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, summary: &str) -> NewComplaint {
        NewComplaint {
            committee_id: "c".into(),
            session_id: None,
            complainant_name: name.into(),
            contact: "13800000000".into(),
            summary: summary.into(),
        }
    }

    #[test]
    fn named_complaints_without_id_numbers_are_taken() {
        assert_eq!(check_complaint(&new("张三", "评审专家未回避")), Ok(()));
        assert_eq!(check_complaint(&new(" ", "评审专家未回避")).unwrap_err().field, "complainant_name");
        assert!(check_complaint(&new("张三", "身份证 220102198001011234 的人未回避")).is_err());
    }

    #[test]
    fn a_conclusion_is_final_and_explained() {
        use ComplaintStatus::*;
        assert_eq!(check_update(Received, UnderReview, None), Ok(()));
        assert_eq!(check_update(UnderReview, Substantiated, None).unwrap_err().field, "note");
        assert_eq!(check_update(UnderReview, Substantiated, Some("已责令整改")), Ok(()));
        assert_eq!(check_update(Unfounded, UnderReview, Some("x")).unwrap_err().code, "complaint_concluded");
    }
}

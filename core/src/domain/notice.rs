//! Public notices (公示) of evaluation results: published for at least five working days, with
//! a channel for complaints; their end date computed on the shipped working-day calendar.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Date;
use super::calendar;
use super::violation::{Checked, Violation};

/// The rules' minimum, and a ceiling that catches typos.
pub const MIN_WORKING_DAYS: u32 = 5;
pub const MAX_WORKING_DAYS: u32 = 30;
const MAX_TITLE_CHARS: usize = 200;

fn default_working_days() -> u32 {
    MIN_WORKING_DAYS
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    pub committee_id: String,
    /// The session whose results are noticed.
    #[serde(default)]
    pub session_id: Option<String>,
    /// e.g. 2026年度工程系列中级职称评审结果公示
    pub title: String,
    /// The first day of the notice.
    pub published_on: Date,
    /// Working days the notice runs, counting `published_on` when it is one: 5 (the default) to 30.
    #[serde(default = "default_working_days")]
    pub working_days: u32,
    /// Where the full notice (the names) is published: the registry keeps no list of names.
    #[serde(default)]
    pub url: Option<String>,
    /// Where complaints go during the notice (a supervisor's telephone or mailbox).
    pub complaint_channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: String,
    pub committee_id: String,
    pub session_id: Option<String>,
    pub title: String,
    pub published_on: Date,
    pub working_days: u32,
    /// The last day of the notice, on the working-day calendar.
    pub ends_on: Date,
    pub url: Option<String>,
    pub complaint_channel: String,
    pub published_by: String,
    pub logged_at: DateTime<Utc>,
}

/// Where a notice stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    Upcoming,
    Open,
    Closed,
}

impl Notice {
    pub fn state_on(&self, day: Date) -> NoticeState {
        if day < self.published_on {
            NoticeState::Upcoming
        } else if day <= self.ends_on {
            NoticeState::Open
        } else {
            NoticeState::Closed
        }
    }
}

/// A notice's own rules; returns its end date.
pub fn check_notice(n: &NewNotice) -> Checked<Date> {
    if n.title.trim().is_empty() || n.title.chars().count() > MAX_TITLE_CHARS {
        return Err(Violation::invalid(
            "required",
            "title",
            format!("请填写公示标题（不超过 {MAX_TITLE_CHARS} 字）"),
            format!("give the notice a title (at most {MAX_TITLE_CHARS} characters)"),
        ));
    }
    if n.complaint_channel.trim().is_empty() {
        return Err(Violation::invalid(
            "required",
            "complaint_channel",
            "请填写公示期间受理投诉的渠道",
            "name the channel that takes complaints during the notice",
        ));
    }
    if !(MIN_WORKING_DAYS..=MAX_WORKING_DAYS).contains(&n.working_days) {
        return Err(Violation::invalid(
            "out_of_range",
            "working_days",
            format!("公示期应为 {MIN_WORKING_DAYS} 至 {MAX_WORKING_DAYS} 个工作日"),
            format!("a notice runs {MIN_WORKING_DAYS} to {MAX_WORKING_DAYS} working days"),
        ));
    }
    calendar::last_of_working_days(n.published_on, n.working_days).ok_or_else(|| {
        Violation::invalid(
            "calendar_not_covered",
            "published_on",
            "公示期超出已公布的节假日安排，暂无法计算截止日",
            "the notice runs beyond the years whose official holidays are known: its end cannot be computed yet",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(published_on: &str, working_days: u32) -> NewNotice {
        NewNotice {
            id: None,
            committee_id: "c".into(),
            session_id: None,
            title: "2026年度工程系列中级职称评审结果公示".into(),
            published_on: published_on.parse().unwrap(),
            working_days,
            url: None,
            complaint_channel: "0431-88888888".into(),
        }
    }

    #[test]
    fn a_notice_ends_on_its_fifth_working_day() {
        let ends = check_notice(&new("2026-02-12", 5)).unwrap();
        assert_eq!(ends.to_string(), "2026-02-25", "across the Spring Festival and the worked Saturday");
        assert_eq!(check_notice(&new("2026-02-12", 4)).unwrap_err().field, "working_days");
        assert_eq!(check_notice(&new("2026-12-28", 5)).unwrap_err().code, "calendar_not_covered");
        let notice = Notice {
            id: "n".into(),
            committee_id: "c".into(),
            session_id: None,
            title: "t".into(),
            published_on: "2026-02-12".parse().unwrap(),
            working_days: 5,
            ends_on: ends,
            url: None,
            complaint_channel: "x".into(),
            published_by: "jilin".into(),
            logged_at: Utc::now(),
        };
        assert_eq!(notice.state_on("2026-02-11".parse().unwrap()), NoticeState::Upcoming);
        assert_eq!(notice.state_on("2026-02-25".parse().unwrap()), NoticeState::Open);
        assert_eq!(notice.state_on("2026-02-26".parse().unwrap()), NoticeState::Closed);
    }
}

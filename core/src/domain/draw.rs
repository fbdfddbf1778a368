//! Spot-check draws (随机抽查) nobody can steer, and the inspection cycle they serve.
//!
//! An authority publishes a plan: the committees that may be drawn and how many. The plan
//! enters the transparency log; the draw's randomness is the first signed checkpoint that
//! covers it. That note's Ed25519 signature is deterministic but unknowable without the log's
//! private key, so the authority cannot predict it when it words its plan, and once signed it
//! is fixed and public: anyone recomputes the draw from the plan and the note
//! (`scripts/recompute_draw.py` does, without this code).
//!
//! Each committee an authority approved must be inspected within a cycle set by the
//! authority's level: 5 years for a province (and the nation), 3 for a city, 2 for a county.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::Date;
use super::authority::AuthorityLevel;
use super::violation::{Checked, Violation};
use crate::crypto::sha256;

/// The most committees one plan may list, and the longest plan name.
pub const MAX_ELIGIBLE: usize = 10_000;
const MAX_NAME_CHARS: usize = 200;
/// Prefixes the checkpoint note in the seed, so the seed is of this use alone.
const SEED_DOMAIN: &[u8] = b"zhicheng spot-check draw v1\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDrawPlan {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    /// e.g. 2027年度职称评审委员会随机抽查
    pub name: String,
    /// The committees that may be drawn, each supervised by the publishing authority.
    pub eligible: Vec<String>,
    /// How many to draw: 1 to the number eligible.
    pub count: u32,
    #[serde(default)]
    pub document_number: Option<String>,
}

/// A plan as logged, with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawPlan {
    pub id: String,
    pub name: String,
    pub authority_id: String,
    pub eligible: Vec<String>,
    pub count: u32,
    pub document_number: Option<String>,
    pub logged_at: DateTime<Utc>,
    /// The log index of the plan's entry; the draw uses the first checkpoint past it.
    pub log_index: u64,
}

/// What an inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InspectionResult {
    /// 合格
    Compliant,
    /// 限期整改
    RectificationRequired,
    /// 移交处理: referred for sanction.
    Referred,
}

impl super::code::Code for InspectionResult {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    /// The draw that selected the committee. In a bulk file, required; on a path endpoint the
    /// path gives it.
    #[serde(default)]
    pub plan_id: String,
    pub committee_id: String,
    pub inspected_on: Date,
    pub result: InspectionResult,
    /// What was found, for the public.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inspection {
    pub id: String,
    pub plan_id: String,
    pub committee_id: String,
    pub inspected_on: Date,
    pub result: InspectionResult,
    pub summary: String,
    pub inspected_by: String,
    pub logged_at: DateTime<Utc>,
}

/// A plan's own consistency.
pub fn check_plan(plan: &NewDrawPlan) -> Checked<()> {
    if plan.name.trim().is_empty() || plan.name.chars().count() > MAX_NAME_CHARS {
        return Err(Violation::invalid(
            "required",
            "name",
            format!("请填写抽查计划名称（不超过 {MAX_NAME_CHARS} 字）"),
            format!("name the plan (at most {MAX_NAME_CHARS} characters)"),
        ));
    }
    if plan.eligible.is_empty() || plan.eligible.len() > MAX_ELIGIBLE {
        return Err(Violation::invalid(
            "out_of_range",
            "eligible",
            format!("可抽取的评委会应有 1 至 {MAX_ELIGIBLE} 个"),
            format!("list 1 to {MAX_ELIGIBLE} eligible committees"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(i) = plan.eligible.iter().position(|c| !seen.insert(c)) {
        return Err(Violation::invalid(
            "duplicate",
            &format!("eligible[{i}]"),
            format!("评委会“{}”重复列出", plan.eligible[i]),
            format!("committee {:?} is listed twice", plan.eligible[i]),
        ));
    }
    if plan.count == 0 || plan.count as usize > plan.eligible.len() {
        return Err(Violation::invalid(
            "out_of_range",
            "count",
            "抽取数量应在 1 至可抽取评委会数之间",
            "count must be between 1 and the number of eligible committees",
        ));
    }
    Ok(())
}

/// The draw's randomness: SHA-256 of the signed checkpoint note that first covers the plan.
pub fn seed(checkpoint_note: &str) -> [u8; 32] {
    sha256(&[SEED_DOMAIN, checkpoint_note.as_bytes()].concat())
}

/// The drawn committees, in draw order: every eligible committee ranked by
/// SHA-256(seed ‖ plan id ‖ "\n" ‖ committee id), the lowest `count`.
pub fn select(plan: &DrawPlan, seed: &[u8; 32]) -> Vec<String> {
    let mut ranked: Vec<([u8; 32], &String)> = plan
        .eligible
        .iter()
        .map(|c| (sha256(&[seed.as_slice(), plan.id.as_bytes(), b"\n", c.as_bytes()].concat()), c))
        .collect();
    ranked.sort();
    ranked.into_iter().take(plan.count as usize).map(|(_, c)| c.clone()).collect()
}

/// Years within which every committee an authority of `level` approved must be inspected.
pub fn cycle_years(level: AuthorityLevel) -> u32 {
    match level {
        AuthorityLevel::National | AuthorityLevel::Provincial => 5,
        AuthorityLevel::Municipal => 3,
        AuthorityLevel::County => 2,
    }
}

/// When a committee's next inspection is due: a cycle after its last inspection, or after it
/// began evaluating (`since`) when it was never inspected.
pub fn next_due(since: Date, last_inspection: Option<Date>, level: AuthorityLevel) -> Date {
    let from = last_inspection.map_or(since, |last| last.max(since));
    from.checked_add_months(Months::new(12 * cycle_years(level))).unwrap_or(Date::MAX)
}

/// An inspection can be published only for a committee the draw selected, on a day that came.
pub fn check_inspection(selected: &[String], i: &NewInspection, today: Date) -> Checked<()> {
    if !selected.contains(&i.committee_id) {
        return Err(Violation::conflict(
            "not_drawn",
            "committee_id",
            format!("评委会“{}”未被本次抽查抽中", i.committee_id),
            format!("committee {:?} was not drawn by this plan", i.committee_id),
        ));
    }
    if i.inspected_on > today {
        return Err(Violation::invalid(
            "in_the_future",
            "inspected_on",
            "检查日期不能晚于今天",
            "inspected_on is in the future",
        ));
    }
    if i.summary.trim().is_empty() {
        return Err(Violation::invalid("required", "summary", "请填写检查情况", "summarize what was found"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(eligible: &[&str], count: u32) -> DrawPlan {
        DrawPlan {
            id: "plan-1".into(),
            name: "2027年度随机抽查".into(),
            authority_id: "jilin".into(),
            eligible: eligible.iter().map(|s| s.to_string()).collect(),
            count,
            document_number: None,
            logged_at: Utc::now(),
            log_index: 7,
        }
    }

    #[test]
    fn the_draw_is_fixed_by_the_note_and_blind_to_list_order() {
        let ids: Vec<String> = (0..50).map(|i| format!("c-{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let seed = seed("registry.example/log\n8\nroot\n\n— registry.example/log sig\n");
        let drawn = select(&plan(&refs, 5), &seed);
        assert_eq!(drawn.len(), 5);
        let mut reversed = refs.clone();
        reversed.reverse();
        assert_eq!(select(&plan(&reversed, 5), &seed), drawn, "the order of the list does not matter");
        let other = super::seed("registry.example/log\n8\nroot\n\n— registry.example/log sih\n");
        assert_ne!(select(&plan(&refs, 5), &other), drawn, "another note, another draw");
        // Over many notes every committee gets drawn about equally often.
        let mut hits = std::collections::HashMap::new();
        for n in 0..2000 {
            for c in select(&plan(&refs, 5), &super::seed(&format!("note {n}"))) {
                *hits.entry(c).or_insert(0) += 1;
            }
        }
        assert_eq!(hits.len(), 50);
        assert!(hits.values().all(|&h| (120..=280).contains(&h)), "{hits:?}");
    }

    #[test]
    fn plans_are_checked() {
        let new = |eligible: &[&str], count| NewDrawPlan {
            id: None,
            name: "抽查".into(),
            eligible: eligible.iter().map(|s| s.to_string()).collect(),
            count,
            document_number: None,
        };
        assert_eq!(check_plan(&new(&["a", "b"], 1)), Ok(()));
        assert_eq!(check_plan(&new(&["a", "b"], 3)).unwrap_err().field, "count");
        assert_eq!(check_plan(&new(&["a", "a"], 1)).unwrap_err().field, "eligible[1]");
        assert_eq!(check_plan(&new(&[], 0)).unwrap_err().field, "eligible");
    }

    #[test]
    fn the_cycle_is_five_three_and_two_years() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(next_due(d("2020-03-01"), None, AuthorityLevel::Provincial), d("2025-03-01"));
        assert_eq!(next_due(d("2020-03-01"), Some(d("2024-06-30")), AuthorityLevel::Municipal), d("2027-06-30"));
        assert_eq!(next_due(d("2024-02-29"), None, AuthorityLevel::County), d("2026-02-28"));
    }
}

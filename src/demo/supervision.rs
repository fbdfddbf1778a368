//! The demo's supervision records, published through the write path after the registry is
//! loaded (so they are checked like any publication): in each seed province, evaluation
//! sessions registered for the coming weeks, one that met today with its outcome and the
//! notice of its results and the on-site visit of two supervisors, supervisor credentials, a
//! spot-check plan over the province's authorized committees (its draw follows from the next
//! checkpoint), and complaints about today's session in Jilin.

use std::collections::BTreeMap;

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::Date;
use crate::domain::authority::AuthorityGraph;
use crate::domain::committee::{CommitteeRecord, CommitteeStatus};
use crate::domain::complaint::NewComplaint;
use crate::domain::draw::NewDrawPlan;
use crate::domain::notice::NewNotice;
use crate::domain::publish::{CertificateSubmission, Operation, Role};
use crate::domain::session::{NewSession, SessionOutcomeSubmission, Tally};
use crate::domain::supervisor::{NewVisit, SupervisorSubject, unsigned_supervisor_credential};
use crate::store::Dataset;

/// The provinces of the seed regulations, whose supervision the demo shows.
const PROVINCES: [(&str, &str); 3] = [("220000", "吉"), ("450000", "桂"), ("530000", "云")];
/// Sessions registered per province, and committees per draw.
const SESSIONS: usize = 4;
const DRAWN: u32 = 3;

const SUPERVISORS: [&str; 3] = ["王建国", "刘淑芬", "陈志强"];

/// What the demo publishes: for each province's authority its operations in order, with the
/// role of the token that publishes them (its issuer signs the supervisor credentials first);
/// then complaints (with whether each was concluded).
pub struct Supervision {
    pub publications: Vec<(String, Role, Vec<Operation>)>,
    pub complaints: Vec<(NewComplaint, bool)>,
}

pub fn supervision(ds: &Dataset, today: Date) -> Supervision {
    let mut complaints_made = Vec::new();
    let publications = operations(ds, today, &mut complaints_made);
    Supervision { publications, complaints: complaints_made }
}

fn operations(
    ds: &Dataset,
    today: Date,
    complaints_made: &mut Vec<(NewComplaint, bool)>,
) -> Vec<(String, Role, Vec<Operation>)> {
    let graph = AuthorityGraph::new(ds.authorities.clone(), ds.delegations.clone());
    let records = ds.committee_records();
    let mut rng = StdRng::seed_from_u64(0x5e55_1075);
    PROVINCES
        .iter()
        .flat_map(|(region, short)| {
            let authority = super::authority_id(region);
            let authorized: Vec<&CommitteeRecord> = records
                .iter()
                .filter(|r| r.committee.authority_id == authority)
                .filter(|r| r.status_on(today, &graph) == CommitteeStatus::Authorized)
                .collect();
            let credentials = supervisor_credentials(&authority, region, today);
            let numbers: Vec<String> = credentials
                .iter()
                .filter_map(|c| c["credentialSubject"]["credentialNumber"].as_str().map(str::to_string))
                .collect();
            let issued = credentials
                .into_iter()
                .map(|credential| Operation::IssueSupervisorCredential(CertificateSubmission { credential }))
                .collect();
            let mut ops = Vec::new();
            for (n, record) in authorized.iter().take(SESSIONS).enumerate() {
                let days = if n == 0 { 0 } else { 7 * n as i64 };
                let Some(session) = session(record, &authority, today + Duration::days(days), n, &mut rng)
                    .filter(|s| crate::domain::session::check_registration(record, &graph, s, today).is_ok())
                else {
                    continue;
                };
                let id = session.id.clone().expect("demo sessions have ids");
                ops.push(Operation::RegisterSession(session));
                if n == 0 {
                    ops.push(Operation::PublishSessionOutcome(outcome(&id, &mut rng)));
                    ops.push(Operation::RecordVisit(NewVisit {
                        id: Some(format!("visit-{id}")),
                        session_id: id.clone(),
                        supervisors: numbers[..2].to_vec(),
                        findings: "专家随机抽取、回避、无记名投票和会议记录符合规定；现场未发现违规行为".into(),
                    }));
                    if *region == PROVINCES[0].0 {
                        complaints_made.extend(complaints(&record.committee.id, &id));
                    }
                    // Past the years the holiday calendar covers, a notice cannot be dated: none.
                    let notice = notice(record, &id, short, today);
                    if crate::domain::notice::check_notice(&notice).is_ok() {
                        ops.push(Operation::PublishNotice(notice));
                    }
                }
            }
            if !authorized.is_empty() {
                ops.push(Operation::PlanDraw(NewDrawPlan {
                    id: Some(format!("draw-{region}-{}", chrono::Datelike::year(&today))),
                    name: format!("{}年度职称评审委员会随机抽查", chrono::Datelike::year(&today)),
                    eligible: authorized.iter().map(|r| r.committee.id.clone()).collect(),
                    count: DRAWN.min(authorized.len() as u32),
                    document_number: Some(format!("{short}人社监〔{}〕1号", chrono::Datelike::year(&today))),
                }));
            }
            [(authority.clone(), Role::Issuer, issued), (authority, Role::Publisher, ops)]
        })
        .collect()
}

/// The demo's inspection of a drawn committee: the first its plan's draw selected, inspected
/// today and found in order. Recorded once the draw is made (a checkpoint past the plan).
pub fn inspection(plan: &crate::domain::draw::DrawPlan, selected: &[String], today: Date) -> Option<Operation> {
    Some(Operation::RecordInspection(crate::domain::draw::NewInspection {
        id: Some(format!("{}-inspection-1", plan.id)),
        plan_id: plan.id.clone(),
        committee_id: selected.first()?.clone(),
        inspected_on: today,
        result: crate::domain::draw::InspectionResult::Compliant,
        summary: "评审程序、专家抽取与回避、材料审核及档案归档符合规定".into(),
    }))
}

/// The province's supervisors: credentials signed with its demo key, for its whole territory,
/// valid from two months ago for two years.
fn supervisor_credentials(authority: &str, region: &str, today: Date) -> Vec<serde_json::Value> {
    let from = (today - Duration::days(60)).and_hms_opt(1, 0, 0).expect("a valid time").and_utc();
    SUPERVISORS
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let subject = SupervisorSubject {
                subject_type: "Supervisor".into(),
                format_version: 1,
                credential_number: format!("JG-{region}-{:03}", n + 1),
                holder_name: name.to_string(),
                jurisdiction: region.to_string(),
            };
            let unsigned =
                unsigned_supervisor_credential(&subject, authority, authority, from, from + Duration::days(730));
            super::certificates::sign_as_province(authority, &unsigned, from)
        })
        .collect()
}

/// Complaints about the session `session_id` of `committee_id` that met today: (complaint, whether
/// the authority has concluded it).
fn complaints(committee_id: &str, session_id: &str) -> Vec<(NewComplaint, bool)> {
    let complaint = |name: &str, summary: &str| NewComplaint {
        committee_id: committee_id.to_string(),
        session_id: Some(session_id.to_string()),
        complainant_name: name.to_string(),
        contact: "0431-8000 0000".to_string(),
        summary: summary.to_string(),
    };
    vec![
        (complaint("赵晓东", "有评审专家与申报人同在一个课题组，未见回避"), true),
        (complaint("孙丽", "公示名单中一人的论文疑似代写"), false),
    ]
}
/// A session evaluating the first level the committee's current authorization covers.
fn session(
    record: &CommitteeRecord,
    authority: &str,
    meets_on: Date,
    n: usize,
    rng: &mut StdRng,
) -> Option<NewSession> {
    let terms = record
        .authorizations
        .iter()
        .map(|a| a.terms_on(meets_on))
        .find(|t| t.valid_from <= meets_on && meets_on <= t.valid_until)?;
    Some(NewSession {
        id: Some(format!("ses-{authority}-{n}")),
        committee_id: record.committee.id.clone(),
        series: terms.series.clone(),
        specialty: terms.specialties.first().cloned(),
        levels: vec![*terms.levels.first()?],
        meets_on,
        applicants: rng.random_range(40..400),
        pass_rate_cap: Some(0.75),
    })
}

fn outcome(session_id: &str, rng: &mut StdRng) -> SessionOutcomeSubmission {
    let public: u32 = rng.random_range(30..200);
    let enterprise: u32 = rng.random_range(10..120);
    let checklist =
        ["experts_drawn_at_random", "recusal_applied", "secret_ballot", "supervisor_present", "minutes_kept"]
            .iter()
            .map(|item| (item.to_string(), true))
            .collect::<BTreeMap<_, _>>();
    SessionOutcomeSubmission {
        session_id: session_id.to_string(),
        public_sector: Tally { applicants: public, passed: public * rng.random_range(55..80) / 100 },
        enterprise: Tally { applicants: enterprise, passed: enterprise * rng.random_range(50..75) / 100 },
        review_problems: rng.random_range(0..6),
        checklist,
    }
}

fn notice(record: &CommitteeRecord, session_id: &str, short: &str, today: Date) -> NewNotice {
    NewNotice {
        id: Some(format!("notice-{session_id}")),
        committee_id: record.committee.id.clone(),
        session_id: Some(session_id.to_string()),
        title: format!("{}{}年度评审结果公示", record.committee.name, chrono::Datelike::year(&today)),
        published_on: today,
        working_days: 5,
        url: record.committee.domains.first().map(|d| format!("https://{d}/gs")),
        complaint_channel: format!("{short}人社厅职称监管举报电话 12333"),
    }
}

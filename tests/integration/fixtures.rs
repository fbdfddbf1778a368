//! A small registry with one committee per situation the coverage check must recognise.
//! Dates are fixed, so every answer is known in advance.

use chrono::{NaiveDate, Utc};
use zhicheng::domain::authority::{Authority, AuthorityLevel, Delegation};
use zhicheng::domain::authorization::{Action, Authorization, HistoryRecord, Scope, Terms};
use zhicheng::domain::catalog::Level;
use zhicheng::domain::committee::{Committee, CommitteeKind, OrganizingUnit};
use zhicheng::domain::credit_code::check_character;
use zhicheng::domain::sanction::{Lift, Measure, Sanction, Subject, SubjectKind};
use zhicheng::store::Dataset;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("fixture date")
}

fn authority(id: &str, name: &str, level: AuthorityLevel, region: &str, parent: Option<&str>) -> Authority {
    Authority { id: id.into(), name: name.into(), level, region: region.into(), parent_id: parent.map(Into::into) }
}

fn committee(id: &str, name: &str, kind: CommitteeKind, authority: &str, region: &str) -> Committee {
    let first17 = format!("12{region}{:0>9}", id.len() * 7919 % 1_000_000_000);
    let credit_code = format!("{first17}{}", check_character(&first17).expect("digits"));
    Committee {
        id: id.into(),
        name: name.into(),
        kind,
        organizing_unit: OrganizingUnit { name: format!("{name}组建单位"), credit_code },
        authority_id: authority.into(),
        region: region.into(),
        domains: vec![format!("{id}.example.cn")],
        contact: None,
    }
}

pub fn terms(series: &str, specialties: &[&str], levels: &[Level], regions: &[&str], from: &str, until: &str) -> Terms {
    Terms {
        series: series.into(),
        specialties: specialties.iter().map(|s| s.to_string()).collect(),
        levels: levels.to_vec(),
        scope: Scope::Regions { regions: regions.iter().map(|r| r.to_string()).collect() },
        valid_from: d(from),
        valid_until: d(until),
    }
}

fn record(action: Action, on: &str, document_number: &str, terms: Option<Terms>) -> HistoryRecord {
    HistoryRecord {
        action,
        effective_on: d(on),
        document_number: document_number.into(),
        note: None,
        logged_at: Utc::now(),
        terms,
    }
}

fn authorization(id: &str, committee: &str, granted_by: &str, history: Vec<HistoryRecord>) -> Authorization {
    Authorization {
        id: id.into(),
        committee_id: committee.into(),
        granted_by: granted_by.into(),
        document_number: history[0].document_number.clone(),
        history,
    }
}

#[allow(clippy::too_many_arguments)]
fn sanction(
    id: &str,
    subject: Subject,
    measure: Measure,
    region: &str,
    from: &str,
    until: Option<&str>,
    void_from: Option<&str>,
    summary: &str,
) -> Sanction {
    Sanction {
        id: id.into(),
        subject,
        measure,
        region: region.into(),
        effective_from: d(from),
        effective_until: until.map(d),
        void_from: void_from.map(d),
        decided_by: "jilin".into(),
        document_number: format!("吉人社监〔2023〕{}号", id.len()),
        legal_basis: "人社部令第40号".into(),
        summary: summary.into(),
        logged_at: Utc::now(),
        lift: None,
    }
}

fn on_committee(id: &str) -> Subject {
    Subject { kind: SubjectKind::Committee, id: Some(id.into()), name: None }
}

/// Committees:
/// - `c-eng`: Jilin ENGINEERING 建筑工程, intermediate + associate_senior, Changchun applicants,
///   2022-01-01..2024-12-31, withdrawn from 2024-06-01.
/// - `c-health-old`: Jilin HEALTH intermediate, 2019-01-01..2021-12-31 (expired since).
/// - `c-susp`: Jilin AGRICULTURE intermediate, suspended 2023-03-01, reinstated 2023-06-01.
/// - `c-overreach`: Changchun grants ENGINEERING senior though delegated only up to intermediate.
/// - `c-empty`: no authorization at all.
/// - `c-sanctioned`: ECONOMICS; committee suspended by sanction 2023-01-01..2023-06-30, and
///   withdrawn retroactively on 2024-01-01 voiding evaluations from 2023-09-01.
/// - `c-univ`: own-staff HIGHER_ED senior (self-evaluating university).
pub fn registry() -> Dataset {
    Dataset {
        authorities: vec![
            authority("mohrss", "人力资源和社会保障部", AuthorityLevel::National, "000000", None),
            authority("jilin", "吉林省人力资源和社会保障厅", AuthorityLevel::Provincial, "220000", Some("mohrss")),
            authority("yunnan", "云南省人力资源和社会保障厅", AuthorityLevel::Provincial, "530000", Some("mohrss")),
            authority("changchun", "长春市人力资源和社会保障局", AuthorityLevel::Municipal, "220100", Some("jilin")),
            authority("siping", "四平市人力资源和社会保障局", AuthorityLevel::Municipal, "220300", Some("jilin")),
        ],
        delegations: vec![Delegation {
            id: "dl-1".into(),
            authority_id: "changchun".into(),
            delegated_by: "jilin".into(),
            series: "ENGINEERING".into(),
            specialties: vec![],
            levels: Level::Intermediate.and_below(),
            valid_from: d("2020-01-01"),
            valid_until: None,
            document_number: "吉人社函〔2020〕1号".into(),
        }],
        committees: vec![
            committee("c-eng", "吉林省建筑工程中级职称评审委员会", CommitteeKind::Intermediate, "jilin", "220000"),
            committee("c-health-old", "吉林省卫生中级职称评审委员会", CommitteeKind::Intermediate, "jilin", "220000"),
            committee("c-susp", "吉林省农业技术中级职称评审委员会", CommitteeKind::Intermediate, "jilin", "220000"),
            committee("c-overreach", "长春市工程技术高级职称评审委员会", CommitteeKind::Senior, "changchun", "220100"),
            committee("c-empty", "四平市某职称评审委员会", CommitteeKind::Junior, "siping", "220300"),
            committee(
                "c-sanctioned",
                "昆明市经济专业中级职称评审委员会",
                CommitteeKind::Intermediate,
                "yunnan",
                "530100",
            ),
            committee("c-univ", "某大学高等学校教师职称评审委员会", CommitteeKind::SelfEvaluating, "jilin", "220102"),
        ],
        authorizations: vec![
            authorization(
                "a-eng",
                "c-eng",
                "jilin",
                vec![
                    record(
                        Action::Granted,
                        "2021-12-15",
                        "吉人社函〔2021〕90号",
                        Some(terms(
                            "ENGINEERING",
                            &["建筑工程"],
                            &[Level::Intermediate, Level::AssociateSenior],
                            &["220100"],
                            "2022-01-01",
                            "2024-12-31",
                        )),
                    ),
                    record(Action::Withdrawn, "2024-06-01", "吉人社函〔2024〕12号", None),
                ],
            ),
            authorization(
                "a-health-old",
                "c-health-old",
                "jilin",
                vec![record(
                    Action::Granted,
                    "2019-01-01",
                    "吉人社函〔2019〕3号",
                    Some(terms("HEALTH", &[], &[Level::Intermediate], &["220000"], "2019-01-01", "2021-12-31")),
                )],
            ),
            authorization(
                "a-susp",
                "c-susp",
                "jilin",
                vec![
                    record(
                        Action::Granted,
                        "2022-01-01",
                        "吉人社函〔2022〕5号",
                        Some(terms(
                            "AGRICULTURE",
                            &[],
                            &[Level::Intermediate],
                            &["220000"],
                            "2022-01-01",
                            "2024-12-31",
                        )),
                    ),
                    record(Action::Suspended, "2023-03-01", "吉人社函〔2023〕7号", None),
                    record(Action::Reinstated, "2023-06-01", "吉人社函〔2023〕9号", None),
                ],
            ),
            authorization(
                "a-overreach",
                "c-overreach",
                "changchun",
                vec![record(
                    Action::Granted,
                    "2022-01-01",
                    "长人社函〔2022〕2号",
                    Some(terms(
                        "ENGINEERING",
                        &[],
                        &[Level::Intermediate, Level::Senior],
                        &["220100"],
                        "2022-01-01",
                        "2024-12-31",
                    )),
                )],
            ),
            authorization(
                "a-sanctioned",
                "c-sanctioned",
                "yunnan",
                vec![record(
                    Action::Granted,
                    "2022-01-01",
                    "云人社函〔2022〕8号",
                    Some(terms("ECONOMICS", &[], &[Level::Intermediate], &["530100"], "2022-01-01", "2024-12-31")),
                )],
            ),
            authorization(
                "a-univ",
                "c-univ",
                "jilin",
                vec![record(
                    Action::Granted,
                    "2022-01-01",
                    "吉人社函〔2022〕6号",
                    Some(Terms {
                        scope: Scope::OwnStaff { own_staff: true },
                        ..terms(
                            "HIGHER_ED",
                            &[],
                            &[Level::AssociateSenior, Level::Senior],
                            &[],
                            "2022-01-01",
                            "2024-12-31",
                        )
                    }),
                )],
            ),
        ],
        sanctions: vec![
            sanction(
                "s-1",
                on_committee("c-sanctioned"),
                Measure::SuspensionOfAuthority,
                "530100",
                "2023-01-01",
                Some("2023-06-30"),
                None,
                "评审程序违规，暂停评审权限",
            ),
            sanction(
                "s-2",
                on_committee("c-sanctioned"),
                Measure::WithdrawalOfAuthority,
                "530100",
                "2024-01-01",
                None,
                Some("2023-09-01"),
                "组织虚假评审，收回评审权限",
            ),
            sanction(
                "s-3",
                on_committee("c-eng"),
                Measure::Warning,
                "220000",
                "2023-02-01",
                Some("2023-02-01"),
                None,
                "约谈评委会负责人",
            ),
            sanction(
                "s-4",
                Subject { kind: SubjectKind::Applicant, id: None, name: Some("张某某".into()) },
                Measure::DishonestyRecord,
                "220100",
                "2023-05-01",
                Some("2026-04-30"),
                None,
                "弄虚作假取得职称，记入失信黑名单",
            ),
            sanction(
                "s-5",
                Subject { kind: SubjectKind::Website, id: None, name: Some("fake-zhicheng.example.com".into()) },
                Measure::PublicCriticism,
                "220000",
                "2023-07-01",
                None,
                None,
                "冒用评审中心名义的虚假网站",
            ),
            Sanction {
                lift: Some(Lift {
                    effective_on: d("2023-04-01"),
                    document_number: "吉人社监〔2023〕20号".into(),
                    reason: Some("整改到位".into()),
                    logged_at: Utc::now(),
                }),
                ..sanction(
                    "s-6",
                    on_committee("c-susp"),
                    Measure::Rectification,
                    "220000",
                    "2023-01-15",
                    Some("2023-12-31"),
                    None,
                    "限期整改专家库",
                )
            },
        ],
        keys: vec![],
        certificates: vec![],
    }
}

//! The demo registry: the provinces of the seed regulations (Jilin, Yunnan, Guangxi, Hubei)
//! and three more, their cities, ~200 committees of every kind, authorizations with past,
//! current, expired, amended, suspended and withdrawn windows, delegated competences, and
//! sanctions of every subject kind and measure. Deterministic for a given `today`, so the
//! demo always looks current and two runs on the same day agree.

pub mod certificates;
pub mod supervision;

use chrono::{Datelike, Duration, Months, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityLevel, Delegation};
use crate::domain::authorization::{Action, Authorization, HistoryRecord, Scope, Terms};
use crate::domain::catalog::{Catalog, Level, NATIONWIDE};
use crate::domain::committee::{Committee, CommitteeKind, OrganizingUnit};
use crate::domain::credit_code;
use crate::domain::sanction::{Lift, Measure, Sanction, Subject, SubjectKind};
use crate::store::Dataset;
pub use certificates::DemoRegistry;

/// Provinces in the demo: (code, short name used in document numbers, department name).
const PROVINCES: [(&str, &str, &str); 7] = [
    ("220000", "吉", "吉林省人力资源和社会保障厅"),
    ("530000", "云", "云南省人力资源和社会保障厅"),
    ("450000", "桂", "广西壮族自治区人力资源和社会保障厅"),
    ("420000", "鄂", "湖北省人力资源和社会保障厅"),
    ("110000", "京", "北京市人力资源和社会保障局"),
    ("440000", "粤", "广东省人力资源和社会保障厅"),
    ("330000", "浙", "浙江省人力资源和社会保障厅"),
];

/// Series each province runs a senior committee for.
const PROVINCIAL_SERIES: [&str; 8] =
    ["ENGINEERING", "HEALTH", "SCHOOL_TEACHER", "AGRICULTURE", "ECONOMICS", "ACCOUNTING", "ARCHIVES", "JOURNALISM"];

pub fn authority_id(region: &str) -> String {
    format!("hr-{region}")
}

struct Builder {
    today: Date,
    rng: StdRng,
    ds: Dataset,
    doc_counter: u32,
}

/// Builds the demo dataset for a registry whose "today" is `today` (no certificates).
pub fn dataset(today: Date) -> Dataset {
    realistic(today).ds
}

/// The realistic registry: authorities, delegations, committees of every kind, sanctions.
fn realistic(today: Date) -> Builder {
    let mut b =
        Builder { today, rng: StdRng::seed_from_u64(0x7a68_6963_6865_6e67), ds: Dataset::default(), doc_counter: 0 };
    b.authorities();
    b.delegations();
    b.provincial_committees();
    b.city_committees();
    b.unit_committees();
    b.county_committees();
    b.problem_committees();
    b.sanctions();
    b
}

/// The demo registry with about `certificates` certificates, and example certificate files:
/// a valid one and one for each kind of fraud.
pub fn demo(today: Date, certificates: usize, registry: &DemoRegistry) -> Demo {
    let mut dataset = Dataset::default();
    let examples = demo_in_batches(today, 0, certificates, usize::MAX, registry, |batch| {
        dataset = batch;
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|never| match never {});
    Demo { dataset, examples }
}

/// The demo registry at any scale: the realistic demo, `committees` more synthetic provincial
/// committees (each with a current grant), and `certificates` certificates in all. The data
/// reaches `sink` in datasets of at most `batch` committees or certificates each (the first
/// holds the whole realistic demo), so millions of records never sit in memory at once.
pub fn demo_in_batches<E>(
    today: Date,
    committees: usize,
    certificates: usize,
    batch: usize,
    registry: &DemoRegistry,
    mut sink: impl FnMut(Dataset) -> Result<(), E>,
) -> Result<Vec<crate::demo::certificates::Example>, E> {
    let mut b = realistic(today);
    let base_committees = b.ds.committees.len();
    b.bulk_committees(committees);
    if certificates == 0 {
        sink(b.ds)?;
        return Ok(vec![]);
    }
    let mut factory = crate::demo::certificates::CertificateFactory::new(&b.ds, today, registry.clone());
    let mut rng = b.rng.clone();
    let first = factory.next_batch(&mut rng, certificates.min(batch));
    let examples = crate::demo::certificates::examples(&mut factory, &mut rng, &first);
    let mut issued = first.len();
    let mut base = b.ds;
    base.keys.extend(factory.keys());
    base.certificates = first;
    let mut extra_committees = base.committees.split_off(base_committees);
    let mut extra_grants = base.authorizations.split_off(base.authorizations.len() - extra_committees.len());
    sink(base)?;
    while !extra_committees.is_empty() {
        let rest = extra_committees.split_off(extra_committees.len().min(batch));
        let rest_grants = extra_grants.split_off(extra_grants.len().min(batch));
        sink(Dataset { committees: extra_committees, authorizations: extra_grants, ..Default::default() })?;
        (extra_committees, extra_grants) = (rest, rest_grants);
    }
    while issued < certificates {
        let next = factory.next_batch(&mut rng, (certificates - issued).min(batch));
        if next.is_empty() {
            break;
        }
        issued += next.len();
        sink(Dataset { certificates: next, ..Default::default() })?;
    }
    Ok(examples)
}

pub struct Demo {
    pub dataset: Dataset,
    pub examples: Vec<crate::demo::certificates::Example>,
}

impl Builder {
    fn days(&self, n: i64) -> Date {
        self.today + Duration::days(n)
    }

    fn doc(&mut self, prefix: &str, kind: &str, year: i32) -> String {
        self.doc_counter += 1;
        format!("{prefix}{kind}〔{year}〕{}号", 10 + self.doc_counter % 90)
    }

    fn credit_code(&mut self, registrar: &str, region: &str) -> String {
        const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let body: String = (0..9).map(|_| CHARS[self.rng.random_range(0..CHARS.len())] as char).collect();
        let first17 = format!("{registrar}{region}{body}");
        let check = credit_code::check_character(&first17).expect("generated from the code alphabet");
        format!("{first17}{check}")
    }

    fn authorities(&mut self) {
        let catalog = Catalog::get();
        self.ds.authorities.push(Authority {
            id: authority_id(NATIONWIDE),
            name: "人力资源和社会保障部".into(),
            level: AuthorityLevel::National,
            region: NATIONWIDE.into(),
            parent_id: None,
        });
        for (code, _, name) in PROVINCES {
            self.ds.authorities.push(Authority {
                id: authority_id(code),
                name: name.into(),
                level: AuthorityLevel::Provincial,
                region: code.into(),
                parent_id: Some(authority_id(NATIONWIDE)),
            });
        }
        for (code, _, _) in PROVINCES {
            let cities: Vec<_> =
                catalog.region_children(code).into_iter().filter(|c| !c.name.contains("直辖")).collect();
            let take = if ["110000", "440000", "330000"].contains(&code) { 3 } else { cities.len() };
            for city in cities.into_iter().take(take) {
                let name = format!("{}人力资源和社会保障局", city.full_name.replace("市辖区", ""));
                self.ds.authorities.push(Authority {
                    id: authority_id(&city.code),
                    name,
                    level: AuthorityLevel::Municipal,
                    region: city.code.clone(),
                    parent_id: Some(authority_id(code)),
                });
            }
        }
        // Xianning's counties (the seed 咸职改办〔2024〕6号 addresses them) and two Changchun districts.
        for parent in ["421200", "220100"] {
            for county in catalog.region_children(parent).into_iter().filter(|c| c.name != "市辖区").take(6) {
                self.ds.authorities.push(Authority {
                    id: authority_id(&county.code),
                    name: format!("{}人力资源和社会保障局", county.full_name),
                    level: AuthorityLevel::County,
                    region: county.code.clone(),
                    parent_id: Some(authority_id(parent)),
                });
            }
        }
    }

    fn municipal(&self, province: &str) -> Vec<String> {
        let parent = authority_id(province);
        self.ds
            .authorities
            .iter()
            .filter(|a| a.parent_id.as_deref() == Some(&parent) && a.level == AuthorityLevel::Municipal)
            .map(|a| a.region.clone())
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn delegate(
        &mut self,
        to: &str,
        by: &str,
        series: &str,
        specialties: &[&str],
        levels: Vec<Level>,
        from: Date,
        until: Option<Date>,
        document_number: &str,
    ) {
        let id = format!("dl-{:03}", self.ds.delegations.len() + 1);
        self.ds.delegations.push(Delegation {
            id,
            authority_id: authority_id(to),
            delegated_by: authority_id(by),
            series: series.into(),
            specialties: specialties.iter().map(|s| s.to_string()).collect(),
            levels,
            valid_from: from,
            valid_until: until,
            document_number: document_number.into(),
        });
    }

    fn delegations(&mut self) {
        let since = Date::from_ymd_opt(2022, 3, 1).expect("valid date");
        // 吉人社函〔2022〕38号: Changchun keeps 建筑工程、交通工程、机械工程 正高级; archives 副高级及以下 to the cities.
        self.delegate(
            "220100",
            "220000",
            "ENGINEERING",
            &["建筑工程", "交通工程", "机械工程"],
            vec![Level::Senior],
            since,
            None,
            "吉人社函〔2022〕38号",
        );
        for city in self.municipal("220000") {
            self.delegate(
                &city,
                "220000",
                "ARCHIVES",
                &[],
                Level::AssociateSenior.and_below(),
                since,
                None,
                "吉人社函〔2022〕38号",
            );
        }
        // An older delegation that lapsed: its history stays visible.
        self.delegate(
            "220200",
            "220000",
            "ENGINEERING",
            &[],
            Level::Intermediate.and_below(),
            Date::from_ymd_opt(2019, 1, 1).expect("valid"),
            Date::from_ymd_opt(2021, 12, 31),
            "吉人社函〔2019〕7号",
        );
        for city in self.municipal("420000") {
            self.delegate(
                &city,
                "420000",
                "SCHOOL_TEACHER",
                &[],
                Level::Intermediate.and_below(),
                since,
                None,
                "鄂人社规〔2021〕4号",
            );
        }
        self.delegate(
            "421200",
            "420000",
            "HEALTH",
            &[],
            Level::Intermediate.and_below(),
            since,
            None,
            "鄂人社规〔2021〕4号",
        );
        let xianning_counties: Vec<String> = self
            .ds
            .authorities
            .iter()
            .filter(|a| a.parent_id.as_deref() == Some("hr-421200"))
            .map(|a| a.region.clone())
            .collect();
        for county in xianning_counties {
            self.delegate(
                &county,
                "421200",
                "SCHOOL_TEACHER",
                &[],
                Level::Junior.and_below(),
                Date::from_ymd_opt(2024, 1, 15).expect("valid"),
                None,
                "咸职改办〔2024〕6号",
            );
        }
        for city in self.municipal("450000") {
            self.delegate(
                &city,
                "450000",
                "ENGINEERING",
                &[],
                Level::Intermediate.and_below(),
                since,
                None,
                "桂人社规〔2021〕11号",
            );
        }
        for city in self.municipal("530000") {
            self.delegate(
                &city,
                "530000",
                "HEALTH",
                &[],
                Level::Intermediate.and_below(),
                since,
                None,
                "云人社发〔2022〕15号",
            );
        }
        for (province, short, _) in &PROVINCES[4..] {
            for city in self.municipal(province) {
                self.delegate(
                    &city,
                    province,
                    "ENGINEERING",
                    &[],
                    Level::Intermediate.and_below(),
                    since,
                    None,
                    &format!("{short}人社发〔2022〕3号"),
                );
            }
        }
    }

    fn add_committee(
        &mut self,
        region: &str,
        name: String,
        kind: CommitteeKind,
        unit_name: String,
        registrar: &str,
        approved_by: &str,
    ) -> String {
        let serial = self.ds.committees.iter().filter(|c| c.region == region).count() + 1;
        let id = format!("cmt-{region}-{serial:02}");
        let credit_code = self.credit_code(registrar, region);
        let domain = format!("zcps{}.example.cn", &id[4..].replace('-', ""));
        self.ds.committees.push(Committee {
            id: id.clone(),
            name,
            kind,
            organizing_unit: OrganizingUnit { name: unit_name, credit_code },
            authority_id: authority_id(approved_by),
            region: region.into(),
            domains: vec![domain],
            contact: Some(format!(
                "0{}-{}",
                400 + self.rng.random_range(0..500),
                80_000_000 + self.rng.random_range(0..9_999_999)
            )),
        });
        id
    }

    /// Grants an authorization; `start_days` is relative to today, windows run three years less a day.
    #[allow(clippy::too_many_arguments)]
    fn grant(
        &mut self,
        committee: &str,
        by: &str,
        series: &str,
        specialties: &[&str],
        levels: Vec<Level>,
        scope: Scope,
        start_days: i64,
    ) -> usize {
        let valid_from = self.days(start_days);
        let valid_until = valid_from.checked_add_months(Months::new(36)).expect("in range") - Duration::days(1);
        let document_number = self.doc(province_short(by), "人社函", valid_from.year());
        let id = format!(
            "az-{}-{}",
            &committee[4..],
            self.ds.authorizations.iter().filter(|a| a.committee_id == committee).count() + 1
        );
        let terms = Terms {
            series: series.into(),
            specialties: specialties.iter().map(|s| s.to_string()).collect(),
            levels,
            scope,
            valid_from,
            valid_until,
        };
        self.ds.authorizations.push(Authorization {
            id,
            committee_id: committee.into(),
            granted_by: authority_id(by),
            document_number: document_number.clone(),
            history: vec![record(Action::Granted, valid_from - Duration::days(20), document_number, Some(terms), None)],
        });
        self.ds.authorizations.len() - 1
    }

    fn act(&mut self, index: usize, action: Action, on_days: i64, note: &str, terms: Option<Terms>) {
        let on = self.days(on_days);
        let short = province_short(&self.ds.authorizations[index].granted_by["hr-".len()..]);
        let document_number = self.doc(short, "人社函", on.year());
        self.ds.authorizations[index].history.push(record(action, on, document_number, terms, Some(note.into())));
    }

    /// `n` synthetic provincial senior committees, each with a current three-year grant from
    /// its province (within the province's competence, like the real ones above).
    fn bulk_committees(&mut self, n: usize) {
        let catalog = Catalog::get();
        for i in 0..n {
            let (province, short, dept) = PROVINCES[i % PROVINCES.len()];
            let series = PROVINCIAL_SERIES[(i / PROVINCES.len()) % PROVINCIAL_SERIES.len()];
            let series_name = &catalog.series_by_code(series).expect("catalog series").name_zh;
            let id = format!("cmt-bulk-{i:07}");
            let credit_code = self.credit_code("11", province);
            self.ds.committees.push(Committee {
                id: id.clone(),
                name: format!("{}{series_name}高级职称评审委员会（第{}号）", catalog.region_name(province), i + 1),
                kind: CommitteeKind::Senior,
                organizing_unit: OrganizingUnit { name: dept.to_string(), credit_code },
                authority_id: authority_id(province),
                region: province.into(),
                domains: vec![],
                contact: None,
            });
            let valid_from = self.days(-300 - (i % 300) as i64);
            let valid_until = valid_from.checked_add_months(Months::new(36)).expect("in range") - Duration::days(1);
            let document_number = format!("{short}人社函〔{}〕{}号", valid_from.year(), 1000 + i);
            let terms = Terms {
                series: series.into(),
                specialties: vec![],
                levels: vec![Level::AssociateSenior, Level::Senior],
                scope: Scope::Regions { regions: vec![province.to_string()] },
                valid_from,
                valid_until,
            };
            self.ds.authorizations.push(Authorization {
                id: format!("az-bulk-{i:07}"),
                committee_id: id,
                granted_by: authority_id(province),
                document_number: document_number.clone(),
                history: vec![record(
                    Action::Granted,
                    valid_from - Duration::days(20),
                    document_number,
                    Some(terms),
                    None,
                )],
            });
        }
    }

    fn provincial_committees(&mut self) {
        let catalog = Catalog::get();
        for (p, (province, _, dept)) in PROVINCES.iter().enumerate() {
            let province_name = catalog.region_name(province);
            for (s, series) in PROVINCIAL_SERIES.iter().enumerate() {
                let series_name = &catalog.series_by_code(series).expect("catalog series").name_zh;
                let name = format!("{province_name}{series_name}高级职称评审委员会");
                let id = self.add_committee(province, name, CommitteeKind::Senior, dept.to_string(), "11", province);
                let scope = Scope::Regions { regions: vec![province.to_string()] };
                let senior = vec![Level::AssociateSenior, Level::Senior];
                match (p + s) % 5 {
                    // Renewed: an expired approval followed by the current one.
                    0 => {
                        self.grant(&id, province, series, &[], senior.clone(), scope.clone(), -1200);
                        self.grant(&id, province, series, &[], senior, scope, -104);
                    }
                    // Current, amended a year in to add the intermediate level.
                    1 => {
                        let i = self.grant(&id, province, series, &[], vec![Level::AssociateSenior], scope, -500);
                        let mut terms = self.ds.authorizations[i].history[0].terms.clone().expect("granted with terms");
                        terms.levels = vec![Level::Intermediate, Level::AssociateSenior];
                        self.act(i, Action::Amended, -130, "扩大评审层级至中级", Some(terms));
                    }
                    // Lapsed and not renewed.
                    2 if s > 3 => {
                        self.grant(&id, province, series, &[], senior, scope, -1300);
                    }
                    _ => {
                        self.grant(&id, province, series, &[], senior, scope, -300);
                    }
                }
            }
        }
    }

    fn city_committees(&mut self) {
        let catalog = Catalog::get();
        let plans: [(&str, &str, Level, &str); 4] = [
            ("220000", "ARCHIVES", Level::AssociateSenior, "副高级及以下"),
            ("450000", "ENGINEERING", Level::Intermediate, "中级"),
            ("530000", "HEALTH", Level::Intermediate, "中级"),
            ("420000", "SCHOOL_TEACHER", Level::Intermediate, "中级"),
        ];
        for (province, series, up_to, level_name) in plans {
            let series_name = catalog.series_by_code(series).expect("catalog series").name_zh.clone();
            for city in self.municipal(province) {
                let city_name = catalog.region(&city).expect("catalog city").name.clone();
                let name = format!("{city_name}{series_name}{level_name}职称评审委员会");
                let id = self.add_committee(
                    &city,
                    name,
                    CommitteeKind::Intermediate,
                    format!("{city_name}人力资源和社会保障局"),
                    "11",
                    &city,
                );
                let scope = Scope::Regions { regions: vec![city.clone()] };
                self.grant(
                    &id,
                    &city,
                    series,
                    &[],
                    up_to.and_below().into_iter().filter(|l| *l >= Level::Junior).collect(),
                    scope,
                    -200,
                );
            }
        }
        // Intermediate agriculture committees in every city of the seed provinces, approved
        // directly by the province (inherent competence, city scope).
        for (province, _, _) in &PROVINCES[..4] {
            for city in self.municipal(province) {
                let city_name = catalog.region(&city).expect("catalog city").name.clone();
                let name = format!("{city_name}农业技术人员中级职称评审委员会");
                let id = self.add_committee(
                    &city,
                    name,
                    CommitteeKind::Intermediate,
                    format!("{city_name}农业农村局"),
                    "11",
                    province,
                );
                let start = -700 + 11 * (self.ds.committees.len() as i64 % 60);
                self.grant(
                    &id,
                    province,
                    "AGRICULTURE",
                    &[],
                    vec![Level::Junior, Level::Intermediate],
                    Scope::Regions { regions: vec![city.clone()] },
                    start,
                );
            }
        }
        // Changchun's delegated senior engineering committee (吉人社函〔2022〕38号).
        let id = self.add_committee(
            "220100",
            "长春市工程技术人员正高级职称评审委员会".into(),
            CommitteeKind::Senior,
            "长春市人力资源和社会保障局".into(),
            "11",
            "220100",
        );
        self.grant(
            &id,
            "220100",
            "ENGINEERING",
            &["建筑工程", "交通工程", "机械工程"],
            vec![Level::Senior],
            Scope::Regions { regions: vec!["220100".into()] },
            -250,
        );
        let id = self.add_committee(
            "421200",
            "咸宁市卫生技术人员中级职称评审委员会".into(),
            CommitteeKind::Intermediate,
            "咸宁市人力资源和社会保障局".into(),
            "11",
            "421200",
        );
        self.grant(
            &id,
            "421200",
            "HEALTH",
            &[],
            vec![Level::Junior, Level::Intermediate],
            Scope::Regions { regions: vec!["421200".into()] },
            -90,
        );
    }

    fn unit_committees(&mut self) {
        // (region, unit, kind, series, top level, registrar) — self-evaluating universities and
        // hospitals, combined evaluation-appointment employers, and industry associations.
        let units: [(&str, &str, CommitteeKind, &str, Level, &str); 24] = [
            ("220104", "吉林大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("220102", "东北师范大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("530102", "云南大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("450103", "广西大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("420106", "武汉大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("420111", "华中科技大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("330106", "浙江大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("440105", "中山大学", CommitteeKind::SelfEvaluating, "HIGHER_ED", Level::Senior, "12"),
            ("220104", "吉林大学第一医院", CommitteeKind::SelfEvaluating, "HEALTH", Level::AssociateSenior, "12"),
            ("220102", "吉林大学第二医院", CommitteeKind::SelfEvaluating, "HEALTH", Level::AssociateSenior, "12"),
            ("220104", "吉林大学中日联谊医院", CommitteeKind::SelfEvaluating, "HEALTH", Level::AssociateSenior, "12"),
            ("530102", "昆明医科大学第一附属医院", CommitteeKind::SelfEvaluating, "HEALTH", Level::Senior, "12"),
            ("450103", "广西医科大学第一附属医院", CommitteeKind::SelfEvaluating, "HEALTH", Level::Senior, "12"),
            ("421202", "咸宁市中心医院", CommitteeKind::CombinedAppointment, "HEALTH", Level::AssociateSenior, "12"),
            (
                "220100",
                "中国第一汽车集团有限公司",
                CommitteeKind::CombinedAppointment,
                "ENGINEERING",
                Level::Senior,
                "91",
            ),
            ("220100", "吉林省农业科学院", CommitteeKind::CombinedAppointment, "AGRICULTURE", Level::Senior, "12"),
            ("530100", "云南省农业科学院", CommitteeKind::CombinedAppointment, "AGRICULTURE", Level::Senior, "12"),
            ("420100", "湖北省农业科学院", CommitteeKind::CombinedAppointment, "AGRICULTURE", Level::Senior, "12"),
            (
                "220100",
                "中国科学院长春光学精密机械与物理研究所",
                CommitteeKind::CombinedAppointment,
                "NATURAL_SCI",
                Level::Senior,
                "12",
            ),
            (
                "220100",
                "吉林省工程师协会",
                CommitteeKind::SocialAssociation,
                "ENGINEERING",
                Level::AssociateSenior,
                "51",
            ),
            ("450100", "广西翻译协会", CommitteeKind::SocialAssociation, "TRANSLATION", Level::AssociateSenior, "51"),
            ("420100", "湖北省统计学会", CommitteeKind::SocialAssociation, "STATISTICS", Level::AssociateSenior, "51"),
            (
                "330100",
                "浙江省社会工作协会",
                CommitteeKind::SocialAssociation,
                "SOCIAL_WORK",
                Level::AssociateSenior,
                "51",
            ),
            ("440100", "广东省工艺美术协会", CommitteeKind::SocialAssociation, "CRAFTS", Level::Senior, "51"),
        ];
        let catalog = Catalog::get();
        for (i, (region, unit, kind, series, top, registrar)) in units.into_iter().enumerate() {
            let province = format!("{}0000", &region[..2]);
            let series_name = catalog.series_by_code(series).expect("catalog series").name_zh.clone();
            let name = format!("{unit}{series_name}职称评审委员会");
            let id = self.add_committee(region, name, kind, unit.into(), registrar, &province);
            let (scope, specialties): (Scope, &[&str]) = match kind {
                CommitteeKind::SocialAssociation if series == "ENGINEERING" => {
                    (Scope::Regions { regions: vec![province.clone()] }, &["人工智能工程技术", "物联网工程技术"])
                }
                CommitteeKind::SocialAssociation => (Scope::Regions { regions: vec![province.clone()] }, &[]),
                _ => (Scope::OwnStaff { own_staff: true }, &[]),
            };
            let levels = top.and_below().into_iter().filter(|l| *l >= Level::Intermediate).collect();
            self.grant(&id, &province, series, specialties, levels, scope, -400 + 37 * i as i64);
        }
        // 委托评审: provincial committees evaluating for units that cannot evaluate a series themselves.
        for (province, series) in [
            ("220000", "LAB"),
            ("530000", "LIBRARY"),
            ("450000", "PUBLISHING"),
            ("420000", "HERITAGE"),
            ("440000", "SPORTS"),
        ] {
            let province_name = catalog.region_name(province);
            let series_name = catalog.series_by_code(series).expect("catalog series").name_zh.clone();
            let dept = PROVINCES.iter().find(|p| p.0 == province).expect("demo province").2;
            let name = format!("{province_name}{series_name}职称委托评审委员会");
            let id = self.add_committee(province, name, CommitteeKind::Entrusted, dept.into(), "11", province);
            self.grant(
                &id,
                province,
                series,
                &[],
                vec![Level::Intermediate, Level::AssociateSenior, Level::Senior],
                Scope::Regions { regions: vec![province.into()] },
                -365,
            );
        }
    }

    fn county_committees(&mut self) {
        let counties: Vec<(String, String)> = self
            .ds
            .authorities
            .iter()
            .filter(|a| a.parent_id.as_deref() == Some("hr-421200"))
            .map(|a| (a.region.clone(), Catalog::get().region(&a.region).expect("catalog county").name.clone()))
            .collect();
        for (region, name) in counties {
            let id = self.add_committee(
                &region,
                format!("{name}中小学教师初级职称评审委员会"),
                CommitteeKind::Junior,
                format!("{name}教育局"),
                "11",
                &region,
            );
            self.grant(
                &id,
                &region,
                "SCHOOL_TEACHER",
                &[],
                vec![Level::JuniorAssistant, Level::Junior],
                Scope::Regions { regions: vec![region.clone()] },
                -150,
            );
        }
    }

    /// The cases a real registry meets: overreach, suspension, withdrawal, a future start.
    fn problem_committees(&mut self) {
        // Siping granted senior health evaluation, which was never delegated to it (超越评审权限).
        let id = self.add_committee(
            "220300",
            "四平市卫生技术人员高级职称评审委员会".into(),
            CommitteeKind::Senior,
            "四平市人力资源和社会保障局".into(),
            "11",
            "220300",
        );
        self.grant(
            &id,
            "220300",
            "HEALTH",
            &[],
            vec![Level::AssociateSenior, Level::Senior],
            Scope::Regions { regions: vec!["220300".into()] },
            -320,
        );

        let id = self.add_committee(
            "530100",
            "昆明市经济专业人员中级职称评审委员会".into(),
            CommitteeKind::Intermediate,
            "昆明市人力资源和社会保障局".into(),
            "11",
            "530000",
        );
        let i = self.grant(
            &id,
            "530000",
            "ECONOMICS",
            &[],
            vec![Level::Intermediate],
            Scope::Regions { regions: vec!["530100".into()] },
            -600,
        );
        self.act(i, Action::Withdrawn, -60, "评审中违规扩大评审范围，收回评审权限", None);

        let id = self.add_committee(
            "450200",
            "柳州市工程技术人员中级职称评审委员会（第二）".into(),
            CommitteeKind::Intermediate,
            "柳州市工业和信息化局".into(),
            "11",
            "450000",
        );
        let i = self.grant(
            &id,
            "450000",
            "ENGINEERING",
            &[],
            vec![Level::Intermediate],
            Scope::Regions { regions: vec!["450200".into()] },
            -420,
        );
        self.act(i, Action::Suspended, -200, "专家库建设不达标，暂停评审权限限期整改", None);
        self.act(i, Action::Reinstated, -110, "整改完成，恢复评审权限", None);
        self.act(i, Action::Suspended, -20, "再次发现评审程序违规，暂停评审权限", None);

        let id = self.add_committee(
            "440100",
            "广东省新兴产业工程技术人才职称评审委员会".into(),
            CommitteeKind::SocialAssociation,
            "广东省新兴产业促进会".into(),
            "51",
            "440000",
        );
        self.grant(
            &id,
            "440000",
            "ENGINEERING",
            &["集成电路工程技术", "数字技术工程"],
            vec![Level::Intermediate, Level::AssociateSenior],
            Scope::Regions { regions: vec!["440000".into()] },
            45,
        );

        let id = self.add_committee(
            "110000",
            "北京市某行业协会职称评审委员会".into(),
            CommitteeKind::SocialAssociation,
            "北京市某行业协会".into(),
            "51",
            "110000",
        );
        self.ds.committees.last_mut().expect("just added").name = "北京市新职业技术人员职称评审委员会".into();
        self.grant(
            &id,
            "110000",
            "ENGINEERING",
            &[],
            vec![Level::Intermediate],
            Scope::Regions { regions: vec!["110000".into()] },
            -800,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn sanction(
        &mut self,
        subject: Subject,
        measure: Measure,
        region: &str,
        from_days: i64,
        until_days: Option<i64>,
        void_from_days: Option<i64>,
        summary: &str,
    ) -> usize {
        let effective_from = self.days(from_days);
        let effective_until = until_days.map(|d| self.days(d)).or_else(|| {
            measure.default_duration_years().and_then(|y| effective_from.checked_add_months(Months::new(12 * y)))
        });
        let province = format!("{}0000", &region[..2]);
        let document_number = self.doc(province_short(region), "人社监", effective_from.year());
        self.ds.sanctions.push(Sanction {
            id: format!("sx-{:04}", self.ds.sanctions.len() + 1),
            subject,
            measure,
            region: region.into(),
            effective_from,
            effective_until,
            void_from: void_from_days.map(|d| self.days(d)),
            decided_by: authority_id(&province),
            document_number,
            legal_basis: "《职称评审管理暂行规定》（人社部令第40号）；《职称评审监管暂行办法》（人社部发〔2024〕56号）"
                .into(),
            summary: summary.into(),
            logged_at: Utc::now(),
            lift: None,
        });
        self.ds.sanctions.len() - 1
    }

    fn sanctions(&mut self) {
        let committee = |id: &str| Subject { kind: SubjectKind::Committee, id: Some(id.into()), name: None };
        let named = |kind, name: &str| Subject { kind, id: None, name: Some(name.into()) };
        let c = |b: &Builder, region: &str| {
            b.ds.committees.iter().find(|c| c.region == region).map(|c| c.id.clone()).expect("demo committee")
        };
        let (c1, c2, c3, c4) = (c(self, "220200"), c(self, "530300"), c(self, "450300"), c(self, "420500"));
        let (c5, c6) = (c(self, "220400"), c(self, "530400"));
        self.sanction(
            committee(&c1),
            Measure::Warning,
            "220200",
            -300,
            Some(-300),
            None,
            "评审材料审核不严，约谈评委会负责人",
        );
        self.sanction(
            committee(&c2),
            Measure::Rectification,
            "530300",
            -150,
            Some(-60),
            None,
            "专家库专家数量不足，限期三个月整改",
        );
        self.sanction(
            committee(&c3),
            Measure::PublicCriticism,
            "450300",
            -90,
            None,
            None,
            "未按规定公示评审结果，予以通报批评",
        );
        self.sanction(
            committee(&c4),
            Measure::SuspensionOfAuthority,
            "420500",
            -45,
            Some(135),
            None,
            "评审程序违规，暂停评审权限六个月",
        );
        let i = self.sanction(
            committee(&c5),
            Measure::SuspensionOfAuthority,
            "220400",
            -400,
            Some(-100),
            None,
            "评审纪律松懈，暂停评审权限",
        );
        self.ds.sanctions[i].lift = Some(Lift {
            effective_on: self.days(-220),
            document_number: "吉人社监〔2025〕3号".into(),
            reason: Some("整改到位，提前恢复".into()),
            logged_at: Utc::now(),
        });
        self.sanction(
            committee(&c6),
            Measure::WithdrawalOfAuthority,
            "530400",
            -30,
            None,
            None,
            "超越评审权限开展评审，收回评审权限；此前评审结果有效",
        );
        let retro = c(self, "450500");
        self.sanction(
            committee(&retro),
            Measure::WithdrawalOfAuthority,
            "450500",
            -20,
            None,
            Some(-380),
            "组织虚假评审，收回评审权限，自违规之日起评审结果无效",
        );
        let unit = self
            .ds
            .committees
            .iter()
            .find(|c| c.region == "420600")
            .map(|c| c.organizing_unit.name.clone())
            .expect("demo committee");
        self.sanction(
            named(SubjectKind::OrganizingUnit, &unit),
            Measure::PublicCriticism,
            "420600",
            -70,
            None,
            None,
            "组建单位未履行审核职责，通报批评",
        );
        let people = [
            (
                "张某某",
                "220100",
                SubjectKind::Applicant,
                Measure::TitleRevocation,
                "申报材料论文造假，撤销其高级工程师职称",
            ),
            (
                "张某某",
                "220100",
                SubjectKind::Applicant,
                Measure::DishonestyRecord,
                "弄虚作假取得职称，记入职称申报评审失信黑名单三年",
            ),
            ("李某", "530100", SubjectKind::Applicant, Measure::ApplicationBan, "伪造业绩证明，取消当年申报资格"),
            (
                "王某某",
                "450100",
                SubjectKind::Expert,
                Measure::ExpertDisqualification,
                "评审中收受申报人财物，取消评审专家资格",
            ),
            ("赵某", "421200", SubjectKind::Staff, Measure::Warning, "泄露评审专家名单，约谈警示"),
            ("刘某某", "110000", SubjectKind::Applicant, Measure::DishonestyRecord, "通过非法中介购买虚假职称证书"),
        ];
        for (k, (name, region, kind, measure, summary)) in people.into_iter().enumerate() {
            self.sanction(named(kind, name), measure, region, -500 + 60 * k as i64, None, None, summary);
        }
        self.sanction(
            named(SubjectKind::Employer, "昆明某某建筑工程有限公司"),
            Measure::PublicCriticism,
            "530100",
            -150,
            None,
            None,
            "为申报人出具虚假业绩证明，用人单位审核把关不严，通报批评",
        );
        self.sanction(
            named(SubjectKind::Intermediary, "长春某某教育咨询有限公司"),
            Measure::DishonestyRecord,
            "220100",
            -200,
            None,
            None,
            "以“包过”名义代办职称评审，非法中介",
        );
        self.sanction(
            named(SubjectKind::Website, "jlzcps-zhongxin.example.com"),
            Measure::PublicCriticism,
            "220000",
            -120,
            None,
            None,
            "冒用“吉林省职称评审中心”名义的虚假网站，已移交网信部门处置",
        );
        self.sanction(
            named(SubjectKind::Website, "gx-zhicheng-banli.example.net"),
            Measure::PublicCriticism,
            "450000",
            -40,
            None,
            None,
            "假冒评审网站，收费办理职称证书",
        );
    }
}

/// The one-character province abbreviation document numbers start with (吉, 云, 桂 …).
fn province_short(region: &str) -> &'static str {
    PROVINCES.iter().find(|p| region.starts_with(&p.0[..2])).map_or("人社", |p| p.1)
}

fn record(
    action: Action,
    effective_on: Date,
    document_number: String,
    terms: Option<Terms>,
    note: Option<String>,
) -> HistoryRecord {
    HistoryRecord { action, effective_on, document_number, note, logged_at: Utc::now(), terms }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authority::AuthorityGraph;
    use crate::domain::committee::CommitteeStatus;

    fn today() -> Date {
        Date::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn the_demo_is_realistic_in_size_and_variety() {
        let ds = dataset(today());
        assert!((180..=260).contains(&ds.committees.len()), "{} committees", ds.committees.len());
        for kind in CommitteeKind::ALL {
            assert!(ds.committees.iter().any(|c| c.kind == kind), "no {kind:?} committee");
        }
        for measure in Measure::ALL {
            assert!(ds.sanctions.iter().any(|s| s.measure == measure), "no {measure:?} sanction");
        }
        for kind in SubjectKind::ALL {
            assert!(ds.sanctions.iter().any(|s| s.subject.kind == kind), "no sanction against a {kind:?}");
        }
        for c in &ds.committees {
            assert!(credit_code::validate(&c.organizing_unit.credit_code).is_ok(), "{}", c.organizing_unit.credit_code);
        }
    }

    #[test]
    fn windows_respect_the_three_year_cap_and_statuses_vary() {
        let ds = dataset(today());
        for a in &ds.authorizations {
            let t = a.history[0].terms.as_ref().unwrap();
            assert!(t.valid_until < t.valid_from.checked_add_months(Months::new(36)).unwrap());
        }
        let records = ds.committee_records();
        let graph = AuthorityGraph::new(ds.authorities.clone(), ds.delegations.clone());
        for status in [
            CommitteeStatus::Authorized,
            CommitteeStatus::GrantorLackedCompetence,
            CommitteeStatus::Expired,
            CommitteeStatus::Suspended,
            CommitteeStatus::Withdrawn,
            CommitteeStatus::Pending,
        ] {
            assert!(records.iter().any(|r| r.status_on(today(), &graph) == status), "no {status:?} committee");
        }
        // Every authorization except the deliberate overreach lies inside its grantor's competence.
        let overreach: Vec<_> = records
            .iter()
            .flat_map(|r| r.authorizations.iter().map(move |a| (r, a)))
            .filter(|(r, a)| {
                let t = a.terms_on(a.history[0].effective_on);
                let q = crate::domain::coverage::CoverageQuery {
                    series: &t.series,
                    specialty: t.specialties.first().map(String::as_str),
                    level: *t.levels.iter().max().unwrap(),
                    region: None,
                    own_staff: true,
                    on: t.valid_from,
                };
                crate::domain::coverage::coverage(r, &graph, &q)
                    .reasons
                    .iter()
                    .any(|x| x.code == "grantor_lacked_competence")
            })
            .map(|(r, _)| r.committee.name.clone())
            .collect();
        assert_eq!(overreach, vec!["四平市卫生技术人员高级职称评审委员会".to_string()]);
    }
}

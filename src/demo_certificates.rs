//! Demo certificates: issuer keys for the demo provinces and about N certificates, each one
//! generated only where the coverage rules really hold on its evaluation date, some revoked
//! or suspended; and example files of the frauds a real registry meets. The keys are derived
//! from public seeds: they are for the demo only.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use ed25519_dalek::SigningKey;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::crypto::{data_integrity, multikey, sha256};
use crate::domain::Date;
use crate::domain::authority::AuthorityGraph;
use crate::domain::authorization::{AuthorizationStatus, Scope};
use crate::domain::catalog::{Catalog, Level};
use crate::domain::certificate::{
    IssuerKey, IssuerRef, ObtainedBy, StatusEntry, TitleSubject, holder_id_digest, unsigned_credential,
};
use crate::domain::committee::CommitteeRecord;
use crate::domain::coverage::{CoverageQuery, coverage};
use crate::store::{Dataset, DatasetCertificate};

/// An example certificate file for newcomers.
pub struct Example {
    /// File stem, e.g. `valid` or `forged-signature`.
    pub name: &'static str,
    pub description: &'static str,
    pub credential: Value,
}

/// The URL the demo's status-list entries point at (the default `serve` address).
pub const DEMO_REGISTRY_URL: &str = "http://127.0.0.1:8080";

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华",
    "建国", "志强", "晓东", "海燕", "春梅",
];

fn title(series: &str, level: Level) -> String {
    let names: Option<[&str; 5]> = match series {
        "ENGINEERING" => Some(["技术员", "助理工程师", "工程师", "高级工程师", "正高级工程师"]),
        "HEALTH" => Some(["医士", "医师", "主治医师", "副主任医师", "主任医师"]),
        "SCHOOL_TEACHER" => Some(["三级教师", "二级教师", "一级教师", "高级教师", "正高级教师"]),
        "HIGHER_ED" => Some(["助教", "助教", "讲师", "副教授", "教授"]),
        "ACCOUNTING" => Some(["会计员", "助理会计师", "会计师", "高级会计师", "正高级会计师"]),
        "ECONOMICS" => Some(["经济员", "助理经济师", "经济师", "高级经济师", "正高级经济师"]),
        "AGRICULTURE" => Some(["农业技术员", "助理农艺师", "农艺师", "高级农艺师", "农业技术推广研究员"]),
        _ => None,
    };
    match names {
        Some(n) => n[level as usize].to_string(),
        None => format!(
            "{}{}职称",
            Catalog::get().series_by_code(series).map_or(series, |s| s.name_zh.as_str()),
            level.name_zh()
        ),
    }
}

fn demo_key(id: &str) -> SigningKey {
    SigningKey::from_bytes(&sha256(format!("zhicheng demo issuer key {id}").as_bytes()))
}

fn at_noon(d: Date) -> DateTime<Utc> {
    d.and_time(NaiveTime::from_hms_opt(4, 0, 0).expect("valid time")).and_utc()
}

struct Signer {
    key: SigningKey,
    key_id: String,
    public: String,
}

impl Signer {
    fn sign(
        &self,
        subject: &TitleSubject,
        authority: &str,
        name: &str,
        at: DateTime<Utc>,
        status: &[StatusEntry],
    ) -> Value {
        let unsigned = unsigned_credential(subject, &IssuerRef::Authority(authority.to_string()), name, at, status);
        let created = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        data_integrity::sign(&unsigned, &self.key, &format!("did:key:{0}#{0}", self.public), &created)
            .expect("an object")
    }
}

/// The first region an authorization's terms cover (the committee's own region for own-staff scopes).
fn first_region(terms: &crate::domain::authorization::Terms, record: &CommitteeRecord) -> String {
    match &terms.scope {
        Scope::Regions { regions } => regions[0].clone(),
        Scope::OwnStaff { .. } => record.committee.region.clone(),
    }
}

fn province_of(region: &str) -> String {
    format!("{}0000", &region[..2])
}

pub fn generate(ds: &mut Dataset, rng: &mut StdRng, today: Date, target: usize) -> Vec<Example> {
    let provinces: Vec<(String, String)> = ds
        .authorities
        .iter()
        .filter(|a| a.parent_id.as_deref() == Some("hr-000000"))
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut signers = std::collections::HashMap::new();
    for (id, _) in &provinces {
        let key_id = format!("key-{}-1", &id[3..]);
        let key = demo_key(&key_id);
        let public = multikey::encode_public(&key.verifying_key());
        ds.keys.push(IssuerKey {
            id: key_id.clone(),
            owner: IssuerRef::Authority(id.clone()),
            public_key: public.clone(),
            valid_from: at_noon(Date::from_ymd_opt(2020, 1, 1).expect("valid")),
            valid_until: None,
            retired_at: None,
            compromised_at: None,
            registered_by: id.clone(),
        });
        signers.insert(id.clone(), Signer { key, key_id, public });
    }
    // Guangxi's second key leaked thirty days ago: what it signed before stands, nothing after.
    let leaked_id = "key-450000-2".to_string();
    let leaked = demo_key(&leaked_id);
    let compromised_at = at_noon(today - Duration::days(30));
    ds.keys.push(IssuerKey {
        id: leaked_id.clone(),
        owner: IssuerRef::Authority("hr-450000".into()),
        public_key: multikey::encode_public(&leaked.verifying_key()),
        valid_from: at_noon(Date::from_ymd_opt(2021, 1, 1).expect("valid")),
        valid_until: None,
        retired_at: None,
        compromised_at: Some(compromised_at),
        registered_by: "hr-450000".into(),
    });
    let leaked = Signer { public: multikey::encode_public(&leaked.verifying_key()), key: leaked, key_id: leaked_id };

    let graph = AuthorityGraph::new(ds.authorities.clone(), ds.delegations.clone());
    let records = ds.committee_records();
    let per_committee = target.div_ceil(records.len().max(1));
    let mut next_index: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut serial = 0usize;
    let mut examples = Vec::new();
    for record in &records {
        let province = province_of(&record.committee.region);
        let authority = format!("hr-{province}");
        let (Some(signer), Some((_, authority_name))) =
            (signers.get(&authority), provinces.iter().find(|p| p.0 == authority))
        else {
            continue;
        };
        for _ in 0..per_committee * 3 {
            if serial >= target || records.is_empty() {
                break;
            }
            let Some(subject) = candidate(record, &graph, rng, today, &mut serial) else { continue };
            let index = next_index.entry(authority.clone()).or_insert(0);
            let status = status_entries(&authority, *index);
            *index += 1;
            let issued = at_noon(subject.evaluation_date + Duration::days(30)).min(Utc::now() - Duration::hours(2));
            let use_leaked = authority == "hr-450000" && serial.is_multiple_of(3) && issued < compromised_at;
            let signer = if use_leaked { &leaked } else { signer };
            let credential = signer.sign(&subject, &authority, authority_name, issued, &status);
            let roll = rng.random_range(0..1000);
            let changes = match roll {
                0..=9 => vec![("revoked", "弄虚作假取得职称，依法撤销".to_string(), issued + Duration::days(200))],
                10..=14 => vec![("suspended", "群众举报，核查期间暂停".to_string(), issued + Duration::days(100))],
                _ => vec![],
            };
            if examples.is_empty() && changes.is_empty() && !use_leaked {
                examples.push(Example {
                    name: "valid",
                    description: "一张有效证书 / a valid certificate",
                    credential: credential.clone(),
                });
            }
            if changes.first().is_some_and(|c| c.0 == "revoked") && !examples.iter().any(|e| e.name == "revoked") {
                examples.push(Example {
                    name: "revoked",
                    description: "已撤销的职称 / a revoked title",
                    credential: credential.clone(),
                });
            }
            ds.certificates.push(DatasetCertificate {
                credential,
                key_id: signer.key_id.clone(),
                status_authority: authority.clone(),
                revocation_index: *next_index.get(&authority).expect("set above") - 1,
                suspension_index: *next_index.get(&authority).expect("set above") - 1,
                logged_at: issued,
                changes,
            });
        }
    }
    examples.extend(frauds(&records, &graph, &signers, &leaked, &provinces, rng, today, &mut serial, &examples));
    examples
}

fn status_entries(authority: &str, index: i64) -> Vec<StatusEntry> {
    ["revocation", "suspension"]
        .into_iter()
        .map(|purpose| StatusEntry {
            purpose,
            list_url: format!("{DEMO_REGISTRY_URL}/api/v1/status-lists/{authority}.{purpose}"),
            index: index as u64,
        })
        .collect()
}

fn holder(rng: &mut StdRng) -> String {
    format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], GIVEN[rng.random_range(0..GIVEN.len())])
}

fn id_number(rng: &mut StdRng, region: &str) -> String {
    format!(
        "{region}{}{:02}{:02}{:03}X",
        rng.random_range(1965..2000),
        rng.random_range(1..13),
        rng.random_range(1..29),
        rng.random_range(0..1000)
    )
}

/// A certificate the committee could lawfully have issued: an evaluation date inside one of its
/// authorizations, up to yesterday, that the full coverage rules accept.
fn candidate(
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    rng: &mut StdRng,
    today: Date,
    serial: &mut usize,
) -> Option<TitleSubject> {
    let authorization = &record.authorizations.get(rng.random_range(0..record.authorizations.len().max(1)))?;
    let terms = authorization.history[0].terms.as_ref()?;
    let last = terms.valid_until.min(today - Duration::days(1));
    let span = (last - terms.valid_from).num_days();
    if span < 0 {
        return None;
    }
    let evaluated = terms.valid_from + Duration::days(rng.random_range(0..=span));
    let terms = authorization.terms_on(evaluated);
    let level = terms.levels[rng.random_range(0..terms.levels.len())];
    let (region, own_staff) = match &terms.scope {
        Scope::Regions { regions } => (regions[rng.random_range(0..regions.len())].clone(), false),
        Scope::OwnStaff { .. } => (record.committee.region.clone(), true),
    };
    let specialty = (!terms.specialties.is_empty())
        .then(|| terms.specialties[rng.random_range(0..terms.specialties.len())].clone());
    let query = CoverageQuery {
        series: &terms.series,
        specialty: specialty.as_deref(),
        level,
        region: Some(&region),
        own_staff,
        on: evaluated,
    };
    if !coverage(record, graph, &query).covered {
        return None;
    }
    *serial += 1;
    Some(subject(
        record,
        &terms.series,
        specialty,
        level,
        evaluated,
        &region,
        own_staff,
        *serial,
        &authorization.document_number,
        rng,
    ))
}

#[allow(clippy::too_many_arguments)]
fn subject(
    record: &CommitteeRecord,
    series: &str,
    specialty: Option<String>,
    level: Level,
    evaluated: Date,
    region: &str,
    own_staff: bool,
    serial: usize,
    approval: &str,
    rng: &mut StdRng,
) -> TitleSubject {
    let salt: [u8; 16] = rng.random();
    TitleSubject {
        subject_type: "ProfessionalTitle".into(),
        format_version: 1,
        certificate_number: format!("{}-{}-{serial:06}", &record.committee.region[..2], evaluated.format("%Y")),
        holder_name: holder(rng),
        holder_id_digest: Some(holder_id_digest(&id_number(rng, region), &salt)),
        series: series.to_string(),
        specialty,
        level,
        title_name: title(series, level),
        obtained_by: ObtainedBy::Evaluation,
        committee_id: record.committee.id.clone(),
        committee_name: record.committee.name.clone(),
        evaluation_date: evaluated,
        approval_document: approval.to_string(),
        applicant_region: region.to_string(),
        own_staff,
    }
}

/// The frauds a real registry meets, as files: none of them is registered.
#[allow(clippy::too_many_arguments)]
fn frauds(
    records: &[CommitteeRecord],
    graph: &AuthorityGraph,
    signers: &std::collections::HashMap<String, Signer>,
    leaked: &Signer,
    provinces: &[(String, String)],
    rng: &mut StdRng,
    today: Date,
    serial: &mut usize,
    so_far: &[Example],
) -> Vec<Example> {
    let mut out = Vec::new();
    let name_of = |a: &str| provinces.iter().find(|p| p.0 == a).map_or(String::new(), |p| p.1.clone());
    let issued = Utc::now() - Duration::hours(1);
    if let Some(valid) = so_far.iter().find(|e| e.name == "valid") {
        let mut forged = valid.credential.clone();
        let raised = match forged["credentialSubject"]["level"].as_str() {
            Some("senior") => "associate_senior",
            _ => "senior",
        };
        forged["credentialSubject"]["level"] = raised.into();
        out.push(Example { name: "forged-signature", description: "有效证书被改高级别，签名不再匹配 / a valid certificate with its level raised: the signature breaks", credential: forged });
    }
    // A title above what the committee may award, signed with a genuine key.
    let above = records.iter().find_map(|r| {
        let a = r.authorizations.iter().find(|a| {
            a.status_on(today) == AuthorizationStatus::Active && !a.terms_on(today).levels.contains(&Level::Senior)
        })?;
        let terms = a.terms_on(today);
        Some((r, terms.series.clone(), first_region(terms, r), a.document_number.clone()))
    });
    if let Some((record, series, region, doc)) = above {
        *serial += 1;
        let subject = subject(
            record,
            &series,
            None,
            Level::Senior,
            today - Duration::days(20),
            &region,
            false,
            *serial,
            &doc,
            rng,
        );
        let authority = format!("hr-{}", province_of(&record.committee.region));
        if let Some(signer) = signers.get(&authority) {
            let credential = signer.sign(&subject, &authority, &name_of(&authority), issued, &[]);
            out.push(Example {
                name: "above-authorized-level",
                description: "评委会无权评审正高级 / a senior title from a committee not authorized for that level",
                credential,
            });
        }
    }
    // An evaluation held after the committee's approval expired.
    let expired = records.iter().find_map(|r| {
        let a = r.authorizations.iter().find(|a| a.status_on(today) == AuthorizationStatus::Expired)?;
        (!r.authorizations.iter().any(|x| x.status_on(today) == AuthorizationStatus::Active)).then_some((r, a))
    });
    if let Some((record, a)) = expired {
        let terms = a.terms_on(today);
        let region = first_region(terms, record);
        *serial += 1;
        let subject = subject(
            record,
            &terms.series,
            None,
            terms.levels[0],
            terms.valid_until + Duration::days(40),
            &region,
            false,
            *serial,
            &a.document_number,
            rng,
        );
        let authority = format!("hr-{}", province_of(&record.committee.region));
        if let Some(signer) = signers.get(&authority) {
            let credential = signer.sign(&subject, &authority, &name_of(&authority), issued, &[]);
            out.push(Example {
                name: "expired-approval",
                description: "评审时评委会核准已过期 / evaluated after the committee's approval expired",
                credential,
            });
        }
    }
    // Signed with Guangxi's leaked key after it was reported compromised.
    if let Some(record) = records.iter().find(|r| r.committee.region.starts_with("45") && !r.authorizations.is_empty())
    {
        for _ in 0..50 {
            if let Some(subject) = candidate(record, graph, rng, today, serial) {
                let credential = leaked.sign(&subject, "hr-450000", &name_of("hr-450000"), issued, &[]);
                out.push(Example {
                    name: "key-after-compromise",
                    description: "用已泄露的密钥签发 / signed with a key after its compromise",
                    credential,
                });
                break;
            }
        }
    }
    out
}

//! What a person types into a search box, turned into the words the registry matches: web
//! addresses reduced to their domain, traditional characters to simplified, common
//! abbreviations spelled out, and a leading place name split from the rest ("长春工程" finds
//! "长春市工程技术人员…").

use std::sync::OnceLock;

use super::catalog::{Catalog, NATIONWIDE};

/// The longest search a person may type, in characters; the rest is ignored.
pub const MAX_SEARCH_CHARS: usize = 100;

/// The words to match, separated by single spaces (empty when nothing is left to search).
pub fn search_words(text: &str) -> String {
    let text: String = text.trim().chars().take(MAX_SEARCH_CHARS).collect();
    if let Some(domain) = web_domain(&text) {
        return domain;
    }
    if is_pinyin(&text) {
        return text.to_ascii_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let mut text = simplified(&text);
    for (short, long) in ABBREVIATIONS {
        text = text.replace(short, &format!(" {long} "));
    }
    text.split_whitespace().flat_map(split_place).collect::<Vec<_>>().join(" ")
}

/// Latin letters and spaces only: pinyin, in full (`changchun`) or by first letters (`ccs`).
fn is_pinyin(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphabetic()) && text.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
}

/// What search matches pinyin against, for one or more names: for each, its syllables run
/// together, then their first letters (`长春市` → `changchunshi ccs`); Latin letters and digits
/// kept in lower case, anything else dropped. Characters read differently in place and
/// organization names than their commonest reading (长春 chang, 重庆 chong, 银行 hang …) give
/// the name a second spelling with those readings.
pub fn pinyin_key(names: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for name in names {
        for in_names in [false, true] {
            let (full, initials) = spelled(name, in_names);
            if !parts.contains(&full) {
                parts.push(full);
                parts.push(initials);
            }
        }
    }
    parts.join(" ")
}

/// Readings of characters in place and organization names that the dictionary's commonest
/// reading gets wrong.
const NAME_READINGS: [(char, &str); 8] = [
    ('长', "chang"),
    ('重', "chong"),
    ('行', "hang"),
    ('厦', "xia"),
    ('藏', "zang"),
    ('蚌', "beng"),
    ('六', "lu"),
    ('乐', "le"),
];

/// A name's pinyin, syllables run together (place-name readings such as 蚌埠 beng): letters and
/// digits pass through.
pub fn pinyin_spelling(name: &str) -> String {
    spelled(name, true).0
}

/// A name in pinyin, with [`NAME_READINGS`] when `in_names`: its syllables, and their first letters.
fn spelled(name: &str, in_names: bool) -> (String, String) {
    use pinyin::ToPinyin;
    let (mut full, mut initials) = (String::new(), String::new());
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        let reading = NAME_READINGS.iter().find(|(n, _)| in_names && *n == c).map(|(_, r)| *r);
        match (reading, p) {
            (Some(r), _) => full.push_str(r),
            (None, Some(p)) => full.push_str(p.plain()),
            (None, None) if c.is_ascii_alphanumeric() => full.push(c.to_ascii_lowercase()),
            (None, None) => continue,
        }
        initials.push(syllable_initial(reading, p, c));
    }
    (full, initials)
}

fn syllable_initial(reading: Option<&str>, p: Option<pinyin::Pinyin>, c: char) -> char {
    let first = |s: &str| s.chars().next().unwrap_or(c);
    match (reading, p) {
        (Some(r), _) => first(r),
        (None, Some(p)) => first(p.first_letter()),
        (None, None) => c.to_ascii_lowercase(),
    }
}

/// `https://www.Example.cn/path` → `example.cn`; `None` when the text is not a web address.
pub fn web_domain(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    if !lower.is_ascii() || lower.contains(char::is_whitespace) || !lower.contains('.') {
        return None;
    }
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let valid = host.contains('.')
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && host.bytes().any(|b| b.is_ascii_alphabetic());
    valid.then(|| host.to_string())
}

/// Abbreviations people use for committees and authorities, longest first.
const ABBREVIATIONS: [(&str, &str); 14] = [
    ("工程系列", "工程技术人员"),
    ("卫生系列", "卫生技术人员"),
    ("经济系列", "经济专业人员"),
    ("人社厅", "人力资源和社会保障厅"),
    ("人社局", "人力资源和社会保障局"),
    ("人社部", "人力资源和社会保障部"),
    ("卫健委", "卫生健康委员会"),
    ("正高评委", "正高级 评审委员会"),
    ("高评委", "高级 评审委员会"),
    ("中评委", "中级 评审委员会"),
    ("初评委", "初级 评审委员会"),
    ("评委会", "评审委员会"),
    ("职评", "职称评审"),
    ("卫技", "卫生技术"),
];

/// The traditional characters common in committee names, in simplified form: the registry
/// stores names as published, in simplified characters.
pub fn simplified(text: &str) -> String {
    const PAIRS: [(char, char); 38] = [
        ('會', '会'),
        ('審', '审'),
        ('員', '员'),
        ('師', '师'),
        ('職', '职'),
        ('稱', '称'),
        ('評', '评'),
        ('級', '级'),
        ('術', '术'),
        ('長', '长'),
        ('業', '业'),
        ('衛', '卫'),
        ('醫', '医'),
        ('計', '计'),
        ('經', '经'),
        ('濟', '济'),
        ('學', '学'),
        ('農', '农'),
        ('檔', '档'),
        ('聞', '闻'),
        ('東', '东'),
        ('廣', '广'),
        ('樂', '乐'),
        ('藝', '艺'),
        ('專', '专'),
        ('與', '与'),
        ('護', '护'),
        ('資', '资'),
        ('書', '书'),
        ('爾', '尔'),
        ('陽', '阳'),
        ('漢', '汉'),
        ('務', '务'),
        ('機', '机'),
        ('構', '构'),
        ('協', '协'),
        ('區', '区'),
        ('縣', '县'),
    ];
    text.chars().map(|c| PAIRS.iter().find(|(t, _)| *t == c).map_or(c, |(_, s)| *s)).collect()
}

/// A place name at the start of a word, without its 省/市/自治区 suffix, split off:
/// `长春工程` → `长春`, `工程`. A word that spells the suffix out is left whole.
fn split_place(word: &str) -> Vec<String> {
    let place = place_stems().iter().filter(|stem| word.starts_with(stem.as_str())).max_by_key(|stem| stem.len());
    match place {
        Some(stem) if word.len() > stem.len() => {
            let rest = &word[stem.len()..];
            if SUFFIXES.iter().any(|s| rest.starts_with(s)) {
                vec![word.to_string()]
            } else {
                vec![stem.clone(), rest.to_string()]
            }
        }
        _ => vec![word.to_string()],
    }
}

const SUFFIXES: [&str; 7] = ["特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"];

/// Province and prefecture names without their suffix, two characters or more.
fn place_stems() -> &'static Vec<String> {
    static STEMS: OnceLock<Vec<String>> = OnceLock::new();
    STEMS.get_or_init(|| {
        let catalog = Catalog::get();
        let provinces = catalog.region_children(NATIONWIDE);
        let cities = provinces.iter().flat_map(|p| catalog.region_children(&p.code));
        provinces
            .iter()
            .copied()
            .chain(cities)
            .filter_map(|r| SUFFIXES.iter().find_map(|s| r.name.strip_suffix(s)))
            .filter(|stem| stem.chars().count() >= 2)
            .map(str::to_string)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_become_domains() {
        assert_eq!(search_words("https://www.JLZC.example.cn/apply?x=1"), "jlzc.example.cn");
        assert_eq!(search_words("jlzcps-zhongxin.example.com"), "jlzcps-zhongxin.example.com");
        assert_eq!(web_domain("1.5"), None);
        assert_eq!(web_domain("吉林.cn"), None);
    }

    #[test]
    fn traditional_abbreviated_and_run_together_names_become_words() {
        assert_eq!(search_words("工程技術人員高級"), "工程技术人员高级");
        assert_eq!(search_words("长春工程高评委"), "长春 工程 高级 评审委员会");
        assert_eq!(search_words("吉林省人社厅"), "吉林省 人力资源和社会保障厅");
        assert_eq!(search_words("长春市工程"), "长春市工程");
        assert_eq!(search_words("  "), "");
    }

    #[test]
    fn pinyin_is_searched_in_full_or_by_first_letters() {
        let key = pinyin_key(&["长春市职称评审委员会", "ABC学会"]);
        for part in ["changchunshizhichengpingshenweiyuanhui", "ccszcpswyh", "abcxuehui", "abcxh"] {
            assert!(key.split(' ').any(|k| k == part), "{part} in {key}");
        }
        assert_eq!(search_words("ChangChun gongcheng"), "changchun gongcheng");
        assert_eq!(search_words("ccs"), "ccs");
        assert_eq!(search_words("changchun.cn"), "changchun.cn", "a domain stays a domain");
    }

    #[test]
    fn a_search_is_bounded() {
        assert!(search_words(&"评".repeat(10_000)).chars().count() <= MAX_SEARCH_CHARS);
    }
}

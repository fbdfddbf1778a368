//! Working days in China: Monday to Friday, minus the official holidays, plus the weekend days
//! made working days (调休), as shipped in `core/data/calendar/` with their source. A date in a
//! year the data does not cover has no answer: guessing would put a wrong end on a notice.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, Weekday};

use super::Date;

/// The years `cn-days-off.csv` covers.
pub const COVERED_YEARS: std::ops::RangeInclusive<i32> = 2025..=2026;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayOff {
    Holiday,
    /// A weekend day worked instead (调休上班).
    Workday,
}

static DAYS: LazyLock<BTreeMap<Date, DayOff>> = LazyLock::new(|| {
    include_str!("../../data/calendar/cn-days-off.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            let date: Date = fields.next().and_then(|d| d.parse().ok()).expect("a date in the shipped calendar");
            let kind = match fields.next() {
                Some("holiday") => DayOff::Holiday,
                Some("workday") => DayOff::Workday,
                other => panic!("unknown day kind {other:?} in the shipped calendar"),
            };
            (date, kind)
        })
        .collect()
});

/// Whether people work on `date`; `None` outside the covered years.
pub fn is_working_day(date: Date) -> Option<bool> {
    if !COVERED_YEARS.contains(&date.year()) {
        return None;
    }
    Some(match DAYS.get(&date) {
        Some(DayOff::Holiday) => false,
        Some(DayOff::Workday) => true,
        None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
    })
}

/// The last day of a period of `days` working days beginning on `first` (counted when it is a
/// working day); `None` when the period runs beyond the covered years.
pub fn last_of_working_days(first: Date, days: u32) -> Option<Date> {
    let mut counted = 0;
    let mut day = first;
    loop {
        if is_working_day(day)? {
            counted += 1;
            if counted >= days {
                return Some(day);
            }
        }
        day = day.succ_opt()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn holidays_and_adjusted_saturdays() {
        assert_eq!(is_working_day(d("2026-02-16")), Some(false), "Spring Festival, a Monday");
        assert_eq!(is_working_day(d("2026-02-14")), Some(true), "a Saturday worked before it");
        assert_eq!(is_working_day(d("2026-02-28")), Some(true), "and one after");
        assert_eq!(is_working_day(d("2026-03-07")), Some(false), "an ordinary Saturday");
        assert_eq!(is_working_day(d("2026-03-09")), Some(true), "an ordinary Monday");
        assert_eq!(is_working_day(d("2027-01-04")), None, "2027 is not announced in the data");
    }

    #[test]
    fn five_working_days_across_the_spring_festival() {
        // Thursday 12 February 2026: Thu, Fri, the worked Saturday 14th, then the holiday
        // 15–23 February, then Tuesday 24th and Wednesday 25th.
        assert_eq!(last_of_working_days(d("2026-02-12"), 5), Some(d("2026-02-25")));
        // Published on a holiday: counting starts on the first working day after it, the 24th,
        // and the fifth is the Saturday 28th, worked in exchange.
        assert_eq!(last_of_working_days(d("2026-02-17"), 5), Some(d("2026-02-28")));
        // National Day 2025 (with the Mid-Autumn Festival): 1–8 October off, Saturday 11th worked.
        assert_eq!(last_of_working_days(d("2025-09-30"), 5), Some(d("2025-10-13")));
        assert_eq!(last_of_working_days(d("2026-12-28"), 5), None, "runs into 2027");
    }

    #[test]
    fn the_data_holds_only_the_covered_years() {
        assert!(DAYS.keys().all(|d| COVERED_YEARS.contains(&d.year())));
        for year in COVERED_YEARS {
            assert!(DAYS.keys().any(|d| d.year() == year), "{year} has no rows");
        }
    }
}

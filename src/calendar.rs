//! Working days, China's official holidays and make-up workdays (MODEL.md §2).
//!
//! Days are integers `t` counted from `start_date` (day 0, the first measured day).
//! A [`Calendar`] covers a fixed range of days and answers in O(1): is `t` a working
//! day, `add_workdays(t, n)`, the filing day in the month after `t`. Anything that
//! would fall past the end of the range is [`NEVER`]: it happens after the
//! measurement window and cannot change any metric.

use chrono::{Datelike, NaiveDate};

/// A day after the end of everything simulated.
pub const NEVER: i32 = i32::MAX;

/// The official holidays (`holiday`) and make-up workdays (`workday`) of 2015–2026,
/// from the State Council General Office's annual notices; the default calendar.
pub const OFFICIAL_CSV: &str = include_str!("../data/cn-public-holidays.csv");

/// Which weekdays are working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkingDays {
    /// Monday to Friday, less holidays, plus make-up workdays.
    MonFri,
    /// Every day; holiday lists are ignored.
    All,
}

/// One line of an official calendar file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A day off.
    Holiday,
    /// A weekend day that is worked (调休).
    Workday,
}

/// An error in a calendar CSV, with its line (1-based) and column name.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvProblem {
    /// 1-based line number in the file.
    pub line: usize,
    /// The column at fault.
    pub column: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// Parses `date,kind,holiday` rows; lines starting with `#` are comments. Fields
/// may be quoted (`"2017-01-02","holiday","New Year"`, as spreadsheets save them).
/// A date listed both as a holiday and as a workday is an error naming both lines.
pub fn parse_official(text: &str) -> Result<Vec<(NaiveDate, DayKind)>, Vec<CsvProblem>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    let mut header_seen = false;
    let mut seen: std::collections::HashMap<NaiveDate, (DayKind, usize)> =
        std::collections::HashMap::new();
    // Excel saves CSV files with a byte-order mark; it is not part of the header.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // One reader over the whole text (not one per line: building a reader costs
    // far more than reading a line); comment and blank lines are skipped by it.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                errs.push(CsvProblem {
                    line: e.position().map_or(0, |p| p.line() as usize),
                    column: "date",
                    message: format!("unreadable line: {e}"),
                });
                break;
            }
        }
        let line_no = rec.position().map_or(0, |p| p.line() as usize);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        // A quote after a blank (`a, "b"`) is not CSV quoting; accept it too.
        let field = |i: usize| {
            let f = rec.get(i).unwrap_or("").trim();
            f.strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(f)
                .trim()
        };
        let (date, kind) = (field(0), field(1));
        if !header_seen {
            header_seen = true;
            if date.starts_with("date") {
                continue;
            }
        }
        let d = match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(CsvProblem {
                    line: line_no,
                    column: "date",
                    message: format!("`{date}` is not a date; write YYYY-MM-DD, e.g. 2017-01-28"),
                });
                None
            }
        };
        let k = match kind {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            other => {
                errs.push(CsvProblem {
                    line: line_no,
                    column: "kind",
                    message: format!("`{other}` is not a day kind; allowed: holiday, workday"),
                });
                None
            }
        };
        if let (Some(d), Some(k)) = (d, k) {
            match seen.get(&d) {
                Some(&(k0, l0)) if k0 != k => {
                    let name = |k: DayKind| match k {
                        DayKind::Holiday => "holiday",
                        DayKind::Workday => "workday",
                    };
                    errs.push(CsvProblem {
                        line: line_no,
                        column: "kind",
                        message: format!(
                            "{d} is listed as a {} here and as a {} on line {l0}; a day is either a holiday or a make-up workday — delete one of the two lines",
                            name(k),
                            name(k0)
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(d, (k, line_no));
                    out.push((d, k));
                }
            }
        }
    }
    if errs.is_empty() && out.is_empty() {
        errs.push(CsvProblem {
            line: 1,
            column: "date",
            message: "the file has no dates; give rows `date,kind,holiday` (kind holiday or workday), or omit calendar.file to use the shipped official calendar".into(),
        });
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// The first and last year an official calendar lists a day of, if any.
pub fn years_covered(official: &[(NaiveDate, DayKind)]) -> Option<(i32, i32)> {
    let lo = official.iter().map(|(d, _)| d.year()).min()?;
    let hi = official.iter().map(|(d, _)| d.year()).max()?;
    Some((lo, hi))
}

/// A warning when days `first .. end` after `start` (warm-up and measurement
/// window) reach years the official calendar `file` does not cover: those years
/// get weekends only, no holidays and no make-up workdays. Years for which the
/// scenario lists its own `calendar.holidays` or `calendar.workdays` count as
/// covered; `working_days = "all"` ignores holidays, so never warns.
pub fn coverage_warning(
    spec_mode: WorkingDays,
    file: &str,
    official: &[(NaiveDate, DayKind)],
    extra: &[NaiveDate],
    start: NaiveDate,
    first: i32,
    end: i32,
) -> Option<String> {
    if spec_mode == WorkingDays::All {
        return None;
    }
    let from = (start + chrono::Duration::days(first as i64)).year();
    let to = (start + chrono::Duration::days(end.max(first + 1) as i64 - 1)).year();
    let covered = years_covered(official);
    let missing: Vec<i32> = (from..=to)
        .filter(|y| !covered.is_some_and(|(lo, hi)| (lo..=hi).contains(y)))
        .filter(|y| !extra.iter().any(|d| d.year() == *y))
        .collect();
    let (&a, &b) = (missing.first()?, missing.last()?);
    let years = if a == b {
        format!("{a}")
    } else {
        format!("{a}–{b}")
    };
    let cov = match covered {
        Some((lo, hi)) if lo == hi => format!("covers {lo} only"),
        Some((lo, hi)) => format!("covers {lo}–{hi}"),
        None => "covers no year".into(),
    };
    let span = if from == to {
        format!("{from}")
    } else {
        format!("{from}–{to}")
    };
    let which = if (a, b) == (from, to) {
        format!("the simulated days (warm-up and window, {span}) lie")
    } else {
        format!("the simulated days (warm-up and window, {span}) reach {years},")
    };
    Some(format!(
        "{which} outside the years the official calendar {file} lists (it {cov}): those days have weekends but no public holidays or make-up workdays; give calendar.file with the official holidays of {years}, or list them in calendar.holidays and calendar.workdays"
    ))
}

/// Working-day arithmetic over days `first ..= last`.
#[derive(Debug, Clone)]
pub struct Calendar {
    start: NaiveDate,
    first: i32,
    /// Number of working days among `first ..= t`, indexed by `t − first`.
    cum: Vec<u32>,
    /// The working days in order.
    workdays: Vec<i32>,
    /// Month number (`year·12 + month0`) of each day.
    month: Vec<i32>,
    /// For each month from the first day's: index into `workdays` of its first
    /// working day, and how many it has (within the range).
    months: Vec<(u32, u32)>,
    month0: i32,
}

impl Calendar {
    /// Builds the calendar for days `first ..= last` relative to `start`.
    pub fn new(
        start: NaiveDate,
        first: i32,
        last: i32,
        mode: WorkingDays,
        official: &[(NaiveDate, DayKind)],
        closures: &[(NaiveDate, NaiveDate)],
        extra_workdays: &[NaiveDate],
    ) -> Self {
        use std::collections::HashMap;
        let mut special: HashMap<NaiveDate, bool> = HashMap::new();
        if mode == WorkingDays::MonFri {
            for (d, k) in official {
                special.insert(*d, *k == DayKind::Workday);
            }
            for (a, b) in closures {
                let mut d = *a;
                while d <= *b {
                    special.insert(d, false);
                    d = d.succ_opt().expect("date in range");
                }
            }
            for d in extra_workdays {
                special.insert(*d, true);
            }
        }
        let n = (last - first + 1) as usize;
        let mut cum = Vec::with_capacity(n);
        let mut workdays = Vec::new();
        let mut month = Vec::with_capacity(n);
        let mut count = 0u32;
        for i in 0..n {
            let t = first + i as i32;
            let date = start + chrono::Duration::days(t as i64);
            let working = match mode {
                WorkingDays::All => true,
                WorkingDays::MonFri => *special
                    .get(&date)
                    .unwrap_or(&(date.weekday().num_days_from_monday() < 5)),
            };
            if working {
                count += 1;
                workdays.push(t);
            }
            cum.push(count);
            month.push(date.year() * 12 + date.month0() as i32);
        }
        let month0 = month[0];
        let mut months = vec![(0u32, 0u32); (month[n - 1] - month0 + 1) as usize];
        for (k, &t) in workdays.iter().enumerate() {
            let m = (month[(t - first) as usize] - month0) as usize;
            if months[m].1 == 0 {
                months[m].0 = k as u32;
            }
            months[m].1 += 1;
        }
        Calendar {
            start,
            first,
            cum,
            workdays,
            month,
            months,
            month0,
        }
    }

    /// The calendar date of day `t`.
    pub fn date(&self, t: i32) -> NaiveDate {
        self.start + chrono::Duration::days(t as i64)
    }

    /// The last day covered.
    pub fn last(&self) -> i32 {
        self.first + self.cum.len() as i32 - 1
    }

    #[inline]
    fn idx(&self, t: i32) -> Option<usize> {
        let i = t.checked_sub(self.first)?;
        if i < 0 || i as usize >= self.cum.len() {
            None
        } else {
            Some(i as usize)
        }
    }

    /// Whether day `t` is a working day (false outside the range).
    #[inline]
    pub fn is_working(&self, t: i32) -> bool {
        match self.idx(t) {
            Some(0) => self.cum[0] == 1,
            Some(i) => self.cum[i] > self.cum[i - 1],
            None => false,
        }
    }

    /// `add_workdays(t, n)`: the smallest `t' > t` with exactly `n` working days in
    /// `(t, t']`; `n = 0` gives `t`. [`NEVER`] past the range.
    #[inline]
    pub fn add_workdays(&self, t: i32, n: i32) -> i32 {
        if n <= 0 || t == NEVER {
            return t;
        }
        match self.idx(t) {
            Some(i) => {
                let k = self.cum[i] as usize + n as usize - 1;
                self.workdays.get(k).copied().unwrap_or(NEVER)
            }
            None => NEVER,
        }
    }

    /// Month number of day `t` (`year·12 + month0`).
    #[inline]
    pub fn month_of(&self, t: i32) -> i32 {
        self.month[(t - self.first) as usize]
    }

    /// Whether `t` is the first calendar day of a month.
    #[inline]
    pub fn is_month_start(&self, t: i32) -> bool {
        match self.idx(t) {
            Some(0) => true,
            Some(i) => self.month[i] != self.month[i - 1],
            None => false,
        }
    }

    /// Monthly filing (MODEL.md §13): the `⌊u·k⌋`-th (0-based) working day of the
    /// month after `t`'s month, `k = min(window, working days in that month)`.
    #[inline]
    pub fn monthly_filing_day(&self, t: i32, window: u32, u: f64) -> i32 {
        let Some(i) = self.idx(t) else { return NEVER };
        let m = (self.month[i] - self.month0 + 1) as usize;
        // The month must lie wholly inside the range to know its working days.
        if m + 1 >= self.months.len() {
            return NEVER;
        }
        let (first, count) = self.months[m];
        let k = window.min(count);
        if k == 0 {
            return NEVER;
        }
        let j = ((u * k as f64) as u32).min(k - 1);
        self.workdays[(first + j) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn official() -> Vec<(NaiveDate, DayKind)> {
        parse_official(OFFICIAL_CSV).expect("shipped calendar parses")
    }

    fn cal(start: &str) -> Calendar {
        Calendar::new(
            d(start),
            -60,
            400,
            WorkingDays::MonFri,
            &official(),
            &[],
            &[],
        )
    }

    fn day(c: &Calendar, s: &str) -> i32 {
        (d(s) - c.start).num_days() as i32
    }

    /// Spring Festival 2017: holidays Fri 27 Jan – Thu 2 Feb; make-up workdays
    /// Sun 22 Jan and Sat 4 Feb (State Council notice, 2016).
    #[test]
    fn spring_festival_2017_by_hand() {
        let c = cal("2017-01-01");
        assert!(
            c.is_working(day(&c, "2017-01-22")),
            "Sunday make-up workday"
        );
        assert!(!c.is_working(day(&c, "2017-01-27")));
        assert!(!c.is_working(day(&c, "2017-02-02")));
        assert!(c.is_working(day(&c, "2017-02-03")));
        assert!(
            c.is_working(day(&c, "2017-02-04")),
            "Saturday make-up workday"
        );
        assert!(!c.is_working(day(&c, "2017-02-05")));
        // Thu 26 Jan + 1 working day: the whole break is skipped → Fri 3 Feb.
        assert_eq!(
            c.add_workdays(day(&c, "2017-01-26"), 1),
            day(&c, "2017-02-03")
        );
        // + 2 → Sat 4 Feb (worked), + 3 → Mon 6 Feb.
        assert_eq!(
            c.add_workdays(day(&c, "2017-01-26"), 2),
            day(&c, "2017-02-04")
        );
        assert_eq!(
            c.add_workdays(day(&c, "2017-01-26"), 3),
            day(&c, "2017-02-06")
        );
        // Fri 20 Jan + 1 → Sun 22 Jan (make-up day).
        assert_eq!(
            c.add_workdays(day(&c, "2017-01-20"), 1),
            day(&c, "2017-01-22")
        );
        // From a holiday, the count starts after it.
        assert_eq!(
            c.add_workdays(day(&c, "2017-01-30"), 1),
            day(&c, "2017-02-03")
        );
    }

    /// National Day 2017: 1–8 Oct off (with Mid-Autumn); Sat 30 Sep worked.
    #[test]
    fn national_day_2017_by_hand() {
        let c = cal("2017-01-01");
        assert!(c.is_working(day(&c, "2017-09-30")));
        for k in 1..=8 {
            assert!(!c.is_working(day(&c, &format!("2017-10-0{k}"))));
        }
        assert_eq!(
            c.add_workdays(day(&c, "2017-09-29"), 1),
            day(&c, "2017-09-30")
        );
        assert_eq!(
            c.add_workdays(day(&c, "2017-09-29"), 2),
            day(&c, "2017-10-09")
        );
        // 10 working days from Fri 29 Sep: 30 Sep, 9–13 Oct, 16–19 Oct → Thu 19 Oct.
        assert_eq!(
            c.add_workdays(day(&c, "2017-09-29"), 10),
            day(&c, "2017-10-19")
        );
        assert_eq!(
            c.add_workdays(day(&c, "2017-09-29"), 0),
            day(&c, "2017-09-29")
        );
    }

    #[test]
    fn all_days_mode_ignores_holidays() {
        let c = Calendar::new(
            d("2017-01-01"),
            0,
            100,
            WorkingDays::All,
            &official(),
            &[],
            &[],
        );
        assert!(c.is_working(day(&c, "2017-01-28")));
        assert_eq!(c.add_workdays(5, 7), 12);
    }

    #[test]
    fn extra_closures_and_workdays_apply() {
        let c = Calendar::new(
            d("2017-06-01"),
            0,
            60,
            WorkingDays::MonFri,
            &official(),
            &[(d("2017-06-20"), d("2017-06-21"))],
            &[d("2017-06-24")],
        );
        assert!(!c.is_working(day(&c, "2017-06-20")));
        assert!(c.is_working(day(&c, "2017-06-24")));
        assert_eq!(
            c.add_workdays(day(&c, "2017-06-19"), 1),
            day(&c, "2017-06-22")
        );
    }

    #[test]
    fn monthly_filing_uses_the_next_months_first_working_days() {
        let c = cal("2017-01-01");
        // Documents ready 10 Jan 2017 → file in February; the first working day of
        // February 2017 is Fri 3 Feb (1–2 Feb are Spring Festival).
        assert_eq!(
            c.monthly_filing_day(day(&c, "2017-01-10"), 15, 0.0001),
            day(&c, "2017-02-03")
        );
        // u just under 1 with window 2 → the 2nd working day: Sat 4 Feb (make-up).
        assert_eq!(
            c.monthly_filing_day(day(&c, "2017-01-10"), 2, 0.9999),
            day(&c, "2017-02-04")
        );
        assert!(c.is_month_start(day(&c, "2017-03-01")));
        assert!(!c.is_month_start(day(&c, "2017-03-02")));
    }

    #[test]
    fn past_the_range_is_never() {
        let c = cal("2017-01-01");
        assert_eq!(c.add_workdays(399, 10), NEVER);
        assert_eq!(c.add_workdays(NEVER, 3), NEVER);
    }

    #[test]
    fn a_byte_order_mark_is_ignored_and_an_empty_file_is_refused() {
        let rows = parse_official("\u{feff}date,kind,holiday\n2017-01-02,holiday,x\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert!(parse_official("date,kind,holiday\n").is_err());
    }

    #[test]
    fn quoted_fields_read_like_plain_ones() {
        let plain =
            parse_official("date,kind,holiday\n2017-01-27,holiday,x\n2017-01-22,workday,y\n");
        let quoted = parse_official(
            "\"date\",\"kind\",\"holiday\"\n\"2017-01-27\",\"holiday\",\"x, y\"\n\"2017-01-22\" , \"workday\",\"y\"\n",
        );
        assert_eq!(quoted, plain);
        assert_eq!(plain.unwrap().len(), 2);
    }

    #[test]
    fn a_day_both_holiday_and_workday_names_both_lines() {
        let errs = parse_official(
            "date,kind,holiday\n2017-01-27,holiday,x\n2017-01-27,holiday,x\n2017-01-27,workday,x\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1, "a repeated identical line is harmless");
        assert_eq!((errs[0].line, errs[0].column), (4, "kind"));
        assert!(errs[0].message.contains("line 2"), "{}", errs[0].message);
    }

    #[test]
    fn coverage_warning_names_the_uncovered_years_and_the_covered_ones() {
        let o = official();
        assert_eq!(years_covered(&o), Some((2015, 2026)));
        let w = |start: &str, first: i32, end: i32, extra: &[NaiveDate]| {
            coverage_warning(WorkingDays::MonFri, "cal", &o, extra, d(start), first, end)
        };
        assert_eq!(w("2017-01-01", -240, 365, &[]), None);
        let late = w("2026-07-01", -60, 365, &[]).expect("2027 is not covered");
        assert!(
            late.contains("2026–2027) reach 2027,") && late.contains("covers 2015–2026"),
            "{late}"
        );
        let far = w("2030-01-01", -240, 730, &[]).expect("2029–2031 are not covered");
        assert!(far.contains("2029–2031) lie outside"), "{far}");
        // Years the scenario gives its own holidays for, and mode "all", are fine.
        assert_eq!(w("2027-03-01", 0, 100, &[d("2027-05-01")]), None);
        assert_eq!(
            coverage_warning(WorkingDays::All, "cal", &o, &[], d("2030-01-01"), 0, 100),
            None
        );
    }

    #[test]
    fn bad_calendar_rows_name_line_and_column() {
        let errs = parse_official("date,kind,holiday\n2017-13-01,holiday,x\n2017-01-02,off,y\n")
            .unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].line, errs[0].column), (2, "date"));
        assert_eq!((errs[1].line, errs[1].column), (3, "kind"));
    }
}

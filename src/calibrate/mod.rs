//! `refundsim calibrate`: learns the refund-speed policy from refund records
//! (docs/model.md §11) and writes it as a scenario overlay.
//!
//! Records are read and checked row by row ([`crate::records`]); rows with
//! impossible or unreadable values are left out and reported by line. From the
//! rest, per processing class, it fits the documents time (interval-censored
//! when filing is monthly: the documents date is only known to lie in the month
//! before filing), review working days (claims held for verification left out),
//! the verification probability and hold length, the denial probability (by
//! actual class), treasury plus budget working days, and seasonality from
//! monthly export amounts. Durations are fitted in [`fit`].
//!
//! A records file is a snapshot: claims too recent to have finished a stage are
//! still pending. When there are pending claims, each stage is fitted on the
//! cohort that entered it at least as long before the snapshot as the longest
//! completed stage seen, so slow claims are not under-represented.

pub mod fit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::calendar::WorkingDays;
use crate::records::{self, RawRecord, RecordsError};
use crate::scenario::{Filing, Scenario};
use fit::{Fit, Obs, Prob};

/// How a calibration overlay begins, so that `--force` can tell it from a
/// user's own file.
pub const OVERLAY_MARKER: &str = "# refundsim calibration overlay";
/// A phrase in the first lines of `calibration.md` and `calibration.html`.
pub const REPORT_MARKER: &str = "Calibration from refund records";

/// Classes with fewer claims than this borrow the pooled fit.
pub const MIN_CLASS: f64 = 30.0;

/// Default bootstrap seed.
pub const SEED: u64 = 20160701;

/// Bad rows listed by line (the rest are counted).
pub const LISTED: usize = 20;

/// Settings of a calibration.
#[derive(Debug, Clone)]
pub struct Options {
    /// The records file (CSV or .xlsx).
    pub records: PathBuf,
    /// The base scenario (calendar, filing rule, class treatment, platforms).
    pub scenario: Option<Scenario>,
    /// A population CSV (docs/model.md §3) to fit export sizes and class mix from.
    pub exporters: Option<PathBuf>,
    /// Largest share of bad rows accepted (default 0.05).
    pub max_bad: f64,
    /// Bootstrap seed.
    pub seed: u64,
}

/// What is wrong with a bad row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BadKind {
    /// A cell that is not a date, number, class, flag or outcome.
    Unparsable,
    /// A class outside 1–4.
    UnknownClass,
    /// A negative amount.
    NegativeAmount,
    /// A date the calendar does not cover.
    OutsideCalendar,
    /// Dates in an impossible order or inconsistent with the outcome.
    ImpossibleDates,
}

impl BadKind {
    /// A short name for counts.
    pub fn name(self) -> &'static str {
        match self {
            BadKind::Unparsable => "unparsable cell",
            BadKind::UnknownClass => "unknown class",
            BadKind::NegativeAmount => "negative amount",
            BadKind::OutsideCalendar => "date outside the calendar",
            BadKind::ImpossibleDates => "impossible dates",
        }
    }
}

/// A bad row: its line, what is wrong and the detail.
#[derive(Debug, Clone)]
pub struct BadRow {
    /// 1-based line (CSV) or row (xlsx).
    pub line: u64,
    /// The kind of problem.
    pub kind: BadKind,
    /// Column and value.
    pub detail: String,
}

/// Why a calibration failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The records file could not be read.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// Too many bad rows.
    #[error(
        "{path}: {bad} of {rows} rows ({share:.1}%) are bad, more than the {max:.1}% allowed; fix them, or accept leaving them out with --max-bad {suggest}\n{listing}"
    )]
    TooManyBad {
        /// The file.
        path: PathBuf,
        /// Bad rows.
        bad: u64,
        /// All rows.
        rows: u64,
        /// Bad share, %.
        share: f64,
        /// Allowed share, %.
        max: f64,
        /// A --max-bad value that would accept this file.
        suggest: String,
        /// The bad rows listed.
        listing: String,
    },
    /// Nothing to fit.
    #[error("{path}: {problem}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What is missing.
        problem: String,
    },
    /// The exporters file is unusable.
    #[error("{path}{}: {problem}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Exporters {
        /// The file.
        path: PathBuf,
        /// The line, when known.
        line: Option<u64>,
        /// What is wrong and the fix.
        problem: String,
    },
}

/// A checked record.
#[derive(Debug, Clone, Copy)]
struct Rec {
    class: u8,
    export: i32,
    filed: Option<i32>,
    approved: Option<i32>,
    paid: Option<i32>,
    verified: bool,
    outcome: Outcome,
    amount: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Paid,
    Denied,
    Pending,
}

/// The calendar, filing rule and classes the records are read with.
struct Context {
    /// Day 0.
    epoch: NaiveDate,
    /// Days `first ..= last` are covered.
    first: i32,
    last: i32,
    /// Working days among `first ..= t`, indexed by `t − first`.
    cum: Vec<u32>,
    monthly: Option<u32>,
    lag_mean: f64,
    class_treatment: [u8; 4],
    covered: String,
}

impl Context {
    fn new(s: Option<&Scenario>) -> Self {
        let official_default;
        let (mode, official, closures, extra, filing, treatment) = match s {
            Some(s) => (
                s.calendar.working_days,
                &s.calendar.official[..],
                &s.calendar.holidays[..],
                &s.calendar.workdays[..],
                s.policy.filing.clone(),
                s.policy.class_treatment,
            ),
            None => {
                official_default = crate::calendar::parse_official(crate::calendar::OFFICIAL_CSV)
                    .unwrap_or_default();
                (
                    WorkingDays::MonFri,
                    &official_default[..],
                    &[][..],
                    &[][..],
                    Filing::Monthly {
                        window_workdays: 10,
                    },
                    [1, 2, 3, 4],
                )
            }
        };
        // The official list covers whole years; dates outside them have unknown holidays.
        let (y0, y1) = if mode == WorkingDays::MonFri && !official.is_empty() {
            let ys = official.iter().map(|(d, _)| d.year());
            (ys.clone().min().unwrap_or(1990), ys.max().unwrap_or(2100))
        } else {
            (1990, 2100)
        };
        let epoch = NaiveDate::from_ymd_opt(y0, 1, 1).expect("valid year");
        let end = NaiveDate::from_ymd_opt(y1, 12, 31).expect("valid year");
        let last = (end - epoch).num_days() as i32;
        let cal = crate::calendar::Calendar::new(epoch, 0, last, mode, official, closures, extra);
        let mut cum = Vec::with_capacity(last as usize + 1);
        let mut c = 0;
        for t in 0..=last {
            c += u32::from(cal.is_working(t));
            cum.push(c);
        }
        let (monthly, lag_mean) = match &filing {
            Filing::Monthly { window_workdays } => (Some(*window_workdays), 0.0),
            Filing::Continuous { lag } => (None, lag.mean()),
        };
        Context {
            epoch,
            first: 0,
            last,
            cum,
            monthly,
            lag_mean,
            class_treatment: treatment,
            covered: format!("{epoch} … {end}"),
        }
    }

    fn day(&self, d: NaiveDate) -> Option<i32> {
        let t = (d - self.epoch).num_days();
        (t >= i64::from(self.first) && t <= i64::from(self.last)).then_some(t as i32)
    }

    fn date(&self, t: i32) -> NaiveDate {
        self.epoch + chrono::Duration::days(i64::from(t))
    }

    /// Working days in `(a, b]`.
    fn workdays(&self, a: i32, b: i32) -> i32 {
        self.cum[b as usize] as i32 - self.cum[a as usize] as i32
    }

    /// First and last day of the month before `t`'s month.
    fn previous_month(&self, t: i32) -> (i32, i32) {
        let d = self.date(t);
        let first_this = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
        let last_prev = first_this.pred_opt().expect("valid");
        let first_prev =
            NaiveDate::from_ymd_opt(last_prev.year(), last_prev.month(), 1).expect("valid");
        let t0 = (first_prev - self.epoch).num_days() as i32;
        let t1 = (last_prev - self.epoch).num_days() as i32;
        (t0, t1)
    }

    fn pclass(&self, class0: u8) -> usize {
        (self.class_treatment[class0 as usize].clamp(1, 4) - 1) as usize
    }
}

/// Parses `YYYY-MM-DD` (or `YYYY/MM/DD`, and a trailing time is ignored).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.split([' ', 'T']).next()?;
    let b = s.as_bytes();
    if b.len() == 10 && (b[4] == b'-' || b[4] == b'/') && b[7] == b[4] {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        return NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?);
    }
    None
}

/// A record's problem: its kind and what is wrong.
type Bad = (BadKind, String);

/// Columns of a raw record (see [`records::COLUMNS`]).
const C_CLASS: usize = 3;
const C_EXPORT: usize = 4;
const C_FILED: usize = 5;
const C_APPROVED: usize = 6;
const C_VERIF: usize = 7;
const C_PAID: usize = 8;
const C_OUTCOME: usize = 9;
const C_AMOUNT: usize = 10;

/// A column's name in messages.
fn column_name(i: usize) -> &'static str {
    if i == C_AMOUNT {
        "amount"
    } else {
        records::COLUMNS[i]
    }
}

/// Checks one raw record: its cells one by one, then the order of its dates.
fn check(ctx: &Context, r: &RawRecord) -> Result<Rec, Bad> {
    let cell = |i: usize| r.cells[i].as_str();
    let class = check_class(cell(C_CLASS))?;
    let amount = check_amount(cell(C_AMOUNT))?;
    let verified = check_verified(cell(C_VERIF))?;
    let outcome = check_outcome(cell(C_OUTCOME))?;
    let date = |i: usize, required: bool| record_date(ctx, cell(i), column_name(i), required);
    let export = date(C_EXPORT, true)?.expect("required");
    let filed = date(C_FILED, false)?;
    let approved = date(C_APPROVED, false)?;
    let paid = date(C_PAID, false)?;
    let dates = Dates {
        export,
        filed,
        approved,
        paid,
    };
    check_order(ctx, &dates, outcome, cell(C_OUTCOME))?;
    Ok(Rec {
        class: (class - 1) as u8,
        export,
        filed,
        approved,
        paid,
        verified,
        outcome,
        amount,
    })
}

/// A record's dates as calendar days.
struct Dates {
    export: i32,
    filed: Option<i32>,
    approved: Option<i32>,
    paid: Option<i32>,
}

/// One date cell as a calendar day: empty is `None` (or a problem if `required`).
fn record_date(ctx: &Context, s: &str, name: &str, required: bool) -> Result<Option<i32>, Bad> {
    use BadKind::*;
    if s.is_empty() {
        return if required {
            Err((Unparsable, format!("{name} is empty")))
        } else {
            Ok(None)
        };
    }
    let d = parse_date(s).ok_or_else(|| {
        (
            Unparsable,
            format!("{name} `{s}` is not a date; write YYYY-MM-DD"),
        )
    })?;
    ctx.day(d).map(Some).ok_or_else(|| {
        (
            OutsideCalendar,
            format!(
                "{name} {d} is outside the calendar ({}); give calendar.file covering it in --scenario",
                ctx.covered
            ),
        )
    })
}

/// The class cell: 1 to 4.
fn check_class(s: &str) -> Result<i64, Bad> {
    use BadKind::*;
    let class: i64 = s
        .parse()
        .map_err(|_| (Unparsable, format!("class `{s}` is not a number 1–4")))?;
    if !(1..=4).contains(&class) {
        return Err((
            UnknownClass,
            format!("class {class} is not one of 1, 2, 3, 4"),
        ));
    }
    Ok(class)
}

/// The amount cell: a finite, non-negative number (thousands commas allowed).
fn check_amount(s: &str) -> Result<f64, Bad> {
    use BadKind::*;
    let amount: f64 = s
        .replace(',', "")
        .parse()
        .map_err(|_| (Unparsable, format!("amount `{s}` is not a number")))?;
    if !amount.is_finite() {
        return Err((Unparsable, format!("amount `{s}` is not a number")));
    }
    if amount < 0.0 {
        return Err((NegativeAmount, format!("amount {amount} is negative")));
    }
    Ok(amount)
}

/// The verification cell: 1/true/yes or 0/empty/false/no.
fn check_verified(s: &str) -> Result<bool, Bad> {
    match s {
        "1" | "true" | "yes" => Ok(true),
        "0" | "" | "false" | "no" => Ok(false),
        v => Err((
            BadKind::Unparsable,
            format!("verification `{v}` is not 1 or 0"),
        )),
    }
}

/// The outcome cell: paid, denied, or pending (or empty).
fn check_outcome(s: &str) -> Result<Outcome, Bad> {
    match s.to_ascii_lowercase().as_str() {
        "paid" => Ok(Outcome::Paid),
        "denied" => Ok(Outcome::Denied),
        "pending" | "" => Ok(Outcome::Pending),
        v => Err((
            BadKind::Unparsable,
            format!("outcome `{v}` is not paid, denied or pending"),
        )),
    }
}

/// The dates in a possible order: export ≤ filed ≤ approved ≤ paid, filing after
/// the month of export under monthly filing, and consistent with the outcome
/// (`outcome_cell` as written, for messages).
fn check_order(ctx: &Context, d: &Dates, outcome: Outcome, outcome_cell: &str) -> Result<(), Bad> {
    let bad = |m: String| Err((BadKind::ImpossibleDates, m));
    let show = |t: i32| ctx.date(t);
    let Dates {
        export,
        filed,
        approved,
        paid,
    } = *d;
    if let Some(f) = filed {
        if f < export {
            return bad(format!("filed {} before export {}", show(f), show(export)));
        }
        if ctx.monthly.is_some()
            && ctx.date(f).year() * 12 + ctx.date(f).month() as i32
                <= ctx.date(export).year() * 12 + ctx.date(export).month() as i32
        {
            return bad(format!(
                "filed {} in the month of export {}, but filing is monthly (in the month after the documents are complete)",
                show(f),
                show(export)
            ));
        }
    } else if approved.is_some() || paid.is_some() || outcome != Outcome::Pending {
        return bad("approved, paid or decided but filed_date is empty".into());
    }
    if let (Some(f), Some(a)) = (filed, approved)
        && a < f
    {
        return bad(format!("approved {} before filed {}", show(a), show(f)));
    }
    if let Some(p) = paid {
        if let Some(f) = filed
            && p < f
        {
            return bad(format!("paid {} before filed {}", show(p), show(f)));
        }
        match approved {
            Some(a) if p < a => {
                return bad(format!("paid {} before approved {}", show(p), show(a)));
            }
            None => return bad("paid but approved_date is empty".into()),
            _ => {}
        }
        if outcome != Outcome::Paid {
            return bad(format!(
                "paid_date {} given but outcome is `{outcome_cell}`",
                show(p),
            ));
        }
    } else if outcome == Outcome::Paid {
        return bad("outcome is paid but paid_date is empty".into());
    }
    if outcome == Outcome::Denied && approved.is_some() {
        return bad(
            "outcome is denied but approved_date is given (a denied claim is never approved)"
                .into(),
        );
    }
    Ok(())
}

/// A fitted quantity that may borrow the pooled value.
#[derive(Debug, Clone)]
pub struct ClassFit<T> {
    /// The class's own fit, if it had enough claims.
    pub own: Option<T>,
    /// Claims of the class.
    pub n: f64,
}

/// The verification hold length, from the calendar span of verified claims less
/// that of unverified claims of the same processing class.
#[derive(Debug, Clone)]
pub struct Hold {
    /// Verified claims used.
    pub n: f64,
    /// Mean extra calendar days.
    pub mean: f64,
    /// Standard deviation of the extra days (0 when not larger than noise).
    pub sd: f64,
    /// Bootstrap 95% interval of the mean.
    pub ci: (f64, f64),
}

/// Everything `calibrate` found.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The records file.
    pub records: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Rows read (header and comments excluded).
    pub rows: u64,
    /// Bad rows, first [`LISTED`].
    pub bad_listed: Vec<BadRow>,
    /// Bad rows by kind.
    pub bad_counts: BTreeMap<BadKind, u64>,
    /// The latest date in the records: the snapshot they were taken at.
    pub snapshot: NaiveDate,
    /// Claims still pending at the snapshot.
    pub pending: u64,
    /// Whether filing is monthly (documents interval-censored).
    pub monthly: bool,
    /// Documents days.
    pub docs: Fit,
    /// Review working days, pooled.
    pub review_pooled: Fit,
    /// Review by processing class.
    pub review: [ClassFit<Fit>; 4],
    /// Verification probability, pooled.
    pub verification_pooled: Prob,
    /// Verification probability by processing class.
    pub verification: [ClassFit<Prob>; 4],
    /// Hold length.
    pub hold: Option<Hold>,
    /// Denial probability, pooled.
    pub denial_pooled: Prob,
    /// Denial probability by actual class.
    pub denial: [ClassFit<Prob>; 4],
    /// Treasury plus budget working days.
    pub treasury: Fit,
    /// Monthly factors (mean 1) and the amount behind each, if all 12 months are present.
    pub season: Option<[(f64, f64); 12]>,
    /// Export sizes and class mix by platform, from --exporters.
    pub platforms: Vec<PlatformFit>,
    /// The exporters file, if any.
    pub exporters_file: Option<PathBuf>,
    /// Whether the base scenario has a refund budget (treasury then includes budget waits).
    pub base_has_quota: bool,
    /// The base scenario's platforms (for the overlay's platform blocks).
    base_platforms: Vec<crate::scenario::Platform>,
}

/// Export sizes and class mix of one platform.
#[derive(Debug, Clone)]
pub struct PlatformFit {
    /// Platform name.
    pub name: String,
    /// Firms.
    pub n: u64,
    /// Lognormal median of annual exports.
    pub median: f64,
    /// Its bootstrap interval.
    pub median_ci: (f64, f64),
    /// Lognormal sigma.
    pub sigma: f64,
    /// Share of trading firms.
    pub trading_share: f64,
    /// Class mix I–IV.
    pub class_mix: [f64; 4],
}

/// Runs the calibration.
pub fn calibrate(opts: &Options) -> Result<Calibration, CalibrateError> {
    let ctx = Context::new(opts.scenario.as_ref());
    let path = &opts.records;
    let read = read_records(&ctx, opts)?;
    let recs = &read.recs;
    let seed = opts.seed;
    let snapshot = recs
        .iter()
        .flat_map(|r| [Some(r.export), r.filed, r.approved, r.paid])
        .flatten()
        .max()
        .expect("a record");
    let pending = recs
        .iter()
        .filter(|r| r.outcome == Outcome::Pending)
        .count() as u64;
    let censored = pending > 0;
    // Cohort cut-offs: a stage entered before `snapshot − longest` has finished.
    let longest = |f: &dyn Fn(&Rec) -> Option<i32>| recs.iter().filter_map(f).max().unwrap_or(0);
    let cut = |h: i32| if censored { snapshot - h } else { i32::MAX };
    let docs_cut = cut(longest(&|r| r.filed.map(|f| f - r.export)));
    let review_cut = cut(longest(&|r| Some(r.approved? - r.filed?)));
    let treasury_cut = cut(longest(&|r| Some(r.paid? - r.approved?)));

    let docs = docs_obs(&ctx, recs, docs_cut);
    let docs = fit::fit(&docs, seed, "docs").ok_or_else(|| empty(path, "a filed_date"))?;
    let stages =
        review_fits(&ctx, recs, review_cut, seed).ok_or_else(|| empty(path, "an approved_date"))?;
    let tre = treasury_obs(&ctx, recs, treasury_cut);
    let treasury = fit::fit(&tre, seed, "treasury").ok_or_else(|| empty(path, "a paid_date"))?;

    // Seasonality: amounts per day of each calendar month, over whole months only.
    let season = season(&ctx, recs);

    let platforms = match &opts.exporters {
        Some(p) => exporters(p, seed)?,
        None => Vec::new(),
    };
    let Read {
        rows,
        bad_listed,
        bad_counts,
        sha256,
        ..
    } = read;
    let ReviewFits {
        review_pooled,
        review,
        verification_pooled,
        verification,
        hold,
        denial_pooled,
        denial,
    } = stages;
    Ok(Calibration {
        records: path.clone(),
        sha256,
        rows,
        bad_listed,
        bad_counts,
        snapshot: ctx.date(snapshot),
        pending,
        monthly: ctx.monthly.is_some(),
        docs,
        review_pooled,
        review,
        verification_pooled,
        verification,
        hold,
        denial_pooled,
        denial,
        treasury,
        season,
        platforms,
        exporters_file: opts.exporters.clone(),
        base_has_quota: opts
            .scenario
            .as_ref()
            .is_some_and(|s| s.policy.quota.is_some()),
        base_platforms: opts
            .scenario
            .as_ref()
            .map(|s| s.platforms.clone())
            .unwrap_or_default(),
    })
}

/// The records file, read and checked.
struct Read {
    /// The usable records.
    recs: Vec<Rec>,
    /// Rows read (header and comments excluded).
    rows: u64,
    /// Bad rows, first [`LISTED`].
    bad_listed: Vec<BadRow>,
    /// Bad rows by kind.
    bad_counts: BTreeMap<BadKind, u64>,
    /// The file's sha256.
    sha256: String,
}

/// Reads and checks every record; too many bad rows, or none usable, is an error.
fn read_records(ctx: &Context, opts: &Options) -> Result<Read, CalibrateError> {
    let path = &opts.records;
    let mut recs: Vec<Rec> = Vec::new();
    let mut rows = 0u64;
    let mut bad_listed = Vec::new();
    let mut bad_counts: BTreeMap<BadKind, u64> = BTreeMap::new();
    records::read(path, &mut |r| {
        rows += 1;
        match check(ctx, r) {
            Ok(rec) => recs.push(rec),
            Err((kind, detail)) => {
                *bad_counts.entry(kind).or_insert(0) += 1;
                if bad_listed.len() < LISTED {
                    bad_listed.push(BadRow {
                        line: r.line,
                        kind,
                        detail,
                    });
                }
            }
        }
    })?;
    let bad: u64 = bad_counts.values().sum();
    let sha256 = std::fs::read(path)
        .map(|b| crate::input::sha256_hex(&b))
        .unwrap_or_default();
    if rows > 0 && bad as f64 > opts.max_bad * rows as f64 {
        let share = 100.0 * bad as f64 / rows as f64;
        return Err(CalibrateError::TooManyBad {
            path: path.clone(),
            bad,
            rows,
            share,
            max: 100.0 * opts.max_bad,
            suggest: format!("{:.3}", (bad as f64 / rows as f64 + 0.0005).min(1.0)),
            listing: listing(&bad_listed, &bad_counts, bad),
        });
    }
    if recs.is_empty() {
        return Err(CalibrateError::Empty {
            path: path.clone(),
            problem: format!(
                "no usable refund records ({rows} rows, {bad} bad); the file needs rows with the columns of docs/model.md §11"
            ),
        });
    }
    Ok(Read {
        recs,
        rows,
        bad_listed,
        bad_counts,
        sha256,
    })
}

/// A stage no claim reached cannot be fitted.
fn empty(path: &Path, what: &str) -> CalibrateError {
    CalibrateError::Empty {
        path: path.to_path_buf(),
        problem: format!(
            "no claim has {what}, so it cannot be fitted; the records need claims that got that far (a longer export)"
        ),
    }
}

/// Documents days of the claims exported by `cut`: with monthly filing only
/// known to lie in the month before filing (an interval), else filing less the
/// mean lag.
fn docs_obs(ctx: &Context, recs: &[Rec], cut: i32) -> Obs {
    let mut docs = Obs::default();
    for r in recs.iter().filter(|r| r.export <= cut) {
        let Some(f) = r.filed else { continue };
        match ctx.monthly {
            Some(_) => {
                let (a, b) = ctx.previous_month(f);
                docs.add((a - r.export).max(0), b - r.export);
            }
            None => {
                let d = (f - r.export - crate::dist::round_days(ctx.lag_mean)).max(0);
                docs.add(d, d);
            }
        }
    }
    docs
}

/// Review, verification and denial fits.
struct ReviewFits {
    review_pooled: Fit,
    review: [ClassFit<Fit>; 4],
    verification_pooled: Prob,
    verification: [ClassFit<Prob>; 4],
    hold: Option<Hold>,
    denial_pooled: Prob,
    denial: [ClassFit<Prob>; 4],
}

/// Fits review (working days, verification holds excluded), the verification
/// probability and hold, and the denial probability from the claims filed by
/// `cut`; `None` when no claim was approved.
fn review_fits(ctx: &Context, recs: &[Rec], cut: i32, seed: u64) -> Option<ReviewFits> {
    let mut review: [Obs; 4] = Default::default();
    let mut spans: [[BTreeMap<i32, f64>; 2]; 4] = Default::default();
    let mut verif = [[0.0f64; 2]; 4];
    let mut denial = [[0.0f64; 2]; 4];
    for r in recs.iter() {
        let Some(f) = r.filed else { continue };
        if f > cut {
            continue;
        }
        let pc = ctx.pclass(r.class);
        let reviewed = r.approved.is_some() || r.outcome == Outcome::Denied;
        if !reviewed {
            continue;
        }
        verif[pc][0] += 1.0;
        verif[pc][1] += f64::from(u8::from(r.verified));
        denial[r.class as usize][0] += 1.0;
        denial[r.class as usize][1] += f64::from(u8::from(r.outcome == Outcome::Denied));
        if let Some(a) = r.approved {
            *spans[pc][usize::from(r.verified)]
                .entry(a - f)
                .or_insert(0.0) += 1.0;
            if !r.verified {
                let n = ctx.workdays(f, a);
                review[pc].add(n, n);
            }
        }
    }
    let mut pooled = Obs::default();
    for o in &review {
        pooled.extend(o);
    }
    let review_pooled = fit::fit(&pooled, seed, "review")?;
    let review = std::array::from_fn(|c| {
        let n = review[c].n();
        ClassFit {
            own: if n >= MIN_CLASS {
                fit::fit(&review[c], seed, &format!("review{c}"))
            } else {
                None
            },
            n,
        }
    });
    let (verification_pooled, verification) = class_probs(&verif, "verification", seed);
    let (denial_pooled, denial) = class_probs(&denial, "denial", seed);
    Some(ReviewFits {
        review_pooled,
        review,
        verification_pooled,
        verification,
        hold: hold(&spans, seed),
        denial_pooled,
        denial,
    })
}

/// A probability pooled and by class from `[trials, successes]` per class.
fn class_probs(counts: &[[f64; 2]; 4], key: &str, seed: u64) -> (Prob, [ClassFit<Prob>; 4]) {
    let tot = counts.iter().map(|c| c[0]).sum::<f64>();
    let k = counts.iter().map(|c| c[1]).sum::<f64>();
    let pooled = fit::prob(k, tot, seed, key);
    let each: [ClassFit<Prob>; 4] = std::array::from_fn(|c| ClassFit {
        own: (counts[c][0] >= MIN_CLASS)
            .then(|| fit::prob(counts[c][1], counts[c][0], seed, &format!("{key}{c}"))),
        n: counts[c][0],
    });
    (pooled, each)
}

/// Treasury plus budget working days of the claims approved by `cut` and paid.
fn treasury_obs(ctx: &Context, recs: &[Rec], cut: i32) -> Obs {
    let mut tre = Obs::default();
    for r in recs.iter() {
        if let (Some(a), Some(p)) = (r.approved, r.paid)
            && a <= cut
        {
            let n = ctx.workdays(a, p);
            tre.add(n, n);
        }
    }
    tre
}

/// The bad rows as text: the first ones by line, then counts by kind.
pub fn listing(listed: &[BadRow], counts: &BTreeMap<BadKind, u64>, total: u64) -> String {
    let mut out = String::new();
    for b in listed {
        out += &format!("  line {}: {}: {}\n", b.line, b.kind.name(), b.detail);
    }
    if total > listed.len() as u64 {
        out += &format!("  … and {} more\n", total - listed.len() as u64);
    }
    let by: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    out += &format!("  bad rows by kind: {}", by.join(", "));
    out
}

/// Mean (and sd) of the hold: per class, mean calendar span of verified claims
/// less that of unverified ones, weighted by verified claims.
fn hold_of(spans: &[[BTreeMap<i32, f64>; 2]; 4]) -> Option<(f64, f64, f64)> {
    let stats = |m: &BTreeMap<i32, f64>| {
        let n: f64 = m.values().sum();
        let mean = m.iter().map(|(d, c)| f64::from(*d) * c).sum::<f64>() / n;
        let var = m
            .iter()
            .map(|(d, c)| c * (f64::from(*d) - mean).powi(2))
            .sum::<f64>()
            / n;
        (n, mean, var)
    };
    let (mut w, mut mean, mut var) = (0.0, 0.0, 0.0);
    for s in spans {
        let (nv, mv, vv) = stats(&s[1]);
        let (nn, mn, vn) = stats(&s[0]);
        if nv > 0.0 && nn > 0.0 {
            w += nv;
            mean += nv * (mv - mn);
            var += nv * (vv - vn);
        }
    }
    (w > 0.0).then(|| (w, mean / w, (var / w).max(0.0).sqrt()))
}

fn hold(spans: &[[BTreeMap<i32, f64>; 2]; 4], seed: u64) -> Option<Hold> {
    let (n, mean, sd) = hold_of(spans)?;
    let mut rng = fit::bootstrap_rng(seed, "hold");
    let mut reps = Vec::with_capacity(fit::BOOTSTRAP);
    for _ in 0..fit::BOOTSTRAP {
        let r: [[BTreeMap<i32, f64>; 2]; 4] = std::array::from_fn(|c| {
            std::array::from_fn(|v| {
                spans[c][v]
                    .iter()
                    .map(|(d, k)| (*d, fit::poisson(*k, &mut rng)))
                    .collect()
            })
        });
        if let Some((_, m, _)) = hold_of(&r) {
            reps.push(m);
        }
    }
    // The spread of a difference is noisy: below a tenth of the mean it is noise.
    let sd = if sd < 0.1 * mean { 0.0 } else { sd };
    Some(Hold {
        n,
        mean,
        sd,
        ci: fit::percentile_ci(&mut reps),
    })
}

fn season(ctx: &Context, recs: &[Rec]) -> Option<[(f64, f64); 12]> {
    let first = recs.iter().map(|r| r.export).min()?;
    let last = recs.iter().map(|r| r.export).max()?;
    // Whole months only: from the first month start on or after `first` to the
    // last month end on or before `last`.
    let mut amount = [0.0f64; 12];
    let mut days = [0.0f64; 12];
    let mut t = first;
    while t <= last {
        let d = ctx.date(t);
        if d.day() == 1 {
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            }
            .expect("valid");
            let end = t + (next - d).num_days() as i32 - 1;
            if end > last {
                break;
            }
            days[d.month0() as usize] += f64::from(end - t + 1);
            t = end + 1;
        } else {
            t += 1;
        }
    }
    if days.contains(&0.0) {
        return None;
    }
    for r in recs {
        let d = ctx.date(r.export);
        let m = d.month0() as usize;
        // Only months counted in `days`: whole months inside the records' span.
        let ms = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
        let ms_t = (ms - ctx.epoch).num_days() as i32;
        if ms_t >= first {
            let next_t = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            }
            .map(|n| (n - ctx.epoch).num_days() as i32)
            .expect("valid");
            if next_t - 1 <= last {
                amount[m] += r.amount;
            }
        }
    }
    let per_day: Vec<f64> = (0..12).map(|m| amount[m] / days[m]).collect();
    let mean = per_day.iter().sum::<f64>() / 12.0;
    if mean <= 0.0 {
        return None;
    }
    Some(std::array::from_fn(|m| (per_day[m] / mean, amount[m])))
}

/// Fits export sizes (lognormal) and class mix per platform from a population CSV.
fn exporters(path: &Path, seed: u64) -> Result<Vec<PlatformFit>, CalibrateError> {
    let err = |line: Option<u64>, problem: String| CalibrateError::Exporters {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read it ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| err(Some(1), format!("not readable as CSV ({e})")))?
        .clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                err(
                    Some(1),
                    format!("no `{name}` column; a population file has id,platform,sector,kind,annual_exports,class"),
                )
            })
    };
    let (cp, ck, ce, cc) = (
        col("platform")?,
        col("kind")?,
        col("annual_exports")?,
        col("class")?,
    );
    let mut by: BTreeMap<String, (Vec<f64>, [f64; 4], f64)> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            err(
                e.position().map(|p| p.line()),
                format!("not readable as CSV ({e})"),
            )
        })?;
        let line = rec.position().map(|p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let x: f64 = crate::input::parse_amount(get(ce))
            .filter(|x| *x > 0.0)
            .ok_or_else(|| {
                err(
                    line,
                    format!("annual_exports `{}` is not a positive amount", get(ce)),
                )
            })?;
        let class: usize = get(cc)
            .parse()
            .ok()
            .filter(|c| (1..=4).contains(c))
            .ok_or_else(|| err(line, format!("class `{}` is not 1, 2, 3 or 4", get(cc))))?;
        let e = by.entry(get(cp).to_string()).or_default();
        e.0.push(x.ln());
        e.1[class - 1] += 1.0;
        e.2 += f64::from(u8::from(get(ck).eq_ignore_ascii_case("trading")));
    }
    if by.is_empty() {
        return Err(err(None, "no exporters in the file".into()));
    }
    Ok(by
        .into_iter()
        .map(|(name, (logs, classes, trading))| {
            let n = logs.len() as f64;
            let mu = logs.iter().sum::<f64>() / n;
            let sigma = if n > 1.0 {
                (logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            let mut rng = fit::bootstrap_rng(seed, &format!("exports-{name}"));
            let mut reps: Vec<f64> = (0..fit::BOOTSTRAP)
                .map(|_| {
                    let s: f64 = (0..logs.len())
                        .map(|_| logs[(rand::Rng::next_u64(&mut rng) % logs.len() as u64) as usize])
                        .sum();
                    (s / n).exp()
                })
                .collect();
            PlatformFit {
                median_ci: fit::percentile_ci(&mut reps),
                name,
                n: logs.len() as u64,
                median: mu.exp(),
                sigma,
                trading_share: trading / n,
                class_mix: classes.map(|c| c / n),
            }
        })
        .collect())
}

const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];

fn ci(c: (f64, f64)) -> String {
    format!("[{}, {}]", fit::round4(c.0), fit::round4(c.1))
}

/// A comment describing a duration fit.
fn fit_comment(f: &Fit) -> String {
    let alt: Vec<String> = f.candidates[1..]
        .iter()
        .map(|c| {
            format!(
                "{} ΔAIC +{:.1}",
                c.model.family(),
                c.aic - f.candidates[0].aic
            )
        })
        .collect();
    format!(
        "n={}, {} by AIC{}; mean {} days, 95% CI {}; KS {:.4}{}",
        f.n,
        f.model().family(),
        if alt.is_empty() {
            String::new()
        } else {
            format!(" ({})", alt.join(", "))
        },
        fit::round4(f.model().mean()),
        ci(f.mean_ci),
        f.ks,
        if f.censored {
            " (interval-censored)"
        } else {
            ""
        }
    )
}

/// One overlay array row per class of a probability, each commented; a class
/// with too few claims takes the pooled value and says so.
fn prob_rows(per_class: &[ClassFit<Prob>; 4], pooled: &Prob) -> String {
    let mut o = String::new();
    for (k, d) in per_class.iter().enumerate() {
        o += &match &d.own {
            Some(p) => format!(
                "  {},  # class {}: {}\n",
                fit::round4(p.p),
                ROMAN[k],
                prob_comment(p)
            ),
            None => format!(
                "  {},  # class {}: only {} claims, borrows the pooled value: {}\n",
                fit::round4(pooled.p),
                ROMAN[k],
                d.n,
                prob_comment(pooled)
            ),
        };
    }
    o
}

fn prob_comment(p: &Prob) -> String {
    format!("{}/{} claims, 95% CI {}", p.k, p.n, ci(p.ci))
}

/// The overlay TOML: every value with its sample size, interval and fit statistic.
pub fn overlay_toml(c: &Calibration) -> String {
    let mut o = String::new();
    overlay_header(&mut o, c);
    overlay_policy(&mut o, c);
    overlay_verification(&mut o, c);
    overlay_season(&mut o, c);
    overlay_platforms(&mut o, c);
    o
}

/// The overlay's opening comment: what it is, where it came from, how intervals are made.
fn overlay_header(o: &mut String, c: &Calibration) {
    *o += OVERLAY_MARKER;
    *o += " (docs/model.md §11): merge it after a base scenario,\n";
    *o += "#   refundsim run BASE.toml THIS.toml\n";
    *o += &format!(
        "# fitted from {} (sha256 {}), snapshot {}; {} rows, {} bad and left out, {} pending\n",
        c.records.display(),
        &c.sha256,
        c.snapshot,
        c.rows,
        c.bad_counts.values().sum::<u64>(),
        c.pending
    );
    *o += &format!(
        "# intervals: Poisson bootstrap, {} replicates, 95% percentile; classes with < {MIN_CLASS} claims borrow the pooled fit\n\n",
        fit::BOOTSTRAP
    );
}

/// `[policy]`: documents, review by class, denial by class, treasury.
fn overlay_policy(o: &mut String, c: &Calibration) {
    *o += "[policy]\n";
    *o += &format!(
        "# documents: calendar days export → complete{}\n",
        if c.monthly {
            "; monthly filing, so each claim's documents date is only known to lie in the month before filing"
        } else {
            "; continuous filing, the scenario's mean filing lag subtracted"
        }
    );
    *o += &format!(
        "docs = {}  # {}\n",
        c.docs.model().toml(),
        fit_comment(&c.docs)
    );
    *o += "# review: working days filed → approved, claims held for verification left out\nreview = [\n";
    for (k, r) in c.review.iter().enumerate() {
        match &r.own {
            Some(f) => {
                *o += &format!(
                    "  {},  # class {}: {}\n",
                    f.model().toml(),
                    ROMAN[k],
                    fit_comment(f)
                )
            }
            None => {
                *o += &format!(
                    "  {},  # class {}: only {} claims, borrows the pooled fit: {}\n",
                    c.review_pooled.model().toml(),
                    ROMAN[k],
                    r.n,
                    fit_comment(&c.review_pooled)
                )
            }
        }
    }
    *o += "]\n";
    *o += "# denial probability by actual class (claims reviewed)\ndenial_prob = [\n";
    *o += &prob_rows(&c.denial, &c.denial_pooled);
    *o += "]\n";
    *o += &format!(
        "# treasury{}: working days approved → paid\ntreasury = {}  # {}\n",
        if c.base_has_quota {
            " plus budget waits (the base scenario's policy.quota still applies on top: remove it from the base, or the budget wait counts twice)"
        } else {
            " plus any budget wait"
        },
        c.treasury.model().toml(),
        fit_comment(&c.treasury)
    );
}

/// `[policy.verification]`: probability by processing class and the hold length.
fn overlay_verification(o: &mut String, c: &Calibration) {
    *o += "\n# verification hold (函调): probability by processing class, hold in calendar days\n[policy.verification]\nprob = [\n";
    *o += &prob_rows(&c.verification, &c.verification_pooled);
    *o += "]\n";
    match &c.hold {
        Some(h) => {
            let v = if h.sd > 0.0 {
                format!(
                    "{{ lognormal = {{ mean = {}, cv = {} }} }}",
                    fit::round4(h.mean.max(0.0)),
                    fit::round4(h.sd / h.mean.max(1e-9))
                )
            } else {
                format!("{{ fixed = {} }}", fit::round4(h.mean.max(0.0)))
            };
            *o += &format!(
                "days = {v}  # n={} verified claims; mean extra calendar days {} (verified less unverified span, same class), 95% CI {}; sd {}\n",
                h.n,
                fit::round4(h.mean),
                ci(h.ci),
                fit::round4(h.sd)
            );
        }
        None => {
            *o += "# days: no approved verified claims with unverified peers; kept from the base scenario\n"
        }
    }
}

/// `[economy]`: seasonality, when the records cover all twelve months.
fn overlay_season(o: &mut String, c: &Calibration) {
    if let Some(s) = &c.season {
        *o += "\n[economy]\n# seasonality: export amounts per day of each calendar month, mean 1\nseason = [\n";
        for (m, (f, a)) in s.iter().enumerate() {
            *o += &format!(
                "  {},  # month {}: CNY {:.0} declared\n",
                fit::round4(*f),
                m + 1,
                a
            );
        }
        *o += "]\n";
    } else {
        *o += "\n# economy.season: the records do not cover all 12 calendar months in whole; kept from the base scenario\n";
    }
}

/// `[[platform]]` blocks from `--exporters`, the base's platforms kept as they are.
fn overlay_platforms(o: &mut String, c: &Calibration) {
    if c.platforms.is_empty() {
        return;
    }
    *o += &format!(
        "\n# platforms: export sizes (lognormal) and class mix fitted from {}; an overlay replaces the whole platform list\n",
        c.exporters_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let mut names: Vec<String> = c.base_platforms.iter().map(|p| p.name.clone()).collect();
    for p in &c.platforms {
        if !names.contains(&p.name) {
            names.push(p.name.clone());
        }
    }
    for name in names {
        let base = c.base_platforms.iter().find(|p| p.name == name);
        let fitted = c.platforms.iter().find(|p| p.name == name);
        *o += "[[platform]]\n";
        *o += &format!("name = {:?}\n", name);
        *o += &format!(
            "name_zh = {:?}\n",
            base.map(|b| b.name_zh.clone())
                .unwrap_or_else(|| name.clone())
        );
        *o += &format!(
            "pilot = {}{}\n",
            base.map(|b| b.pilot).unwrap_or(true),
            if base.is_none() {
                "  # not in the base scenario: assumed a 1+7 platform"
            } else {
                ""
            }
        );
        match (fitted, base) {
            (Some(f), _) => {
                *o += &format!("exporters = {}  # firms in the file\n", f.n);
                *o += &format!(
                    "export_median = {}  # lognormal median, n={}, 95% CI {}\n",
                    fit::round4(f.median),
                    f.n,
                    ci(f.median_ci)
                );
                *o += &format!(
                    "export_sigma = {}  # lognormal sigma, n={}\n",
                    fit::round4(f.sigma.max(0.0)),
                    f.n
                );
                *o += &format!(
                    "trading_share = {}  # n={}\n",
                    fit::round4(f.trading_share),
                    f.n
                );
                let mix: Vec<String> = f
                    .class_mix
                    .iter()
                    .map(|x| format!("{}", fit::round4(*x)))
                    .collect();
                *o += &format!("class_mix = [{}]  # n={}\n", mix.join(", "), f.n);
            }
            (None, Some(b)) => {
                *o += "# not in the exporters file: kept from the base scenario\n";
                *o += &format!(
                    "exporters = {}\nexport_median = {}\nexport_sigma = {}\ntrading_share = {}\n",
                    b.exporters, b.export_median, b.export_sigma, b.trading_share
                );
                let mix: Vec<String> = b.class_mix.iter().map(|x| format!("{x}")).collect();
                *o += &format!("class_mix = [{}]\n", mix.join(", "));
            }
            (None, None) => {}
        }
    }
}

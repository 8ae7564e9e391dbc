//! `size`: the smallest (or largest) value of one lever at which a target holds
//! (MODEL.md §10–11).
//!
//! Every candidate runs on common random numbers — the same seed and paths — so
//! the statistic moves with the lever only through the model. The lever's range
//! `LO:HI` is cut into a grid of `step`s; the search evaluates both ends, which
//! tells the lever's direction (more capital helps, more review days hurt), then
//! bisects on the grid. It needs at most `⌈log2((HI − LO)/step)⌉ + 2` evaluations,
//! and when it ends inside the range the answer meets the target while the grid
//! point one step on the other side, also evaluated, does not. The statistic is
//! either the mean of a metric over paths (with its 95% interval), or the share of
//! paths on which the metric meets the threshold (`--confidence P`, with its Wilson
//! 95% interval), which must reach P. The points visited are checked for
//! monotonicity, and a warning says so when they are not.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::lever::{Lever, fmt_num};
use crate::report::num;
use crate::scenario::{Scenario, ScenarioError};
use crate::stats::{self, Summary};
use crate::study::{self, Study};
use crate::sweep::SweepError;
pub use crate::target::{Op, Target};

/// What must meet the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Confidence {
    /// The mean over paths.
    Mean,
    /// At least this share of paths.
    Share(f64),
}

impl Confidence {
    /// Parses `mean`, `0.9` or `90%`.
    pub fn parse(s: &str) -> Result<Confidence, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("mean") {
            return Ok(Confidence::Mean);
        }
        let p = match t.strip_suffix('%') {
            Some(x) => x.trim().parse::<f64>().map(|v| v / 100.0),
            None => t.parse::<f64>(),
        };
        match p {
            Ok(p) if p > 0.0 && p < 1.0 => Ok(Confidence::Share(p)),
            _ => Err(format!(
                "--confidence `{s}` must be `mean` or a share of paths strictly between 0 and 1, e.g. 0.9 or 90%"
            )),
        }
    }

    fn json(self) -> serde_json::Value {
        match self {
            Confidence::Mean => "mean".into(),
            Confidence::Share(p) => p.into(),
        }
    }
}

/// Parses `--range LO:HI` (amounts allowed) into `(lo, hi)` with `lo < hi`.
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let bad = || {
        format!(
            "--range `{s}` must be LO:HI with LO < HI, e.g. --range 5e7:5e8 or --range 5000万:5亿"
        )
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let p = |x: &str| crate::input::parse_amount(x);
    match (p(a), p(b)) {
        (Some(lo), Some(hi)) if lo < hi => Ok((lo, hi)),
        _ => Err(bad()),
    }
}

/// One evaluated lever value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Order of evaluation, from 1.
    pub evaluation: usize,
    /// Lever value.
    pub value: f64,
    /// The statistic: the mean, or the share of paths meeting the target.
    pub statistic: f64,
    /// Lower end of its 95% interval.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Whether the target holds.
    pub meets: bool,
    /// Paths with a defined value.
    pub paths: usize,
    /// The run's folder.
    pub point: String,
}

/// The answer of a size search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The lever.
    pub lever: String,
    /// The value found (None when the target holds nowhere in the range).
    pub value: Option<f64>,
    /// The statistic there.
    pub statistic: Option<f64>,
    /// Its 95% interval.
    pub ci_low: Option<f64>,
    /// Its 95% interval.
    pub ci_high: Option<f64>,
    /// The target.
    pub target: String,
    /// `"mean"` or the share of paths.
    pub confidence: serde_json::Value,
    /// Distinct points evaluated.
    pub evaluations: usize,
    /// `smallest` (more of the lever helps) or `largest` (less helps).
    pub direction: &'static str,
    /// Search range.
    pub range: [f64; 2],
    /// Grid step.
    pub step: f64,
    /// The lever's value in the scenario as given.
    pub scenario_value: f64,
    /// The evaluated neighbour that fails, one step away (None at a range end).
    pub neighbour: Option<f64>,
    /// Whether the statistic was monotone in the lever on the visited points.
    pub monotone: bool,
    /// Warnings for the reader.
    pub warnings: Vec<String>,
    /// Every evaluated point, by lever value.
    pub points: Vec<Point>,
}

/// Errors of `size` and `sensitivity`.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// Bad arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A bad scenario (exit 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Running or writing failed (exit 1).
    #[error(transparent)]
    Run(#[from] SweepError),
}

/// A validated size search.
pub struct Search {
    files: Vec<PathBuf>,
    sets: Vec<String>,
    paths: Option<u32>,
    seed: Option<u64>,
    /// The lever.
    pub lever: Lever,
    /// Range.
    pub lo: f64,
    /// Range.
    pub hi: f64,
    /// Grid step.
    pub step: f64,
    /// Target.
    pub target: Target,
    /// Mean or share of paths.
    pub confidence: Confidence,
    /// The scenario as given (no lever change).
    pub base: Scenario,
    fingerprint: String,
}

impl Search {
    /// Checks every argument and the scenarios at both ends of the range.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        files: &[PathBuf],
        sets: &[String],
        lever: &str,
        range: &str,
        target: &str,
        confidence: &str,
        step: Option<&str>,
        paths: Option<u32>,
        seed: Option<u64>,
    ) -> Result<Search, StudyError> {
        let base = study::load(files, sets, &[], paths, seed)?;
        let tree = Scenario::tree(files, sets)?;
        let lever =
            Lever::resolve(&tree, lever).map_err(|e| StudyError::Usage(format!("--lever: {e}")))?;
        let (lo, hi) = parse_range(range).map_err(StudyError::Usage)?;
        if lo < lever.min || hi > lever.max {
            return Err(StudyError::Usage(format!(
                "--range {range}: {} takes values from {} to {}",
                lever.key,
                fmt_num(lever.min),
                fmt_num(lever.max)
            )));
        }
        let target = Target::parse(target).map_err(StudyError::Usage)?;
        let confidence = Confidence::parse(confidence).map_err(StudyError::Usage)?;
        let mut step = match step {
            None => (hi - lo) / 100.0,
            Some(s) => match crate::input::parse_amount(s) {
                Some(x) if x > 0.0 && x <= hi - lo => x,
                _ => {
                    return Err(StudyError::Usage(format!(
                        "--step `{s}` must be a positive number no larger than the range ({})",
                        fmt_num(hi - lo)
                    )));
                }
            },
        };
        if lever.whole {
            step = step.max(1.0).round();
        }
        let mut ends = Vec::new();
        for v in [lo, hi] {
            ends.push(study::load(
                files,
                sets,
                &[lever.assignment(v)],
                paths,
                seed,
            )?);
        }
        let fingerprint = study::fingerprint(&serde_json::json!({
            "kind": "size",
            "lever": lever.key,
            "range": [lo, hi],
            "step": step,
            "target": target.text(),
            "confidence": confidence.json(),
            "ends": ends,
        }));
        Ok(Search {
            files: files.to_vec(),
            sets: sets.to_vec(),
            paths,
            seed,
            lever,
            lo,
            hi,
            step,
            target,
            confidence,
            base,
            fingerprint,
        })
    }

    /// Grid points: `LO + k·step`, the last one `HI`.
    pub fn grid_len(&self) -> usize {
        ((self.hi - self.lo) / self.step - 1e-9).ceil().max(1.0) as usize
    }

    /// The most evaluations the search can need: `⌈log2 n⌉ + 2` for `n` steps.
    pub fn max_evaluations(&self) -> usize {
        (self.grid_len() as f64).log2().ceil() as usize + 2
    }

    fn value(&self, k: usize) -> f64 {
        if k >= self.grid_len() {
            self.lever.clamp(self.hi)
        } else {
            self.lever.clamp(self.lo + k as f64 * self.step)
        }
    }

    /// The scenario at lever value `v`.
    pub fn scenario(&self, v: f64) -> Result<Scenario, ScenarioError> {
        study::load(
            &self.files,
            &self.sets,
            &[self.lever.assignment(v)],
            self.paths,
            self.seed,
        )
    }

    /// The statistic of one run's paths: `(statistic, ci_low, ci_high, paths)`.
    pub fn statistic(&self, col: &[f64]) -> (f64, f64, f64, usize) {
        match self.confidence {
            Confidence::Mean => {
                let s = Summary::of(col.iter().copied());
                (s.mean, s.mean - s.ci95(), s.mean + s.ci95(), s.n)
            }
            Confidence::Share(_) => {
                let defined: Vec<f64> = col.iter().copied().filter(|x| !x.is_nan()).collect();
                let n = defined.len();
                let k = defined.iter().filter(|x| self.target.holds(**x)).count();
                let p = if n == 0 {
                    f64::NAN
                } else {
                    k as f64 / n as f64
                };
                let (lo, hi) = stats::wilson(p, n as f64, stats::Z95);
                (p, lo, hi, n)
            }
        }
    }

    fn meets(&self, stat: f64) -> bool {
        match self.confidence {
            Confidence::Mean => self.target.holds(stat),
            Confidence::Share(p) => stat >= p,
        }
    }

    fn slack(&self, stat: f64) -> f64 {
        match self.confidence {
            Confidence::Mean => self.target.slack(stat),
            Confidence::Share(p) => stat - p,
        }
    }

    /// The study manifest.
    fn manifest(&self) -> serde_json::Value {
        let mut m = study::manifest_head("size", &self.base, &self.files, &self.sets);
        m["lever"] = self.lever.key.clone().into();
        m["range"] = serde_json::json!([self.lo, self.hi]);
        m["step"] = self.step.into();
        m["target"] = self.target.text().into();
        m["confidence"] = self.confidence.json();
        m["fingerprint"] = self.fingerprint.clone().into();
        m
    }

    /// Whether `dir` holds this search already (to resume it).
    pub fn resumable(&self, dir: &Path, force: bool) -> Result<bool, SweepError> {
        crate::sweep::check_study_dir(dir, "size", &self.fingerprint, force)
    }
}

/// Runs (or resumes) the search into `dir`: `size.csv`, `answer.json`, and one
/// run per evaluated point under `points/`.
pub fn run(
    search: &Search,
    dir: &Path,
    force: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Answer, StudyError> {
    let mut st = Study::open(dir, search.manifest(), force, threads, progress, cancel)?;
    let mut pts: Vec<(usize, Point)> = Vec::new();
    let mut eval = |k: usize, st: &mut Study| -> Result<Point, StudyError> {
        if let Some((_, p)) = pts.iter().find(|(j, _)| *j == k) {
            return Ok(p.clone());
        }
        let v = search.value(k);
        let s = search.scenario(v)?;
        let cols = st.eval(&s)?;
        let (stat, lo, hi, n) = search.statistic(study::column(&cols, &search.target.metric));
        let p = Point {
            evaluation: pts.len() + 1,
            value: v,
            statistic: stat,
            ci_low: lo,
            ci_high: hi,
            meets: !stat.is_nan() && search.meets(stat),
            paths: n,
            point: Study::point_dir(&s),
        };
        pts.push((k, p.clone()));
        Ok(p)
    };
    let n = search.grid_len();
    let first = eval(0, &mut st)?;
    let last = eval(n, &mut st)?;
    let mut warnings = Vec::new();
    // Direction: which end of the range the target favours.
    let increasing = match (first.meets, last.meets) {
        (false, true) => true,
        (true, false) => false,
        _ => search.slack(last.statistic) >= search.slack(first.statistic),
    };
    let direction = if increasing { "smallest" } else { "largest" };
    let (mut good, mut bad) = if increasing { (n, 0) } else { (0, n) };
    let answer_k = match (first.meets, last.meets) {
        (true, true) => {
            warnings.push(format!(
                "the target holds across the whole range; the {direction} value that meets it may lie beyond {} — widen --range",
                fmt_num(if increasing { search.lo } else { search.hi })
            ));
            Some(if increasing { 0 } else { n })
        }
        (false, false) => {
            warnings.push(format!(
                "the target holds nowhere in {}:{} ({} goes from {} to {}); widen --range",
                fmt_num(search.lo),
                fmt_num(search.hi),
                search.target.metric,
                num(first.statistic),
                num(last.statistic)
            ));
            None
        }
        _ => {
            while good.abs_diff(bad) > 1 {
                let mid = (good + bad) / 2;
                if eval(mid, &mut st)?.meets {
                    good = mid;
                } else {
                    bad = mid;
                }
            }
            Some(good)
        }
    };
    let mut points: Vec<Point> = pts.iter().map(|(_, p)| p.clone()).collect();
    points.sort_by(|a, b| a.value.total_cmp(&b.value));
    // Monotonicity on the visited points, in the lever's direction.
    let slacks: Vec<f64> = points.iter().map(|p| search.slack(p.statistic)).collect();
    let violation = first_violation(&slacks, increasing);
    let monotone = violation.is_none();
    if let Some(i) = violation {
        let w = &points[i..i + 2];
        warnings.push(format!(
                "{} is not monotone in {} on the points visited ({:.6} at {}, {:.6} at {}); the model may not be monotone in this lever, so the answer may not be the {direction} value — check with a sweep",
                search.target.metric,
                search.lever.key,
                w[0].statistic,
                fmt_num(w[0].value),
                w[1].statistic,
                fmt_num(w[1].value),
            ));
    }
    let chosen = answer_k.and_then(|k| pts.iter().find(|(j, _)| *j == k).map(|x| x.1.clone()));
    if let Some(c) = &chosen {
        let (lo, hi) = (c.ci_low, c.ci_high);
        let (level, what) = match search.confidence {
            Confidence::Share(p) => (p, "share of paths"),
            Confidence::Mean => (search.target.threshold, "mean"),
        };
        if lo < level && level < hi {
            warnings.push(format!(
                "at {} the 95% interval of the {what} ({:.4}–{:.4}) straddles {}: {} paths cannot settle it; rerun with more paths (e.g. --paths {})",
                fmt_num(c.value),
                lo,
                hi,
                fmt_num(level),
                c.paths,
                4 * c.paths.max(1)
            ));
        }
    }
    let neighbour = match answer_k {
        Some(k) if first.meets != last.meets => {
            let nb = if increasing { k - 1 } else { k + 1 };
            pts.iter().find(|(j, _)| *j == nb).map(|x| x.1.value)
        }
        _ => None,
    };
    let answer = Answer {
        lever: search.lever.key.clone(),
        value: chosen.as_ref().map(|c| c.value),
        statistic: chosen.as_ref().map(|c| c.statistic),
        ci_low: chosen.as_ref().map(|c| c.ci_low),
        ci_high: chosen.as_ref().map(|c| c.ci_high),
        target: search.target.text(),
        confidence: search.confidence.json(),
        evaluations: st.evaluations,
        direction,
        range: [search.lo, search.hi],
        step: search.step,
        scenario_value: search.lever.base,
        neighbour,
        monotone,
        warnings,
        points,
    };
    let json = serde_json::to_string_pretty(&answer).expect("serialisable") + "\n";
    st.finish(
        &[("size.csv", size_csv(&answer)), ("answer.json", json)],
        serde_json::json!({ "evaluations": answer.evaluations }),
    )?;
    Ok(answer)
}

/// The first `i` at which the slack (how far inside the target, by lever value)
/// moves against the lever's direction between points `i` and `i + 1`.
pub fn first_violation(slacks: &[f64], increasing: bool) -> Option<usize> {
    slacks
        .windows(2)
        .position(|w| if increasing { w[1] < w[0] } else { w[1] > w[0] })
}

/// `size.csv`: every evaluated lever value with the statistic, its interval and
/// whether the target holds, by lever value.
pub fn size_csv(a: &Answer) -> String {
    let mut s = format!(
        "{},statistic,ci_low,ci_high,meets,paths,evaluation,point\n",
        crate::output::csv_field(&a.lever)
    );
    for p in &a.points {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            fmt_num(p.value),
            num(p.statistic),
            num(p.ci_low),
            num(p.ci_high),
            if p.meets { "yes" } else { "no" },
            p.paths,
            p.evaluation,
            p.point
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonicity_is_checked_in_the_levers_direction() {
        assert_eq!(first_violation(&[-3.0, -1.0, 0.5, 2.0], true), None);
        assert_eq!(first_violation(&[-3.0, 1.0, 0.5, 2.0], true), Some(1));
        assert_eq!(first_violation(&[2.0, 0.5, -1.0], false), None);
        assert_eq!(first_violation(&[2.0, 2.5, -1.0], false), Some(0));
        assert_eq!(first_violation(&[1.0, 1.0], true), None, "flat is monotone");
    }

    #[test]
    fn confidence_and_range_parse() {
        assert_eq!(Confidence::parse("mean").unwrap(), Confidence::Mean);
        assert_eq!(Confidence::parse("90%").unwrap(), Confidence::Share(0.9));
        assert!(Confidence::parse("1.5").is_err());
        assert_eq!(parse_range("5000万:5亿").unwrap(), (5e7, 5e8));
        assert!(parse_range("5:1").is_err());
        assert!(parse_range("5").is_err());
    }
}

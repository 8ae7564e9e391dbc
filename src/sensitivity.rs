//! `sensitivity`: which assumption matters most (MODEL.md §10–11).
//!
//! **Tornado**: each parameter moved alone to its low and then its high value,
//! every run on the base run's common random numbers, so `at_low − base` and
//! `at_high − base` are paired deltas with tight 95% intervals
//! ([`compare::paired`]); rows sorted by swing `|Δhigh − Δlow|`.
//!
//! **Morris** elementary effects (Morris 1991) for models where parameters
//! interact: `r` one-at-a-time trajectories through a 4-level grid of the unit
//! hypercube (each parameter's low→high range), jump Δ = 2/3; the `r` trajectories
//! are chosen for spread among `10·r` candidates (Campolongo, Cariboni & Saltelli
//! 2007, "improved sampling"), picked greedily by the sum of point-to-point
//! distances. Elementary effect `EE = (y(x + Δeᵢ) − y(x)) / Δ`, so it reads as the
//! change of the metric's mean over the parameter's whole range; `μ* = mean |EE|`
//! with a 95% bootstrap interval over trajectories (1000 resamples), `σ = std EE`
//! (large σ: interactions or non-linearity).
//!
//! **Shards** (`--shard I/N`, [`run_shard`]): the study's distinct evaluations,
//! numbered in the order they are first met (a tornado: the base, then each
//! parameter's low and high; Morris: trajectory by trajectory), are split by
//! `k mod N = I − 1`; a shard folder (kind `sensitivity-shard`) holds only its
//! evaluations' runs under `points/<id>/` and, in its manifest, the [`Design`]
//! that `tornado.csv` or `morris.csv` is computed from. [`merge_shards`] copies
//! every evaluation's run and computes the table with the same code from the same
//! `paths.csv` files, so the merged folder equals the unsharded one byte for byte
//! (the points' own `manifest.json` timing fields aside).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::compare;
use crate::lever::{self, Lever, fmt_num};
use crate::output::csv_field;
use crate::report::num;
use crate::scenario::Scenario;
use crate::shard::Shard;
use crate::size::StudyError;
use crate::study::{self, Study};
use crate::sweep::SweepError;

/// Metrics reported when no `--metric` is given.
pub const DEFAULT_METRICS: [&str; 3] = ["tied_up_net_avg", "days_to_cash_avg", "fiscal_cost"];

/// One parameter and its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The lever.
    pub lever: Lever,
    /// Low value.
    pub low: f64,
    /// High value.
    pub high: f64,
}

/// Parses `--param K=LOW,HIGH` against the scenario tree.
pub fn parse_param(root: &crate::scenario::tree::Node, arg: &str) -> Result<Param, String> {
    let how = "write --param KEY=LOW,HIGH, e.g. --param policy.review.2=15,25";
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| format!("--param `{arg}`: {how}"))?;
    let lever = Lever::resolve(root, k).map_err(|e| format!("--param `{arg}`: {e}"))?;
    let parts: Vec<&str> = v.split(',').collect();
    let nums: Option<Vec<f64>> = parts
        .iter()
        .map(|p| crate::input::parse_amount(p))
        .collect();
    match nums.as_deref() {
        Some([lo, hi]) if lo < hi => {
            if *lo < lever.min || *hi > lever.max {
                return Err(format!(
                    "--param `{arg}`: {} takes values from {} to {}",
                    lever.key,
                    fmt_num(lever.min),
                    fmt_num(lever.max)
                ));
            }
            Ok(Param {
                low: *lo,
                high: *hi,
                lever,
            })
        }
        _ => Err(format!(
            "--param `{arg}`: need two numbers LOW,HIGH with LOW < HIGH; {how}"
        )),
    }
}

/// The default parameters: every lever of [`lever::defaults`] at `base × (1 ∓ swing)`,
/// kept within the key's allowed range.
pub fn default_params(root: &crate::scenario::tree::Node, swing: f64) -> Vec<Param> {
    lever::defaults(root)
        .into_iter()
        .map(|l| Param {
            low: l.clamp(l.base * (1.0 - swing)),
            high: l.clamp(l.base * (1.0 + swing)),
            lever: l,
        })
        .filter(|p| p.low != p.high)
        .collect()
}

/// Tornado or Morris.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One at a time, low and high.
    Tornado,
    /// Morris elementary effects with `trajectories` trajectories.
    Morris {
        /// Number of trajectories `r`.
        trajectories: usize,
    },
}

/// Morris grid levels.
const LEVELS: usize = 4;
/// Morris jump in the unit cube, `p / (2(p − 1))`.
const DELTA: f64 = LEVELS as f64 / (2.0 * (LEVELS as f64 - 1.0));
/// Bootstrap resamples for μ*'s interval.
const BOOTSTRAP: usize = 1000;

/// A validated sensitivity study.
pub struct Analysis {
    files: Vec<PathBuf>,
    sets: Vec<String>,
    /// Parameters.
    pub params: Vec<Param>,
    /// Metric names.
    pub metrics: Vec<String>,
    /// Method.
    pub method: Method,
    /// Every point to evaluate: its assignments (base first for a tornado).
    pub points: Vec<(Vec<String>, Scenario)>,
    /// Morris trajectories (unit-cube coordinates), empty for a tornado.
    pub trajectories: Vec<Vec<Vec<f64>>>,
    fingerprint: String,
    base: Scenario,
}

impl Analysis {
    /// Checks the arguments and builds every point's scenario.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        files: &[PathBuf],
        sets: &[String],
        params: &[String],
        swing: f64,
        metrics: &[String],
        method: Method,
        paths: Option<u32>,
        seed: Option<u64>,
    ) -> Result<Analysis, StudyError> {
        let base = study::load(files, sets, &[], paths, seed)?;
        let tree = Scenario::tree(files, sets)?;
        if !(swing > 0.0 && swing < 1.0) {
            return Err(StudyError::Usage(format!(
                "--swing {swing} must be a share strictly between 0 and 1, e.g. 0.25 for ±25%"
            )));
        }
        let params = if params.is_empty() {
            default_params(&tree, swing)
        } else {
            let mut v = Vec::new();
            for a in params {
                let p = parse_param(&tree, a).map_err(StudyError::Usage)?;
                if v.iter().any(|q: &Param| q.lever.key == p.lever.key) {
                    return Err(StudyError::Usage(format!(
                        "--param {} is given twice; give each parameter once",
                        p.lever.key
                    )));
                }
                v.push(p);
            }
            v
        };
        if params.is_empty() {
            return Err(StudyError::Usage(
                "the scenario has no numeric parameter to vary; name one with --param KEY=LOW,HIGH"
                    .into(),
            ));
        }
        let metrics: Vec<String> = if metrics.is_empty() {
            DEFAULT_METRICS.iter().map(|m| m.to_string()).collect()
        } else {
            metrics.to_vec()
        };
        for m in &metrics {
            if crate::metrics::index(m).is_none() {
                let hint = crate::scenario::keys::did_you_mean(
                    m,
                    crate::metrics::METRICS.iter().map(|d| d.name),
                )
                .map(|x| format!(" (did you mean `{x}`?)"))
                .unwrap_or_default();
                return Err(StudyError::Usage(format!(
                    "--metric `{m}` is not a metric{hint}; the metrics are the rows of summary.csv"
                )));
            }
        }
        let load = |assign: &[String]| study::load(files, sets, assign, paths, seed);
        let mut points = Vec::new();
        let mut trajectories = Vec::new();
        match method {
            Method::Tornado => {
                points.push((Vec::new(), base.clone()));
                for p in &params {
                    for v in [p.low, p.high] {
                        let a = vec![p.lever.assignment(v)];
                        points.push((a.clone(), load(&a)?));
                    }
                }
            }
            Method::Morris { trajectories: r } => {
                if r < 2 {
                    return Err(StudyError::Usage(
                        "--trajectories must be at least 2 (10–20 is usual)".into(),
                    ));
                }
                trajectories = morris_trajectories(params.len(), r, base.seed);
                for t in &trajectories {
                    for x in t {
                        let a: Vec<String> = params
                            .iter()
                            .zip(x)
                            .map(|(p, u)| p.lever.assignment(p.low + u * (p.high - p.low)))
                            .collect();
                        points.push((a.clone(), load(&a)?));
                    }
                }
            }
        }
        let fingerprint = study::fingerprint(&serde_json::json!({
            "kind": "sensitivity",
            "metrics": metrics,
            "params": params.iter().map(|p| (p.lever.key.clone(), p.low, p.high)).collect::<Vec<_>>(),
            "points": points.iter().map(|(_, s)| study::point_id(s)).collect::<Vec<_>>(),
            "base": base,
        }));
        Ok(Analysis {
            files: files.to_vec(),
            sets: sets.to_vec(),
            params,
            metrics,
            method,
            points,
            trajectories,
            fingerprint,
            base,
        })
    }

    /// Total paths over the points (the progress bar's length).
    pub fn total_paths(&self) -> u64 {
        self.points.iter().map(|(_, s)| s.paths as u64).sum()
    }

    /// Whether `dir` holds this study already (to resume it).
    pub fn resumable(&self, dir: &Path, force: bool) -> Result<bool, SweepError> {
        self.resumable_shard(dir, force, None)
    }

    /// [`Analysis::resumable`] for shard `shard` of the study (`None`: all of it).
    pub fn resumable_shard(
        &self,
        dir: &Path,
        force: bool,
        shard: Option<Shard>,
    ) -> Result<bool, SweepError> {
        let (kind, fp) = self.kind_and_fingerprint(shard);
        crate::sweep::check_study_dir(dir, kind, &fp, force)
    }

    /// The folder kind and fingerprint a study (or one shard of it) is resumed
    /// by: a shard's names the shard, so shards never resume each other's folders.
    fn kind_and_fingerprint(&self, shard: Option<Shard>) -> (&'static str, String) {
        match shard {
            None => ("sensitivity", self.fingerprint.clone()),
            Some(s) => (
                "sensitivity-shard",
                format!("{}/shard-{}-of-{}", self.fingerprint, s.index, s.count),
            ),
        }
    }

    /// What the result table is computed from besides the evaluations' results.
    pub fn design(&self) -> Design {
        Design {
            params: self
                .params
                .iter()
                .map(|p| {
                    (
                        p.lever.key.clone(),
                        p.lever.clamp(p.low).to_string(),
                        p.lever.clamp(p.high).to_string(),
                    )
                })
                .collect(),
            metrics: self.metrics.clone(),
            trajectories: match self.method {
                Method::Tornado => 0,
                Method::Morris { trajectories } => trajectories,
            },
            seed: self.base.seed,
            evaluations: self
                .points
                .iter()
                .map(|(_, s)| study::point_id(s))
                .collect(),
        }
    }

    /// The distinct evaluations in the order first met, each with its number `k`
    /// (shard `I/N` computes those with `k mod N = I − 1`).
    pub fn distinct(&self) -> Vec<(usize, &Scenario)> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (_, s) in &self.points {
            let id = study::point_id(s);
            if !seen.contains(&id) {
                out.push((seen.len(), s));
                seen.push(id);
            }
        }
        out
    }

    fn manifest(&self) -> serde_json::Value {
        let mut m = study::manifest_head("sensitivity", &self.base, &self.files, &self.sets);
        m["method"] = match self.method {
            Method::Tornado => "tornado".into(),
            Method::Morris { .. } => "morris".into(),
        };
        if let Method::Morris { trajectories } = self.method {
            m["trajectories"] = trajectories.into();
        }
        m["metrics"] = serde_json::json!(self.metrics);
        m["params"] = serde_json::json!(
            self.params
                .iter()
                .map(|p| serde_json::json!({"param": p.lever.key, "base": p.lever.base, "low": p.low, "high": p.high}))
                .collect::<Vec<_>>()
        );
        m["fingerprint"] = self.fingerprint.clone().into();
        m
    }
}

/// One tornado row.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoRow {
    /// Parameter key.
    pub param: String,
    /// Low value.
    pub low: f64,
    /// High value.
    pub high: f64,
    /// Metric.
    pub metric: String,
    /// Mean at the base.
    pub base: f64,
    /// Mean at low.
    pub at_low: f64,
    /// Mean at high.
    pub at_high: f64,
    /// Paired delta at low.
    pub delta_low: compare::Delta,
    /// Paired delta at high.
    pub delta_high: compare::Delta,
    /// `|Δhigh − Δlow|`.
    pub swing: f64,
}

/// One Morris row.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisRow {
    /// Parameter key.
    pub param: String,
    /// Metric.
    pub metric: String,
    /// Mean elementary effect.
    pub mu: f64,
    /// Mean absolute elementary effect.
    pub mu_star: f64,
    /// 95% bootstrap interval of μ*.
    pub mu_star_ci: (f64, f64),
    /// Standard deviation of the elementary effects.
    pub sigma: f64,
}

/// The result of a study.
pub enum Outcome {
    /// Tornado rows, by metric then swing (largest first).
    Tornado(Vec<TornadoRow>),
    /// Morris rows, by metric then μ* (largest first).
    Morris(Vec<MorrisRow>),
}

/// What `tornado.csv` or `morris.csv` is computed from besides the evaluations'
/// per-path results; a shard's manifest keeps it, so [`merge_shards`] needs no
/// scenario file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Design {
    /// Each parameter's key, low and high value (clamped as the lever takes
    /// them), the numbers as shortest round-trip text, so they read back exactly.
    pub params: Vec<(String, String, String)>,
    /// The metrics reported.
    pub metrics: Vec<String>,
    /// Morris trajectories `r`; 0 for a tornado.
    pub trajectories: usize,
    /// The base seed (Morris trajectories and bootstrap are drawn from it).
    pub seed: u64,
    /// The point folder (`points/<id>`) of each evaluation, in order: a
    /// tornado's base, then each parameter's low and high; Morris's trajectory
    /// by trajectory.
    pub evaluations: Vec<String>,
}

impl Design {
    /// The result file's name, text and rows, from each evaluation's metric
    /// columns (`res[evaluation][metric]`).
    fn outcome(&self, res: &[Vec<Vec<f64>>]) -> Result<(&'static str, String, Outcome), String> {
        let mut params = Vec::with_capacity(self.params.len());
        for (k, lo, hi) in &self.params {
            let num = |t: &str| {
                t.parse::<f64>()
                    .map_err(|_| format!("parameter {k}: `{t}` is not a number"))
            };
            params.push((k.clone(), num(lo)?, num(hi)?));
        }
        Ok(if self.trajectories == 0 {
            let rows = tornado(&params, &self.metrics, res);
            ("tornado.csv", tornado_csv(&rows), Outcome::Tornado(rows))
        } else {
            let traj = morris_trajectories(params.len(), self.trajectories, self.seed);
            let keys: Vec<String> = params.into_iter().map(|p| p.0).collect();
            let rows = morris(&keys, &self.metrics, &traj, self.seed, res);
            ("morris.csv", morris_csv(&rows), Outcome::Morris(rows))
        })
    }

    /// Each evaluation's columns of the metrics asked for, from per-point
    /// columns `cols(id)`.
    fn results(
        &self,
        cols: &mut dyn FnMut(&str) -> Result<study::Columns, SweepError>,
    ) -> Result<Vec<Vec<Vec<f64>>>, SweepError> {
        let mut res = Vec::with_capacity(self.evaluations.len());
        for id in &self.evaluations {
            let c = cols(id)?;
            res.push(
                self.metrics
                    .iter()
                    .map(|m| study::column(&c, m).to_vec())
                    .collect(),
            );
        }
        Ok(res)
    }
}

/// Runs (or resumes) the study into `dir`: `tornado.csv` or `morris.csv`, and one
/// run per point under `points/`.
pub fn run(
    a: &Analysis,
    dir: &Path,
    force: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Outcome, StudyError> {
    let outcome = run_shard(a, dir, force, threads, progress, cancel, None)?;
    Ok(outcome.expect("the whole study has an outcome"))
}

/// [`run`] for shard `shard` of the study: only the distinct evaluations `k`
/// with `k mod N = I − 1` ([`Analysis::distinct`]), into a `sensitivity-shard`
/// folder without the result table (which [`merge_shards`] builds); `None` then.
/// `shard: None` runs the whole study.
pub fn run_shard(
    a: &Analysis,
    dir: &Path,
    force: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
    shard: Option<Shard>,
) -> Result<Option<Outcome>, StudyError> {
    let design = a.design();
    let mut manifest = a.manifest();
    if let Some(sh) = shard {
        let (kind, fp) = a.kind_and_fingerprint(shard);
        manifest["kind"] = kind.into();
        manifest["fingerprint"] = fp.into();
        manifest["shard"] = serde_json::to_value(sh).expect("serialisable");
        manifest["sensitivity_fingerprint"] = a.fingerprint.clone().into();
        manifest["design"] = serde_json::to_value(&design).expect("serialisable");
    }
    let mut st = Study::open(dir, manifest, force, threads, progress, cancel)?;
    if let Some(sh) = shard {
        for (k, s) in a.distinct() {
            if sh.owns(k as u64) {
                st.eval(s)?;
            }
        }
        let evaluations = st.evaluations;
        st.finish(&[], serde_json::json!({ "evaluations": evaluations }))?;
        return Ok(None);
    }
    let mut by_id: Vec<(String, study::Columns)> = Vec::new();
    for (_, s) in &a.points {
        let id = study::point_id(s);
        let cols = st.eval(s)?;
        if !by_id.iter().any(|(i, _)| *i == id) {
            by_id.push((id, cols));
        }
    }
    let results = design.results(&mut |id| {
        Ok(by_id
            .iter()
            .find(|(i, _)| i == id)
            .map(|c| c.1.clone())
            .unwrap_or_default())
    })?;
    let (name, text, outcome) = design.outcome(&results).map_err(StudyError::Usage)?;
    let evaluations = st.evaluations;
    st.finish(
        &[(name, text)],
        serde_json::json!({ "evaluations": evaluations }),
    )?;
    Ok(Some(outcome))
}

/// Merges the folders of `sensitivity --shard I/N` into the folder of the
/// unsharded study at `out`: every evaluation's run copied from the shard that
/// computed it, `tornado.csv` or `morris.csv` built from them, and the study's
/// manifest. Shards that do not belong together, or one missing or given twice,
/// are [`StudyError::Usage`]. Returns the path of the result table.
pub fn merge_shards(dirs: &[PathBuf], out: &Path, force: bool) -> Result<PathBuf, StudyError> {
    let usage = |e: crate::shard::MergeError| StudyError::Usage(e.to_string());
    let parts = crate::shard::study_shards(
        dirs,
        "sensitivity-shard",
        "sensitivity",
        "sensitivity_fingerprint",
    )
    .map_err(usage)?;
    let first = &parts[0];
    let design: Design = first
        .manifest
        .get("design")
        .cloned()
        .and_then(|d| serde_json::from_value(d).ok())
        .ok_or_else(|| {
            StudyError::Usage(format!(
                "{}: manifest.json has no readable design; compute that shard again",
                first.dir.display()
            ))
        })?;
    crate::output::check_destination(out, force).map_err(SweepError::from)?;
    let staging = crate::output::Staging::new(out).map_err(SweepError::from)?;
    let mut distinct: Vec<&String> = Vec::new();
    for id in &design.evaluations {
        if !distinct.contains(&id) {
            distinct.push(id);
        }
    }
    let n = parts.len();
    for (k, id) in distinct.iter().enumerate() {
        let from = parts[k % n].dir.join("points").join(id.as_str());
        if !from.join("paths.csv").is_file() {
            return Err(StudyError::Usage(format!(
                "{} lacks evaluation {k} ({}), which shard {} of {n} computes; rerun that shard's `sensitivity --shard` command",
                parts[k % n].dir.display(),
                from.display(),
                parts[k % n].shard
            )));
        }
        for name in crate::output::run_files() {
            let f = from.join(name);
            if f.is_file() {
                let bytes =
                    std::fs::read(&f).map_err(|e| SweepError::Corrupt(f.clone(), e.to_string()))?;
                staging
                    .write(&format!("points/{id}/{name}"), &bytes)
                    .map_err(SweepError::from)?;
            }
        }
    }
    let points = staging.path().join("points");
    let results = design.results(&mut |id| {
        let p = points.join(id).join("paths.csv");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| SweepError::Corrupt(p.clone(), e.to_string()))?;
        crate::sweep::parse_paths_csv(&text).map_err(|e| SweepError::Corrupt(p, e))
    })?;
    let (name, text, _) = design.outcome(&results).map_err(StudyError::Usage)?;
    staging
        .write(name, text.as_bytes())
        .map_err(SweepError::from)?;
    let mut m = first.manifest.clone();
    m.insert("kind".into(), "sensitivity".into());
    let fp = m
        .get("sensitivity_fingerprint")
        .cloned()
        .unwrap_or_default();
    m.insert("fingerprint".into(), fp);
    for k in ["shard", "sensitivity_fingerprint", "design"] {
        m.shift_remove(k);
    }
    m.insert("complete".into(), true.into());
    m.insert("evaluations".into(), distinct.len().into());
    let text = serde_json::to_string_pretty(&m).expect("serialisable") + "\n";
    staging
        .write("manifest.json", text.as_bytes())
        .map_err(SweepError::from)?;
    let dir = staging.commit(force).map_err(SweepError::from)?;
    Ok(dir.join(name))
}

fn mean(v: &[f64]) -> f64 {
    crate::stats::Summary::of(v.iter().copied()).mean
}

/// The tornado rows of `params` (key, low, high as clamped) and `metrics`.
fn tornado(
    params: &[(String, f64, f64)],
    metrics: &[String],
    res: &[Vec<Vec<f64>>],
) -> Vec<TornadoRow> {
    let mut rows = Vec::new();
    for (mi, m) in metrics.iter().enumerate() {
        let base = &res[0][mi];
        let mut block: Vec<TornadoRow> = params
            .iter()
            .enumerate()
            .map(|(i, (key, low, high))| {
                let lo = &res[1 + 2 * i][mi];
                let hi = &res[2 + 2 * i][mi];
                let dl = compare::paired(base, lo);
                let dh = compare::paired(base, hi);
                let swing = (dh.delta.mean - dl.delta.mean).abs();
                TornadoRow {
                    param: key.clone(),
                    low: *low,
                    high: *high,
                    metric: m.clone(),
                    base: mean(base),
                    at_low: mean(lo),
                    at_high: mean(hi),
                    delta_low: dl,
                    delta_high: dh,
                    swing,
                }
            })
            .collect();
        // Largest swing first; an undefined swing last; ties in parameter order.
        block.sort_by(|x, y| {
            let k = |s: f64| if s.is_nan() { f64::NEG_INFINITY } else { s };
            k(y.swing).total_cmp(&k(x.swing))
        });
        rows.extend(block);
    }
    rows
}

/// `tornado.csv`: `param,low,high,metric,base,at_low,at_high,delta_low,delta_low_ci,
/// delta_high,delta_high_ci,swing`; a `_ci` column is the half-width of the paired
/// 95% interval of the delta beside it.
pub fn tornado_csv(rows: &[TornadoRow]) -> String {
    let mut s = String::from(
        "param,low,high,metric,base,at_low,at_high,delta_low,delta_low_ci,delta_high,delta_high_ci,swing\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.param),
            fmt_num(r.low),
            fmt_num(r.high),
            r.metric,
            num(r.base),
            num(r.at_low),
            num(r.at_high),
            num(r.delta_low.delta.mean),
            num(r.delta_low.delta.ci95()),
            num(r.delta_high.delta.mean),
            num(r.delta_high.delta.ci95()),
            num(r.swing)
        );
    }
    s
}

/// Candidate trajectories and the spread-maximising choice of `r` of them; each
/// trajectory is `k + 1` points of the unit cube, moving one coordinate by ±Δ at
/// a time. Deterministic in `seed`.
pub fn morris_trajectories(k: usize, r: usize, seed: u64) -> Vec<Vec<Vec<f64>>> {
    let mut rng =
        Xoshiro256PlusPlus::seed_from_u64(crate::rng::mix64(seed ^ 0x6d6f_7272_6973_0001));
    let step = 1.0 / (LEVELS as f64 - 1.0);
    let m = (10 * r).max(r);
    let cands: Vec<Vec<Vec<f64>>> = (0..m)
        .map(|_| {
            // Start on a level from which +Δ stays in the cube; go up or down.
            let mut x: Vec<f64> = (0..k)
                .map(|_| rng.random_range(0..LEVELS / 2) as f64 * step)
                .collect();
            let up: Vec<bool> = (0..k).map(|_| rng.random_bool(0.5)).collect();
            for i in 0..k {
                if !up[i] {
                    x[i] += DELTA;
                }
            }
            let mut order: Vec<usize> = (0..k).collect();
            for i in (1..k).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            let mut t = vec![x.clone()];
            for &i in &order {
                x[i] += if up[i] { DELTA } else { -DELTA };
                t.push(x.clone());
            }
            t
        })
        .collect();
    let dist = |a: &Vec<Vec<f64>>, b: &Vec<Vec<f64>>| -> f64 {
        a.iter()
            .flat_map(|p| {
                b.iter().map(move |q| {
                    p.iter()
                        .zip(q)
                        .map(|(u, v)| (u - v) * (u - v))
                        .sum::<f64>()
                        .sqrt()
                })
            })
            .sum()
    };
    let d: Vec<Vec<f64>> = cands
        .iter()
        .map(|a| cands.iter().map(|b| dist(a, b)).collect())
        .collect();
    // The farthest pair, then greedily the candidate farthest from those chosen.
    let mut best = (0, 1.min(m - 1), f64::NEG_INFINITY);
    for (i, row) in d.iter().enumerate() {
        for (j, &dij) in row.iter().enumerate().skip(i + 1) {
            if dij > best.2 {
                best = (i, j, dij);
            }
        }
    }
    let mut chosen = vec![best.0, best.1];
    while chosen.len() < r {
        let next = (0..m)
            .filter(|i| !chosen.contains(i))
            .max_by(|&a, &b| {
                let s = |i: usize| chosen.iter().map(|&c| d[i][c]).sum::<f64>();
                s(a).total_cmp(&s(b)).then(b.cmp(&a))
            })
            .expect("enough candidates");
        chosen.push(next);
    }
    chosen.into_iter().map(|i| cands[i].clone()).collect()
}

/// The Morris rows of parameters `keys` and `metrics` over `trajectories`
/// (bootstrap drawn from `seed`).
fn morris(
    keys: &[String],
    metrics: &[String],
    trajectories: &[Vec<Vec<f64>>],
    seed: u64,
    res: &[Vec<Vec<f64>>],
) -> Vec<MorrisRow> {
    let k = keys.len();
    let mut rows = Vec::new();
    let mut rng =
        Xoshiro256PlusPlus::seed_from_u64(crate::rng::mix64(seed ^ 0x6d6f_7272_6973_0002));
    let r = trajectories.len();
    let boot: Vec<Vec<usize>> = (0..BOOTSTRAP)
        .map(|_| (0..r).map(|_| rng.random_range(0..r)).collect())
        .collect();
    for (mi, m) in metrics.iter().enumerate() {
        // ee[param][trajectory]
        let mut ee = vec![vec![f64::NAN; r]; k];
        for (t, traj) in trajectories.iter().enumerate() {
            let base_idx = t * (k + 1);
            for j in 0..k {
                let (x0, x1) = (&traj[j], &traj[j + 1]);
                let i = (0..k)
                    .find(|&i| x0[i] != x1[i])
                    .expect("one coordinate moves");
                let y0 = mean(&res[base_idx + j][mi]);
                let y1 = mean(&res[base_idx + j + 1][mi]);
                ee[i][t] = (y1 - y0) / (x1[i] - x0[i]);
            }
        }
        let mut block: Vec<MorrisRow> = keys
            .iter()
            .zip(&ee)
            .map(|(key, e)| {
                let def: Vec<f64> = e.iter().copied().filter(|x| !x.is_nan()).collect();
                let s = crate::stats::Summary::of(def.iter().copied());
                let mu_star = mean(&def.iter().map(|x| x.abs()).collect::<Vec<_>>());
                let mut bs: Vec<f64> = boot
                    .iter()
                    .map(|idx| {
                        let v: Vec<f64> = idx
                            .iter()
                            .map(|&t| e[t].abs())
                            .filter(|x| !x.is_nan())
                            .collect();
                        mean(&v)
                    })
                    .filter(|x| !x.is_nan())
                    .collect();
                bs.sort_by(f64::total_cmp);
                let ci = if bs.is_empty() {
                    (f64::NAN, f64::NAN)
                } else {
                    (
                        crate::stats::quantile_sorted(&bs, 0.025),
                        crate::stats::quantile_sorted(&bs, 0.975),
                    )
                };
                MorrisRow {
                    param: key.clone(),
                    metric: m.clone(),
                    mu: s.mean,
                    mu_star,
                    mu_star_ci: ci,
                    sigma: s.std,
                }
            })
            .collect();
        block.sort_by(|x, y| {
            let k = |s: f64| if s.is_nan() { f64::NEG_INFINITY } else { s };
            k(y.mu_star).total_cmp(&k(x.mu_star))
        });
        rows.extend(block);
    }
    rows
}

/// `morris.csv`: `param,metric,mu_star,mu_star_ci,sigma`, then `mu` and the
/// interval's ends; `mu_star_ci` is half the width of μ*'s 95% bootstrap interval.
/// Effects are changes of the metric's mean over each parameter's whole range.
pub fn morris_csv(rows: &[MorrisRow]) -> String {
    let mut s =
        String::from("param,metric,mu_star,mu_star_ci,sigma,mu,mu_star_ci_low,mu_star_ci_high\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            csv_field(&r.param),
            r.metric,
            num(r.mu_star),
            num((r.mu_star_ci.1 - r.mu_star_ci.0) / 2.0),
            num(r.sigma),
            num(r.mu),
            num(r.mu_star_ci.0),
            num(r.mu_star_ci.1)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morris_trajectories_move_one_coordinate_by_delta_inside_the_cube() {
        let ts = morris_trajectories(5, 6, 7);
        assert_eq!(ts.len(), 6);
        for t in &ts {
            assert_eq!(t.len(), 6);
            let mut moved = [false; 5];
            for w in t.windows(2) {
                let diff: Vec<usize> = (0..5).filter(|&i| w[0][i] != w[1][i]).collect();
                assert_eq!(diff.len(), 1);
                assert!(((w[1][diff[0]] - w[0][diff[0]]).abs() - DELTA).abs() < 1e-12);
                moved[diff[0]] = true;
            }
            assert!(moved.iter().all(|&m| m), "each factor moves once");
            assert!(
                t.iter()
                    .flatten()
                    .all(|&u| (-1e-12..=1.0 + 1e-12).contains(&u))
            );
        }
        assert_eq!(ts, morris_trajectories(5, 6, 7), "deterministic");
    }
}

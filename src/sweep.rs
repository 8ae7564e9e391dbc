//! Parameter sweeps: a full factorial grid of `--set` values, every point on common
//! random numbers, resumable point by point (MODEL.md §10–11).
//!
//! A sweep directory holds `manifest.json` (the grid and a fingerprint of every
//! point's resolved scenario), one finished run per point under `points/<n>/`
//! (each written atomically), and — once every point is done — `sweep.csv`. Rerun
//! with the same arguments, a sweep computes only the missing points; `sweep.csv`
//! is always built from the points' `paths.csv`, so a resumed sweep equals an
//! uninterrupted one byte for byte.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::engine::{self, Model};
pub use crate::manifest::Axis;
use crate::manifest::{StudyHeader, SweepManifest};
use crate::metrics;
use crate::output::{self, OutputError, Staging};
use crate::report::{self, RunInfo, num};
use crate::scenario::Scenario;
use crate::shard::Shard;
use crate::stats::Summary;

/// Metrics reported in `sweep.csv`, each as mean and 95% interval: the key
/// metrics of the metric table ([`metrics::KEY`]).
pub fn key_metrics() -> [&'static str; metrics::KEY.len()] {
    metrics::key_names()
}

/// Most points a sweep may have (the product of the axes' lengths), checked before
/// any point is planned: each point is a full run, and planning alone takes about
/// 0.1 ms a point.
pub const MAX_GRID_POINTS: usize = 10_000;

/// Splits on commas outside brackets, braces and quotes.
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    for ch in s.chars() {
        match (ch, quote) {
            ('"' | '\'', None) => quote = Some(ch),
            (c, Some(q)) if c == q => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur.trim().to_string());
    out
}

/// Parses `--grid KEY=V1,V2,…`; a value `a:b:n` expands to `n` evenly spaced
/// numbers from `a` to `b` inclusive.
pub fn parse_axis(arg: &str) -> Result<Axis, String> {
    let Some((key, vals)) = arg.split_once('=') else {
        return Err(format!(
            "--grid `{arg}` needs KEY=V1,V2,… e.g. --grid pools.turnover.capital=1e8,2e8,4e8 or a range 1e8:1e9:5"
        ));
    };
    let key = key.trim().to_string();
    let mut values = Vec::new();
    for v in split_top_level(vals) {
        if v.is_empty() {
            return Err(format!(
                "--grid `{arg}` has an empty value; separate values with commas"
            ));
        }
        let parts: Vec<&str> = v.split(':').collect();
        if parts.len() == 3
            && let (Ok(a), Ok(b)) = (
                crate::input::amount(parts[0]),
                crate::input::amount(parts[1]),
            )
        {
            let n = match parts[2].trim().parse::<usize>() {
                Ok(n) if (2..=MAX_GRID_POINTS).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "--grid range `{v}`: the count `{}` must be a whole number from 2 to {MAX_GRID_POINTS} (start:end:count, e.g. 1e8:1e9:5)",
                        parts[2].trim()
                    ));
                }
            };
            for i in 0..n {
                values.push(format!("{}", a + (b - a) * i as f64 / (n - 1) as f64));
            }
            continue;
        }
        values.push(v);
    }
    if values.len() > MAX_GRID_POINTS {
        return Err(format!(
            "--grid `{key}` has {} values; a sweep is limited to {MAX_GRID_POINTS} points",
            values.len()
        ));
    }
    Ok(Axis { key, values })
}

/// Every point of the full factorial grid (first axis varying slowest), as
/// `key=value` assignments.
pub fn points(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(format!("{}={v}", axis.key));
                    q
                })
            })
            .collect();
    }
    out
}

/// A validated sweep, ready to run.
pub struct Plan {
    /// The scenario files.
    pub files: Vec<PathBuf>,
    /// The `--set` overrides applied to every point.
    pub sets: Vec<String>,
    /// The grid.
    pub axes: Vec<Axis>,
    /// Each point's assignments and scenario.
    pub points: Vec<(Vec<String>, Scenario)>,
    /// sha256 over every point's resolved scenario, seed and paths.
    pub fingerprint: String,
    /// `--exceed` thresholds: `sweep.csv` reports, per point, the share of paths
    /// meeting each with its Wilson 95% interval (empty unless set after [`Plan::new`]).
    pub exceed: Vec<crate::target::Target>,
}

impl Plan {
    /// Builds every point's scenario (files, then `sets`, then the point's values).
    pub fn new(
        files: &[PathBuf],
        sets: &[String],
        axes: Vec<Axis>,
        paths: Option<u32>,
    ) -> Result<Plan, crate::scenario::ScenarioError> {
        let size = axes
            .iter()
            .fold(1usize, |n, a| n.saturating_mul(a.values.len()));
        if size > MAX_GRID_POINTS {
            return Err(crate::scenario::ScenarioError {
                problems: vec![crate::scenario::Problem {
                    location: "--grid".into(),
                    key: String::new(),
                    message: format!(
                        "the grid has {size} points ({}); a sweep is limited to {MAX_GRID_POINTS} points: use fewer values per axis, or split it into several sweeps",
                        axes.iter()
                            .map(|a| a.values.len().to_string())
                            .collect::<Vec<_>>()
                            .join(" × ")
                    ),
                }],
            });
        }
        let mut pts = Vec::new();
        let mut problems = Vec::new();
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.key == a.key) {
                problems.push(crate::scenario::Problem {
                    location: "--grid".into(),
                    key: a.key.clone(),
                    message: "is given as two --grid axes; list all its values in one --grid"
                        .into(),
                });
            }
        }
        let mut fp = String::new();
        for assign in points(&axes) {
            let mut all = sets.to_vec();
            all.extend(assign.iter().cloned());
            match Scenario::load(files, &all) {
                Ok(mut s) => {
                    if let Some(p) = paths {
                        s.paths = p;
                    }
                    fp.push_str(&serde_json::to_string(&s).expect("serialisable"));
                    pts.push((assign, s));
                }
                Err(e) => {
                    for mut p in e.problems {
                        // Name the grid value, not the --set it became.
                        if let Some(n) = p
                            .location
                            .strip_prefix("--set #")
                            .and_then(|r| r.split(' ').next())
                            .and_then(|n| n.parse::<usize>().ok())
                            && n > sets.len()
                        {
                            p.location = format!("--grid value `{}`", assign[n - sets.len() - 1]);
                        }
                        if !problems.contains(&p) {
                            problems.push(p);
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(crate::scenario::ScenarioError { problems });
        }
        let fingerprint = crate::input::sha256_hex(fp.as_bytes());
        Ok(Plan {
            files: files.to_vec(),
            sets: sets.to_vec(),
            axes,
            points: pts,
            fingerprint,
            exceed: Vec::new(),
        })
    }

    /// Total paths over all points.
    pub fn total_paths(&self) -> u64 {
        self.points.iter().map(|(_, s)| s.paths as u64).sum()
    }
}

/// Errors of a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The directory holds something else.
    #[error(
        "{0} holds a different sweep, a run, or files refundsim did not write; pass --force to replace an earlier refundsim output, or choose another --out"
    )]
    Foreign(PathBuf),
    /// Interrupted; finished points are kept.
    #[error(
        "interrupted after {done} of {total} points; rerun the same command to finish the missing points"
    )]
    Interrupted {
        /// Points finished.
        done: usize,
        /// Points in the grid.
        total: usize,
    },
    /// Interrupted while running one point of a study; finished points are kept.
    #[error("interrupted; finished evaluations are kept: rerun the same command to resume")]
    Cancelled,
    /// Writing failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Sweep shards that cannot be merged (bad usage: exit 2).
    #[error("{0}")]
    Shards(String),
    /// A point's files could not be read back.
    #[error("cannot read {0}: {1}; delete that point's folder and rerun")]
    Corrupt(PathBuf, String),
}

/// The folder kind and fingerprint a sweep folder is resumed by: the plan's,
/// and for shard `I/N` a `sweep-shard` with the shard in its fingerprint, so
/// shards never resume each other's folders.
fn kind_and_fingerprint(plan: &Plan, shard: Option<Shard>) -> (&'static str, String) {
    match shard {
        None => ("sweep", plan.fingerprint.clone()),
        Some(s) => (
            "sweep-shard",
            format!("{}/shard-{}-of-{}", plan.fingerprint, s.index, s.count),
        ),
    }
}

/// The manifest of a sweep; for a shard, of kind `sweep-shard`, with the shard
/// and the sweep's own fingerprint appended (which `merge` removes again).
fn manifest(plan: &Plan, complete: bool, shard: Option<Shard>) -> String {
    let first = &plan.points[0].1;
    let (population, population_zh) = crate::naming::population(first);
    let (kind, fingerprint) = kind_and_fingerprint(plan, shard);
    SweepManifest {
        kind: kind.into(),
        refundsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario_name: first.name.clone(),
        title: first.title.clone(),
        title_zh: first.title_zh.clone(),
        population,
        population_zh,
        files: plan.files.clone(),
        sets: plan.sets.clone(),
        grid: plan.axes.clone(),
        points: plan.points.len() as u64,
        seed: first.seed,
        paths: u64::from(first.paths),
        inputs: first
            .inputs
            .iter()
            .map(|i| crate::manifest::Input {
                path: i.path.clone(),
                sha256: i.sha256.clone(),
            })
            .collect(),
        generator: crate::rng::GENERATOR.into(),
        fingerprint,
        exceed: plan.exceed.iter().map(|t| t.text()).collect(),
        complete,
        shard,
        sweep_fingerprint: shard.map(|_| plan.fingerprint.clone()),
    }
    .to_json()
}

/// Whether `dir` may hold this sweep (see [`check_study_dir`]).
pub fn check_dir(dir: &Path, plan: &Plan, force: bool) -> Result<bool, SweepError> {
    check_dir_shard(dir, plan, force, None)
}

/// [`check_dir`] for shard `shard` of the sweep (`None`: the whole sweep).
pub fn check_dir_shard(
    dir: &Path,
    plan: &Plan,
    force: bool,
    shard: Option<Shard>,
) -> Result<bool, SweepError> {
    let (kind, fingerprint) = kind_and_fingerprint(plan, shard);
    check_study_dir(dir, kind, &fingerprint, force)
}

/// Whether `dir` may hold a resumable study of this `kind` (`sweep`, `size`,
/// `sensitivity`): `Ok(true)` to resume one with the same fingerprint,
/// `Ok(false)` when it is absent or, with `force`, an earlier refundsim output
/// holding nothing but refundsim's files. Also checks, before any work, that
/// the folder can be written.
pub fn check_study_dir(
    dir: &Path,
    kind: &str,
    fingerprint: &str,
    force: bool,
) -> Result<bool, SweepError> {
    crate::output::check_destination(dir, true).or_else(|e| match e {
        // Checked below: a study being resumed, or replaced with --force.
        OutputError::NotOurs(_) | OutputError::Foreign { .. } => Ok(()),
        e => Err(e),
    })?;
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(false);
    }
    let same = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| StudyHeader::from_json(&t))
        .is_some_and(|h| h.kind.as_deref() == Some(kind) && h.fingerprint == fingerprint);
    if same && dir.is_dir() {
        crate::output::check_writable(dir, true)?;
        crate::output::check_writable(&dir.join("points").join("0"), false)?;
        return Ok(true);
    }
    if !force {
        return Err(SweepError::Foreign(dir.to_path_buf()));
    }
    match crate::output::check_replaceable(dir) {
        Ok(()) => Ok(false),
        Err(OutputError::NotOurs(_)) => Err(SweepError::Foreign(dir.to_path_buf())),
        Err(e) => Err(e.into()),
    }
}

/// Runs (or resumes) a sweep into `dir`. `progress(n)` is called as paths finish
/// (and with the paths of points already done). Returns the path of `sweep.csv`.
pub fn run(
    plan: &Plan,
    dir: &Path,
    force: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<PathBuf, SweepError> {
    run_shard(plan, dir, force, threads, progress, cancel, None)
}

/// [`run`] for shard `shard` of the sweep: only the points `i` with
/// `i mod N = I − 1`, into a `sweep-shard` folder without `sweep.csv` (which
/// [`merge_shards`] builds); returns the folder. `None`: the whole sweep.
pub fn run_shard(
    plan: &Plan,
    dir: &Path,
    force: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
    shard: Option<Shard>,
) -> Result<PathBuf, SweepError> {
    let (kind, fingerprint) = kind_and_fingerprint(plan, shard);
    let points_dir = open_study_dir(dir, kind, &fingerprint, force)?;
    output::write_file(
        &dir.join("manifest.json"),
        manifest(plan, false, shard).as_bytes(),
    )?;
    let total = plan.points.len();
    for (done, (_, s)) in plan.points.iter().enumerate() {
        if shard.is_some_and(|sh| !sh.owns(done as u64)) {
            continue;
        }
        let pdir = points_dir.join(done.to_string());
        run_point(s, &pdir, threads, progress, cancel).map_err(|e| match e {
            SweepError::Cancelled => SweepError::Interrupted { done, total },
            e => e,
        })?;
    }
    if shard.is_some() {
        output::write_file(
            &dir.join("manifest.json"),
            manifest(plan, true, shard).as_bytes(),
        )?;
        return Ok(dir.to_path_buf());
    }
    let rows = read_rows(&points_dir, total)?;
    let csv_path = dir.join("sweep.csv");
    output::write_file(&csv_path, sweep_csv(plan, &rows).as_bytes())?;
    output::write_file(
        &dir.join("manifest.json"),
        manifest(plan, true, None).as_bytes(),
    )?;
    Ok(csv_path)
}

/// A point's `paths.csv` as (header, column) pairs.
type PointColumns = Vec<(String, Vec<f64>)>;

/// The key columns of points `0 .. total` under `points_dir`, always from the
/// files on disk.
fn read_rows(points_dir: &Path, total: usize) -> Result<Vec<PointColumns>, SweepError> {
    let mut rows = Vec::new();
    for i in 0..total {
        let p = points_dir.join(i.to_string()).join("paths.csv");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| SweepError::Corrupt(p.clone(), e.to_string()))?;
        rows.push(parse_paths_csv(&text).map_err(|e| SweepError::Corrupt(p.clone(), e))?);
    }
    Ok(rows)
}

/// The `kind` in `dir/manifest.json` (empty when there is none).
pub fn shard_kind(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| StudyHeader::from_json(&t))
        .and_then(|h| h.kind)
        .map(|k| {
            if k == "sweep-shard" {
                "sweep".into()
            } else {
                k
            }
        })
        .unwrap_or_default()
}

/// Merges the folders of `sweep --shard I/N` into the folder of the unsharded
/// sweep at `out`: every point's run copied from its shard, `sweep.csv` built from
/// them, and the sweep's manifest. Errors with [`SweepError::Shards`] when the
/// shards do not belong together or one is missing or given twice.
pub fn merge_shards(dirs: &[PathBuf], out: &Path, force: bool) -> Result<PathBuf, SweepError> {
    let bad = |m: String| SweepError::Shards(m);
    let mut parts: Vec<(PathBuf, SweepManifest, Shard)> = Vec::new();
    for d in dirs {
        let not_shard = || {
            bad(format!(
                "{} is not a shard folder (no readable manifest.json)",
                d.display()
            ))
        };
        let text = std::fs::read_to_string(d.join("manifest.json")).map_err(|_| not_shard())?;
        let header = StudyHeader::from_json(&text).ok_or_else(not_shard)?;
        if header.kind.as_deref() != Some("sweep-shard") {
            return Err(bad(format!(
                "{} is not a sweep shard folder (its manifest.json is of kind {}); give the folders of one `sweep --shard I/N`",
                d.display(),
                header.kind.map_or("null".into(), |k| format!("{k:?}"))
            )));
        }
        let m = SweepManifest::from_json(&text).map_err(|e| {
            bad(format!(
                "{}: manifest.json is damaged ({e}); rerun its `sweep --shard` command with --force",
                d.display()
            ))
        })?;
        if !m.complete {
            return Err(bad(format!(
                "{} is an unfinished shard; rerun its `sweep --shard` command to finish it",
                d.display()
            )));
        }
        let shard = m
            .shard
            .ok_or_else(|| bad(format!("{}: manifest.json has no shard", d.display())))?;
        parts.push((d.clone(), m, shard));
    }
    let Some((d0, m0, s0)) = parts.first().cloned() else {
        return Err(bad("no shard folder given".into()));
    };
    for (d, m, s) in &parts[1..] {
        let belong = |m: &SweepManifest| {
            [
                ("sweep_fingerprint", serde_json::json!(m.sweep_fingerprint)),
                ("seed", m.seed.into()),
                ("paths", m.paths.into()),
                ("points", m.points.into()),
            ]
        };
        for ((key, v0), (_, v)) in belong(&m0).into_iter().zip(belong(m)) {
            if v != v0 {
                return Err(bad(format!(
                    "the shards do not belong together: {} has {key} {v0} but {} has {key} {v}",
                    d0.display(),
                    d.display(),
                )));
            }
        }
        if s.count != s0.count {
            return Err(bad(format!(
                "the shards do not belong together: {} is of {} shards but {} of {}",
                d0.display(),
                s0.count,
                d.display(),
                s.count
            )));
        }
    }
    parts.sort_by_key(|p| p.2.index);
    for w in parts.windows(2) {
        if w[0].2.index == w[1].2.index {
            return Err(bad(format!(
                "shard {} is given twice: {} and {}; give each shard folder once",
                w[0].2,
                w[0].0.display(),
                w[1].0.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=s0.count)
        .filter(|i| !parts.iter().any(|p| p.2.index == *i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "shard {} of {} missing; merge needs every shard of the sweep",
            missing.join(", "),
            s0.count
        )));
    }
    let axes = m0.grid.clone();
    let total = m0.points as usize;
    let assigns = points(&axes);
    if assigns.len() != total {
        return Err(bad(format!(
            "{}: its grid has {} points, not {total}",
            d0.display(),
            assigns.len()
        )));
    }
    crate::output::check_destination(out, force)?;
    let staging = Staging::new(out)?;
    for i in 0..total {
        let (d, _, _) = &parts[i % s0.count as usize];
        let from = d.join("points").join(i.to_string());
        for name in crate::output::run_files() {
            let f = from.join(name);
            if f.is_file() {
                let bytes =
                    std::fs::read(&f).map_err(|e| SweepError::Corrupt(f.clone(), e.to_string()))?;
                staging.write(&format!("points/{i}/{name}"), &bytes)?;
            }
        }
    }
    let exceed = m0
        .exceed
        .iter()
        .map(|t| {
            crate::target::Target::parse_flag(t, "--exceed")
                .map_err(|e| bad(format!("{}: manifest.json exceed {t:?}: {e}", d0.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows = read_rows(&staging.path().join("points"), total)?;
    staging.write(
        "sweep.csv",
        sweep_table(&axes, &assigns, &exceed, &rows).as_bytes(),
    )?;
    let mut m = m0;
    m.kind = "sweep".into();
    m.fingerprint = m.sweep_fingerprint.take().unwrap_or_default();
    m.shard = None;
    let text = m.to_json();
    staging.write("manifest.json", text.as_bytes())?;
    let dir = staging.commit(force)?;
    Ok(dir.join("sweep.csv"))
}

/// Prepares a study directory for a run or a resumption (see [`check_study_dir`]):
/// replaces an earlier output when allowed and creates `points/`. Returns the
/// `points/` folder. (Staging folders a killed run left behind are removed by
/// [`Staging::new`] as points are written.)
pub fn open_study_dir(
    dir: &Path,
    kind: &str,
    fingerprint: &str,
    force: bool,
) -> Result<PathBuf, SweepError> {
    let resume = check_study_dir(dir, kind, fingerprint, force)?;
    if !resume && std::fs::symlink_metadata(dir).is_ok() {
        crate::output::remove_output_dir(dir)?;
    }
    let points_dir = dir.join("points");
    std::fs::create_dir_all(&points_dir).map_err(|source| OutputError::Io {
        path: points_dir.clone(),
        source,
    })?;
    Ok(points_dir)
}

/// Runs one point of a study into `pdir` (written atomically), unless a sound
/// finished run is already there; a damaged one (see [`damaged_points`]) is
/// computed again. `progress(n)` is told of finished paths either way.
/// [`SweepError::Cancelled`] when interrupted: nothing of this point is left behind.
pub fn run_point(
    s: &Scenario,
    pdir: &Path,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<(), SweepError> {
    if pdir.join("paths.csv").exists() {
        if point_problem(pdir, s).is_none() {
            progress(s.paths as u64);
            return Ok(());
        }
        clear_point(pdir)?;
    }
    let model = Model::new(s.clone());
    let started = std::time::Instant::now();
    let out = engine::run(&model, s.paths, threads, &|| progress(1), cancel)
        .map_err(|_| SweepError::Cancelled)?;
    let info = RunInfo {
        threads,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        command: Vec::new(),
    };
    let cancelled = |e: OutputError| match e {
        OutputError::Interrupted => SweepError::Cancelled,
        e => e.into(),
    };
    let staging = Staging::new(pdir).map_err(cancelled)?;
    for (name, text) in report::run_files(&model, &out, &info) {
        staging.write(name, text.as_bytes()).map_err(cancelled)?;
    }
    staging.commit(true).map_err(cancelled)?;
    Ok(())
}

/// What is wrong with the finished point in `pdir`, whose scenario is `s`: its
/// `paths.csv` cannot be read, lacks a key metric's column or has not one row per
/// path. `None` when it is sound.
fn point_problem(pdir: &Path, s: &Scenario) -> Option<String> {
    let p = pdir.join("paths.csv");
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) => return Some(e.to_string()),
    };
    let cols = match parse_paths_csv(&text) {
        Ok(c) => c,
        Err(e) => return Some(e),
    };
    for m in key_metrics() {
        match cols.iter().find(|(h, _)| h == m) {
            None => return Some(format!("no column `{m}`")),
            Some((_, v)) if v.len() != s.paths as usize => {
                return Some(format!(
                    "{} rows for {} paths in column `{m}`",
                    v.len(),
                    s.paths
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// Deletes the files a point's run writes from a damaged point folder (its
/// manifest may be damaged too, so it cannot vouch for the folder), and the
/// folder if that empties it. Anything else is left for the commit to refuse.
fn clear_point(pdir: &Path) -> Result<(), OutputError> {
    for name in crate::output::run_files() {
        let f = pdir.join(name);
        if f.is_file() {
            std::fs::remove_file(&f).map_err(|source| OutputError::Io {
                path: f.clone(),
                source,
            })?;
        }
    }
    if std::fs::read_dir(pdir).is_ok_and(|mut d| d.next().is_none()) {
        let _ = std::fs::remove_dir(pdir);
    }
    Ok(())
}

/// Finished points of an earlier, interrupted run of this sweep in `dir` whose
/// `paths.csv` is damaged, as messages saying what is wrong; [`run`] computes
/// them again instead of resuming with blank metrics.
pub fn damaged_points(plan: &Plan, dir: &Path) -> Vec<String> {
    plan.points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, s))| {
            let pdir = dir.join("points").join(i.to_string());
            if !pdir.join("paths.csv").exists() {
                return None;
            }
            point_problem(&pdir, s).map(|why| {
                format!(
                    "{}: {why}; point {i} will be computed again",
                    pdir.join("paths.csv").display()
                )
            })
        })
        .collect()
}

/// Per-path metric columns of a `paths.csv`, by metric name.
pub fn parse_paths_csv(text: &str) -> Result<Vec<(String, Vec<f64>)>, String> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    let mut cols: Vec<(String, Vec<f64>)> =
        headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        for (i, v) in rec.iter().enumerate() {
            let x = if v.is_empty() {
                f64::NAN
            } else {
                v.parse::<f64>().map_err(|e| format!("`{v}`: {e}"))?
            };
            cols[i].1.push(x);
        }
    }
    Ok(cols)
}

/// A grid value as a spreadsheet cell: text without its TOML quotes, and an
/// amount such as `3亿` as the number of yuan.
fn cell_value(v: &str) -> String {
    let t = v.trim();
    // Multi-line strings first, so `'''a'''` loses all its quotes.
    let unquoted = ["\"\"\"", "'''", "\"", "'"]
        .iter()
        .find_map(|q| {
            t.strip_prefix(q)
                .and_then(|x| x.strip_suffix(q))
                .filter(|_| t.len() >= 2 * q.len())
        })
        .unwrap_or(t);
    if unquoted.contains(['亿', '万'])
        && let Some(x) = crate::input::parse_amount(unquoted)
    {
        return format!("{x}");
    }
    unquoted.to_string()
}

/// The share of paths on which `target` holds, among the paths where its metric
/// is defined, with its Wilson 95% interval: `(share, low, high)`, NaN when no
/// path defines the metric.
pub fn exceed_share(target: &crate::target::Target, col: &[f64]) -> (f64, f64, f64) {
    let defined = col.iter().filter(|x| !x.is_nan()).count();
    let k = col.iter().filter(|x| target.holds(**x)).count();
    if defined == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let p = k as f64 / defined as f64;
    let (lo, hi) = crate::stats::wilson(p, defined as f64, crate::stats::Z95);
    (p, lo, hi)
}

/// The header of `sweep.csv`: `point`, the grid keys, each key metric's mean and
/// 95% interval; then (appended later, so older readers keep working) each key
/// metric's `_p5`, `_p50`, `_p95` over paths, and for each `--exceed` target
/// `TARGET_share`, `TARGET_ci_low`, `TARGET_ci_high`.
fn sweep_header(axes: &[Axis], exceed: &[crate::target::Target]) -> Vec<String> {
    let mut head = vec!["point".to_string()];
    head.extend(axes.iter().map(|a| a.key.clone()));
    for m in key_metrics() {
        head.extend([
            format!("{m}_mean"),
            format!("{m}_ci_low"),
            format!("{m}_ci_high"),
        ]);
    }
    for m in key_metrics() {
        head.extend([format!("{m}_p5"), format!("{m}_p50"), format!("{m}_p95")]);
    }
    for t in exceed {
        let t = t.text();
        head.extend([
            format!("{t}_share"),
            format!("{t}_ci_low"),
            format!("{t}_ci_high"),
        ]);
    }
    head
}

/// `sweep.csv`: one row per point — its parameters, then each key metric's mean
/// and 95% interval (Wilson for shares and probabilities, normal otherwise),
/// then its 5th, 50th and 95th percentiles over paths, then the share of paths
/// meeting each `--exceed` target with its Wilson interval (see [`exceed_share`]).
/// Every row goes through the csv writer, so a key or value holding a comma, a
/// quote or a line break stays one cell.
pub fn sweep_csv(plan: &Plan, rows: &[Vec<(String, Vec<f64>)>]) -> String {
    let assigns: Vec<Vec<String>> = plan.points.iter().map(|(a, _)| a.clone()).collect();
    sweep_table(&plan.axes, &assigns, &plan.exceed, rows)
}

/// [`sweep_csv`] from the grid's axes, each point's `key=value` assignments and
/// the `--exceed` targets (a merge of sweep shards has no [`Plan`]).
fn sweep_table(
    axes: &[Axis],
    assigns: &[Vec<String>],
    exceed: &[crate::target::Target],
    rows: &[Vec<(String, Vec<f64>)>],
) -> String {
    let mut csv = crate::output::CsvText::new();
    csv.row(sweep_header(axes, exceed));
    for (i, (assign, cols)) in assigns.iter().zip(rows).enumerate() {
        let mut row = vec![i.to_string()];
        row.extend(
            assign
                .iter()
                .map(|a| cell_value(a.split_once('=').map(|x| x.1).unwrap_or(""))),
        );
        let col = |m: &str| -> &[f64] {
            cols.iter()
                .find(|(h, _)| h == m)
                .map(|c| c.1.as_slice())
                .unwrap_or(&[])
        };
        let summaries: Vec<Summary> = key_metrics()
            .iter()
            .map(|m| Summary::of(col(m).iter().copied()))
            .collect();
        for (m, sm) in key_metrics().iter().zip(&summaries) {
            debug_assert!(metrics::index(m).is_some());
            // Shares and probabilities get Wilson intervals, which stay in [0, 1].
            let (lo, hi) = crate::stats::mean_ci95(sm, metrics::is_share(m));
            row.extend([num(sm.mean), num(lo), num(hi)]);
        }
        for sm in &summaries {
            row.extend([num(sm.p5), num(sm.p50), num(sm.p95)]);
        }
        for t in exceed {
            let (p, lo, hi) = exceed_share(t, col(&t.metric));
            row.extend([num(p), num(lo), num(hi)]);
        }
        csv.row(&row);
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_values_split_ranges_and_arrays() {
        let a = parse_axis("pools.turnover.capital=1e8:3e8:3").unwrap();
        assert_eq!(a.values, vec!["100000000", "200000000", "300000000"]);
        let b = parse_axis("policy.class_treatment=[1, 2, 3, 4],[1, 1, 1, 4]").unwrap();
        assert_eq!(b.values, vec!["[1, 2, 3, 4]", "[1, 1, 1, 4]"]);
        let c = parse_axis("policy.quota.order=\"fifo\",pilot_first").unwrap();
        assert_eq!(c.values.len(), 2);
        assert!(parse_axis("nokey").is_err());
    }

    #[test]
    fn sweep_csv_keeps_line_breaks_quotes_and_commas_in_one_cell() {
        let s = Scenario::parse_str(include_str!("../tests/fixtures/ok/tiny.toml")).unwrap();
        let values = ["'''a\nb'''", "\"c,d\"", "'say \"hi\"'"];
        let plan = Plan {
            files: Vec::new(),
            sets: Vec::new(),
            axes: vec![Axis {
                key: "scenario.title".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
            points: values
                .iter()
                .map(|v| (vec![format!("scenario.title={v}")], s.clone()))
                .collect(),
            fingerprint: String::new(),
            exceed: Vec::new(),
        };
        let text = sweep_csv(&plan, &vec![Vec::new(); values.len()]);
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let cells: Vec<String> = rdr
            .records()
            .map(|r| r.expect("one record per point")[1].to_string())
            .collect();
        assert_eq!(cells, ["a\nb", "c,d", "say \"hi\""], "{text}");
    }

    #[test]
    fn points_are_the_full_factorial_first_axis_slowest() {
        let axes = vec![
            Axis {
                key: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Axis {
                key: "b".into(),
                values: vec!["x".into(), "y".into(), "z".into()],
            },
        ];
        let p = points(&axes);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], vec!["a=1", "b=x"]);
        assert_eq!(p[3], vec!["a=2", "b=x"]);
    }
}

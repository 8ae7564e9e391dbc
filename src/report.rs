//! Output files of a run (MODEL.md §11), built as text and written atomically.
//!
//! A run is written into a hidden staging directory beside its destination and
//! renamed into place only when every file is complete, so a failed or
//! interrupted run never leaves a half-written directory, and an existing run is
//! only replaced when the caller asks (`--force`) and it holds nothing but
//! refundsim's files. The writing itself is [`crate::output`]'s; every CSV cell
//! goes through [`crate::output::csv_cell`].

use std::fmt::Write as _;

use rayon::prelude::*;

use crate::engine::{Model, RunOutput};
use crate::manifest::RunManifest;
use crate::metrics::{METRICS, N_METRICS};
use crate::output::CsvText;
use crate::stats::Summary;

/// Formats a number for CSV: shortest round-trip text, empty for NaN.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x == 0.0 {
        "0".into()
    } else {
        format!("{x}")
    }
}

/// The header of a summary row.
pub const SUMMARY_COLS: &str = "mean,std_err,std,min,p5,p50,p95,p99,max";

fn summary_cells(s: &Summary) -> impl Iterator<Item = String> {
    [
        s.mean, s.std_err, s.std, s.min, s.p5, s.p50, s.p95, s.p99, s.max,
    ]
    .into_iter()
    .map(num)
}

/// The header cells of a summary row.
fn summary_header() -> impl Iterator<Item = &'static str> {
    SUMMARY_COLS.split(',')
}

/// Where the per-path results a run's files are built from come from: the
/// paths of a finished run in memory ([`RunOutput`]) or the shard files of a
/// sharded run being merged ([`crate::shard::ShardSet`]). Every file is built
/// from one column at a time (one metric of one group, or one series on one day,
/// over every path in path order), so a merge holds one column per worker in
/// memory, never every path's whole result; the statistics are the same code
/// for both, which is what makes a merged run byte-identical to an unsharded one.
pub trait Columns: Sync {
    /// Number of paths.
    fn paths(&self) -> usize;
    /// Metric `m` of group `g` on every path, in path order.
    fn metric(&self, g: usize, m: usize) -> Vec<f64>;
    /// Daily series `k` on window day `d` on every path, in path order.
    fn series(&self, k: usize, d: usize) -> Vec<f64>;
    /// Paths `range`: each path's claims simulated and its `paths.csv` values:
    /// the metrics of all exporters (group 0), then those of the `1+7` group
    /// (the last group).
    fn rows(&self, range: std::ops::Range<usize>) -> Vec<(u64, Vec<f64>)>;
    /// Claims simulated over every path, warm-up included.
    fn claims_simulated(&self) -> u64;
}

impl Columns for RunOutput {
    fn paths(&self) -> usize {
        self.paths.len()
    }
    fn metric(&self, g: usize, m: usize) -> Vec<f64> {
        self.paths.iter().map(|p| p.groups[g][m]).collect()
    }
    fn series(&self, k: usize, d: usize) -> Vec<f64> {
        self.paths.iter().map(|p| p.series[k][d]).collect()
    }
    fn rows(&self, range: std::ops::Range<usize>) -> Vec<(u64, Vec<f64>)> {
        self.paths[range]
            .iter()
            .map(|p| {
                let pilot = p.groups.last().expect("at least the total group");
                (p.claims_simulated, [&p.metrics[..], pilot].concat())
            })
            .collect()
    }
    fn claims_simulated(&self) -> u64 {
        self.claims_simulated
    }
}

/// A platform as the output files label it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlatformLabel {
    /// Short name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// Whether it is a 1+7 pilot platform.
    pub pilot: bool,
}

/// What the output files need from the model besides the per-path results:
/// labels of the groups and series, and the window's dates. A shard keeps it,
/// so `merge` builds the files without rebuilding the model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunMeta {
    /// Names of the daily series ([`Model::series_names`]).
    pub series_names: Vec<String>,
    /// Date of each day of the window, `YYYY-MM-DD`.
    pub dates: Vec<String>,
    /// The platforms, in group order (groups `1 ..= platforms.len()`).
    pub platforms: Vec<PlatformLabel>,
    /// Metric groups per path ([`Model::groups`]).
    pub groups: usize,
}

/// The name of the 1+7 group in output files: every exporter on a pilot platform.
pub const PILOT_GROUP: &str = "1+7";

/// The name of the group of every exporter in output files.
pub const ALL_GROUP: &str = "all";

impl RunMeta {
    /// The labels of `model`'s outputs.
    pub fn of(model: &Model) -> Self {
        RunMeta {
            series_names: model
                .series_names()
                .into_iter()
                .map(str::to_string)
                .collect(),
            dates: (0..model.end)
                .map(|d| model.cal.date(d).to_string())
                .collect(),
            platforms: model
                .scenario
                .platforms
                .iter()
                .map(|p| PlatformLabel {
                    name: p.name.clone(),
                    name_zh: p.name_zh.clone(),
                    pilot: p.pilot,
                })
                .collect(),
            groups: model.groups,
        }
    }

    /// The `1+7` group's index: the last group ([`Model::pilot_group`]).
    pub fn pilot_group(&self) -> usize {
        self.groups - 1
    }
}

/// Summaries of every metric of group `g` over paths (metrics in parallel on the
/// current rayon pool; each summary runs over paths in path order).
pub fn summarise<C: Columns + ?Sized>(out: &C, g: usize) -> Vec<Summary> {
    (0..N_METRICS)
        .into_par_iter()
        .map(|m| Summary::of(out.metric(g, m)))
        .collect()
}

/// `summary.csv`: every metric over paths for `all` exporters, then the same for
/// the `1+7` group (the last column, `group`, says which). Each group's
/// statistics are of its own per-path values, so its interval is its own.
pub fn summary_csv<C: Columns + ?Sized>(meta: &RunMeta, out: &C) -> String {
    let mut csv = CsvText::new();
    csv.row(
        ["metric", "unit"]
            .into_iter()
            .chain(summary_header())
            .chain(["group"]),
    );
    for (g, name) in [(0, ALL_GROUP), (meta.pilot_group(), PILOT_GROUP)] {
        for (def, sm) in METRICS.iter().zip(summarise(out, g)) {
            csv.row(
                [def.name.to_string(), def.unit.to_string()]
                    .into_iter()
                    .chain(summary_cells(&sm))
                    .chain([name.to_string()]),
            );
        }
    }
    csv.finish()
}

/// `by_platform.csv`: grouped metrics for each platform, then for the `1+7`
/// group and for `all` exporters, each summarised from its own per-path values.
/// A group row's `pilot` cell is empty (it is not a platform), which tells it
/// from a platform of the same name.
pub fn by_platform_csv<C: Columns + ?Sized>(meta: &RunMeta, out: &C) -> String {
    let mut csv = CsvText::new();
    csv.row(
        ["platform", "platform_zh", "pilot", "metric", "unit"]
            .into_iter()
            .chain(summary_header()),
    );
    for (pi, p) in meta.platforms.iter().enumerate() {
        let sums = summarise(out, 1 + pi);
        for m in crate::metrics::grouped() {
            csv.row(
                [
                    p.name.clone(),
                    p.name_zh.clone(),
                    p.pilot.to_string(),
                    METRICS[m].name.to_string(),
                    METRICS[m].unit.to_string(),
                ]
                .into_iter()
                .chain(summary_cells(&sums[m])),
            );
        }
    }
    for (g, name, zh, pilot) in [
        (meta.pilot_group(), PILOT_GROUP, "1+7平台合计", ""),
        (0, ALL_GROUP, "全部", ""),
    ] {
        let sums = summarise(out, g);
        for m in crate::metrics::grouped() {
            csv.row(
                [
                    name.to_string(),
                    zh.to_string(),
                    pilot.to_string(),
                    METRICS[m].name.to_string(),
                    METRICS[m].unit.to_string(),
                ]
                .into_iter()
                .chain(summary_cells(&sums[m])),
            );
        }
    }
    csv.finish()
}

/// `by_class.csv`: grouped metrics for each actual class I–IV.
pub fn by_class_csv<C: Columns + ?Sized>(meta: &RunMeta, out: &C) -> String {
    let mut csv = CsvText::new();
    csv.row(
        ["class", "metric", "unit"]
            .into_iter()
            .chain(summary_header()),
    );
    for c in 0..4 {
        let sums = summarise(out, 1 + meta.platforms.len() + c);
        for m in crate::metrics::grouped() {
            csv.row(
                [
                    (c + 1).to_string(),
                    METRICS[m].name.to_string(),
                    METRICS[m].unit.to_string(),
                ]
                .into_iter()
                .chain(summary_cells(&sums[m])),
            );
        }
    }
    csv.finish()
}

/// Paths per piece of `paths.csv` built at once.
const PATHS_CHUNK: usize = 4096;

/// `paths.csv`, one row per path (every metric for all exporters, then every
/// metric for the 1+7 group, columns `1+7:METRIC`, for re-analysis), handed to `sink` in pieces (the header first,
/// then rows in path order, a few thousand at a time, each piece formatted in
/// parallel), so a merge never holds the whole file. Stops at `sink`'s first error.
pub fn paths_csv_to<C: Columns + ?Sized, E>(
    out: &C,
    sink: &mut dyn FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let mut csv = CsvText::new();
    csv.row(
        ["path".to_string(), "claims_simulated".to_string()]
            .into_iter()
            .chain(METRICS.iter().map(|m| m.name.to_string()))
            .chain(METRICS.iter().map(|m| format!("{PILOT_GROUP}:{}", m.name))),
    );
    sink(&csv.finish())?;
    let n = out.paths();
    let mut from = 0;
    while from < n {
        let to = (from + PATHS_CHUNK).min(n);
        let rows: Vec<Vec<String>> = out
            .rows(from..to)
            .into_par_iter()
            .enumerate()
            .map(|(i, (claims, metrics))| {
                [(from + i).to_string(), claims.to_string()]
                    .into_iter()
                    .chain(metrics.iter().map(|v| num(*v)))
                    .collect()
            })
            .collect();
        let mut csv = CsvText::new();
        for r in &rows {
            csv.row(r);
        }
        sink(&csv.finish())?;
        from = to;
    }
    Ok(())
}

/// `paths.csv`: one row per path.
pub fn paths_csv<C: Columns + ?Sized>(out: &C) -> String {
    let mut text = String::new();
    let _ = paths_csv_to(out, &mut |piece: &str| {
        text.push_str(piece);
        Ok::<(), std::convert::Infallible>(())
    });
    text
}

/// `timeseries.csv`: per day, mean/p5/p50/p95 over paths of each series.
pub fn timeseries_csv<C: Columns + ?Sized>(meta: &RunMeta, out: &C) -> String {
    let names = &meta.series_names;
    let mut csv = CsvText::new();
    let mut head = vec!["date".to_string(), "day".to_string()];
    for n in names {
        for stat in ["mean", "p5", "p50", "p95"] {
            head.push(format!("{n}_{stat}"));
        }
    }
    csv.row(&head);
    // Days in parallel (each row over paths in path order), written in day order.
    let rows: Vec<Vec<String>> = (0..meta.dates.len())
        .into_par_iter()
        .map(|d| {
            let mut row = vec![meta.dates[d].clone(), d.to_string()];
            for k in 0..names.len() {
                let sm = Summary::of(out.series(k, d));
                row.extend([num(sm.mean), num(sm.p5), num(sm.p50), num(sm.p95)]);
            }
            row
        })
        .collect();
    for r in &rows {
        csv.row(r);
    }
    csv.finish()
}

/// Facts about the run that go into `manifest.json` besides the scenario.
pub struct RunInfo {
    /// Threads used.
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub elapsed_seconds: f64,
    /// The command line, for the record.
    pub command: Vec<String>,
}

/// The typed `manifest.json` of a run.
pub fn manifest(model: &Model, out: &RunOutput, info: &RunInfo) -> RunManifest {
    RunManifest::new(
        &model.scenario,
        &model.warnings,
        out.paths.len() as u64,
        out.claims_simulated,
        info.threads,
        info.elapsed_seconds,
        &info.command,
    )
}

/// `manifest.json`.
pub fn manifest_json(model: &Model, out: &RunOutput, info: &RunInfo) -> String {
    manifest(model, out, info).to_json()
}

/// The result files of a run besides `manifest.json` and `paths.csv` (which a
/// merge streams), built in parallel on the current rayon pool.
pub fn summary_files<C: Columns + ?Sized>(meta: &RunMeta, out: &C) -> Vec<(&'static str, String)> {
    let ((summary, timeseries), (platform, class)) = rayon::join(
        || rayon::join(|| summary_csv(meta, out), || timeseries_csv(meta, out)),
        || rayon::join(|| by_platform_csv(meta, out), || by_class_csv(meta, out)),
    );
    vec![
        ("summary.csv", summary),
        ("timeseries.csv", timeseries),
        ("by_platform.csv", platform),
        ("by_class.csv", class),
    ]
}

/// Runs `f` on a rayon pool of `threads` threads (the current pool if one cannot
/// be built).
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// All files of a run, as `(file name, contents)`, built in parallel on
/// `info.threads` threads (the same bytes for any number).
pub fn run_files(model: &Model, out: &RunOutput, info: &RunInfo) -> Vec<(&'static str, String)> {
    let meta = RunMeta::of(model);
    on_threads(info.threads, || {
        let (mut files, paths) = rayon::join(|| summary_files(&meta, out), || paths_csv(out));
        files.push(("paths.csv", paths));
        files.push(("manifest.json", manifest_json(model, out, info)));
        files
    })
}

/// Amount in CNY for people: `2.31亿` / `350.0万` style (Chinese units).
pub fn cny_zh(x: f64) -> String {
    if x.is_nan() {
        "—".into()
    } else if x.abs() >= 1e8 {
        format!("{:.2}亿", x / 1e8)
    } else if x.abs() >= 1e4 {
        format!("{:.1}万", x / 1e4)
    } else {
        format!("{x:.0}")
    }
}

/// Amount in CNY for people: `231.4 mn` style.
pub fn cny_en(x: f64) -> String {
    if x.is_nan() {
        "—".into()
    } else if x.abs() >= 1e9 {
        format!("{:.2} bn", x / 1e9)
    } else if x.abs() >= 1e6 {
        format!("{:.1} mn", x / 1e6)
    } else if x.abs() >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The short table printed after a run: key results with 95% confidence
/// intervals, for the 1+7 group first (mean, interval and p5 … p95) and for all
/// exporters beside it; the lines above the table say whom each column covers.
pub fn console_table(model: &Model, out: &RunOutput) -> String {
    use crate::metrics::M;
    let (all, pilot) = (summarise(out, 0), summarise(out, model.pilot_group()));
    let mut s = String::new();
    let s0 = &model.scenario;
    let _ = writeln!(
        s,
        "{} — {} paths, seed {}, {} to {}",
        if s0.title.is_empty() {
            &s0.name
        } else {
            &s0.title
        },
        out.paths.len(),
        s0.seed,
        model.cal.date(0),
        model.cal.date(model.end - 1)
    );
    let _ = writeln!(s, "covers {}", crate::naming::population(s0).0);
    let _ = writeln!(
        s,
        "columns {}; all: every exporter",
        crate::naming::pilot_population(s0).0
    );
    let _ = writeln!(
        s,
        "{:<44} {:>22} {:>22} {:>22}",
        "metric", "1+7: mean ± 95% CI", "1+7: p5 … p95", "all: mean ± 95% CI"
    );
    let row = |s: &mut String, label: &str, m: M, f: &dyn Fn(f64) -> String| {
        let (x, a) = (&pilot[m as usize], &all[m as usize]);
        let _ = writeln!(
            s,
            "{:<44} {:>22} {:>22} {:>22}",
            label,
            format!("{} ± {}", f(x.mean), f(x.ci95())),
            format!("{} … {}", f(x.p5), f(x.p95)),
            format!("{} ± {}", f(a.mean), f(a.ci95())),
        );
    };
    let money = |s: &mut String, label: &str, m: M| row(s, label, m, &cny_en);
    let days = |s: &mut String, label: &str, m: M| {
        row(s, label, m, &|v: f64| {
            if v.is_nan() {
                "—".into()
            } else {
                format!("{v:.1}")
            }
        })
    };
    money(&mut s, "exports (CNY/yr)", M::Exports);
    money(&mut s, "refunds declared (CNY/yr)", M::RefundDeclared);
    money(
        &mut s,
        "tied-up capital, gross, average (CNY)",
        M::TiedUpGrossAvg,
    );
    money(
        &mut s,
        "tied-up capital, net of financing (CNY)",
        M::TiedUpNetAvg,
    );
    money(
        &mut s,
        "tied-up capital, net, peak day (CNY)",
        M::TiedUpNetPeak,
    );
    days(
        &mut s,
        "days from export to refund, average",
        M::DaysToRefundAvg,
    );
    days(
        &mut s,
        "days from export to refund, p90",
        M::DaysToRefundP90,
    );
    days(
        &mut s,
        "days from export to cash, average",
        M::DaysToCashAvg,
    );
    money(
        &mut s,
        "carrying cost of tied-up capital (CNY/yr)",
        M::CarryingCost,
    );
    if crate::finance::mechanisms_on(&model.scenario) {
        money(
            &mut s,
            "financing cost to exporters (CNY/yr)",
            M::FinancingCost,
        );
        money(&mut s, "fiscal cost (CNY/yr)", M::FiscalCost);
        money(
            &mut s,
            "fiscal cost net of pool fees (CNY/yr)",
            M::FiscalCostNet,
        );
    }
    s
}

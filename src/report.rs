//! Output files of a run (MODEL.md §11), built as bytes and written atomically.
//!
//! A run is written into a hidden staging directory beside its destination and
//! renamed into place only when every file is complete, so a failed or
//! interrupted run never leaves a half-written directory, and an existing run is
//! only replaced when the caller asks (`--force`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::engine::{Model, RunOutput};
use crate::metrics::{METRICS, N_METRICS};
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

fn summary_cells(s: &Summary) -> String {
    [
        s.mean, s.std_err, s.std, s.min, s.p5, s.p50, s.p95, s.p99, s.max,
    ]
    .iter()
    .map(|x| num(*x))
    .collect::<Vec<_>>()
    .join(",")
}

/// Summaries of every metric of group `g` over paths.
pub fn summarise(out: &RunOutput, g: usize) -> Vec<Summary> {
    (0..N_METRICS)
        .map(|m| Summary::of(out.paths.iter().map(|p| p.groups[g][m])))
        .collect()
}

/// `summary.csv`.
pub fn summary_csv(out: &RunOutput) -> String {
    let mut s = format!("metric,unit,{SUMMARY_COLS}\n");
    for (def, sm) in METRICS.iter().zip(summarise(out, 0)) {
        let _ = writeln!(s, "{},{},{}", def.name, def.unit, summary_cells(&sm));
    }
    s
}

fn csv_field(x: &str) -> String {
    if x.contains([',', '"', '\n']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}

/// `by_platform.csv`: grouped metrics for each platform.
pub fn by_platform_csv(model: &Model, out: &RunOutput) -> String {
    let mut s = format!("platform,platform_zh,pilot,metric,unit,{SUMMARY_COLS}\n");
    for (pi, p) in model.scenario.platforms.iter().enumerate() {
        let sums = summarise(out, 1 + pi);
        for m in crate::metrics::grouped() {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                csv_field(&p.name),
                csv_field(&p.name_zh),
                p.pilot,
                METRICS[m].name,
                METRICS[m].unit,
                summary_cells(&sums[m])
            );
        }
    }
    s
}

/// `by_class.csv`: grouped metrics for each actual class I–IV.
pub fn by_class_csv(model: &Model, out: &RunOutput) -> String {
    let mut s = format!("class,metric,unit,{SUMMARY_COLS}\n");
    for c in 0..4 {
        let sums = summarise(out, 1 + model.scenario.platforms.len() + c);
        for m in crate::metrics::grouped() {
            let _ = writeln!(
                s,
                "{},{},{},{}",
                c + 1,
                METRICS[m].name,
                METRICS[m].unit,
                summary_cells(&sums[m])
            );
        }
    }
    s
}

/// `paths.csv`: one row per path.
pub fn paths_csv(out: &RunOutput) -> String {
    let mut s = String::from("path,claims_simulated");
    for m in METRICS {
        s.push(',');
        s.push_str(m.name);
    }
    s.push('\n');
    for (i, p) in out.paths.iter().enumerate() {
        let _ = write!(s, "{i},{}", p.claims_simulated);
        for v in &p.metrics {
            s.push(',');
            s.push_str(&num(*v));
        }
        s.push('\n');
    }
    s
}

/// `timeseries.csv`: per day, mean/p5/p50/p95 over paths of each series.
pub fn timeseries_csv(model: &Model, out: &RunOutput) -> String {
    let names = model.series_names();
    let mut s = String::from("date,day");
    for n in &names {
        for stat in ["mean", "p5", "p50", "p95"] {
            let _ = write!(s, ",{n}_{stat}");
        }
    }
    s.push('\n');
    for d in 0..model.end as usize {
        let _ = write!(s, "{},{d}", model.cal.date(d as i32));
        for k in 0..names.len() {
            let sm = Summary::of(out.paths.iter().map(|p| p.series[k][d]));
            let _ = write!(
                s,
                ",{},{},{},{}",
                num(sm.mean),
                num(sm.p5),
                num(sm.p50),
                num(sm.p95)
            );
        }
        s.push('\n');
    }
    s
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

/// `manifest.json`.
pub fn manifest_json(model: &Model, out: &RunOutput, info: &RunInfo) -> String {
    let s = &model.scenario;
    let v = serde_json::json!({
        "kind": "run",
        "refundsim_version": env!("CARGO_PKG_VERSION"),
        "scenario_name": s.name,
        "title": s.title,
        "title_zh": s.title_zh,
        "inputs": s.inputs,
        "seed": s.seed,
        "paths": out.paths.len(),
        "threads": info.threads,
        "generator": crate::rng::GENERATOR,
        "claims_simulated": out.claims_simulated,
        "warnings": model.warnings,
        "elapsed_seconds": (info.elapsed_seconds * 1000.0).round() / 1000.0,
        "command": info.command,
        "scenario": s,
    });
    serde_json::to_string_pretty(&v).expect("serialisable") + "\n"
}

/// All files of a run, as `(file name, contents)`.
pub fn run_files(model: &Model, out: &RunOutput, info: &RunInfo) -> Vec<(&'static str, String)> {
    vec![
        ("summary.csv", summary_csv(out)),
        ("timeseries.csv", timeseries_csv(model, out)),
        ("by_platform.csv", by_platform_csv(model, out)),
        ("by_class.csv", by_class_csv(model, out)),
        ("paths.csv", paths_csv(out)),
        ("manifest.json", manifest_json(model, out, info)),
    ]
}

/// Errors while writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination holds an earlier run.
    #[error(
        "{0} already exists (an earlier run?); pass --force to replace it, or --out DIR to write elsewhere"
    )]
    Exists(PathBuf),
    /// `--force` was asked to replace something refundsim did not write.
    #[error(
        "{0} is not a refundsim output directory (no refundsim manifest.json); --force only replaces earlier runs, so choose another --out"
    )]
    NotOurs(PathBuf),
    /// An I/O failure.
    #[error("cannot write {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks before a long run that its destination can be written.
pub fn check_destination(dest: &Path, force: bool) -> Result<(), OutputError> {
    if dest.exists() {
        if !force {
            return Err(OutputError::Exists(dest.to_path_buf()));
        }
        if !is_refundsim_output(dest) {
            return Err(OutputError::NotOurs(dest.to_path_buf()));
        }
    }
    Ok(())
}

/// Whether `dir` is a directory refundsim wrote (its manifest.json names a kind):
/// the only thing `--force` may replace.
pub fn is_refundsim_output(dir: &Path) -> bool {
    dir.is_dir()
        && std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| {
                matches!(
                    v["kind"].as_str(),
                    Some("run" | "compare" | "sweep" | "size" | "sensitivity")
                )
            })
}

/// A staging directory that becomes `dest` on [`Staging::commit`] and vanishes if dropped.
pub struct Staging {
    dir: tempfile::TempDir,
    dest: PathBuf,
}

impl Staging {
    /// Creates a hidden staging directory beside `dest` (creating its parent).
    pub fn new(dest: &Path) -> Result<Self, OutputError> {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "run".into());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(parent)
            .map_err(io(parent))?;
        Ok(Staging {
            dir,
            dest: dest.to_path_buf(),
        })
    }

    /// The staging directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one file into the staging directory.
    pub fn write(&self, name: &str, contents: &[u8]) -> Result<(), OutputError> {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&p, contents).map_err(io(&p))
    }

    /// Moves the staging directory into place, replacing an earlier run only if `force`.
    pub fn commit(self, force: bool) -> Result<PathBuf, OutputError> {
        let dest = self.dest.clone();
        let staged = self.dir.keep();
        let result = (|| {
            if dest.exists() {
                if !force {
                    return Err(OutputError::Exists(dest.clone()));
                }
                if !is_refundsim_output(&dest) {
                    return Err(OutputError::NotOurs(dest.clone()));
                }
                // Move the old run aside first (under a name unique to this run),
                // so a failure never loses both.
                let old = PathBuf::from(format!("{}.old", staged.display()));
                std::fs::rename(&dest, &old).map_err(io(&dest))?;
                std::fs::rename(&staged, &dest).map_err(io(&dest))?;
                std::fs::remove_dir_all(&old).map_err(io(&old))?;
            } else {
                std::fs::rename(&staged, &dest).map_err(io(&dest))?;
            }
            Ok(dest.clone())
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        result
    }
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

/// The short table printed after a run: key results with 95% confidence intervals.
pub fn console_table(model: &Model, out: &RunOutput) -> String {
    use crate::metrics::M;
    let sums = summarise(out, 0);
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
    let _ = writeln!(
        s,
        "{:<44} {:>22} {:>22}",
        "metric", "mean ± 95% CI", "p5 … p95"
    );
    let money = |s: &mut String, label: &str, m: M| {
        let x = &sums[m as usize];
        let _ = writeln!(
            s,
            "{:<44} {:>22} {:>22}",
            label,
            format!("{} ± {}", cny_en(x.mean), cny_en(x.ci95())),
            format!("{} … {}", cny_en(x.p5), cny_en(x.p95))
        );
    };
    let days = |s: &mut String, label: &str, m: M| {
        let x = &sums[m as usize];
        let _ = writeln!(
            s,
            "{:<44} {:>22} {:>22}",
            label,
            format!("{:.1} ± {:.1}", x.mean, x.ci95()),
            format!("{:.1} … {:.1}", x.p5, x.p95)
        );
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
    }
    s
}

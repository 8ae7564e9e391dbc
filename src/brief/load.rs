//! Reads the files of a run, comparison or sweep directory (MODEL.md §11) into
//! plain structs. Empty CSV cells (undefined or not applicable) become NaN.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::BriefError;
use crate::scenario::Mechanism;

/// What a directory holds, from `manifest.json`'s `"kind"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `refundsim run`.
    Run,
    /// `refundsim compare`: `base/`, `reform/` and `delta.csv`.
    Compare,
    /// `refundsim sweep`: `sweep.csv`.
    Sweep,
    /// `refundsim size`: `size.csv` and `answer.json`.
    Size,
    /// `refundsim sensitivity`: `tornado.csv` or `morris.csv`.
    Sensitivity,
}

impl Kind {
    /// The subcommand that writes this kind of directory.
    pub fn command(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
            Kind::Size => "size",
            Kind::Sensitivity => "sensitivity",
        }
    }
}

/// Summary statistics of one metric over paths (a row of summary.csv).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub mean: f64,
    pub std_err: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Stats {
    /// All NaN: a metric that is absent.
    pub const NAN: Stats = Stats {
        mean: f64::NAN,
        std_err: f64::NAN,
        p5: f64::NAN,
        p50: f64::NAN,
        p95: f64::NAN,
        p99: f64::NAN,
    };

    /// Half-width of the 95% confidence interval of the mean.
    pub fn ci95(&self) -> f64 {
        1.959_963_984_540_054 * self.std_err
    }

    /// Whether the row is empty (undefined for every path).
    pub fn is_empty(&self) -> bool {
        self.mean.is_nan()
    }
}

/// summary.csv, by metric name.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: Vec<(String, String, Stats)>,
}

impl Summary {
    /// The statistics of `metric` (all NaN when absent).
    pub fn get(&self, metric: &str) -> Stats {
        self.rows
            .iter()
            .find(|(m, _, _)| m == metric)
            .map(|r| r.2)
            .unwrap_or(Stats::NAN)
    }
}

/// One series of timeseries.csv.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub mean: Vec<f64>,
    pub p5: Vec<f64>,
    pub p50: Vec<f64>,
    pub p95: Vec<f64>,
}

/// timeseries.csv.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    /// ISO dates, one per day.
    pub dates: Vec<String>,
    pub series: Vec<Series>,
}

impl TimeSeries {
    /// The series called `name`.
    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }
}

/// A group of rows of by_platform.csv or by_class.csv: one platform or class.
#[derive(Debug, Clone)]
pub struct Group {
    /// Platform code or class number.
    pub name: String,
    /// Chinese name (platforms).
    pub name_zh: String,
    /// Pilot platform (platforms).
    pub pilot: Option<bool>,
    pub metrics: Summary,
}

/// paths.csv: one row per path.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Paths {
    /// The values of column `name`, one per path.
    pub fn col(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.cols.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub manifest: Value,
    pub summary: Summary,
    pub timeseries: Option<TimeSeries>,
    pub platforms: Option<Vec<Group>>,
    pub classes: Option<Vec<Group>>,
    pub paths: Option<Paths>,
    /// Damage found while reading that the brief works around (inf/NaN cells).
    pub warnings: Vec<String>,
}

impl Run {
    /// Whether mechanism `m` is enabled: the resolved scenario has a table
    /// for it, or (an older manifest without the scenario) its activity metric
    /// is non-zero.
    pub fn mechanism_on(&self, m: Mechanism) -> bool {
        match self.manifest.get("scenario").and_then(|s| s.get(m.name())) {
            Some(v) => !v.is_null(),
            None => {
                let s = self.summary.get(m.delivered().name());
                !s.is_empty() && s.mean != 0.0
            }
        }
    }

    /// Public money committed to mechanism `m`, with its key: K, G or the
    /// credit risk fund; `None` for private money (the service company).
    pub fn capital(&self, m: Mechanism) -> Option<(&'static str, f64)> {
        let key = m.public_capital_key()?;
        let spec = self.manifest.get("scenario")?.get(m.name())?;
        spec.get(key).and_then(Value::as_f64).map(|v| (key, v))
    }
}

/// A comparison directory.
#[derive(Debug, Clone)]
pub struct Compare {
    pub dir: PathBuf,
    pub manifest: Value,
    pub base: Run,
    pub reform: Run,
    /// Every reform arm (name, run), in delta.csv's order: one for a two-arm
    /// comparison (`reform/`); several when `compare` was given several `--reform`s.
    /// A reform whose run folder is not found has no entry here.
    pub reforms: Vec<(String, Run)>,
    pub delta: Vec<Delta>,
    /// effectiveness.csv (MODEL.md §11), when `compare` wrote it.
    pub effectiveness: Option<Vec<Effect>>,
    /// Damage found while reading, of both runs and delta.csv.
    pub warnings: Vec<String>,
}

impl Compare {
    /// The reform names of delta.csv, in order of first appearance (one empty
    /// name for a delta.csv without a `reform` column).
    pub fn reform_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.delta {
            if !out.contains(&d.arm) {
                out.push(d.arm.clone());
            }
        }
        out
    }
}

/// A row of effectiveness.csv: a derived comparison measure of one reform with
/// its paired 95% interval.
#[derive(Debug, Clone)]
pub struct Effect {
    pub reform: String,
    pub metric: String,
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A row of delta.csv.
#[derive(Debug, Clone)]
pub struct Delta {
    /// The reform this row compares (empty in a two-arm delta.csv without the column).
    pub arm: String,
    pub metric: String,
    pub unit: String,
    pub base: f64,
    pub reform: f64,
    pub delta: f64,
    pub lo: f64,
    pub hi: f64,
    pub rel: f64,
    pub significant: Option<bool>,
}

/// A sweep directory.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub dir: PathBuf,
    pub manifest: Value,
    /// Grid keys, in order (first varies slowest).
    pub keys: Vec<String>,
    pub points: Vec<Point>,
    /// `--exceed` targets (`turnover.blocked_share<=0.05`), in column order.
    pub exceed: Vec<String>,
    /// Damage found while reading sweep.csv.
    pub warnings: Vec<String>,
}

/// A row of sweep.csv.
#[derive(Debug, Clone)]
pub struct Point {
    pub point: String,
    /// The value of each grid key, as written.
    pub values: Vec<String>,
    /// Key metric → (mean, ci_low, ci_high).
    pub metrics: HashMap<String, (f64, f64, f64)>,
    /// Key metric → (p5, p50, p95) over paths (sweeps written since they are reported).
    pub percentiles: HashMap<String, (f64, f64, f64)>,
    /// Per `--exceed` target (as in [`Sweep::exceed`]): (share of paths, Wilson low, high).
    pub exceed: Vec<(f64, f64, f64)>,
}

/// Reads `dir/manifest.json` and its kind.
pub fn manifest(dir: &Path) -> Result<(Kind, Value), BriefError> {
    if dir.is_file() {
        return Err(BriefError::IsFile(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(BriefError::NoDir(dir.to_path_buf()));
    }
    let file = dir.join("manifest.json");
    if !file.exists() {
        return Err(BriefError::NoManifest(dir.to_path_buf()));
    }
    let text = read(&file, "run")?;
    let v: Value = serde_json::from_str(&text).map_err(|e| BriefError::Malformed {
        file: file.clone(),
        line: Some(e.line() as u64),
        problem: format!("not valid JSON ({e})"),
        command: "run",
    })?;
    let kind = match v.get("kind") {
        Some(Value::String(k)) if k == "run" => Kind::Run,
        Some(Value::String(k)) if k == "compare" => Kind::Compare,
        Some(Value::String(k)) if k == "sweep" => Kind::Sweep,
        Some(Value::String(k)) if k == "size" => Kind::Size,
        Some(Value::String(k)) if k == "sensitivity" => Kind::Sensitivity,
        Some(Value::String(k)) => {
            return Err(BriefError::BadKind {
                file,
                problem: format!("\"kind\" is {k:?}"),
            });
        }
        Some(other) => {
            return Err(BriefError::BadKind {
                file,
                problem: format!("\"kind\" is {other}, not a string"),
            });
        }
        None => {
            return Err(BriefError::BadKind {
                file,
                problem: "no \"kind\" field".into(),
            });
        }
    };
    Ok((kind, v))
}

/// Reads a file of the directory as text. Bytes that are not UTF-8 are damage
/// (bad input, like any other), reported with the line they start on.
pub(super) fn read(path: &Path, command: &'static str) -> Result<String, BriefError> {
    if path.is_dir() {
        return Err(BriefError::IsDir {
            file: path.to_path_buf(),
            command,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| BriefError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        BriefError::Malformed {
            file: path.to_path_buf(),
            line: Some(line as u64),
            problem: format!(
                "byte {} is not UTF-8 text (a binary or truncated file)",
                at + 1
            ),
            command,
        }
    })
}

/// A CSV file as a header and rows of strings, with the file's name for errors.
struct Csv {
    file: PathBuf,
    command: &'static str,
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
    /// Cells holding inf or NaN (line, column, text): shown as "—", reported by
    /// [`Csv::damage`].
    non_finite: std::cell::RefCell<Vec<(u64, String, String)>>,
}

impl Csv {
    fn open(file: PathBuf, command: &'static str) -> Result<Csv, BriefError> {
        let text = read(&file, command)?;
        let malformed = |line: Option<u64>, problem: String| BriefError::Malformed {
            file: file.clone(),
            line,
            problem,
            command,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| malformed(Some(1), e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line());
                malformed(line, e.to_string())
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            rows.push((line, rec.iter().map(str::to_string).collect()));
        }
        Ok(Csv {
            file,
            command,
            header,
            rows,
            non_finite: Default::default(),
        })
    }

    fn malformed(&self, line: Option<u64>, problem: String) -> BriefError {
        BriefError::Malformed {
            file: self.file.clone(),
            line,
            problem,
            command: self.command,
        }
    }

    /// Index of column `name`, or an error naming it.
    fn col(&self, name: &str) -> Result<usize, BriefError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            self.malformed(
                Some(1),
                format!(
                    "no column {name:?} in the header ({})",
                    self.header.join(",")
                ),
            )
        })
    }

    /// Parses a numeric cell: empty is NaN. refundsim writes only finite numbers,
    /// so `inf`, `NaN` or an overflowing `1e999` is damage: it reads as NaN (shown
    /// as "—", never as a number) and is reported by [`Csv::damage`].
    fn num(&self, line: u64, col: &str, cell: &str) -> Result<f64, BriefError> {
        let t = cell.trim();
        if t.is_empty() {
            return Ok(f64::NAN);
        }
        let x = t.parse::<f64>().map_err(|_| {
            self.malformed(Some(line), format!("column {col}: {t:?} is not a number"))
        })?;
        if !x.is_finite() {
            self.non_finite
                .borrow_mut()
                .push((line, col.to_string(), t.to_string()));
            return Ok(f64::NAN);
        }
        Ok(x)
    }

    /// A warning naming the cells that held inf or NaN, if any.
    fn damage(&self) -> Option<String> {
        let cells = self.non_finite.borrow();
        let first = cells.first()?;
        let more = match cells.len() {
            1 => String::new(),
            n => format!(" and {} more cells", n - 1),
        };
        Some(format!(
            "{}, line {}, column {}: {:?}{more} is not a finite number (refundsim never writes one; the file was edited or damaged); shown as — — re-create it with `refundsim {}`",
            self.file.display(),
            first.0,
            first.1,
            first.2,
            self.command
        ))
    }

    /// Reads the summary columns (mean … p99) of every row.
    fn stats(&self) -> Result<Vec<Stats>, BriefError> {
        let names = ["mean", "std_err", "p5", "p50", "p95", "p99"];
        let idx: Vec<usize> = names
            .iter()
            .map(|n| self.col(n))
            .collect::<Result<_, _>>()?;
        self.rows
            .iter()
            .map(|(line, r)| {
                let mut v = [0.0; 6];
                for (k, (&i, n)) in idx.iter().zip(names).enumerate() {
                    v[k] = self.num(*line, n, r.get(i).map(String::as_str).unwrap_or(""))?;
                }
                Ok(Stats {
                    mean: v[0],
                    std_err: v[1],
                    p5: v[2],
                    p50: v[3],
                    p95: v[4],
                    p99: v[5],
                })
            })
            .collect()
    }

    /// A text cell, without the quote that neutralised a spreadsheet formula.
    fn text(&self, row: &[String], i: usize) -> String {
        row.get(i)
            .map(|c| crate::output::csv_uncell(c).to_string())
            .unwrap_or_default()
    }
}

/// Opens `dir/name`, or `None` when it does not exist.
fn optional(dir: &Path, name: &str, command: &'static str) -> Result<Option<Csv>, BriefError> {
    let file = dir.join(name);
    if file.exists() {
        Csv::open(file, command).map(Some)
    } else {
        Ok(None)
    }
}

/// Opens `dir/name`, which must exist.
fn required(
    dir: &Path,
    name: &str,
    what: &'static str,
    command: &'static str,
) -> Result<Csv, BriefError> {
    let file = dir.join(name);
    if !file.exists() {
        return Err(BriefError::MissingFile {
            file,
            what,
            command,
        });
    }
    Csv::open(file, command)
}

fn summary(csv: &Csv) -> Result<Summary, BriefError> {
    let m = csv.col("metric")?;
    let u = csv.col("unit")?;
    // The rows of all exporters (a `group` column, when present, also holds the
    // 1+7 group's rows).
    let group = csv.header.iter().position(|h| h == "group");
    let stats = csv.stats()?;
    Ok(Summary {
        rows: csv
            .rows
            .iter()
            .zip(stats)
            .filter(|((_, r), _)| group.is_none_or(|g| csv.text(r, g) == "all"))
            .map(|((_, r), s)| (csv.text(r, m), csv.text(r, u), s))
            .collect(),
    })
}

fn timeseries(csv: &Csv) -> Result<TimeSeries, BriefError> {
    let date = csv.col("date")?;
    let mut series = Vec::new();
    for h in &csv.header {
        let Some(name) = h.strip_suffix("_mean") else {
            continue;
        };
        let cols = ["mean", "p5", "p50", "p95"].map(|s| csv.col(&format!("{name}_{s}")));
        let [mean, p5, p50, p95] = cols;
        let idx = [mean?, p5?, p50?, p95?];
        let mut vals: [Vec<f64>; 4] = Default::default();
        for (line, r) in &csv.rows {
            for (k, &i) in idx.iter().enumerate() {
                let cell = r.get(i).map(String::as_str).unwrap_or("");
                vals[k].push(csv.num(*line, &csv.header[i], cell)?);
            }
        }
        let [mean, p5, p50, p95] = vals;
        series.push(Series {
            name: name.to_string(),
            mean,
            p5,
            p50,
            p95,
        });
    }
    Ok(TimeSeries {
        dates: csv.rows.iter().map(|(_, r)| csv.text(r, date)).collect(),
        series,
    })
}

/// Groups rows of by_platform.csv / by_class.csv by their first column, in order.
fn groups(csv: &Csv, key: &str, platforms: bool) -> Result<Vec<Group>, BriefError> {
    let k = csv.col(key)?;
    let m = csv.col("metric")?;
    let u = csv.col("unit")?;
    let (zh, pilot) = if platforms {
        (Some(csv.col("platform_zh")?), Some(csv.col("pilot")?))
    } else {
        (None, None)
    };
    let stats = csv.stats()?;
    let mut out: Vec<Group> = Vec::new();
    for ((line, r), s) in csv.rows.iter().zip(stats) {
        // The group rows (`1+7`, `all`) have an empty pilot cell: not platforms.
        if pilot.is_some_and(|i| csv.text(r, i).is_empty()) {
            continue;
        }
        let name = csv.text(r, k);
        if out.last().is_none_or(|g| g.name != name) {
            let pilot = match pilot.map(|i| csv.text(r, i)) {
                None => None,
                Some(p) if p == "true" => Some(true),
                Some(p) if p == "false" => Some(false),
                Some(p) => {
                    return Err(csv.malformed(
                        Some(*line),
                        format!("column pilot: {p:?} is not true or false"),
                    ));
                }
            };
            out.push(Group {
                name: name.clone(),
                name_zh: zh.map(|i| csv.text(r, i)).unwrap_or_default(),
                pilot,
                metrics: Summary::default(),
            });
        }
        let g = out.last_mut().expect("pushed above");
        g.metrics.rows.push((csv.text(r, m), csv.text(r, u), s));
    }
    Ok(out)
}

fn paths(csv: &Csv) -> Result<Paths, BriefError> {
    let mut rows = Vec::with_capacity(csv.rows.len());
    for (line, r) in &csv.rows {
        let mut v = Vec::with_capacity(csv.header.len());
        for (i, h) in csv.header.iter().enumerate() {
            v.push(csv.num(*line, h, r.get(i).map(String::as_str).unwrap_or(""))?);
        }
        rows.push(v);
    }
    Ok(Paths {
        cols: csv.header.clone(),
        rows,
    })
}

/// Reads `csv` with `f`, adding its damage warning (if any) to `warnings`.
fn checked<T>(
    csv: Csv,
    warnings: &mut Vec<String>,
    f: impl FnOnce(&Csv) -> Result<T, BriefError>,
) -> Result<T, BriefError> {
    let v = f(&csv)?;
    warnings.extend(csv.damage());
    Ok(v)
}

/// Reads a run directory.
pub fn run(dir: &Path, manifest: Value) -> Result<Run, BriefError> {
    const C: &str = "run";
    let s = required(
        dir,
        "summary.csv",
        "it holds the metrics the brief reports",
        C,
    )?;
    let mut warnings = Vec::new();
    let summary = checked(s, &mut warnings, summary)?;
    let timeseries = optional(dir, "timeseries.csv", C)?
        .map(|c| checked(c, &mut warnings, timeseries))
        .transpose()?;
    let platforms = optional(dir, "by_platform.csv", C)?
        .map(|c| checked(c, &mut warnings, |c| groups(c, "platform", true)))
        .transpose()?;
    let classes = optional(dir, "by_class.csv", C)?
        .map(|c| checked(c, &mut warnings, |c| groups(c, "class", false)))
        .transpose()?;
    let paths = optional(dir, "paths.csv", C)?
        .map(|c| checked(c, &mut warnings, paths))
        .transpose()?;
    Ok(Run {
        dir: dir.to_path_buf(),
        manifest,
        summary,
        timeseries,
        platforms,
        classes,
        paths,
        warnings,
    })
}

/// Reads one side (`base/` or `reform/`) of a comparison.
fn side(dir: &Path, name: &str) -> Result<Run, BriefError> {
    let sub = dir.join(name);
    let file = sub.join("manifest.json");
    if !file.exists() {
        return Err(BriefError::MissingFile {
            file,
            what: "a comparison holds the two runs it compares in base/ and reform/",
            command: "compare",
        });
    }
    let (_, m) = manifest(&sub)?;
    run(&sub, m)
}

/// The run folder of the `i`-th reform (from 0, in the order given to `compare`,
/// which is delta.csv's order) of a comparison of `n` reforms, if it holds a
/// manifest: `reform/` for a two-arm comparison, `reforms/<i + 1>/` otherwise
/// (the layout `compare` writes).
fn reform_dir(dir: &Path, i: usize, n: usize) -> Option<PathBuf> {
    let sub = if n == 1 {
        dir.join("reform")
    } else {
        dir.join("reforms").join((i + 1).to_string())
    };
    sub.join("manifest.json").is_file().then_some(sub)
}

/// Reads effectiveness.csv when present.
fn effectiveness(
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<Effect>>, BriefError> {
    let Some(csv) = optional(dir, "effectiveness.csv", Kind::Compare.command())? else {
        return Ok(None);
    };
    let names = ["reform", "metric", "value", "ci_low", "ci_high"];
    let idx: Vec<usize> = names.iter().map(|n| csv.col(n)).collect::<Result<_, _>>()?;
    // With a `group` column the file holds the 1+7 rows and the rows of all
    // exporters: the ranking is the 1+7 one (MODEL.md §7), whatever the row order.
    let group = csv.header.iter().position(|h| h == "group");
    let pilot = |r: &Vec<String>| group.is_some_and(|g| csv.text(r, g) == "1+7");
    let any_pilot = csv.rows.iter().any(|(_, r)| pilot(r));
    let mut out = Vec::new();
    for (line, r) in csv.rows.iter().filter(|(_, r)| !any_pilot || pilot(r)) {
        let cell = |k: usize| r.get(idx[k]).map(String::as_str).unwrap_or("");
        out.push(Effect {
            reform: csv.text(r, idx[0]),
            metric: cell(1).to_string(),
            value: csv.num(*line, names[2], cell(2))?,
            lo: csv.num(*line, names[3], cell(3))?,
            hi: csv.num(*line, names[4], cell(4))?,
        });
    }
    warnings.extend(csv.damage());
    Ok(Some(out))
}

/// Reads a comparison directory.
pub fn compare(dir: &Path, manifest: Value) -> Result<Compare, BriefError> {
    let base = side(dir, "base")?;
    let csv = required(
        dir,
        "delta.csv",
        "it holds the paired differences between baseline and reform",
        Kind::Compare.command(),
    )?;
    let names = [
        "metric",
        "unit",
        "base_mean",
        "reform_mean",
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "relative_change",
        "significant",
    ];
    let idx: Vec<usize> = names.iter().map(|n| csv.col(n)).collect::<Result<_, _>>()?;
    let reform_col = csv.header.iter().position(|h| h == "reform");
    let mut delta = Vec::new();
    for (line, r) in &csv.rows {
        let cell = |k: usize| r.get(idx[k]).map(String::as_str).unwrap_or("");
        let n = |k: usize| csv.num(*line, names[k], cell(k));
        let significant = match cell(8).trim() {
            "yes" => Some(true),
            "no" => Some(false),
            "" => None,
            other => {
                return Err(csv.malformed(
                    Some(*line),
                    format!("column significant: {other:?} is not yes or no"),
                ));
            }
        };
        delta.push(Delta {
            arm: reform_col.map(|i| csv.text(r, i)).unwrap_or_default(),
            metric: cell(0).to_string(),
            unit: cell(1).to_string(),
            base: n(2)?,
            reform: n(3)?,
            delta: n(4)?,
            lo: n(5)?,
            hi: n(6)?,
            rel: n(7)?,
            significant,
        });
    }
    let mut warnings = base.warnings.clone();
    warnings.extend(csv.damage());
    let mut names: Vec<String> = Vec::new();
    for d in &delta {
        if !names.contains(&d.arm) {
            names.push(d.arm.clone());
        }
    }
    let mut reforms = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(sub) = reform_dir(dir, i, names.len()) {
            let (_, m) = self::manifest(&sub)?;
            let r = run(&sub, m)?;
            warnings.extend(r.warnings.iter().cloned());
            reforms.push((name.clone(), r));
        }
    }
    let reform = match reforms.first() {
        Some((_, r)) => r.clone(),
        None => side(dir, "reform")?,
    };
    let effectiveness = effectiveness(dir, &mut warnings)?;
    Ok(Compare {
        dir: dir.to_path_buf(),
        manifest,
        base,
        reform,
        reforms,
        delta,
        effectiveness,
        warnings,
    })
}

/// Reads a sweep directory.
pub fn sweep(dir: &Path, manifest: Value) -> Result<Sweep, BriefError> {
    if !dir.join("sweep.csv").exists() && manifest.get("complete") == Some(&Value::Bool(false)) {
        return Err(BriefError::UnfinishedSweep(dir.to_path_buf()));
    }
    let csv = required(
        dir,
        "sweep.csv",
        "it holds one row of key metrics per grid point",
        Kind::Sweep.command(),
    )?;
    let p = csv.col("point")?;
    // Grid keys: from the manifest when given, else the columns between `point`
    // and the first metric column.
    let from_manifest: Option<Vec<String>> =
        manifest.get("grid").and_then(Value::as_array).map(|g| {
            g.iter()
                .filter_map(|e| e.get("key").and_then(Value::as_str).map(str::to_string))
                .collect()
        });
    let keys: Vec<String> = match from_manifest {
        Some(k) if !k.is_empty() => k,
        _ => csv
            .header
            .iter()
            .skip(p + 1)
            .take_while(|h| !h.ends_with("_mean"))
            .cloned()
            .collect(),
    };
    let key_idx: Vec<usize> = keys.iter().map(|k| csv.col(k)).collect::<Result<_, _>>()?;
    // The columns `{name}{suffix}` with their `{name}_ci_low` and `{name}_ci_high`.
    let with_ci = |suffix: &str| -> Result<Vec<(String, usize, usize, usize)>, BriefError> {
        let mut out = Vec::new();
        for h in &csv.header {
            if let Some(m) = h.strip_suffix(suffix) {
                let lo = csv.col(&format!("{m}_ci_low"))?;
                let hi = csv.col(&format!("{m}_ci_high"))?;
                out.push((m.to_string(), csv.col(h)?, lo, hi));
            }
        }
        Ok(out)
    };
    let metric_cols = with_ci("_mean")?;
    // Appended columns: percentiles of each metric, shares of --exceed targets.
    let mut pct_cols = Vec::new();
    for (m, ..) in &metric_cols {
        let find = |s: &str| csv.header.iter().position(|h| *h == format!("{m}_{s}"));
        if let (Some(a), Some(b), Some(c)) = (find("p5"), find("p50"), find("p95")) {
            pct_cols.push((m.clone(), a, b, c));
        }
    }
    let exceed_cols = with_ci("_share")?;
    let mut points = Vec::new();
    for (line, r) in &csv.rows {
        let n = |i: usize| {
            csv.num(
                *line,
                &csv.header[i],
                r.get(i).map(String::as_str).unwrap_or(""),
            )
        };
        let mut metrics = HashMap::new();
        for (m, i, lo, hi) in &metric_cols {
            metrics.insert(m.clone(), (n(*i)?, n(*lo)?, n(*hi)?));
        }
        let mut percentiles = HashMap::new();
        for (m, a, b, c) in &pct_cols {
            percentiles.insert(m.clone(), (n(*a)?, n(*b)?, n(*c)?));
        }
        let exceed = exceed_cols
            .iter()
            .map(|(_, i, lo, hi)| Ok((n(*i)?, n(*lo)?, n(*hi)?)))
            .collect::<Result<Vec<_>, BriefError>>()?;
        points.push(Point {
            point: csv.text(r, p),
            values: key_idx.iter().map(|&i| csv.text(r, i)).collect(),
            metrics,
            percentiles,
            exceed,
        });
    }
    if points.is_empty() {
        return Err(csv.malformed(None, "no grid points (the file has only a header)".into()));
    }
    Ok(Sweep {
        dir: dir.to_path_buf(),
        manifest,
        keys,
        points,
        exceed: exceed_cols.into_iter().map(|c| c.0).collect(),
        warnings: csv.damage().into_iter().collect(),
    })
}

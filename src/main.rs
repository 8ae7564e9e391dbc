//! The `refundsim` command line: parses flags, calls the library, prints, and
//! picks the exit code (0 success, 1 failure while running, 2 bad usage or input,
//! 130 interrupted by Ctrl-C).
//!
//! Standard output is written through [`write_out`] (and the `say!` macro), never
//! `print!`: a closed pipe (`refundsim explain | head -1`) ends the program
//! quietly, like ripgrep, and any other write error (a full disk) is reported
//! instead of panicking.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use refundsim::engine::{self, Model};
use refundsim::output::{OutputError, Staging, check_destination};
use refundsim::report::{self, RunInfo};
use refundsim::scenario::{Scenario, ScenarioError};

/// Monte Carlo simulator of export VAT-refund liquidity for Guizhou's 1+7 platforms.
#[derive(Parser)]
#[command(name = "refundsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and write summary.csv, timeseries.csv, by_platform.csv,
    /// by_class.csv, paths.csv and manifest.json.
    Run(RunArgs),
    /// Check scenario files (and --set overrides) without running.
    Validate(ScenarioArgs),
    /// Compare one or more reforms with a baseline on common random numbers: every
    /// arm, delta.csv with paired differences, 95% intervals and a significance
    /// verdict, and effectiveness.csv ranking the reforms by working capital released.
    Compare(CompareArgs),
    /// Run a full factorial grid of parameter values (resumable): sweep.csv with one
    /// row per point.
    Sweep(SweepArgs),
    /// Find the smallest (or largest) value of one lever meeting a target, by
    /// bisection on common random numbers (resumable): size.csv and answer.json.
    Size(SizeArgs),
    /// Which assumption matters most: a tornado of paired deltas, or Morris
    /// elementary effects (resumable): tornado.csv or morris.csv.
    Sensitivity(SensitivityArgs),
    /// Write bilingual briefing tables (brief.md, brief.html, brief.xlsx) into run,
    /// comparison, sweep, size or sensitivity directories.
    Brief {
        /// Directories written by `refundsim run`, `compare`, `sweep`, `size` or `sensitivity`.
        #[arg(required = true, value_name = "RUN_DIR")]
        dirs: Vec<PathBuf>,
        /// Language of the tables: zh, en or both (中文 and English side by side).
        #[arg(long, default_value = "both", value_parser = ["zh", "en", "both"])]
        lang: String,
    },
    /// Fit the refund-speed policy from refund records (docs/model.md §11) and write
    /// it as a scenario overlay, with calibration.md and calibration.html beside it.
    Calibrate(CalibrateArgs),
    /// Describe scenario keys (unit, default, allowed values, meaning) and output
    /// metrics (unit, exact definition, mechanism, share or not).
    Explain {
        /// A key, section or metric, e.g. `pools.turnover.capital`, `policy`,
        /// `turnover.blocked_share` or `guarantee`; all keys and metrics if omitted.
        key: Option<String>,
    },
    /// Merge the shard folders of a run, sweep, sensitivity or compare computed with
    /// `--shard I/N` into the files of the unsharded one, byte for byte (timing fields aside).
    Merge(MergeArgs),
}

#[derive(Args, Clone)]
struct MergeArgs {
    /// Shard folders written by `run`, `sweep`, `sensitivity` or `compare` with
    /// `--shard I/N`, every I once, all of one command.
    #[arg(required = true, value_name = "SHARD_DIR")]
    dirs: Vec<PathBuf>,
    /// Output directory of the merged run, sweep, sensitivity or comparison.
    #[arg(long, value_name = "DIR", required = true)]
    out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Replace an earlier refundsim output directory.
    #[arg(long)]
    force: bool,
}

/// `--shard I/N` or `--shard auto`.
fn shard_arg(s: &str) -> Result<String, String> {
    if s != "auto" {
        refundsim::shard::Shard::parse(s)?;
    }
    Ok(s.to_string())
}

/// The shard a `--shard` argument names (`auto`: from the scheduler's environment).
fn resolve_shard(arg: &Option<String>) -> Result<Option<refundsim::shard::Shard>, Failure> {
    use refundsim::shard::Shard;
    match arg.as_deref() {
        None => Ok(None),
        Some("auto") => Shard::auto(&|k| std::env::var(k).ok())
            .map(Some)
            .map_err(|e| usage(anyhow::anyhow!(e))),
        Some(s) => Shard::parse(s)
            .map(Some)
            .map_err(|e| usage(anyhow::anyhow!(e))),
    }
}

#[derive(Args, Clone)]
struct ScenarioArgs {
    /// Scenario files, merged left to right (tables key by key; values replaced).
    #[arg(required = true, value_name = "SCENARIO.toml")]
    files: Vec<PathBuf>,
    /// Override a key: `--set pools.turnover.capital=5e8`, `--set platform.gui-an.exporters=100`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Master seed (overrides scenario.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Also write every measured claim as a refund record (docs/model.md §11) to this CSV
    /// file, streamed path by path (input for `refundsim calibrate`).
    #[arg(long, value_name = "FILE")]
    claims_out: Option<PathBuf>,
    /// With --claims-out: write the claims of the first N paths only (default: all).
    #[arg(long, value_name = "N", requires = "claims_out", value_parser = clap::value_parser!(u32).range(1..))]
    claims_paths: Option<u32>,
    /// Compute only shard I of N (paths p with p mod N = I − 1) into a shard folder
    /// for `refundsim merge`; `auto` reads a Slurm array task or Kubernetes index.
    #[arg(long, value_name = "I/N|auto", value_parser = shard_arg, conflicts_with = "claims_out")]
    shard: Option<String>,
    #[command(flatten)]
    control: RunControl,
}

#[derive(Args, Clone)]
struct RunControl {
    /// Number of Monte Carlo paths, 1 to 10000000 (overrides scenario.paths).
    #[arg(long, value_parser = paths_arg)]
    paths: Option<u32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Output directory (default: output/<scenario name>, with +<overlay stem> for
    /// each overlay file, -vs-… for a comparison and -sweep for a sweep).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Replace an earlier refundsim output directory (refused if it holds any
    /// file refundsim did not write).
    #[arg(long)]
    force: bool,
}

#[derive(Args, Clone)]
struct CompareArgs {
    /// Baseline scenario files, merged left to right.
    #[arg(required = true, value_name = "BASE.toml")]
    files: Vec<PathBuf>,
    /// A reform: overlays merged after the baseline files. Repeat for several
    /// reforms, each paired with the same baseline; a reform of several overlays
    /// is `--reform A.toml+B.toml` (or `--reform A.toml B.toml`).
    #[arg(long = "reform", required = true, num_args = 1.., value_name = "OVERLAY.toml")]
    reform: Vec<String>,
    /// The values of each `--reform` occurrence (one reform each), from the
    /// parsed matches (see [`main`]).
    #[arg(skip)]
    reforms: Vec<Vec<String>>,
    /// Override a key in every arm.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Override a key in the reform arms only (after --set).
    #[arg(long = "reform-set", value_name = "KEY=VALUE")]
    reform_sets: Vec<String>,
    /// Compute only the paths p with p mod N = I − 1 of every arm into a shard
    /// folder for `refundsim merge`; `auto` reads a Slurm array task or Kubernetes index.
    #[arg(long, value_name = "I/N|auto", value_parser = shard_arg)]
    shard: Option<String>,
    #[command(flatten)]
    control: RunControl,
}

#[derive(Args, Clone)]
struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// A grid axis: `--grid pools.turnover.capital=1e8,2e8,4e8` or a range
    /// `--grid pools.turnover.capital=1e8:1e9:5` (start:end:count). Repeat for more axes.
    #[arg(long = "grid", required = true, value_name = "KEY=V1,V2,…")]
    grid: Vec<String>,
    /// Report, per point, the share of paths meeting a threshold with its Wilson
    /// 95% interval: `--exceed 'turnover.blocked_share<=0.05'` (also <, >=, >).
    /// Repeatable; adds columns TARGET_share, TARGET_ci_low, TARGET_ci_high to sweep.csv.
    #[arg(long = "exceed", value_name = "METRIC<=X")]
    exceed: Vec<String>,
    /// Compute only the grid points i with i mod N = I − 1 (numbered from 0) into a
    /// shard folder for `refundsim merge`; `auto` reads a Slurm array task or Kubernetes index.
    #[arg(long, value_name = "I/N|auto", value_parser = shard_arg)]
    shard: Option<String>,
    #[command(flatten)]
    control: RunControl,
}

#[derive(Args, Clone)]
struct CalibrateArgs {
    /// Refund records: CSV (UTF-8, `#` comment lines allowed) or .xlsx, columns of docs/model.md §11.
    #[arg(value_name = "RECORDS.csv")]
    records: PathBuf,
    /// Base scenario files (calendar, filing rule, class treatment, platforms);
    /// default: the official calendar, mon-fri, monthly filing in 10 working days.
    #[arg(long = "scenario", num_args = 1.., value_name = "BASE.toml")]
    scenario: Vec<PathBuf>,
    /// Override a key of the base scenario.
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "scenario")]
    sets: Vec<String>,
    /// A population CSV (id,platform,sector,kind,annual_exports,class) to fit export
    /// sizes and class mix per platform from.
    #[arg(long, value_name = "FIRMS.csv")]
    exporters: Option<PathBuf>,
    /// The overlay to write (default: output/<records name>-calibration/overlay.toml);
    /// calibration.md and calibration.html are written beside it.
    #[arg(long, value_name = "OVERLAY.toml")]
    out: Option<PathBuf>,
    /// Largest share of bad rows to leave out before giving up (default 0.05).
    #[arg(long, value_name = "SHARE", default_value_t = 0.05)]
    max_bad: f64,
    /// Seed of the bootstrap intervals.
    #[arg(long, default_value_t = refundsim::calibrate::SEED)]
    seed: u64,
    /// Replace an existing overlay and its reports.
    #[arg(long)]
    force: bool,
    /// Accepted for symmetry with `run`; calibrate shows no progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Clone)]
struct SizeArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The numeric key to size: `pools.turnover.capital`, `policy.review.2` (class II;
    /// a distribution is moved by its mean, keeping its cv), `policy.quota.monthly`.
    #[arg(long, value_name = "KEY")]
    lever: String,
    /// Search range `LO:HI`, e.g. `5000万:5亿` or `1e8:1e9`.
    #[arg(long, value_name = "LO:HI")]
    range: String,
    /// Target: `METRIC<=X`, `>=`, `<` or `>`, e.g. `turnover.blocked_share<=0.05`.
    #[arg(long, value_name = "METRIC<=X")]
    target: String,
    /// `mean` (the mean over paths meets the target) or a share P of paths that
    /// must meet it, e.g. 0.9.
    #[arg(long, default_value = "mean", value_name = "P|mean")]
    confidence: String,
    /// Resolution of the answer (default 1% of the range).
    #[arg(long, value_name = "S")]
    step: Option<String>,
    /// Master seed (overrides scenario.seed).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    control: RunControl,
}

#[derive(Args, Clone)]
struct SensitivityArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// A parameter and its range, `KEY=LOW,HIGH` (repeatable). Default: every
    /// numeric lever and calibration estimate of the scenario, ±--swing.
    #[arg(long = "param", value_name = "KEY=LOW,HIGH")]
    params: Vec<String>,
    /// Relative move of the default parameters (0.25 = ±25%).
    #[arg(long, default_value_t = 0.25)]
    swing: f64,
    /// A metric to report (repeatable; default tied_up_net_avg, days_to_cash_avg,
    /// fiscal_cost).
    #[arg(long = "metric", value_name = "METRIC")]
    metrics: Vec<String>,
    /// `tornado` (one at a time) or `morris` (elementary effects).
    #[arg(long, default_value = "tornado", value_parser = ["tornado", "morris"])]
    method: String,
    /// Morris trajectories.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=1000))]
    trajectories: u32,
    /// Compute only the distinct evaluations k with k mod N = I − 1 (numbered from
    /// 0 in the order first met) into a shard folder for `refundsim merge`; `auto`
    /// reads a Slurm array task or Kubernetes index.
    #[arg(long, value_name = "I/N|auto", value_parser = shard_arg)]
    shard: Option<String>,
    /// Master seed (overrides scenario.seed).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    control: RunControl,
}

/// `--paths`: bounded exactly like `scenario.paths`.
fn paths_arg(s: &str) -> Result<u32, String> {
    let max = refundsim::scenario::keys::MAX_PATHS;
    match s.trim().parse::<u64>() {
        Ok(n) if (1..=max as u64).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "must be a whole number from 1 to {max} (the limit of scenario.paths)"
        )),
    }
}

/// Refuses (exit 2, with the estimate) a run of `s` that would not fit in the
/// machine's available memory; skipped where /proc/meminfo cannot be read.
fn check_memory(s: &Scenario, paths: u32, threads: usize, arms: u32) -> Result<(), Failure> {
    let Some(available) = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| refundsim::footprint::available_from_meminfo(&t))
    else {
        return Ok(());
    };
    refundsim::footprint::estimate(s, paths, threads, arms)
        .check(available, paths)
        .map_err(usage)
}

/// An error with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure {
            code: 2,
            error: anyhow::Error::new(e),
        }
    }
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: e.into(),
    }
}

fn failed(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 1,
        error: e.into(),
    }
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// A failure while writing outputs: exit 130 when it was Ctrl-C, else 1.
fn write_failed(e: OutputError) -> Failure {
    Failure {
        code: if matches!(e, OutputError::Interrupted) {
            INTERRUPTED
        } else {
            1
        },
        error: e.into(),
    }
}

/// The simulation was stopped by Ctrl-C.
fn interrupted(_: engine::Cancelled) -> Failure {
    Failure {
        code: INTERRUPTED,
        error: anyhow::anyhow!("interrupted; nothing was written"),
    }
}

/// Standard output was closed by its reader: end quietly.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
struct StdoutClosed;

/// Writes `text` to standard output. A closed pipe becomes a quiet exit 0 (the
/// reader has what it wanted, as with ripgrep); any other error a failure.
fn write_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Failure {
                    code: 0,
                    error: StdoutClosed.into(),
                }
            } else {
                failed(anyhow::Error::new(e).context("cannot write to standard output"))
            }
        })
}

/// `println!` to standard output through [`write_out`]; returns early on failure.
macro_rules! say {
    ($($arg:tt)*) => {
        write_out(&format!("{}\n", format_args!($($arg)*)))?
    };
}

fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Each --reform occurrence is one reform (its values stack).
    if let (Command::Compare(a), Some(m)) =
        (&mut cli.command, matches.subcommand_matches("compare"))
    {
        a.reforms = m
            .get_occurrences::<String>("reform")
            .map(|o| o.map(|v| v.cloned().collect()).collect())
            .unwrap_or_default();
    }
    if !matches!(cli.command, Command::Validate(_) | Command::Explain { .. }) {
        cancel_flag();
    }
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
        Command::Compare(a) => compare(a),
        Command::Brief { dirs, lang } => brief(&dirs, &lang),
        Command::Sweep(a) => sweep(a),
        Command::Calibrate(a) => calibrate(a),
        Command::Size(a) => size(a),
        Command::Sensitivity(a) => sensitivity(a),
        Command::Explain { key } => refundsim::explain::explain(key.as_deref())
            .map_err(|e| usage(anyhow::anyhow!(e)))
            .and_then(|t| write_out(&t)),
        Command::Merge(a) => merge(a),
    };
    // A Ctrl-C that came while the last output was being committed: the output
    // is complete, but the user asked to stop.
    let result = result.and_then(|()| {
        if refundsim::output::stop_requested() {
            Err(Failure {
                code: INTERRUPTED,
                error: anyhow::anyhow!("interrupted; the output written was already complete"),
            })
        } else {
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.error.is::<StdoutClosed>() => ExitCode::from(f.code),
        Err(f) => {
            let _ = writeln!(std::io::stderr(), "error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

/// Loads a stack of scenario files, named and titled after the whole stack.
fn load_stack(files: &[PathBuf], sets: &[String]) -> Result<Scenario, Failure> {
    let mut s = Scenario::load(files, sets)?;
    refundsim::naming::name_stack(&mut s, files, sets);
    Ok(s)
}

fn load(a: &ScenarioArgs) -> Result<Scenario, Failure> {
    load_stack(&a.files, &a.sets)
}

fn validate(a: ScenarioArgs) -> Result<(), Failure> {
    let s = load(&a)?;
    // The warnings a run would show (they need the population: drawn only if it
    // fits in memory, as for a run of one path).
    check_memory(&s, 1, 1, 1)?;
    warn(&refundsim::engine::warnings(
        &s,
        &refundsim::population::exporters(&s),
    ));
    say!(
        "ok: {} — {} on {}, {} paths, window {} + {} days",
        s.name,
        plural(s.n_exporters(), "exporter"),
        plural(s.platforms.len(), "platform"),
        s.paths,
        s.start_date,
        s.horizon_days
    );
    Ok(())
}

/// `1 platform`, `2 platforms`.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A progress bar on stderr, hidden with --quiet or when stderr is not a terminal.
fn progress(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} paths  {{elapsed_precise}} elapsed, ETA {{eta}}"
        ))
        .expect("valid template"),
    );
    bar
}

fn threads_of(t: Option<u32>) -> usize {
    t.map(|t| t as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

fn stem(p: &std::path::Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Loads the base and every reform of a comparison (the reforms with `--set`,
/// then `--reform-set`), paired on the base's seed and paths.
fn compare_plan(a: &CompareArgs) -> Result<refundsim::compare::Plan, Failure> {
    use refundsim::compare::{self, Plan};
    compare::check_reform_sets(&a.reform_sets).map_err(usage)?;
    let specs = compare::reform_specs(&a.reforms).map_err(usage)?;
    let mut base = load_stack(&a.files, &a.sets)?;
    if let Some(p) = a.control.paths {
        base.paths = p;
    }
    let mut sets = a.sets.clone();
    sets.extend(a.reform_sets.iter().cloned());
    let mut reforms = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut files = a.files.clone();
        files.extend(spec.files.iter().cloned());
        let s = load_stack(&files, &sets)?;
        reforms.push((spec, s));
    }
    Ok(Plan::new(base, reforms))
}

/// The default folder of a comparison: `output/<base>-vs-<reform>[-vs-<reform>…]`.
fn compare_folder(plan: &refundsim::compare::Plan) -> PathBuf {
    let mut name = plan.base.scenario.name.clone();
    for (spec, _) in &plan.reforms {
        // A label made of paths (two reforms with the same stems) stays one folder.
        let label: String = spec
            .label
            .chars()
            .map(|c| if std::path::is_separator(c) { '_' } else { c })
            .collect();
        name = format!("{name}-vs-{label}");
    }
    PathBuf::from("output").join(name)
}

fn compare(a: CompareArgs) -> Result<(), Failure> {
    let plan = compare_plan(&a)?;
    let shard = resolve_shard(&a.shard)?;
    let threads = threads_of(a.control.threads);
    let paths = plan.paths();
    let local = shard.map_or(paths, |s| s.len_of(paths as u64) as u32);
    let arms = 1 + plan.reforms.len() as u32;
    check_memory(plan.largest(), local.max(1), threads, arms)?;
    let dest = a.control.out.clone().unwrap_or_else(|| {
        let mut d = compare_folder(&plan);
        if let Some(s) = shard {
            d.as_mut_os_string()
                .push(format!("-shard-{}-of-{}", s.index, s.count));
        }
        d
    });
    check_destination(&dest, a.control.force).map_err(usage)?;
    // Warnings of every arm (the population's once) and of the pairing, shown
    // before the work and recorded in every manifest.
    warn(&plan.warnings);
    let bar = progress(arms as u64 * local as u64, a.control.quiet, "comparing");
    let started = Instant::now();
    let cmp = plan
        .run_shard(threads, &|| bar.inc(1), cancel_flag(), shard)
        .map_err(interrupted)?;
    bar.finish_and_clear();
    let info = RunInfo {
        threads,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        command: std::env::args().collect(),
    };
    let req = refundsim::compare::Request {
        base_files: &a.files,
        sets: &a.sets,
        reform_sets: &a.reform_sets,
    };
    let staging = Staging::new(&dest).map_err(write_failed)?;
    if let Some(s) = shard {
        for (file, bytes) in cmp.shard_files(&info, &req, s) {
            staging.write(&file, &bytes).map_err(write_failed)?;
        }
        let written = staging.commit(a.control.force).map_err(write_failed)?;
        say!(
            "compare shard {s}: {local} of {paths} paths in each of {arms} arms → {}",
            written.display()
        );
        return Ok(());
    }
    for (file, text) in cmp.files(&info, &req) {
        staging
            .write(&file, text.as_bytes())
            .map_err(write_failed)?;
    }
    let written = staging.commit(a.control.force).map_err(write_failed)?;
    print_comparison(&cmp)?;
    say!("→ {}", written.display());
    Ok(())
}

/// The console report of a comparison: what was compared and whom it covers,
/// the ranking of the reforms (1+7 group), and for a single reform its deltas.
fn print_comparison(cmp: &refundsim::compare::Comparison) -> Result<(), Failure> {
    let s = &cmp.base.0.scenario;
    let paths = cmp.base.1.paths.len();
    say!(
        "{} vs {} — {} paths on common random numbers, seed {}",
        s.name,
        cmp.reforms
            .iter()
            .map(|r| r.spec.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        paths,
        s.seed
    );
    say!("covers {}", refundsim::naming::population(s).0);
    write_out(&refundsim::compare::ranking_table(
        &cmp.effectiveness(),
        &refundsim::naming::pilot_population(s).0,
        paths,
    ))?;
    if let [only] = cmp.deltas().as_slice() {
        say!("\nAll exporters, {}:", cmp.reforms[0].spec.label);
        write_out(&refundsim::compare::console_table(only))?;
    }
    Ok(())
}

fn sweep(a: SweepArgs) -> Result<(), Failure> {
    use refundsim::sweep::{self, Plan};
    let axes = a
        .grid
        .iter()
        .map(|g| sweep::parse_axis(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(anyhow::anyhow!(e)))?;
    let exceed = a
        .exceed
        .iter()
        .map(|t| refundsim::size::Target::parse_flag(t, "--exceed"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(anyhow::anyhow!(e)))?;
    let mut plan = Plan::new(&a.scenario.files, &a.scenario.sets, axes, a.control.paths)?;
    plan.exceed = exceed;
    for (_, s) in &mut plan.points {
        refundsim::naming::name_stack(s, &a.scenario.files, &a.scenario.sets);
    }
    // Points run one after the other: the largest must fit.
    for (_, s) in &plan.points {
        check_memory(s, s.paths, threads_of(a.control.threads), 1)?;
    }
    warn(&refundsim::engine::warnings(
        &plan.points[0].1,
        &refundsim::population::exporters(&plan.points[0].1),
    ));
    let shard = resolve_shard(&a.shard)?;
    let name = &plan.points[0].1.name;
    let dest = a.control.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(match shard {
            None => format!("{name}-sweep"),
            Some(s) => format!("{name}-sweep-shard-{}-of-{}", s.index, s.count),
        })
    });
    let resuming = sweep::check_dir_shard(&dest, &plan, a.control.force, shard).map_err(usage)?;
    if resuming {
        warn(&sweep::damaged_points(&plan, &dest));
    }
    let threads = threads_of(a.control.threads);
    let bar = progress(
        plan.points
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.is_none_or(|s| s.owns(*i as u64)))
            .map(|(_, (_, s))| s.paths as u64)
            .sum(),
        a.control.quiet,
        &format!("sweeping {} points", plan.points.len()),
    );
    let cancel = cancel_flag();
    let result = sweep::run_shard(
        &plan,
        &dest,
        a.control.force,
        threads,
        &|n| bar.inc(n),
        cancel,
        shard,
    );
    bar.finish_and_clear();
    let csv = result.map_err(|e| match e {
        sweep::SweepError::Interrupted { .. }
        | sweep::SweepError::Output(OutputError::Interrupted) => Failure {
            code: INTERRUPTED,
            error: e.into(),
        },
        e => failed(e),
    })?;
    if resuming {
        say!("resumed an interrupted sweep in {}", dest.display());
    }
    if let Some(s) = shard {
        say!("sweep shard {s} → {}", csv.display());
        return Ok(());
    }
    write_out(
        &std::fs::read_to_string(&csv)
            .map(|t| sweep_table(&t))
            .unwrap_or_default(),
    )?;
    say!("→ {}", csv.display());
    Ok(())
}

fn study_failure(e: refundsim::size::StudyError) -> Failure {
    use refundsim::size::StudyError;
    match e {
        StudyError::Usage(m) => usage(anyhow::anyhow!(m)),
        StudyError::Scenario(e) => e.into(),
        StudyError::Run(refundsim::sweep::SweepError::Foreign(d)) => {
            usage(refundsim::sweep::SweepError::Foreign(d))
        }
        StudyError::Run(
            e @ (refundsim::sweep::SweepError::Cancelled
            | refundsim::sweep::SweepError::Output(OutputError::Interrupted)),
        ) => Failure {
            code: INTERRUPTED,
            error: e.into(),
        },
        StudyError::Run(e) => failed(e),
    }
}

fn size(a: SizeArgs) -> Result<(), Failure> {
    use refundsim::size::{self, Search};
    let search = Search::new(
        &a.scenario.files,
        &a.scenario.sets,
        &a.lever,
        &a.range,
        &a.target,
        &a.confidence,
        a.step.as_deref(),
        a.control.paths,
        a.seed,
    )
    .map_err(study_failure)?;
    // Memory first, at both ends of the range (a lever such as a platform's
    // exporter count grows the run), before the population is drawn.
    for v in [search.lo, search.hi] {
        let s = search.scenario(v)?;
        check_memory(&s, s.paths, threads_of(a.control.threads), 1)?;
    }
    warn(&refundsim::engine::warnings(
        &search.base,
        &refundsim::population::exporters(&search.base),
    ));
    let dest = a.control.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!(
            "{}-size-{}",
            search.base.name,
            search.lever.key.replace('.', "_")
        ))
    });
    let resuming = search.resumable(&dest, a.control.force).map_err(usage)?;
    let bar = progress(
        search.max_evaluations() as u64 * search.base.paths as u64,
        a.control.quiet,
        &format!("sizing ≤ {} evaluations", search.max_evaluations()),
    );
    let cancel = cancel_flag();
    let threads = threads_of(a.control.threads);
    let result = size::run(
        &search,
        &dest,
        a.control.force,
        threads,
        &|n| bar.inc(n),
        cancel,
    );
    bar.finish_and_clear();
    let ans = result.map_err(study_failure)?;
    if resuming {
        say!("resumed an interrupted search in {}", dest.display());
    }
    warn(&ans.warnings);
    let show = short;
    say!(
        "{:>22} {:>14} {:>26} {:>6}",
        ans.lever,
        "statistic",
        "95% interval",
        "meets"
    );
    for p in &ans.points {
        say!(
            "{:>22} {:>14} {:>26} {:>6}",
            refundsim::lever::fmt_num(p.value),
            show(p.statistic),
            format!("{} – {}", show(p.ci_low), show(p.ci_high)),
            if p.meets { "yes" } else { "no" }
        );
    }
    let what = match search.confidence {
        size::Confidence::Mean => "on the mean".to_string(),
        size::Confidence::Share(p) => format!("in at least {:.0}% of paths", 100.0 * p),
    };
    match ans.value {
        Some(v) => say!(
            "answer: {} = {} is the {} value in {}:{} with {} {} ({} paths, {} evaluations)",
            ans.lever,
            show(v),
            ans.direction,
            show(search.lo),
            show(search.hi),
            ans.target,
            what,
            search.base.paths,
            ans.evaluations
        ),
        None => say!(
            "answer: no value of {} in {}:{} meets {} {}",
            ans.lever,
            show(search.lo),
            show(search.hi),
            ans.target,
            what
        ),
    }
    say!("→ {}", dest.join("answer.json").display());
    if ans.value.is_none() {
        return Err(failed(anyhow::anyhow!(
            "the target is not met anywhere in the range; widen --range"
        )));
    }
    Ok(())
}

fn sensitivity(a: SensitivityArgs) -> Result<(), Failure> {
    use refundsim::sensitivity::{self, Analysis, Method, Outcome};
    let method = match a.method.as_str() {
        "morris" => Method::Morris {
            trajectories: a.trajectories as usize,
        },
        _ => Method::Tornado,
    };
    let an = Analysis::new(
        &a.scenario.files,
        &a.scenario.sets,
        &a.params,
        a.swing,
        &a.metrics,
        method,
        a.control.paths,
        a.seed,
    )
    .map_err(study_failure)?;
    // Memory first, for every evaluation, before the population is drawn.
    for (_, s) in &an.points {
        check_memory(s, s.paths, threads_of(a.control.threads), 1)?;
    }
    let base = &an.points[0].1;
    warn(&refundsim::engine::warnings(
        base,
        &refundsim::population::exporters(base),
    ));
    let shard = resolve_shard(&a.shard)?;
    let dest = a.control.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(match shard {
            None => format!("{}-{}", base.name, a.method),
            Some(s) => format!(
                "{}-{}-shard-{}-of-{}",
                base.name, a.method, s.index, s.count
            ),
        })
    });
    let resuming = an
        .resumable_shard(&dest, a.control.force, shard)
        .map_err(usage)?;
    let bar = progress(
        an.distinct()
            .iter()
            .filter(|(k, _)| shard.is_none_or(|s| s.owns(*k as u64)))
            .map(|(_, s)| s.paths as u64)
            .sum(),
        a.control.quiet,
        &format!(
            "{} parameters, {} evaluations",
            an.params.len(),
            an.points.len()
        ),
    );
    let cancel = cancel_flag();
    let threads = threads_of(a.control.threads);
    let started = Instant::now();
    let result = sensitivity::run_shard(
        &an,
        &dest,
        a.control.force,
        threads,
        &|n| bar.inc(n),
        cancel,
        shard,
    );
    bar.finish_and_clear();
    let outcome = result.map_err(study_failure)?;
    if resuming {
        say!("resumed an interrupted study in {}", dest.display());
    }
    let Some(outcome) = outcome else {
        say!(
            "sensitivity shard {} → {}",
            shard.map(|s| s.to_string()).unwrap_or_default(),
            dest.display()
        );
        return Ok(());
    };
    let show = short;
    let file = match &outcome {
        Outcome::Tornado(rows) => {
            let mut last = "";
            for r in rows {
                if r.metric != last {
                    say!(
                        "\n{} (base {})\n{:<40} {:>24} {:>24} {:>12}",
                        r.metric,
                        show(r.base),
                        "parameter (low … high)",
                        "Δ at low ± 95% CI",
                        "Δ at high ± 95% CI",
                        "swing"
                    );
                    last = &r.metric;
                }
                say!(
                    "{:<40} {:>24} {:>24} {:>12}",
                    format!("{} ({} … {})", r.param, show(r.low), show(r.high)),
                    format!(
                        "{} ± {}",
                        show(r.delta_low.delta.mean),
                        show(r.delta_low.delta.ci95())
                    ),
                    format!(
                        "{} ± {}",
                        show(r.delta_high.delta.mean),
                        show(r.delta_high.delta.ci95())
                    ),
                    show(r.swing)
                );
            }
            "tornado.csv"
        }
        Outcome::Morris(rows) => {
            let mut last = "";
            for r in rows {
                if r.metric != last {
                    say!(
                        "\n{}\n{:<40} {:>14} {:>26} {:>14}",
                        r.metric,
                        "parameter",
                        "μ*",
                        "95% interval",
                        "σ"
                    );
                    last = &r.metric;
                }
                say!(
                    "{:<40} {:>14} {:>26} {:>14}",
                    r.param,
                    show(r.mu_star),
                    format!("{} – {}", show(r.mu_star_ci.0), show(r.mu_star_ci.1)),
                    show(r.sigma)
                );
            }
            "morris.csv"
        }
    };
    say!(
        "\n{} evaluations of {} paths in {:.1} s → {}",
        an.points.len(),
        base.paths,
        started.elapsed().as_secs_f64(),
        dest.join(file).display()
    );
    Ok(())
}

/// A number for the terminal: amounts as `2.0 mn`, whole numbers as they are,
/// others to four significant digits.
fn short(x: f64) -> String {
    if x.is_nan() {
        "—".to_string()
    } else if x.abs() < 5e-9 {
        "0".to_string()
    } else if x.abs() >= 1e4 {
        report::cny_en(x)
    } else if x.fract() == 0.0 {
        format!("{x}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
        format!("{x:.digits$}")
    }
}

/// A few columns of sweep.csv for the terminal.
fn sweep_table(csv: &str) -> String {
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let Ok(h) = rdr.headers().cloned() else {
        return String::new();
    };
    let first_metric = h
        .iter()
        .position(|c| c.ends_with("_mean"))
        .unwrap_or(h.len());
    let shown = [
        "tied_up_net_avg_mean",
        "days_to_cash_avg_mean",
        "financing_cost_mean",
        "fiscal_cost_mean",
    ];
    let keep: Vec<usize> = (1..h.len())
        .filter(|&i| i < first_metric || shown.contains(&&h[i]) || h[i].ends_with("_share"))
        .collect();
    let show = |s: &str| -> String {
        match s.parse::<f64>() {
            Ok(x) if x.abs() >= 1e4 => report::cny_en(x),
            Ok(x) => format!("{x:.3}"),
            Err(_) => refundsim::output::csv_uncell(s).to_string(),
        }
    };
    let width = |i: usize| 22.max(h[i].len() + 2);
    let mut out: String = keep
        .iter()
        .map(|&i| format!("{:>w$}", h[i].trim_end_matches("_mean"), w = width(i)))
        .collect();
    out.push('\n');
    for rec in rdr.records().flatten() {
        out += &keep
            .iter()
            .map(|&i| {
                format!(
                    "{:>w$}",
                    rec.get(i).map(show).unwrap_or_default(),
                    w = width(i)
                )
            })
            .collect::<String>();
        out.push('\n');
    }
    out
}

fn brief(dirs: &[PathBuf], lang: &str) -> Result<(), Failure> {
    let lang: refundsim::brief::Lang = lang
        .parse()
        .map_err(|e: String| usage(anyhow::anyhow!(e)))?;
    for d in dirs {
        warn(&refundsim::brief::warnings(d));
        let written = refundsim::brief::brief(d, lang).map_err(|e| {
            // A directory that is not a run is the user's mistake; anything else is a failure.
            let code = match e {
                refundsim::brief::BriefError::Interrupted => INTERRUPTED,
                refundsim::brief::BriefError::Io { .. }
                | refundsim::brief::BriefError::Render { .. } => 1,
                _ => 2,
            };
            Failure {
                code,
                error: e.into(),
            }
        })?;
        for w in written {
            say!("{}", w.display());
        }
    }
    Ok(())
}

/// Prints the model's warnings on stderr (they are also in manifest.json).
fn warn(warnings: &[String]) {
    for w in warnings {
        // A closed stderr is no reason to stop (eprintln! would panic).
        let _ = writeln!(std::io::stderr(), "warning: {w}");
    }
}

/// Installs the Ctrl-C handler (once) and returns the stop flag long
/// computations poll. With no temporary output alive, Ctrl-C ends the program at
/// once (exit 130: nothing is half-written); while outputs are being written it
/// asks the writers to stop, remove their temporaries and return, so the program
/// still exits 130 and leaves nothing half-written.
fn cancel_flag() -> &'static AtomicBool {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Failing to install leaves the default (Ctrl-C kills; temporaries are
        // then cleaned by the next run), so the error is ignored.
        let _ = ctrlc::set_handler(|| {
            if refundsim::output::interrupt() == refundsim::output::OnInterrupt::ExitNow {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: interrupted; nothing half-written was left"
                );
                std::process::exit(INTERRUPTED.into());
            }
        });
    });
    refundsim::output::stop_flag()
}

fn run(a: RunArgs) -> Result<(), Failure> {
    let mut s = load(&a.scenario)?;
    if let Some(p) = a.control.paths {
        s.paths = p;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    let threads = threads_of(a.control.threads);
    if let Some(shard) = resolve_shard(&a.shard)? {
        return run_shard(a, s, shard, threads);
    }
    check_memory(&s, s.paths, threads, 1)?;
    let dest = a
        .control
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&s.name));
    check_destination(&dest, a.control.force).map_err(usage)?;
    let model = Model::new(s);
    warn(&model.warnings);
    let bar = progress(model.scenario.paths as u64, a.control.quiet, "simulating");
    let cancel = cancel_flag();
    let started = Instant::now();
    let (out, claims_file) = match &a.claims_out {
        None => (
            engine::run(
                &model,
                model.scenario.paths,
                threads,
                &|| bar.inc(1),
                cancel,
            )
            .map_err(interrupted)?,
            None,
        ),
        Some(file) => {
            let n = a
                .claims_paths
                .unwrap_or(model.scenario.paths)
                .min(model.scenario.paths);
            // The run folder is replaced whole when the run is saved: records
            // streamed into it would be lost.
            let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or(p.to_path_buf());
            if abs(file).starts_with(abs(&dest)) {
                return Err(usage(anyhow::anyhow!(
                    "--claims-out {} is inside the run folder {}, which the run replaces when it is saved; write the records beside it, e.g. --claims-out {}-claims.csv",
                    file.display(),
                    dest.display(),
                    dest.display()
                )));
            }
            let mut w = ClaimsFile::create(file, a.control.force)?;
            w.write(refundsim::records::comment(&model, n).as_bytes());
            w.write(refundsim::records::header().as_bytes());
            let out = engine::run_with_claims(
                &model,
                model.scenario.paths,
                threads,
                &|| bar.inc(1),
                cancel,
                engine::ClaimsSink {
                    paths: n,
                    render: &|p, claims| refundsim::records::render_path(&model, p, claims),
                    sink: &mut |bytes| w.write(&bytes),
                },
            )
            .map_err(interrupted)?;
            (out, Some(w))
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let info = RunInfo {
        threads,
        elapsed_seconds: elapsed,
        command: std::env::args().collect(),
    };
    let staging = Staging::new(&dest).map_err(write_failed)?;
    for (name, text) in report::run_files(&model, &out, &info) {
        staging.write(name, text.as_bytes()).map_err(write_failed)?;
    }
    let written = staging.commit(a.control.force).map_err(|e| match e {
        OutputError::Interrupted => write_failed(e),
        e => failed(anyhow::Error::new(e).context("the run finished but could not be saved")),
    })?;
    let claims_written = match claims_file {
        Some(w) => Some(w.finish()?),
        None => None,
    };
    write_out(&report::console_table(&model, &out))?;
    say!(
        "{} claims in {:.1} s ({:.2} million claims/s) → {}",
        out.claims_simulated,
        elapsed,
        out.claims_simulated as f64 / elapsed.max(1e-9) / 1e6,
        written.display()
    );
    if let Some(p) = claims_written {
        say!("refund records → {}", p.display());
    }
    Ok(())
}

/// The `--claims-out` file while a run streams into it (atomic: see
/// [`refundsim::output::StreamFile`]). The first write error is kept and
/// reported at the end, so the run itself is never cut short by it.
struct ClaimsFile {
    file: refundsim::output::StreamFile,
    error: Option<OutputError>,
}

impl ClaimsFile {
    fn create(dest: &std::path::Path, force: bool) -> Result<Self, Failure> {
        refundsim::output::check_replaceable_file(dest, force, refundsim::records::MARKER)
            .map_err(|e| usage(anyhow::anyhow!("--claims-out: {e}")))?;
        let file = refundsim::output::StreamFile::create(dest).map_err(|e| {
            usage(anyhow::Error::new(e).context(format!(
                "cannot write --claims-out {}: its folder must exist and be writable",
                dest.display()
            )))
        })?;
        Ok(ClaimsFile { file, error: None })
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.file.write(bytes)
        {
            self.error = Some(e);
        }
    }

    fn finish(self) -> Result<PathBuf, Failure> {
        match self.error {
            Some(e) => Err(write_failed(e)),
            None => self.file.commit().map_err(write_failed),
        }
    }
}

fn calibrate(a: CalibrateArgs) -> Result<(), Failure> {
    use refundsim::calibrate::{self, Options};
    if !(0.0..=1.0).contains(&a.max_bad) {
        return Err(usage(anyhow::anyhow!(
            "--max-bad {} is not a share; give a number from 0 to 1, e.g. --max-bad 0.1 for 10%",
            a.max_bad
        )));
    }
    let scenario = if a.scenario.is_empty() {
        None
    } else {
        Some(Scenario::load(&a.scenario, &a.sets)?)
    };
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(format!("{}-calibration", stem(&a.records)))
            .join("overlay.toml")
    });
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let targets = [
        out.clone(),
        dir.join("calibration.md"),
        dir.join("calibration.html"),
    ];
    if out.is_dir() {
        return Err(usage(anyhow::anyhow!(
            "--out {} is a directory; name the overlay file, e.g. --out {}",
            out.display(),
            out.join("overlay.toml").display()
        )));
    }
    for (t, marker) in targets.iter().zip([
        refundsim::calibrate::OVERLAY_MARKER,
        refundsim::calibrate::REPORT_MARKER,
        refundsim::calibrate::REPORT_MARKER,
    ]) {
        refundsim::output::check_replaceable_file(t, a.force, marker)
            .map_err(|e| usage(anyhow::anyhow!(e)))?;
    }
    let opts = Options {
        records: a.records.clone(),
        scenario,
        exporters: a.exporters.clone(),
        max_bad: a.max_bad,
        seed: a.seed,
    };
    let started = Instant::now();
    // Every calibration error is about the input files: exit 2.
    let c = calibrate::calibrate(&opts).map_err(usage)?;
    let overlay = calibrate::overlay_toml(&c);
    let (md, html) = refundsim::brief::calibration(&c).map_err(|e| failed(anyhow::anyhow!(e)))?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        failed(anyhow::Error::new(e).context(format!("cannot create {}", dir.display())))
    })?;
    // All three or none (a failure or Ctrl-C leaves no half-written set).
    let files: Vec<(PathBuf, &[u8])> = targets
        .iter()
        .cloned()
        .zip([overlay.as_bytes(), md.as_bytes(), html.as_bytes()])
        .collect();
    refundsim::output::write_all_or_none(&files).map_err(write_failed)?;
    let bad: u64 = c.bad_counts.values().sum();
    if bad > 0 {
        warn(&[format!(
            "{bad} of {} rows left out:\n{}",
            c.rows,
            calibrate::listing(&c.bad_listed, &c.bad_counts, bad)
        )]);
    }
    say!(
        "calibrated from {} rows of {} in {:.1} s",
        c.rows,
        a.records.display(),
        started.elapsed().as_secs_f64()
    );
    for t in &targets {
        say!("→ {}", t.display());
    }
    Ok(())
}

/// `run --shard I/N`: the shard's paths into a shard folder.
fn run_shard(
    a: RunArgs,
    s: Scenario,
    shard: refundsim::shard::Shard,
    threads: usize,
) -> Result<(), Failure> {
    let local = shard.len_of(s.paths as u64) as u32;
    check_memory(&s, local.max(1), threads, 1)?;
    let dest = a.control.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!(
            "{}-shard-{}-of-{}",
            s.name, shard.index, shard.count
        ))
    });
    check_destination(&dest, a.control.force).map_err(usage)?;
    let model = Model::new(s);
    warn(&model.warnings);
    let bar = progress(local as u64, a.control.quiet, "simulating");
    let started = Instant::now();
    let out = engine::run_strided(
        &model,
        model.scenario.paths,
        shard.index - 1,
        shard.count,
        threads,
        &|| bar.inc(1),
        cancel_flag(),
    )
    .map_err(interrupted)?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let info = RunInfo {
        threads,
        elapsed_seconds: elapsed,
        command: std::env::args().collect(),
    };
    let files = refundsim::shard::shard_files(
        shard,
        report::manifest(&model, &out, &info),
        report::RunMeta::of(&model),
        &out,
        model.scenario.paths as u64,
    );
    let staging = Staging::new(&dest).map_err(write_failed)?;
    for (name, bytes) in &files {
        staging.write(name, bytes).map_err(write_failed)?;
    }
    let written = staging.commit(a.control.force).map_err(|e| match e {
        OutputError::Interrupted => write_failed(e),
        e => failed(anyhow::Error::new(e).context("the shard finished but could not be saved")),
    })?;
    say!(
        "shard {shard}: {local} of {} paths, {} claims in {elapsed:.1} s → {}",
        model.scenario.paths,
        out.claims_simulated,
        written.display()
    );
    Ok(())
}

/// `merge --out` must not be one of the shard folders it reads (however the
/// path is spelled): replacing it, even with `--force`, would lose that shard.
fn refuse_output_over_a_shard(dirs: &[PathBuf], out: &std::path::Path) -> Result<(), String> {
    let Ok(target) = std::fs::canonicalize(out) else {
        return Ok(()); // does not exist yet: cannot be a shard folder
    };
    match dirs
        .iter()
        .find(|d| std::fs::canonicalize(d).is_ok_and(|d| d == target))
    {
        Some(d) => Err(format!(
            "--out {} is the shard folder {} given to merge: writing there would replace that shard; pass --out NEW_DIR",
            out.display(),
            d.display()
        )),
        None => Ok(()),
    }
}

/// `merge SHARD_DIR… --out DIR`: the shards' kind decides which merge.
fn merge(a: MergeArgs) -> Result<(), Failure> {
    use refundsim::shard::{MergeError, ShardSet};
    let merge_failed = |e: MergeError| match e {
        MergeError::Write(_) => failed(e),
        e => usage(e),
    };
    refuse_output_over_a_shard(&a.dirs, &a.out).map_err(|e| usage(anyhow::anyhow!(e)))?;
    check_destination(&a.out, a.force).map_err(usage)?;
    let threads = threads_of(a.threads);
    let command: Vec<String> = std::env::args().collect();
    match refundsim::shard::kind_of_all(&a.dirs).map_err(usage)? {
        "sweep-shard" => {
            let csv =
                refundsim::sweep::merge_shards(&a.dirs, &a.out, a.force).map_err(|e| match e {
                    refundsim::sweep::SweepError::Shards(_) => usage(e),
                    e => failed(e),
                })?;
            say!("merged {} sweep shards → {}", a.dirs.len(), csv.display());
            return Ok(());
        }
        "sensitivity-shard" => {
            let file = refundsim::sensitivity::merge_shards(&a.dirs, &a.out, a.force)
                .map_err(study_failure)?;
            say!(
                "merged {} sensitivity shards → {}",
                a.dirs.len(),
                file.display()
            );
            return Ok(());
        }
        "compare-shard" => {
            let staging = Staging::new(&a.out).map_err(write_failed)?;
            let paths = refundsim::compare::merge_shards(&a.dirs, &staging, threads, &command)
                .map_err(merge_failed)?;
            let written = staging.commit(a.force).map_err(write_failed)?;
            say!(
                "merged {} compare shards ({paths} paths per arm) → {}",
                a.dirs.len(),
                written.display()
            );
            return Ok(());
        }
        _ => {}
    }
    let set = ShardSet::open(&a.dirs).map_err(usage)?;
    let staging = Staging::new(&a.out).map_err(write_failed)?;
    refundsim::shard::write_run(&set, &staging, "", threads, &command).map_err(merge_failed)?;
    let written = staging.commit(a.force).map_err(write_failed)?;
    say!(
        "merged {} shards ({} paths) → {}",
        a.dirs.len(),
        refundsim::report::Columns::paths(&set),
        written.display()
    );
    Ok(())
}

//! The `refundsim` command line: parses flags, calls the library, prints, and
//! picks the exit code (0 success, 1 failure while running, 2 bad usage or input).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use refundsim::engine::{self, Model};
use refundsim::report::{self, RunInfo, Staging};
use refundsim::scenario::{Scenario, ScenarioError, keys};

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
    /// Compare a reform with a baseline on common random numbers: both arms, and
    /// delta.csv with paired differences, 95% intervals and a significance verdict.
    Compare(CompareArgs),
    /// Run a full factorial grid of parameter values (resumable): sweep.csv with one
    /// row per point.
    Sweep(SweepArgs),
    /// Write bilingual briefing tables (brief.md, brief.html, brief.xlsx) into run,
    /// comparison or sweep directories.
    Brief {
        /// Directories written by `refundsim run`, `compare` or `sweep`.
        #[arg(required = true, value_name = "RUN_DIR")]
        dirs: Vec<PathBuf>,
        /// Language of the tables: zh, en or both (中文 and English side by side).
        #[arg(long, default_value = "both", value_parser = ["zh", "en", "both"])]
        lang: String,
    },
    /// Describe scenario keys: unit, default, allowed values and meaning.
    Explain {
        /// A key or section, e.g. `pools.turnover.capital` or `policy`; all keys if omitted.
        key: Option<String>,
    },
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
    /// Output directory (default: output/<scenario name>, with -vs-… for a
    /// comparison and -sweep for a sweep).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Replace an existing output directory.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Clone)]
struct CompareArgs {
    /// Baseline scenario files, merged left to right.
    #[arg(required = true, value_name = "BASE.toml")]
    files: Vec<PathBuf>,
    /// Reform overlays, merged after the baseline files.
    #[arg(long = "reform", required = true, num_args = 1.., value_name = "OVERLAY.toml")]
    reform: Vec<PathBuf>,
    /// Override a key in both arms.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
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
    #[command(flatten)]
    control: RunControl,
}

/// `--paths`: bounded exactly like `scenario.paths`.
fn paths_arg(s: &str) -> Result<u32, String> {
    let max = keys::MAX_PATHS;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
        Command::Compare(a) => compare(a),
        Command::Brief { dirs, lang } => brief(&dirs, &lang),
        Command::Sweep(a) => sweep(a),
        Command::Explain { key } => keys::explain(key.as_deref())
            .map(|t| print!("{t}"))
            .map_err(|e| usage(anyhow::anyhow!(e))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

fn load(a: &ScenarioArgs) -> Result<Scenario, Failure> {
    Ok(Scenario::load(&a.files, &a.sets)?)
}

fn validate(a: ScenarioArgs) -> Result<(), Failure> {
    let s = load(&a)?;
    println!(
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

fn compare(a: CompareArgs) -> Result<(), Failure> {
    let mut base = Scenario::load(&a.files, &a.sets)?;
    let mut all = a.files.clone();
    all.extend(a.reform.iter().cloned());
    let mut reform = Scenario::load(&all, &a.sets)?;
    if let Some(p) = a.control.paths {
        base.paths = p;
    }
    // Common random numbers: the reform runs the baseline's seed and paths.
    reform.seed = base.seed;
    reform.paths = base.paths;
    check_memory(
        if reform.n_exporters() > base.n_exporters() {
            &reform
        } else {
            &base
        },
        base.paths,
        threads_of(a.control.threads),
        2,
    )?;
    let name = format!(
        "{}-vs-{}",
        base.name,
        a.reform
            .iter()
            .map(|p| stem(p))
            .collect::<Vec<_>>()
            .join("+")
    );
    let dest = a
        .control
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&name));
    report::check_destination(&dest, a.control.force).map_err(usage)?;
    let threads = threads_of(a.control.threads);
    let paths = base.paths;
    let bar = progress(2 * paths as u64, a.control.quiet, "comparing");
    let cancel = cancel_flag();
    let started = Instant::now();
    let mut arms = Vec::new();
    for (k, s) in [base, reform].into_iter().enumerate() {
        let model = Model::new(s);
        if k == 0 {
            warn(&model.warnings); // both arms share the population
        }
        let out = engine::run(&model, paths, threads, &|| bar.inc(1), &cancel)
            .map_err(|_| failed(anyhow::anyhow!("interrupted; nothing was written")))?;
        arms.push((model, out));
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let deltas = refundsim::compare::deltas(&arms[0].1, &arms[1].1);
    let staging = Staging::new(&dest).map_err(failed)?;
    let info = RunInfo {
        threads,
        elapsed_seconds: elapsed,
        command: std::env::args().collect(),
    };
    for ((model, out), sub) in arms.iter().zip(["base", "reform"]) {
        for (file, text) in report::run_files(model, out, &info) {
            staging
                .write(&format!("{sub}/{file}"), text.as_bytes())
                .map_err(failed)?;
        }
    }
    staging
        .write(
            "delta.csv",
            refundsim::compare::delta_csv(&deltas).as_bytes(),
        )
        .map_err(failed)?;
    let mut inputs = arms[0].0.scenario.inputs.clone();
    for i in &arms[1].0.scenario.inputs {
        if !inputs.contains(i) {
            inputs.push(i.clone());
        }
    }
    let manifest = serde_json::json!({
        "kind": "compare",
        "refundsim_version": env!("CARGO_PKG_VERSION"),
        "scenario_name": arms[0].0.scenario.name,
        "title": arms[0].0.scenario.title,
        "title_zh": arms[0].0.scenario.title_zh,
        "base_files": a.files,
        "reform_files": a.reform,
        "sets": a.sets,
        "seed": arms[0].0.scenario.seed,
        "paths": paths,
        "threads": threads,
        "generator": refundsim::rng::GENERATOR,
        "inputs": inputs,
        "claims_simulated": arms[0].1.claims_simulated + arms[1].1.claims_simulated,
        "elapsed_seconds": (elapsed * 1000.0).round() / 1000.0,
        "command": info.command,
    });
    staging
        .write(
            "manifest.json",
            (serde_json::to_string_pretty(&manifest).expect("json") + "\n").as_bytes(),
        )
        .map_err(failed)?;
    let written = staging.commit(a.control.force).map_err(failed)?;
    println!(
        "{} vs {} — {} paths on common random numbers, seed {}",
        arms[0].0.scenario.name,
        a.reform
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        paths,
        arms[0].0.scenario.seed
    );
    print!("{}", refundsim::compare::console_table(&deltas));
    println!("→ {}", written.display());
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
    let plan = Plan::new(&a.scenario.files, &a.scenario.sets, axes, a.control.paths)?;
    // Points run one after the other: the largest must fit.
    for (_, s) in &plan.points {
        check_memory(s, s.paths, threads_of(a.control.threads), 1)?;
    }
    warn(&refundsim::population::warnings(
        &plan.points[0].1,
        &refundsim::population::exporters(&plan.points[0].1),
    ));
    let name = &plan.points[0].1.name;
    let dest = a
        .control
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{name}-sweep")));
    let resuming = sweep::check_dir(&dest, &plan, a.control.force).map_err(usage)?;
    let threads = threads_of(a.control.threads);
    let bar = progress(
        plan.total_paths(),
        a.control.quiet,
        &format!("sweeping {} points", plan.points.len()),
    );
    let cancel = cancel_flag();
    let result = sweep::run(
        &plan,
        &dest,
        a.control.force,
        threads,
        &|n| bar.inc(n),
        &cancel,
    );
    bar.finish_and_clear();
    let csv = result.map_err(failed)?;
    if resuming {
        println!("resumed an interrupted sweep in {}", dest.display());
    }
    print!(
        "{}",
        std::fs::read_to_string(&csv)
            .map(|t| sweep_table(&t))
            .unwrap_or_default()
    );
    println!("→ {}", csv.display());
    Ok(())
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
        .filter(|&i| i < first_metric || shown.contains(&&h[i]))
        .collect();
    let show = |s: &str| -> String {
        match s.parse::<f64>() {
            Ok(x) if x.abs() >= 1e4 => report::cny_en(x),
            Ok(x) => format!("{x:.3}"),
            Err(_) => s.to_string(),
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
        let written = refundsim::brief::brief(d, lang).map_err(|e| {
            // A directory that is not a run is the user's mistake; anything else is a failure.
            let code = if matches!(
                e,
                refundsim::brief::BriefError::Io { .. }
                    | refundsim::brief::BriefError::Render { .. }
            ) {
                1
            } else {
                2
            };
            Failure {
                code,
                error: e.into(),
            }
        })?;
        for w in written {
            println!("{}", w.display());
        }
    }
    Ok(())
}

/// Prints the model's warnings on stderr (they are also in manifest.json).
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn cancel_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // A second handler cannot be installed; ignoring that error is harmless.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::Relaxed));
    flag
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
    check_memory(&s, s.paths, threads, 1)?;
    let dest = a
        .control
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&s.name));
    report::check_destination(&dest, a.control.force).map_err(usage)?;
    let model = Model::new(s);
    warn(&model.warnings);
    let bar = progress(model.scenario.paths as u64, a.control.quiet, "simulating");
    let cancel = cancel_flag();
    let started = Instant::now();
    let out = engine::run(
        &model,
        model.scenario.paths,
        threads,
        &|| bar.inc(1),
        &cancel,
    )
    .map_err(|_| failed(anyhow::anyhow!("interrupted; nothing was written")))?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let info = RunInfo {
        threads,
        elapsed_seconds: elapsed,
        command: std::env::args().collect(),
    };
    let staging = Staging::new(&dest).map_err(failed)?;
    for (name, text) in report::run_files(&model, &out, &info) {
        staging.write(name, text.as_bytes()).map_err(failed)?;
    }
    let written = staging.commit(a.control.force).map_err(|e| {
        failed(anyhow::Error::new(e).context("the run finished but could not be saved"))
    })?;
    print!("{}", report::console_table(&model, &out));
    println!(
        "{} claims in {:.1} s ({:.2} million claims/s) → {}",
        out.claims_simulated,
        elapsed,
        out.claims_simulated as f64 / elapsed.max(1e-9) / 1e6,
        written.display()
    );
    Ok(())
}

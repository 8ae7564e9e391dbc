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
    /// Number of Monte Carlo paths (overrides scenario.paths).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    paths: Option<u32>,
    /// Master seed (overrides scenario.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Output directory (default: output/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Replace an existing output directory.
    #[arg(long)]
    force: bool,
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
        "ok: {} — {} exporters on {} platforms, {} paths, window {} + {} days",
        s.name,
        s.n_exporters(),
        s.platforms.len(),
        s.paths,
        s.start_date,
        s.horizon_days
    );
    Ok(())
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

fn cancel_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // A second handler cannot be installed; ignoring that error is harmless.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::Relaxed));
    flag
}

fn run(a: RunArgs) -> Result<(), Failure> {
    let mut s = load(&a.scenario)?;
    if let Some(p) = a.paths {
        s.paths = p;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&s.name));
    report::check_destination(&dest, a.force).map_err(usage)?;
    let threads = a.threads.map(|t| t as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let model = Model::new(s);
    let bar = progress(model.scenario.paths as u64, a.quiet, "simulating");
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
    let written = staging
        .commit(a.force)
        .map_err(failed)
        .with_context_code()?;
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

trait WithCode<T> {
    fn with_context_code(self) -> Result<T, Failure>;
}

impl<T> WithCode<T> for Result<T, Failure> {
    fn with_context_code(self) -> Result<T, Failure> {
        self.map_err(|f| Failure {
            code: f.code,
            error: f.error.context("the run finished but could not be saved"),
        })
    }
}

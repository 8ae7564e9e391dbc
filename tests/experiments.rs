//! Comparisons and sweeps: common random numbers make paired deltas exact and
//! tight, and an interrupted sweep resumes to the same bytes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use refundsim::compare;
use refundsim::engine::{self, Model, RunOutput};
use refundsim::metrics::{M, N_METRICS};
use refundsim::scenario::Scenario;
use refundsim::stats::Summary;
use refundsim::sweep::{self, Plan, SweepError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(files: &[&str], sets: &[&str]) -> Scenario {
    let files: Vec<PathBuf> = files.iter().map(|f| root().join(f)).collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::load(&files, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: Scenario) -> RunOutput {
    let model = Model::new(s);
    engine::run(
        &model,
        model.scenario.paths,
        2,
        &|| {},
        &AtomicBool::new(false),
    )
    .expect("not cancelled")
}

#[test]
fn a_null_reform_gives_deltas_of_exactly_zero() {
    let base = run(load(
        &[
            "scenarios/guizhou-2016.toml",
            "scenarios/policies/full-package.toml",
        ],
        &["scenario.paths=6"],
    ));
    // The reform restates a value the baseline already has.
    let reform = run(load(
        &[
            "scenarios/guizhou-2016.toml",
            "scenarios/policies/full-package.toml",
        ],
        &["scenario.paths=6", "pools.turnover.advance_ratio=0.8"],
    ));
    let d = compare::deltas(&base, &reform);
    assert_eq!(d.len(), N_METRICS);
    for (m, x) in d.iter().enumerate() {
        if !x.delta.mean.is_nan() {
            assert_eq!(x.delta.mean, 0.0, "metric {m}");
            assert_eq!(x.delta.std, 0.0, "metric {m}");
            assert!(!x.significant());
        }
    }
    let csv = compare::delta_csv("null", &d);
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains(",no") || l.ends_with(',')),
        "{csv}"
    );
}

#[test]
fn paired_intervals_are_at_least_twice_as_tight_as_independent_runs() {
    let sets = ["scenario.paths=60"];
    let faster = "policy.review=[{ lognormal = { mean = 3, cv = 0.5 } }, { lognormal = { mean = 8, cv = 0.5 } }, { lognormal = { mean = 12, cv = 0.5 } }, { lognormal = { mean = 15, cv = 0.5 } }]";
    let base = run(load(&["scenarios/guizhou-2016.toml"], &sets));
    let reform = run(load(&["scenarios/guizhou-2016.toml"], &[sets[0], faster]));
    let independent = run(load(
        &["scenarios/guizhou-2016.toml"],
        &[sets[0], faster, "scenario.seed=99"],
    ));
    let paired = compare::deltas(&base, &reform);
    for m in [M::TiedUpNetAvg, M::DaysToRefundAvg, M::CarryingCost] {
        let se_base = Summary::of(base.paths.iter().map(|p| p.metrics[m as usize])).std_err;
        let se_ind = Summary::of(independent.paths.iter().map(|p| p.metrics[m as usize])).std_err;
        let independent_ci = 1.96 * (se_base * se_base + se_ind * se_ind).sqrt();
        let paired_ci = paired[m as usize].delta.ci95();
        assert!(
            paired[m as usize].significant(),
            "{m:?}: faster review must be significant"
        );
        assert!(
            2.0 * paired_ci <= independent_ci,
            "{m:?}: paired ±{paired_ci} vs independent ±{independent_ci}"
        );
    }
}

fn plan() -> Plan {
    let files = vec![
        root().join("scenarios/guizhou-2016.toml"),
        root().join("scenarios/policies/turnover-pool.toml"),
    ];
    let axes = vec![
        sweep::parse_axis("pools.turnover.capital=2e7:1.4e8:3").unwrap(),
        sweep::parse_axis("pools.turnover.queue=none,fifo").unwrap(),
    ];
    Plan::new(&files, &[], axes, Some(4)).unwrap_or_else(|e| panic!("{e}"))
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "manifest.json" {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_sweep_interrupted_and_resumed_equals_an_uninterrupted_one_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan();
    assert_eq!(plan.points.len(), 6);
    let whole = tmp.path().join("whole");
    sweep::run(&plan, &whole, false, 2, &|_| {}, &AtomicBool::new(false)).unwrap();

    // Interrupt after 9 paths: two points done, the third cut short.
    let part = tmp.path().join("part");
    let cancel = AtomicBool::new(false);
    let seen = AtomicU64::new(0);
    let stop = |n: u64| {
        if seen.fetch_add(n, Ordering::SeqCst) + n >= 9 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    match sweep::run(&plan, &part, false, 1, &stop, &cancel) {
        Err(SweepError::Interrupted { done, total }) => assert_eq!((done, total), (2, 6)),
        other => panic!("expected an interruption, got {other:?}"),
    }
    assert!(!part.join("sweep.csv").exists());
    assert!(
        !part.join("points/2").exists(),
        "an unfinished point leaves no folder"
    );
    // Resume: only the missing points run (progress first reports the finished ones).
    let resumed = AtomicU64::new(0);
    sweep::run(
        &plan,
        &part,
        false,
        2,
        &|n| {
            resumed.fetch_add(n, Ordering::SeqCst);
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(resumed.load(Ordering::SeqCst), 24);
    assert_eq!(files_under(&whole), files_under(&part));
}

#[test]
fn a_sweep_refuses_a_directory_holding_something_else() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("manifest.json"), "{\"kind\": \"run\"}").unwrap();
    let err = sweep::run(
        &plan(),
        tmp.path(),
        false,
        1,
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, SweepError::Foreign(_)), "{err}");
}

/// The real thing: the binary is killed (SIGKILL, no clean-up) part-way through a
/// sweep; the same command then finishes it, and sweep.csv and every point's CSV
/// files equal those of an uninterrupted sweep.
#[test]
fn a_sweep_killed_part_way_resumes_to_the_same_bytes() {
    let bin = env!("CARGO_BIN_EXE_refundsim");
    let tmp = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        vec![
            "sweep".into(),
            root()
                .join("scenarios/guizhou-2016.toml")
                .display()
                .to_string(),
            root()
                .join("scenarios/policies/turnover-pool.toml")
                .display()
                .to_string(),
            "--grid".into(),
            "pools.turnover.capital=2e7:2e8:4".into(),
            "--grid".into(),
            "pools.turnover.advance_ratio=0.5,0.8".into(),
            "--paths".into(),
            "30".into(),
            "--threads".into(),
            "1".into(),
            "--quiet".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let whole = tmp.path().join("whole");
    assert!(
        std::process::Command::new(bin)
            .args(args(&whole))
            .output()
            .unwrap()
            .status
            .success()
    );

    let part = tmp.path().join("part");
    let mut child = std::process::Command::new(bin)
        .args(args(&part))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !part.join("points/1/paths.csv").exists() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        part.join("points/1/paths.csv").exists(),
        "the sweep made progress before the kill"
    );
    assert!(
        !part.join("sweep.csv").exists(),
        "the kill landed before the sweep finished"
    );
    let out = std::process::Command::new(bin)
        .args(args(&part))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files_under(&whole), files_under(&part));
}

//! Golden-file snapshot: the files of a seeded small run of every shipped scenario
//! and every shipped policy overlay, compared with the copies under `tests/golden/`.
//!
//! Behaviour may only grow: a new metric is appended (a new row at the end of
//! `summary.csv`, a new column at the end of `paths.csv` or `timeseries.csv`), so
//! every golden line must be a prefix of the same line today, followed by nothing
//! or by `,` and the new cells; every golden line must still be there. Anything else
//! — one digit of one number — fails and shows the first line that differs.
//!
//! After a deliberate change of results (recorded in CHANGELOG.md), regenerate with
//! `REFUNDSIM_BLESS=1 cargo test --release --test golden` and review the diff.

mod support;

use std::fs;
use std::path::Path;

use support::{Sandbox, succeeded};

/// Paths per run: small, so the 11 runs take a few seconds, yet more than one so
/// that the across-path statistics (std, p5, p95) are exercised.
const PATHS: &str = "3";
const FILES: [&str; 3] = ["summary.csv", "paths.csv", "timeseries.csv"];

/// Each case: its folder name under `tests/golden/` and the scenario files, from the
/// repository root.
fn cases() -> Vec<(String, Vec<String>)> {
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    for base in ["guizhou-2016", "guizhou-2020-target", "guizhou-2023"] {
        cases.push((base.into(), vec![format!("scenarios/{base}.toml")]));
    }
    let mut overlays: Vec<String> = fs::read_dir(support::repo().join("scenarios/policies"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    overlays.sort();
    for o in overlays {
        let stem = o.trim_end_matches(".toml");
        cases.push((
            format!("guizhou-2016+{stem}"),
            vec![
                "scenarios/guizhou-2016.toml".into(),
                format!("scenarios/policies/{o}"),
            ],
        ));
    }
    cases
}

/// `None` when `now` only appends to `golden`; otherwise a description of the
/// first difference.
fn first_difference(golden: &str, now: &str) -> Option<String> {
    let mut now_lines = now.lines();
    for (i, g) in golden.lines().enumerate() {
        let Some(n) = now_lines.next() else {
            return Some(format!("line {} is gone:\n  golden: {g}", i + 1));
        };
        let appended_only = n == g || (n.starts_with(g) && n[g.len()..].starts_with(','));
        if !appended_only {
            return Some(format!("line {}:\n  golden: {g}\n  now:    {n}", i + 1));
        }
    }
    None
}

#[test]
fn every_shipped_scenario_and_overlay_reproduces_its_golden_files() {
    let bless = std::env::var_os("REFUNDSIM_BLESS").is_some();
    let golden_root = support::repo().join("tests/golden");
    let sb = Sandbox::new().shipped();
    let mut failures = Vec::new();
    for (name, files) in cases() {
        let out_dir = sb.path(&format!("out/{name}"));
        let mut args: Vec<String> = vec!["run".into()];
        args.extend(files.iter().cloned());
        for a in ["--paths", PATHS, "--threads", "2", "--quiet", "--out"] {
            args.push(a.into());
        }
        args.push(out_dir.to_string_lossy().into_owned());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        succeeded(&sb.output(&argv));
        let golden_dir = golden_root.join(&name);
        for f in FILES {
            let now = fs::read_to_string(out_dir.join(f)).unwrap();
            let golden_file = golden_dir.join(f);
            if bless {
                fs::create_dir_all(&golden_dir).unwrap();
                fs::write(&golden_file, &now).unwrap();
                continue;
            }
            let golden = read_golden(&golden_file);
            if let Some(diff) = first_difference(&golden, &now) {
                failures.push(format!("{name}/{f}: {diff}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "results changed (if deliberate: record it in CHANGELOG.md, then \
         REFUNDSIM_BLESS=1 cargo test --release --test golden):\n{}",
        failures.join("\n")
    );
}

fn read_golden(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with REFUNDSIM_BLESS=1 cargo test --release --test golden",
            p.display()
        )
    })
}

#[test]
fn the_comparison_accepts_appended_columns_and_rows_only() {
    let golden = "a,b\n1,2\n";
    assert_eq!(first_difference(golden, "a,b\n1,2\n"), None);
    assert_eq!(first_difference(golden, "a,b,c\n1,2,3\n"), None);
    assert_eq!(first_difference(golden, "a,b\n1,2\n3,4\n"), None);
    assert!(first_difference(golden, "a,b\n1,3\n").is_some());
    assert!(first_difference(golden, "a,b\n1,23\n").is_some());
    assert!(first_difference(golden, "a,b\n").is_some());
    assert!(first_difference(golden, "a,x,b\n1,0,2\n").is_some());
}

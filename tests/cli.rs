//! Command-line tests: the real `refundsim` binary, driven as a user drives it.
//!
//! Every test works in its own temporary directory, copies the fixtures it needs
//! there and passes *relative* file names, so messages (and the insta snapshots of
//! them under `tests/snapshots/`) never contain a machine-specific path.
//!
//! Bad-scenario fixtures (`tests/fixtures/bad/`) are copies of the valid
//! `tests/fixtures/ok/tiny.toml` with exactly the problem(s) their header names.
//! Where a test checks a line number it finds the line in the fixture itself, so
//! the expectation does not depend on a number typed by hand.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Output;

use predicates::prelude::*;

mod support;
use support::*;

/// The six files of a run (MODEL.md §11).
const RUN_FILES: [&str; 6] = [
    "summary.csv",
    "timeseries.csv",
    "by_platform.csv",
    "by_class.csv",
    "paths.csv",
    "manifest.json",
];

/// The metric names of MODEL.md §7 ("names are a contract").
const METRIC_NAMES: [&str; 51] = [
    "exports",
    "claims",
    "refund_declared",
    "refund_paid",
    "refund_denied",
    "tied_up_gross_avg",
    "tied_up_gross_peak",
    "tied_up_net_avg",
    "tied_up_net_peak",
    "days_to_refund_avg",
    "days_to_refund_p90",
    "days_to_cash_avg",
    "carrying_cost",
    "financing_cost",
    "fiscal_cost",
    "turnover.requests",
    "turnover.advanced",
    "turnover.blocked_share",
    "turnover.wait_avg_days",
    "turnover.utilization_avg",
    "turnover.turnover_ratio",
    "turnover.empty_days_share",
    "turnover.loss",
    "turnover.fee_income",
    "guarantee.loans",
    "guarantee.outstanding_avg",
    "guarantee.leverage_avg",
    "guarantee.blocked_share",
    "guarantee.loss_pool",
    "guarantee.loss_bank",
    "guarantee.ruined",
    "guarantee.interest",
    "guarantee.fee_income",
    "credit.draws",
    "credit.drawn_avg",
    "credit.defaults",
    "credit.default_rate",
    "credit.loss_fund",
    "credit.loss_bank",
    "credit.interest",
    "service.clients",
    "service.requests",
    "service.advanced",
    "service.blocked_share",
    "service.utilization_avg",
    "service.fee_income",
    "service.loss",
    "budget.binding_months",
    "budget.backlog_avg",
    "budget.wait_days_avg",
    "fiscal_cost_net",
];

// ---------------------------------------------------------------------------------
// Bad scenarios: exit code 2, and every message names file, line and key.

#[test]
fn tiny_fixture_is_valid() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let stdout = succeeded(&sb.output(&["validate", "tiny.toml"]));
    assert!(
        stdout.starts_with("ok: tiny — 20 exporters on 2 platforms"),
        "{stdout}"
    );
}

#[test]
fn rejects_text_for_paths_with_line_and_key() {
    let f = "wrong-type-paths.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "paths = \"many\""),
        "scenario.paths",
    );
    assert!(stderr.contains("\"many\""), "the bad value is shown");
    insta::assert_snapshot!("rejects_text_for_paths", stderr);
}

#[test]
fn rejects_zero_horizon_with_line_and_key() {
    let f = "zero-horizon.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "horizon_days = 0"),
        "scenario.horizon_days",
    );
    assert!(stderr.contains("1 to 3650"), "the allowed range is shown");
    insta::assert_snapshot!("rejects_zero_horizon", stderr);
}

#[test]
fn rejects_negative_capital_with_line_and_key() {
    let f = "negative-capital.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "capital = -5e8"),
        "pools.turnover.capital",
    );
    insta::assert_snapshot!("rejects_negative_capital", stderr);
}

#[test]
fn rejects_class_mix_not_summing_to_one_with_line_and_key() {
    let f = "class-mix-sum.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "class_mix = [0.15,"),
        "platform.gui-an.class_mix",
    );
    assert!(stderr.contains("sum to 1"), "{stderr}");
    insta::assert_snapshot!("rejects_class_mix_not_summing_to_one", stderr);
}

#[test]
fn rejects_unknown_key_with_did_you_mean() {
    let f = "unknown-key-policy.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "reveiw ="),
        "policy.reveiw",
    );
    assert!(stderr.contains("Did you mean `review`?"), "{stderr}");
    insta::assert_snapshot!("rejects_unknown_key_with_did_you_mean", stderr);
}

#[test]
fn rejects_impossible_start_date_with_line_and_key() {
    let f = "bad-date.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "2017-02-30"),
        "scenario.start_date",
    );
    assert!(stderr.contains("2017-02-30"), "the bad value is shown");
    insta::assert_snapshot!("rejects_impossible_start_date", stderr);
}

#[test]
fn rejects_invalid_toml_syntax_with_line_and_column() {
    let f = "invalid-syntax.toml";
    let stderr = validate_bad(f);
    let line = line_of(&format!("bad/{f}"), "title = \"Tiny test scenario");
    assert!(
        stderr.contains(&format!("{f}:{line}:")),
        "the syntax error names file and line:\n{stderr}"
    );
    assert!(stderr.contains("not valid TOML"), "{stderr}");
    insta::assert_snapshot!("rejects_invalid_toml_syntax", stderr);
}

/// `validate population-csv.toml` with `csv` as its `exporters.csv`; returns stderr.
fn validate_population(csv: &str) -> String {
    let sb = Sandbox::new().fixture("bad/population-csv.toml", "population-csv.toml");
    fs::write(sb.path("exporters.csv"), csv).unwrap();
    rejected(&sb.output(&["validate", "population-csv.toml"]))
}

/// Asserts the two bad rows of the population fixture `rel` (class 5 in row e2,
/// platform `zunyi` in row e4) are reported at their own lines and columns.
fn assert_population_rows_located(stderr: &str, rel: &str) {
    assert!(
        stderr.contains("the scenario has 2 problems"),
        "both bad rows are reported:\n{stderr}"
    );
    let rows = [
        (line_of(rel, "e2,"), "class", "`5`"),
        (line_of(rel, "e4,"), "platform", "`zunyi`"),
    ];
    for (line, column, value) in rows {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!("exporters.csv:{line}:"))
                    && l.contains(&format!("column `{column}`"))
                    && l.contains(value)),
            "expected exporters.csv:{line} column `{column}` with {value}:\n{stderr}"
        );
    }
}

#[test]
fn rejects_bad_population_rows_naming_csv_line_and_column() {
    let rel = "bad/exporters.csv";
    let stderr = validate_population(&fs::read_to_string(fixture(rel)).unwrap());
    assert_population_rows_located(&stderr, rel);
    assert!(
        stderr.contains("known: gui-an, rest"),
        "the known platforms are listed"
    );
    insta::assert_snapshot!("rejects_bad_population_rows", stderr);
}

#[test]
fn locates_population_rows_in_a_crlf_file() {
    let rel = "bad/exporters.csv";
    let crlf = fs::read_to_string(fixture(rel))
        .unwrap()
        .replace('\n', "\r\n");
    assert_population_rows_located(&validate_population(&crlf), rel);
}

#[test]
fn locates_population_rows_after_blank_and_comment_lines() {
    let rel = "bad/exporters-with-notes.csv";
    let stderr = validate_population(&fs::read_to_string(fixture(rel)).unwrap());
    assert_population_rows_located(&stderr, rel);
}

#[test]
fn rejects_missing_scenario_files_naming_each() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let stderr = rejected(&sb.output(&["validate", "nope.toml", "tiny.toml", "other.toml"]));
    assert!(stderr.contains("the scenario has 2 problems"), "{stderr}");
    assert!(stderr.contains("  nope.toml: cannot read the scenario file"));
    assert!(stderr.contains("  other.toml: cannot read the scenario file"));
    insta::assert_snapshot!("rejects_missing_scenario_files", stderr);
}

#[test]
fn run_rejects_missing_scenario_file_and_writes_nothing() {
    let sb = Sandbox::new();
    let stderr = rejected(&sb.output(&["run", "nope.toml", "--out", "r", "-q"]));
    assert!(stderr.contains("nope.toml: cannot read the scenario file"));
    assert!(sb.entries().is_empty(), "{:?}", sb.entries());
}

#[test]
fn rejects_missing_calendar_file_naming_scenario_line_and_key() {
    let f = "missing-calendar-file.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "no-such-calendar.csv"),
        "calendar.file",
    );
    assert!(stderr.contains("no-such-calendar.csv"), "{stderr}");
    insta::assert_snapshot!("rejects_missing_calendar_file", stderr);
}

#[test]
fn rejects_missing_population_file_naming_scenario_line_and_key() {
    let f = "missing-population-file.toml";
    let stderr = validate_bad(f);
    assert_problem(
        &stderr,
        f,
        line_of(&format!("bad/{f}"), "no-such-exporters.csv"),
        "population.file",
    );
    assert!(stderr.contains("no-such-exporters.csv"), "{stderr}");
    insta::assert_snapshot!("rejects_missing_population_file", stderr);
}

#[test]
fn reports_every_problem_of_a_file_at_once() {
    let f = "several-problems.toml";
    let stderr = validate_bad(f);
    let rel = format!("bad/{f}");
    let expected = [
        (line_of(&rel, "paths = \"many\""), "scenario.paths"),
        (line_of(&rel, "horizon_days = 0"), "scenario.horizon_days"),
        (
            line_of(&rel, "class_mix = [0.15,"),
            "platform.gui-an.class_mix",
        ),
        (line_of(&rel, "reveiw ="), "policy.reveiw"),
    ];
    assert!(
        stderr.contains("the scenario has 4 problems:"),
        "all four are counted:\n{stderr}"
    );
    let listed = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("  {f}:")))
        .count();
    assert_eq!(listed, 4, "one line per problem:\n{stderr}");
    for (line, key) in expected {
        assert_problem(&stderr, f, line, key);
    }
    insta::assert_snapshot!("reports_every_problem_at_once", stderr);
}

#[test]
fn overlay_error_points_at_the_overlay_file_and_line() {
    let overlay = "overlay-negative-capital.toml";
    let sb = Sandbox::new()
        .fixture("ok/tiny.toml", "tiny.toml")
        .fixture(&format!("bad/{overlay}"), overlay);
    let stderr = rejected(&sb.output(&["validate", "tiny.toml", overlay]));
    assert!(stderr.contains("the scenario has 1 problem:"), "{stderr}");
    assert_problem(
        &stderr,
        overlay,
        line_of(&format!("bad/{overlay}"), "capital = -3e8"),
        "pools.turnover.capital",
    );
    assert!(
        !stderr.contains("tiny.toml:"),
        "the base file is not blamed:\n{stderr}"
    );
    insta::assert_snapshot!("overlay_error_points_at_overlay", stderr);
}

#[test]
fn run_rejects_a_bad_scenario_before_writing_anything() {
    let f = "wrong-type-paths.toml";
    let sb = Sandbox::new().fixture(&format!("bad/{f}"), f);
    let stderr = rejected(&sb.output(&["run", f, "--out", "r", "-q"]));
    assert!(stderr.contains("scenario.paths"), "{stderr}");
    assert_eq!(sb.entries(), vec![f.to_string()], "no output directory");
}

// ---------------------------------------------------------------------------------
// --set

fn validate_tiny_with_set(set: &str) -> String {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    rejected(&sb.output(&["validate", "tiny.toml", "--set", set]))
}

#[test]
fn set_override_is_applied() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let stdout = succeeded(&sb.output(&[
        "validate",
        "tiny.toml",
        "--set",
        "platform.gui-an.exporters=30",
        "--set",
        "pools.turnover.capital=\"3亿\"",
    ]));
    assert!(stdout.contains("38 exporters"), "{stdout}");
}

#[test]
fn rejects_set_without_equals_sign() {
    let stderr = validate_tiny_with_set("pools.turnover.capital");
    assert!(
        stderr.contains("--set #1 `pools.turnover.capital`:1:1:"),
        "{stderr}"
    );
    assert!(stderr.contains("KEY=VALUE"), "{stderr}");
    insta::assert_snapshot!("rejects_set_without_equals_sign", stderr);
}

#[test]
fn rejects_set_of_unknown_key_with_did_you_mean() {
    let stderr = validate_tiny_with_set("pools.turnover.capitl=5e8");
    assert!(
        stderr.contains("--set #1 `pools.turnover.capitl=5e8`:1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("pools.turnover.capitl: unknown key"),
        "{stderr}"
    );
    assert!(stderr.contains("Did you mean `capital`?"), "{stderr}");
    insta::assert_snapshot!("rejects_set_of_unknown_key", stderr);
}

#[test]
fn rejects_set_with_a_value_that_is_not_toml() {
    let stderr = validate_tiny_with_set("pools.turnover.capital=[1,");
    assert!(
        stderr.contains("--set #1 `pools.turnover.capital=[1,`:1:24: pools.turnover.capital:"),
        "the column points at the value:\n{stderr}"
    );
    insta::assert_snapshot!("rejects_set_with_unparsable_value", stderr);
}

#[test]
fn rejects_set_with_an_out_of_range_value() {
    let stderr = validate_tiny_with_set("scenario.horizon_days=0");
    assert!(
        stderr.contains("--set #1 `scenario.horizon_days=0`:1:23: scenario.horizon_days:"),
        "{stderr}"
    );
    assert!(stderr.contains("1 to 3650"), "{stderr}");
    insta::assert_snapshot!("rejects_set_with_out_of_range_value", stderr);
}

#[test]
fn rejects_set_with_a_value_of_the_wrong_type() {
    let stderr = validate_tiny_with_set("scenario.paths=\"many\"");
    assert!(
        stderr.contains("`scenario.paths=\"many\"`:1:16: scenario.paths: expected a number"),
        "the column points at the value:\n{stderr}"
    );
    insta::assert_snapshot!("rejects_set_with_wrong_type", stderr);
}

#[test]
fn locates_a_bare_word_set_value_at_its_column() {
    let stderr = validate_tiny_with_set("scenario.paths=many");
    assert!(
        stderr.contains("`scenario.paths=many`:1:16: scenario.paths: expected a number"),
        "the column points at `many`:\n{stderr}"
    );
}

#[test]
fn rejects_set_of_unknown_platform_listing_known_names() {
    let stderr = validate_tiny_with_set("platform.nowhere.exporters=10");
    assert!(stderr.contains("platform.nowhere.exporters:"), "{stderr}");
    assert!(stderr.contains("`nowhere`"), "{stderr}");
    assert!(stderr.contains("names: gui-an, rest"), "{stderr}");
    insta::assert_snapshot!("rejects_set_of_unknown_platform", stderr);
}

#[test]
fn rejects_set_of_a_whole_platform_without_denying_it_exists() {
    let stderr = validate_tiny_with_set("platform.gui-an=5");
    assert!(stderr.contains("platform.gui-an"), "{stderr}");
    assert!(
        !stderr.contains("no element named `gui-an`"),
        "gui-an exists; the message must say what to write instead:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------
// Help and explain

#[test]
fn top_level_help_lists_the_commands() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["--help"]));
    insta::assert_snapshot!("help", stdout);
}

#[test]
fn run_help_lists_every_flag() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["run", "--help"]));
    for flag in [
        "--paths",
        "--seed",
        "--threads",
        "--out",
        "--set",
        "--quiet",
        "--force",
    ] {
        assert!(stdout.contains(flag), "{flag} missing from run --help");
    }
    insta::assert_snapshot!("run_help", stdout);
}

#[test]
fn explain_key_prints_unit_default_and_allowed() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["explain", "pools.turnover.capital"]));
    assert!(stdout.starts_with("pools.turnover.capital\n"), "{stdout}");
    for field in ["  unit:    CNY", "  default: ", "  allowed: "] {
        assert!(stdout.contains(field), "`{field}` missing:\n{stdout}");
    }
    insta::assert_snapshot!("explain_pools_turnover_capital", stdout);
}

#[test]
fn explain_accepts_a_platform_key_written_with_its_name() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["explain", "platform.gui-an.exporters"]));
    assert!(stdout.starts_with("platform.exporters\n"), "{stdout}");
}

#[test]
fn explain_unknown_key_exits_2() {
    let sb = Sandbox::new();
    let stderr = rejected(&sb.output(&["explain", "nosuchkey"]));
    assert!(
        stderr.contains("unknown key or metric `nosuchkey`"),
        "{stderr}"
    );
    assert!(stderr.contains("refundsim explain"), "{stderr}");
    insta::assert_snapshot!("explain_unknown_key", stderr);
}

#[test]
fn explain_misspelt_key_suggests_the_right_one() {
    let sb = Sandbox::new();
    let stderr = rejected(&sb.output(&["explain", "pools.turnover.capitl"]));
    assert!(
        stderr.contains("did you mean `pools.turnover.capital`?"),
        "{stderr}"
    );
    insta::assert_snapshot!("explain_misspelt_key", stderr);
}

#[test]
fn explain_unknown_key_message_is_punctuated() {
    let sb = Sandbox::new();
    let stderr = rejected(&sb.output(&["explain", "nosuchkey"]));
    assert!(!stderr.contains("` Run"), "{stderr}");
}

// ---------------------------------------------------------------------------------
// The shipped scenarios

fn shipped_toml(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = entries(&repo().join(dir))
        .into_iter()
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_base_scenario_validates() {
    let sb = Sandbox::new().shipped();
    let bases = shipped_toml("scenarios");
    assert!(
        bases.contains(&"scenarios/guizhou-2016.toml".to_string()),
        "{bases:?}"
    );
    for base in bases {
        let stdout = succeeded(&sb.output(&["validate", &base]));
        assert!(stdout.starts_with("ok: "), "{base}: {stdout}");
    }
}

#[test]
fn every_shipped_policy_overlay_validates_on_guizhou_2016() {
    let sb = Sandbox::new().shipped();
    let overlays = shipped_toml("scenarios/policies");
    assert!(!overlays.is_empty());
    for overlay in overlays {
        let stdout = succeeded(&sb.output(&["validate", "scenarios/guizhou-2016.toml", &overlay]));
        assert!(
            stdout.starts_with("ok: guizhou-2016"),
            "{overlay}: {stdout}"
        );
    }
}

#[test]
fn every_shipped_policy_overlay_runs_on_guizhou_2016() {
    let sb = Sandbox::new().shipped();
    for (i, overlay) in shipped_toml("scenarios/policies").iter().enumerate() {
        let out_dir = format!("run{i}");
        let out = sb.output(&[
            "run",
            "scenarios/guizhou-2016.toml",
            overlay,
            "--paths",
            "2",
            "--out",
            &out_dir,
            "-q",
        ]);
        succeeded(&out);
        assert!(out.stderr.is_empty(), "{overlay}: {}", text(&out.stderr));
        assert_eq!(
            read_run(&sb.path(&out_dir)).len(),
            RUN_FILES.len(),
            "{overlay}"
        );
    }
}

#[test]
fn shipped_scenarios_validate_from_any_working_directory() {
    let sb = Sandbox::new();
    let scenario = repo().join("scenarios/guizhou-2016.toml");
    succeeded(&sb.output(&["validate", scenario.to_str().unwrap()]));
}

// ---------------------------------------------------------------------------------
// Runs

/// `run scenarios/guizhou-2016.toml --paths 4 -q` plus `extra`, in `sb`.
fn run_2016(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = vec!["run", "scenarios/guizhou-2016.toml", "--paths", "4", "-q"];
    args.extend_from_slice(extra);
    sb.output(&args)
}

/// The files of a run directory by name, as bytes.
fn read_run(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    entries(dir)
        .into_iter()
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

fn assert_no_staging_left(dir: &Path) {
    let hidden: Vec<String> = entries(dir)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "staging directories left behind: {hidden:?}"
    );
}

fn first_line(bytes: &[u8]) -> String {
    text(bytes).lines().next().unwrap_or_default().to_string()
}

fn manifest(bytes: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_slice(bytes).expect("manifest.json is JSON") {
        serde_json::Value::Object(m) => m,
        other => panic!("manifest.json is not an object: {other}"),
    }
}

#[test]
fn run_writes_the_six_files_with_documented_headers() {
    let sb = Sandbox::new().shipped();
    let out = run_2016(&sb, &["--out", "r"]);
    succeeded(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let files = read_run(&sb.path("r"));
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    let mut want = RUN_FILES.to_vec();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    assert_no_staging_left(sb.dir.path());

    let stats = "mean,std_err,std,min,p5,p50,p95,p99,max";
    assert_eq!(
        first_line(&files["summary.csv"]),
        format!("metric,unit,{stats},group")
    );
    assert_eq!(
        first_line(&files["by_platform.csv"]),
        format!("platform,platform_zh,pilot,metric,unit,{stats}")
    );
    assert_eq!(
        first_line(&files["by_class.csv"]),
        format!("class,metric,unit,{stats}")
    );
    assert_eq!(
        first_line(&files["paths.csv"]),
        format!(
            "path,claims_simulated,{},{}",
            METRIC_NAMES.join(","),
            METRIC_NAMES.map(|m| format!("1+7:{m}")).join(",")
        )
    );
    assert!(
        first_line(&files["timeseries.csv"]).starts_with(
            "date,day,tied_up_gross_mean,tied_up_gross_p5,tied_up_gross_p50,tied_up_gross_p95,\
             tied_up_net_mean,tied_up_net_p5,tied_up_net_p50,tied_up_net_p95"
        ),
        "{}",
        first_line(&files["timeseries.csv"])
    );

    // One summary row per metric, in the documented order: all exporters, then
    // the 1+7 group.
    let summary = text(&files["summary.csv"]);
    let rows: Vec<(&str, &str)> = summary
        .lines()
        .skip(1)
        .map(|l| (l.split(',').next().unwrap(), l.rsplit(',').next().unwrap()))
        .collect();
    let want: Vec<(&str, &str)> = ["all", "1+7"]
        .iter()
        .flat_map(|g| METRIC_NAMES.iter().map(move |m| (*m, *g)))
        .collect();
    assert_eq!(rows, want);
    // One row per path; one per day of the window (2017).
    assert_eq!(text(&files["paths.csv"]).lines().count(), 1 + 4);
    let ts = text(&files["timeseries.csv"]);
    let days: Vec<&str> = ts.lines().skip(1).map(|l| &l[..10]).collect();
    assert_eq!(days.len(), 365);
    assert_eq!((days[0], days[364]), ("2017-01-01", "2017-12-31"));

    let m = manifest(&files["manifest.json"]);
    for key in [
        "refundsim_version",
        "scenario",
        "inputs",
        "seed",
        "paths",
        "threads",
        "generator",
        "claims_simulated",
        "elapsed_seconds",
    ] {
        assert!(m.contains_key(key), "manifest.json lacks `{key}`");
    }
    assert_eq!(m["paths"], 4);
    assert_eq!(m["seed"], 20160601);
    let inputs = m["inputs"].as_array().unwrap();
    assert!(
        inputs
            .iter()
            .all(|i| i["sha256"].as_str().is_some_and(|h| h.len() == 64)),
        "every input has its sha256: {inputs:?}"
    );
}

#[test]
fn run_creates_missing_parent_directories_of_out() {
    let sb = Sandbox::new().shipped();
    succeeded(&run_2016(&sb, &["--out", "a/b/r"]));
    assert_eq!(entries(&sb.path("a/b")), vec!["r".to_string()]);
    assert_eq!(read_run(&sb.path("a/b/r")).len(), RUN_FILES.len());
}

#[test]
fn run_refuses_an_existing_out_dir_without_force_and_leaves_it_untouched() {
    let sb = Sandbox::new().shipped();
    succeeded(&run_2016(&sb, &["--out", "r", "--seed", "1"]));
    let before = read_run(&sb.path("r"));

    let stderr = rejected(&run_2016(&sb, &["--out", "r", "--seed", "2"]));
    assert!(stderr.contains("--force"), "{stderr}");
    insta::assert_snapshot!("run_refuses_existing_out_dir", stderr);
    assert_eq!(read_run(&sb.path("r")), before, "the earlier run is intact");
    assert_no_staging_left(sb.dir.path());
}

#[test]
fn run_refuses_an_unrelated_existing_directory_without_force() {
    let sb = Sandbox::new().shipped();
    fs::create_dir(sb.path("mine")).unwrap();
    fs::write(sb.path("mine/notes.txt"), "keep me").unwrap();
    rejected(&run_2016(&sb, &["--out", "mine"]));
    assert_eq!(entries(&sb.path("mine")), vec!["notes.txt".to_string()]);
    assert_eq!(fs::read(sb.path("mine/notes.txt")).unwrap(), b"keep me");
}

#[test]
fn run_with_force_replaces_the_earlier_run() {
    let sb = Sandbox::new().shipped();
    succeeded(&run_2016(&sb, &["--out", "r", "--seed", "1"]));
    let before = read_run(&sb.path("r"));
    // A file refundsim writes there (a brief) goes with the old run; a file it
    // does not write would make --force refuse (tests/hostile/safety.rs).
    fs::write(sb.path("r/brief.md"), "from before").unwrap();

    let out = run_2016(&sb, &["--out", "r", "--seed", "2", "--force"]);
    succeeded(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let after = read_run(&sb.path("r"));
    let names: Vec<&String> = after.keys().collect();
    assert_eq!(
        names.len(),
        RUN_FILES.len(),
        "the old directory is gone whole: {names:?}"
    );
    assert_eq!(manifest(&after["manifest.json"])["seed"], 2);
    assert_ne!(after["paths.csv"], before["paths.csv"]);
    assert_no_staging_left(sb.dir.path());
}

#[test]
fn force_never_replaces_what_refundsim_did_not_write() {
    let sb = Sandbox::new().shipped();
    // A plain file.
    fs::write(sb.path("r"), "a file, not a run").unwrap();
    let stderr = rejected(&run_2016(&sb, &["--out", "r", "--force"]));
    assert!(
        stderr.contains("not a refundsim output directory"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(sb.path("r")).unwrap(),
        "a file, not a run"
    );
    // A folder of someone's documents.
    fs::create_dir_all(sb.path("docs")).unwrap();
    fs::write(sb.path("docs/thesis.docx"), "precious").unwrap();
    rejected(&run_2016(&sb, &["--out", "docs", "--force"]));
    assert_eq!(
        fs::read_to_string(sb.path("docs/thesis.docx")).unwrap(),
        "precious"
    );
    assert_no_staging_left(sb.dir.path());
}

#[test]
fn run_with_force_is_not_blocked_by_a_stale_old_directory() {
    let sb = Sandbox::new().shipped();
    succeeded(&run_2016(&sb, &["--out", "r"]));
    fs::create_dir_all(sb.path(".r.old/leftover")).unwrap();
    succeeded(&run_2016(&sb, &["--out", "r", "--force", "--seed", "2"]));
    assert_eq!(
        manifest(&fs::read(sb.path("r/manifest.json")).unwrap())["seed"],
        2
    );
}

/// Runs `args` with `--threads 1` and `--threads 2` and checks the outputs are
/// identical: every CSV byte for byte, the manifest once `threads`,
/// `elapsed_seconds` and `command` are set aside.
fn assert_thread_independent(sb: &Sandbox, args: &[&str]) {
    for (threads, out) in [("1", "t1"), ("2", "t2")] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--threads", threads, "--out", out]);
        succeeded(&sb.output(&a));
    }
    let (mut one, mut two) = (read_run(&sb.path("t1")), read_run(&sb.path("t2")));
    let (m1, m2) = (
        one.remove("manifest.json").unwrap(),
        two.remove("manifest.json").unwrap(),
    );
    assert_eq!(one.len(), RUN_FILES.len() - 1);
    for (name, bytes) in &one {
        assert!(
            &two[name] == bytes,
            "{name} differs between --threads 1 and 2 ({args:?})"
        );
    }
    let (mut m1, mut m2) = (manifest(&m1), manifest(&m2));
    assert_eq!(
        (m1["threads"].clone(), m2["threads"].clone()),
        (serde_json::Value::from(1), serde_json::Value::from(2))
    );
    for m in [&mut m1, &mut m2] {
        for timing in ["threads", "elapsed_seconds", "command"] {
            m.remove(timing);
        }
    }
    assert_eq!(
        m1, m2,
        "manifests differ beyond threads, timing and command"
    );
}

#[test]
fn run_outputs_do_not_depend_on_thread_count() {
    let sb = Sandbox::new().shipped();
    assert_thread_independent(
        &sb,
        &["run", "scenarios/guizhou-2016.toml", "--paths", "4", "-q"],
    );
}

#[test]
fn run_outputs_with_all_three_pools_do_not_depend_on_thread_count() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    assert_thread_independent(&sb, &["run", "tiny.toml", "--paths", "4", "-q"]);
}

#[test]
fn run_prints_no_progress_bar_when_quiet_or_stderr_is_not_a_terminal() {
    let sb = Sandbox::new().shipped();
    let quiet = sb.output(&[
        "run",
        "scenarios/guizhou-2016.toml",
        "--paths",
        "2",
        "--out",
        "q",
        "--quiet",
    ]);
    succeeded(&quiet);
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    // Without --quiet, stderr is a pipe here, not a terminal: still silent.
    let piped = sb.output(&[
        "run",
        "scenarios/guizhou-2016.toml",
        "--paths",
        "2",
        "--out",
        "p",
    ]);
    succeeded(&piped);
    assert!(piped.stderr.is_empty(), "{}", text(&piped.stderr));
}

#[test]
fn run_with_all_three_pools_succeeds() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    sb.refundsim()
        .args(["run", "tiny.toml", "--out", "r", "-q"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let ts = fs::read(sb.path("r/timeseries.csv")).unwrap();
    let header = first_line(&ts);
    for series in ["turnover.balance", "guarantee.outstanding", "credit.drawn"] {
        assert!(header.contains(&format!("{series}_mean")), "{header}");
    }
}

//! Hostile-input tests: validation — scenario values, `--set`, `--grid`, sizes the
//! machine cannot hold and messages that must say what is allowed.

use std::fs;

use crate::support::*;

/// A sandbox holding `tiny.toml`: the tiny fixture with `edits` applied (each
/// `(from, to)` replaces exactly one occurrence).
fn tiny_with(edits: &[(&str, &str)]) -> Sandbox {
    let sb = Sandbox::new();
    let mut text = fs::read_to_string(fixture("ok/tiny.toml")).unwrap();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replacen(from, to, 1);
    }
    fs::write(sb.path("tiny.toml"), text).unwrap();
    sb
}

/// `validate tiny.toml ARGS…` on a tiny fixture with `edits`; returns stderr of
/// the refusal (exit 2 checked).
fn refused(edits: &[(&str, &str)], args: &[&str]) -> String {
    let sb = tiny_with(edits);
    let mut all = vec!["validate", "tiny.toml"];
    all.extend(args);
    rejected(&sb.output(&all))
}

/// The problem lines of a scenario error (the indented ones).
fn problem_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("  ")).collect()
}

const REVIEW_I: &str = "{ lognormal = { mean = 5, cv = 0.5 } }";

#[test]
fn a_lognormal_cv_too_small_to_represent_runs_as_a_fixed_value() {
    let sb = tiny_with(&[(REVIEW_I, "{ lognormal = { mean = 5, cv = 1e-9 } }")]);
    succeeded(&sb.output(&["run", "tiny.toml", "--paths", "2", "--out", "o", "-q"]));
}

#[test]
fn a_gamma_cv_too_small_to_represent_runs_as_a_fixed_value() {
    let sb = tiny_with(&[(REVIEW_I, "{ gamma = { mean = 5, cv = 1e-200 } }")]);
    succeeded(&sb.output(&["run", "tiny.toml", "--paths", "2", "--out", "o", "-q"]));
}

#[test]
fn paths_flag_is_bounded_like_the_key_and_states_the_maximum() {
    let sb = tiny_with(&[]);
    let out = sb
        .refundsim()
        .args(["run", "tiny.toml", "--paths", "4294967295", "--out", "o"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = rejected(&out);
    assert!(stderr.contains("10000000"), "{stderr}");
    assert!(!sb.path("o").exists());
}

#[test]
fn refuses_a_run_bigger_than_memory_with_the_estimate() {
    // 10 million paths × 3650 days of daily series: hundreds of GB.
    let sb = tiny_with(&[("horizon_days = 60", "horizon_days = 3650")]);
    let out = sb
        .refundsim()
        .args(["run", "tiny.toml", "--paths", "10000000", "--out", "o"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = rejected(&out);
    assert!(stderr.contains("memory"), "{stderr}");
    assert!(stderr.contains("GB"), "the estimate is stated: {stderr}");
    assert!(stderr.contains("daily series"), "{stderr}");
    assert!(!sb.path("o").exists());
}

#[test]
fn refuses_a_population_bigger_than_memory_before_drawing_it() {
    let sb = tiny_with(&[]);
    let mut text = fs::read_to_string(sb.path("tiny.toml")).unwrap();
    for i in 0..100 {
        text += &format!(
            "\n[[platform]]\nname = \"p{i}\"\nexporters = 1000000\nexport_median = 3000000\n"
        );
    }
    fs::write(sb.path("tiny.toml"), text).unwrap();
    let out = sb
        .refundsim()
        .args(["run", "tiny.toml", "--paths", "2", "--out", "o"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = rejected(&out);
    assert!(stderr.contains("exporters"), "{stderr}");
    assert!(stderr.contains("GB"), "{stderr}");
}

#[test]
fn refuses_a_sweep_grid_over_the_documented_size_before_planning() {
    let sb = tiny_with(&[]);
    let out = sb
        .refundsim()
        .args([
            "sweep",
            "tiny.toml",
            "--grid",
            "pools.turnover.capital=1e6:1e8:1000",
            "--grid",
            "pools.turnover.advance_ratio=0.1:0.9:1000",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = rejected(&out);
    assert!(stderr.contains("1000000 points"), "{stderr}");
    assert!(stderr.contains("10000"), "states the cap: {stderr}");
}

#[test]
fn refuses_a_grid_range_with_a_huge_count_at_once() {
    let sb = tiny_with(&[]);
    let out = sb
        .refundsim()
        .args([
            "sweep",
            "tiny.toml",
            "--grid",
            "pools.turnover.capital=1e6:1e8:4000000000",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = rejected(&out);
    assert!(stderr.contains("10000"), "{stderr}");
}

#[test]
fn values_in_a_disabled_pool_are_still_validated() {
    let stderr = refused(
        &[
            (
                "enabled = true\ncapital = \"300万\"",
                "enabled = false\ncapital = \"-300万\"",
            ),
            ("advance_ratio = 0.8", "advance_ratio = 1.5"),
            ("queue = \"fifo\"", "queue = \"fifi\""),
        ],
        &[],
    );
    for key in [
        "pools.turnover.capital",
        "pools.turnover.advance_ratio",
        "pools.turnover.queue",
    ] {
        assert!(stderr.contains(key), "{key} not reported:\n{stderr}");
    }
    assert_eq!(problem_lines(&stderr).len(), 3, "{stderr}");
}

#[test]
fn a_platform_with_four_bad_fields_reports_all_four() {
    let stderr = refused(
        &[(
            "pilot = true\nexporters = 12\nexport_median = \"300万\"\nexport_sigma = 1.2\ntrading_share = 0.25",
            "pilot = \"yes\"\nexporters = -12\nexport_median = \"lots\"\nexport_sigma = 9\ntrading_share = 0.25",
        )],
        &[],
    );
    for key in ["pilot", "exporters", "export_median", "export_sigma"] {
        assert!(
            stderr.contains(&format!("platform.gui-an.{key}")),
            "{key} not reported:\n{stderr}"
        );
    }
}

#[test]
fn a_sector_with_bad_fields_reports_each() {
    let stderr = refused(
        &[(
            "name_zh = \"机电产品\"\nrefund_rate = 0.17\nshare = 0.7",
            "name_zh = 5\nrefund_rate = 3\nshare = \"most\"",
        )],
        &[],
    );
    for key in ["name_zh", "refund_rate", "share"] {
        assert!(
            stderr.contains(&format!("sector.machinery.{key}")),
            "{key} not reported:\n{stderr}"
        );
    }
}

#[test]
fn a_syntax_error_in_one_file_does_not_hide_the_problems_of_the_others() {
    let sb = tiny_with(&[("horizon_days = 60", "horizon_days = 0")]);
    fs::write(sb.path("overlay.toml"), "[policy\nname = \"x\"\n").unwrap();
    let stderr = rejected(&sb.output(&["validate", "tiny.toml", "overlay.toml"]));
    assert!(stderr.contains("overlay.toml:1:"), "{stderr}");
    assert!(stderr.contains("scenario.horizon_days"), "{stderr}");
}

#[test]
fn a_comma_that_is_not_a_thousands_separator_is_an_error() {
    let stderr = refused(&[("capital = \"300万\"", "capital = \"1,5亿\"")], &[]);
    assert!(stderr.contains("pools.turnover.capital"), "{stderr}");
    assert!(stderr.contains("thousands"), "names the fix: {stderr}");
    assert!(stderr.contains("1.5亿"), "names the fix: {stderr}");
    let sb = tiny_with(&[("capital = \"300万\"", "capital = \"1,500万\"")]);
    succeeded(&sb.output(&["validate", "tiny.toml"]));
}

#[test]
fn set_with_a_line_break_is_refused() {
    let stderr = refused(&[], &["--set", "scenario.paths=3\nscenario.seed=5"]);
    assert!(stderr.contains("line break"), "{stderr}");
}

#[test]
fn paths_out_of_range_states_the_maximum() {
    let stderr = refused(&[("paths = 4", "paths = 20000000")], &[]);
    assert!(stderr.contains("10000000"), "{stderr}");
}

#[test]
fn seed_out_of_range_states_its_real_range() {
    let stderr = refused(&[("seed = 7", "seed = -1")], &[]);
    assert!(stderr.contains("9223372036854775807"), "{stderr}");
    // Every seed in the stated range is accepted, exactly.
    let sb = tiny_with(&[("seed = 7", "seed = 9223372036854775807")]);
    succeeded(&sb.output(&["validate", "tiny.toml"]));
}

#[test]
fn distribution_errors_state_their_bounds() {
    let stderr = refused(
        &[(REVIEW_I, "{ lognormal = { mean = -5, cv = 0.5 } }")],
        &[],
    );
    assert!(
        stderr.contains("policy.review[0].lognormal.mean"),
        "{stderr}"
    );
    assert!(stderr.contains("from 0 to"), "{stderr}");
    let stderr = refused(&[(REVIEW_I, "{ uniform = [-3, 5] }")], &[]);
    assert!(stderr.contains("from 0 to"), "{stderr}");
}

#[test]
fn a_duplicate_key_is_named_with_file_and_line() {
    let stderr = refused(&[("seed = 7", "seed = 7\nseed = 8")], &[]);
    assert!(stderr.contains("tiny.toml:14:"), "{stderr}");
    assert!(stderr.contains("`seed`"), "{stderr}");
    assert!(stderr.contains("duplicate"), "{stderr}");
}

#[test]
fn a_grid_range_with_a_negative_count_is_a_clear_error() {
    let sb = tiny_with(&[]);
    let stderr =
        rejected(&sb.output(&["sweep", "tiny.toml", "--grid", "pools.turnover.lag=1:2:-3"]));
    assert!(!stderr.contains("invalid time"), "{stderr}");
    assert!(stderr.contains("count"), "{stderr}");
}

#[test]
fn an_amount_too_large_for_a_number_says_too_large() {
    let stderr = refused(&[("capital = \"300万\"", "capital = \"1e400\"")], &[]);
    assert!(stderr.contains("too large"), "{stderr}");
    assert!(!stderr.contains("not an amount"), "{stderr}");
}

#[test]
fn set_addresses_list_elements_by_position_from_one() {
    let sb = tiny_with(&[]);
    let out = sb.output(&[
        "validate",
        "tiny.toml",
        "--set",
        "policy.review.1.lognormal.mean=14",
        "--set",
        "policy.denial_prob.4=0.07",
    ]);
    succeeded(&out);
    // And a position past the end says which positions exist.
    let stderr = refused(&[], &["--set", "policy.review.9.lognormal.mean=14"]);
    assert!(stderr.contains("1 to 4"), "{stderr}");
    assert!(!stderr.trim_end().ends_with("names: "), "{stderr}");
}

#[test]
fn an_over_long_title_is_refused_with_the_limit() {
    let long = "x".repeat(40_000);
    let stderr = refused(
        &[(
            "title = \"Tiny test scenario\"",
            &format!("title = \"{long}\""),
        )],
        &[],
    );
    assert!(stderr.contains("scenario.title"), "{stderr}");
    assert!(stderr.contains("200"), "{stderr}");
    assert!(
        stderr.len() < 2000,
        "the message does not echo the whole title"
    );
}

#[test]
fn control_characters_in_names_are_refused() {
    let stderr = refused(&[("name = \"gui-an\"", "name = \"gui\\nan\"")], &[]);
    assert!(stderr.contains("control character"), "{stderr}");
}

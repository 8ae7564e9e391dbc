//! `size` and `sensitivity` (issue 10), driven through the real binary and checked
//! against answers nobody here wrote: Erlang's loss formula for a no-queue pool and
//! Little's law for tied-up capital.

use std::fs;

mod support;
use support::*;

/// The Erlang fixture: Poisson requests at 2 a day, each holding 1万 of capital for
/// exactly 100 days (offered load 200 claims).
fn erlang() -> Sandbox {
    Sandbox::new().fixture("decide/erlang.toml", "erlang.toml")
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Mean of a metric in a run's summary.csv.
fn summary_mean(dir: &std::path::Path, metric: &str) -> f64 {
    let text = fs::read_to_string(dir.join("summary.csv")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{metric},")))
        .unwrap_or_else(|| panic!("{metric} in summary.csv"));
    line.split(',').nth(2).unwrap().parse().unwrap()
}

const SIZE: [&str; 10] = [
    "size",
    "erlang.toml",
    "--lever",
    "pools.turnover.capital",
    "--range",
    "150e4:250e4",
    "--step",
    "1e4",
    "--target",
    "turnover.blocked_share<=0.055",
];

/// Erlang B(200 erlangs, c) first falls to 0.055 at c = 200 servers; the pool's
/// days are discrete, so allow 190–205 claims' worth of capital.
#[test]
fn size_agrees_with_erlangs_loss_formula() {
    let sb = erlang();
    let mut args = SIZE.to_vec();
    args.extend(["--confidence", "mean", "--out", "e", "--quiet"]);
    let out = succeeded(&sb.output(&args));
    assert!(out.contains("answer: pools.turnover.capital = "), "{out}");
    let a = json(&sb.path("e/answer.json"));
    let v = a["value"].as_f64().unwrap();
    assert!(
        (190e4..=205e4).contains(&v),
        "capital {v} is not within 190–205 claims of 1万"
    );
    assert_eq!(a["direction"], "smallest");
    assert_eq!(a["target"], "turnover.blocked_share<=0.055");
    assert_eq!(a["confidence"], "mean");
    assert_eq!(a["monotone"], true);
    assert!(a["statistic"].as_f64().unwrap() <= 0.055);
    assert!(a["ci_low"].as_f64().unwrap() <= a["statistic"].as_f64().unwrap());
    assert!(a["ci_high"].as_f64().unwrap() >= a["statistic"].as_f64().unwrap());
    let csv = fs::read_to_string(sb.path("e/size.csv")).unwrap();
    assert!(
        csv.starts_with("pools.turnover.capital,statistic,ci_low,ci_high,meets,"),
        "{csv}"
    );
}

/// The search needs at most ⌈log2((HI − LO)/step)⌉ + 3 evaluations; its answer
/// meets the target and one step below does not, on the same paths — checked
/// with plain `run`s of both capitals.
#[test]
fn size_is_a_short_bisection_whose_answer_is_one_step_from_failure() {
    let sb = erlang();
    let mut args = SIZE.to_vec();
    args.extend(["--out", "e", "--quiet"]);
    succeeded(&sb.output(&args));
    let a = json(&sb.path("e/answer.json"));
    let evals = a["evaluations"].as_u64().unwrap();
    let bound = ((250e4 - 150e4) / 1e4_f64).log2().ceil() as u64 + 3;
    assert!(evals <= bound, "{evals} evaluations > {bound}");
    assert_eq!(
        a["points"].as_array().unwrap().len() as u64,
        evals,
        "size.csv lists every evaluation"
    );
    let v = a["value"].as_f64().unwrap();
    assert_eq!(a["neighbour"].as_f64().unwrap(), v - 1e4);
    for (cap, dir) in [(v, "at"), (v - 1e4, "below")] {
        succeeded(&sb.output(&[
            "run",
            "erlang.toml",
            "--set",
            &format!("pools.turnover.capital={cap}"),
            "--out",
            dir,
            "--quiet",
        ]));
    }
    let at = summary_mean(&sb.path("at"), "turnover.blocked_share");
    let below = summary_mean(&sb.path("below"), "turnover.blocked_share");
    assert!(at <= 0.055, "the answer meets the target: {at}");
    assert!(below > 0.055, "one step below does not: {below}");
    assert_eq!(at, a["statistic"].as_f64().unwrap(), "same paths as run");
}

/// With `--confidence P` the statistic is the share of paths meeting the target,
/// with a Wilson interval, and it must reach P.
#[test]
fn size_with_a_confidence_finds_a_share_of_paths() {
    let sb = erlang();
    let mut args = SIZE.to_vec();
    args.extend(["--confidence", "0.9", "--out", "c", "--quiet"]);
    succeeded(&sb.output(&args));
    let a = json(&sb.path("c/answer.json"));
    assert_eq!(a["confidence"].as_f64(), Some(0.9));
    let p = a["statistic"].as_f64().unwrap();
    assert!(p >= 0.9, "{p}");
    let (lo, hi) = (
        a["ci_low"].as_f64().unwrap(),
        a["ci_high"].as_f64().unwrap(),
    );
    assert!(
        (0.0..=p).contains(&lo) && (p..=1.0).contains(&hi),
        "{lo} {hi}"
    );
    // Being sure on 90% of years needs more capital than the mean does.
    let mut mean_args = SIZE.to_vec();
    mean_args.extend(["--out", "m", "--quiet"]);
    succeeded(&sb.output(&mean_args));
    let m = json(&sb.path("m/answer.json"));
    assert!(a["value"].as_f64().unwrap() > m["value"].as_f64().unwrap());
}

/// A lever that hurts (more review days tie up more capital) is sized from above:
/// the largest value still meeting the target.
#[test]
fn size_finds_the_largest_value_of_a_lever_that_works_the_other_way() {
    let sb = erlang();
    let out = sb.output(&[
        "size",
        "erlang.toml",
        "--lever",
        "policy.review.1",
        "--range",
        "10:80",
        "--step",
        "1",
        "--target",
        "days_to_refund_avg<=120",
        "--out",
        "r",
        "--quiet",
    ]);
    succeeded(&out);
    let a = json(&sb.path("r/answer.json"));
    assert_eq!(a["direction"], "largest");
    // days to refund = 40 + 10 + review + 5, exactly.
    assert_eq!(a["value"].as_f64(), Some(65.0));
    assert_eq!(a["statistic"].as_f64(), Some(120.0));
}

/// Little's law: with fixed delays, five more review days tie up five more days of
/// refunds: Δ tied_up_gross_avg = ± refunds a year × 5 / 365.
#[test]
fn tornado_deltas_follow_littles_law() {
    let sb = erlang();
    succeeded(&sb.output(&[
        "sensitivity",
        "erlang.toml",
        "--param",
        "policy.review.1=40,50",
        "--metric",
        "tied_up_gross_avg",
        "--metric",
        "refund_declared",
        "--out",
        "t",
        "--quiet",
    ]));
    let csv = fs::read_to_string(sb.path("t/tornado.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "param,low,high,metric,base,at_low,at_high,delta_low,delta_low_ci,delta_high,delta_high_ci,swing"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let tied = rows.iter().find(|r| r[3] == "tied_up_gross_avg").unwrap();
    let declared = rows.iter().find(|r| r[3] == "refund_declared").unwrap();
    let per_year: f64 = declared[4].parse().unwrap();
    let expect = per_year * 5.0 / 365.0;
    let (dl, dh): (f64, f64) = (tied[7].parse().unwrap(), tied[9].parse().unwrap());
    assert_eq!((tied[0], tied[1], tied[2]), ("policy.review.1", "40", "50"));
    assert!(
        (dl + expect).abs() < 0.03 * expect,
        "Δlow {dl} vs −{expect}"
    );
    assert!(
        (dh - expect).abs() < 0.03 * expect,
        "Δhigh {dh} vs {expect}"
    );
    let swing: f64 = tied[11].parse().unwrap();
    assert!((swing - (dh - dl)).abs() < 1e-6 * swing);
}

/// The default set takes every numeric key the scenario writes (array elements one
/// by one), moved ±25%, and sorts each metric's rows by swing.
#[test]
fn tornado_default_parameters_cover_the_scenario_and_sort_by_swing() {
    let sb = erlang();
    succeeded(&sb.output(&[
        "sensitivity",
        "erlang.toml",
        "--paths",
        "10",
        "--out",
        "t",
        "--quiet",
    ]));
    let csv = fs::read_to_string(sb.path("t/tornado.csv")).unwrap();
    for p in [
        "policy.review.1,33.75,56.25",
        "policy.docs,30,50",
        "pools.turnover.capital,1500000,2500000",
        "sector.one.refund_rate,0.075,0.125",
        "pools.turnover.advance_ratio,0.75,1,",
    ] {
        assert!(csv.contains(p), "{p} in\n{csv}");
    }
    assert!(
        !csv.contains("platform."),
        "per-platform keys only on request"
    );
    for m in ["tied_up_net_avg", "days_to_cash_avg", "fiscal_cost"] {
        let swings: Vec<f64> = csv
            .lines()
            .filter(|l| l.split(',').nth(3) == Some(m))
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect();
        assert!(swings.len() >= 8, "{m}: {swings:?}");
        assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{m}: {swings:?}");
    }
}

/// Morris: a parameter the metric does not depend on has μ* = σ = 0 exactly (on
/// common random numbers), one that matters has μ* > 0 with a bootstrap interval
/// around it.
#[test]
fn morris_screens_out_a_parameter_that_does_nothing() {
    let sb = erlang();
    succeeded(&sb.output(&[
        "sensitivity",
        "erlang.toml",
        "--method",
        "morris",
        "--trajectories",
        "4",
        "--param",
        "policy.review.1=40,50",
        "--param",
        "economy.gov_rate=0.02,0.04",
        "--metric",
        "tied_up_gross_avg",
        "--paths",
        "10",
        "--out",
        "m",
        "--quiet",
    ]));
    let csv = fs::read_to_string(sb.path("m/morris.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("param,metric,mu_star,mu_star_ci,sigma")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "policy.review.1", "largest μ* first");
    let mu: f64 = rows[0][2].parse().unwrap();
    let (lo, hi): (f64, f64) = (rows[0][6].parse().unwrap(), rows[0][7].parse().unwrap());
    assert!(mu > 0.0 && lo <= mu && mu <= hi, "{:?}", rows[0]);
    assert_eq!(rows[1][0], "economy.gov_rate");
    assert_eq!((rows[1][2], rows[1][4]), ("0", "0"));
    let m = json(&sb.path("m/manifest.json"));
    assert_eq!(m["kind"], "sensitivity");
    assert_eq!(m["complete"], true);
    // 4 trajectories of 3 points, each a run.
    assert!(m["evaluations"].as_u64().unwrap() <= 12);
}

#[test]
fn bad_size_and_sensitivity_arguments_exit_2_with_a_clear_message() {
    let sb = erlang();
    let base = |lever: &str, range: &str, target: &str| {
        vec![
            "size".to_string(),
            "erlang.toml".into(),
            "--lever".into(),
            lever.into(),
            "--range".into(),
            range.into(),
            "--target".into(),
            target.into(),
            "--out".into(),
            "x".into(),
        ]
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            base(
                "pools.turnover.capitol",
                "1e6:3e6",
                "turnover.blocked_share<=0.05",
            ),
            "did you mean `pools.turnover.capital`",
        ),
        (
            base(
                "pools.turnover.queue",
                "1e6:3e6",
                "turnover.blocked_share<=0.05",
            ),
            "not a number",
        ),
        (
            base("policy.review.9", "1:3", "turnover.blocked_share<=0.05"),
            "policy.review.9",
        ),
        (
            base(
                "pools.guarantee.capital",
                "1e6:3e6",
                "turnover.blocked_share<=0.05",
            ),
            "pools.guarantee.enabled=true",
        ),
        (
            base(
                "pools.turnover.capital",
                "3e6:1e6",
                "turnover.blocked_share<=0.05",
            ),
            "LO < HI",
        ),
        (
            base(
                "pools.turnover.advance_ratio",
                "0.5:1.5",
                "turnover.blocked_share<=0.05",
            ),
            "takes values from 0 to 1",
        ),
        (
            base(
                "pools.turnover.capital",
                "1e6:3e6",
                "turnover.blocked_share=0.05",
            ),
            "METRIC<=X",
        ),
        (
            base("pools.turnover.capital", "1e6:3e6", "blocked<=0.05"),
            "`blocked` is not a metric",
        ),
        (
            [
                "sensitivity",
                "erlang.toml",
                "--metric",
                "tied_up",
                "--out",
                "x",
            ]
            .map(String::from)
            .to_vec(),
            "`tied_up` is not a metric",
        ),
        (
            [
                "sensitivity",
                "erlang.toml",
                "--param",
                "policy.review.1=50,40",
                "--out",
                "x",
            ]
            .map(String::from)
            .to_vec(),
            "LOW < HIGH",
        ),
        (
            [
                "sensitivity",
                "erlang.toml",
                "--param",
                "nope.key=1,2",
                "--out",
                "x",
            ]
            .map(String::from)
            .to_vec(),
            "`nope.key` is not a scenario key",
        ),
    ];
    for (args, needle) in cases {
        let out = sb.output(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = rejected(&out);
        assert!(
            err.contains(needle),
            "{args:?}: expected `{needle}` in\n{err}"
        );
        assert!(!sb.path("x").exists(), "{args:?} left an output behind");
    }
    let mut args = SIZE.to_vec();
    args.extend(["--confidence", "1.5", "--out", "x"]);
    assert!(rejected(&sb.output(&args)).contains("--confidence"));
}

/// A study killed part-way resumes from its finished points and writes the same
/// bytes; a different question in the same folder is refused without --force.
#[test]
fn size_and_sensitivity_resume_and_refuse_a_foreign_folder() {
    let sb = erlang();
    let mut args = SIZE.to_vec();
    args.extend(["--out", "e", "--quiet"]);
    succeeded(&sb.output(&args));
    let answer = fs::read(sb.path("e/answer.json")).unwrap();
    let table = fs::read(sb.path("e/size.csv")).unwrap();
    // As if killed: results not yet written, two points missing.
    fs::remove_file(sb.path("e/answer.json")).unwrap();
    fs::remove_file(sb.path("e/size.csv")).unwrap();
    let mut pts = entries(&sb.path("e/points"));
    assert!(pts.len() >= 5);
    for p in pts.drain(..2) {
        fs::remove_dir_all(sb.path("e/points").join(p)).unwrap();
    }
    let out = succeeded(&sb.output(&args));
    assert!(out.contains("resumed"), "{out}");
    assert_eq!(fs::read(sb.path("e/answer.json")).unwrap(), answer);
    assert_eq!(fs::read(sb.path("e/size.csv")).unwrap(), table);

    let mut other = SIZE.to_vec();
    other[9] = "turnover.blocked_share<=0.1";
    other.extend(["--out", "e", "--quiet"]);
    let err = rejected(&sb.output(&other));
    assert!(err.contains("--force"), "{err}");
    other.push("--force");
    succeeded(&sb.output(&other));
    assert_eq!(
        json(&sb.path("e/answer.json"))["target"],
        "turnover.blocked_share<=0.1"
    );

    let sens = [
        "sensitivity",
        "erlang.toml",
        "--param",
        "policy.review.1=40,50",
        "--param",
        "policy.docs=30,50",
        "--paths",
        "10",
        "--out",
        "t",
        "--quiet",
    ];
    succeeded(&sb.output(&sens));
    let tornado = fs::read(sb.path("t/tornado.csv")).unwrap();
    fs::remove_file(sb.path("t/tornado.csv")).unwrap();
    let first = entries(&sb.path("t/points")).remove(0);
    fs::remove_dir_all(sb.path("t/points").join(first)).unwrap();
    assert!(succeeded(&sb.output(&sens)).contains("resumed"));
    assert_eq!(fs::read(sb.path("t/tornado.csv")).unwrap(), tornado);
}

/// Briefs of both commands: the one-sentence answer in both languages, the chart
/// of the statistic against the lever, the tornado chart and the μ*–σ plot.
#[test]
fn briefs_of_size_and_sensitivity_answer_in_both_languages() {
    let sb = erlang();
    let mut args = SIZE.to_vec();
    args.extend(["--confidence", "0.9", "--out", "s", "--quiet"]);
    succeeded(&sb.output(&args));
    let out = succeeded(&sb.output(&["brief", "s"]));
    assert!(
        out.contains("brief.html") && out.contains("brief.xlsx"),
        "{out}"
    );
    let md = fs::read_to_string(sb.path("s/brief.md")).unwrap();
    assert!(md.contains("周转池资本金为 "), "{md}");
    assert!(md.contains("Turnover pool capital of "), "{md}");
    assert!(md.contains("of years (target: 90% of years)"), "{md}");
    let html = fs::read_to_string(sb.path("s/brief.html")).unwrap();
    assert!(
        html.contains("<svg") && html.contains("chosen value"),
        "{html}"
    );

    succeeded(&sb.output(&[
        "sensitivity",
        "erlang.toml",
        "--paths",
        "10",
        "--out",
        "t",
        "--quiet",
    ]));
    succeeded(&sb.output(&["brief", "t", "--lang", "en"]));
    let md = fs::read_to_string(sb.path("t/brief.md")).unwrap();
    assert!(md.contains("The assumption that matters most for"), "{md}");
    let html = fs::read_to_string(sb.path("t/brief.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "one tornado per metric");
    assert!(html.contains("at the high value"));

    succeeded(&sb.output(&[
        "sensitivity",
        "erlang.toml",
        "--method",
        "morris",
        "--trajectories",
        "3",
        "--param",
        "policy.review.1=40,50",
        "--param",
        "policy.docs=30,50",
        "--metric",
        "tied_up_gross_avg",
        "--paths",
        "5",
        "--out",
        "m",
        "--quiet",
    ]));
    succeeded(&sb.output(&["brief", "m"]));
    let html = fs::read_to_string(sb.path("m/brief.html")).unwrap();
    assert!(html.contains("μ* against σ"), "{html}");
}

//! Hostile-input tests: numbers that once misled (guarantee losses beyond the
//! pool's capital, titles naming the wrong population, intervals of shares below
//! zero, metrics without documentation).

use std::fs;

use crate::support::*;

/// Per-path values of a metric column of `paths.csv`.
fn path_column(csv: &str, metric: &str) -> Vec<f64> {
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let k = h.iter().position(|c| c == metric).unwrap();
    rdr.records()
        .map(|r| r.unwrap()[k].parse::<f64>().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn guarantee_pool_never_books_more_loss_than_its_capital() {
    // A 1万 fund at leverage 10, a third of claims denied and every loss the
    // pool's: loans granted before ruin keep failing after it. Before the fix the
    // pool booked several times its capital.
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let out = sb.output(&[
        "run",
        "tiny.toml",
        "--quiet",
        "--out",
        "run",
        "--set",
        "scenario.horizon_days=365",
        // A short warm-up, so the fund is ruined inside the window.
        "--set",
        "scenario.warmup_days=60",
        "--set",
        "pools.turnover.enabled=false",
        "--set",
        "pools.guarantee.capital=1e4",
        "--set",
        "pools.guarantee.leverage=10",
        "--set",
        "pools.guarantee.loss_given_denial=1",
        "--set",
        "pools.guarantee.loss_share=1",
        "--set",
        "pools.guarantee.eligible_classes=[1, 2, 3, 4]",
        "--set",
        "policy.denial_prob=[0.3, 0.3, 0.3, 0.3]",
    ]);
    succeeded(&out);
    let csv = fs::read_to_string(sb.path("run/paths.csv")).unwrap();
    let pool = path_column(&csv, "guarantee.loss_pool");
    let bank = path_column(&csv, "guarantee.loss_bank");
    let ruined = path_column(&csv, "guarantee.ruined");
    for ((p, b), r) in pool.iter().zip(&bank).zip(&ruined) {
        // Horizon 365 days: the per-year flow is the window's total.
        assert!(*p <= 1e4 * (1.0 + 1e-9), "pool lost {p} of its 1e4 capital");
        if *r == 1.0 {
            assert!(*b > 0.0, "after ruin the bank bears the losses");
        }
    }
    assert!(
        ruined.contains(&1.0),
        "the test needs a ruined pool: {ruined:?}"
    );
}

#[test]
fn sweep_intervals_of_shares_stay_within_zero_and_one() {
    // 8 paths, a guarantee fund small enough to be ruined on some of them: the
    // normal interval of a 1-in-8 probability went below 0. Wilson intervals stay
    // in [0, 1] and, with ruin observed, exclude 0.
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let out = sb.output(&[
        "sweep",
        "tiny.toml",
        "--quiet",
        "--paths",
        "8",
        "--out",
        "sw",
        "--set",
        "policy.denial_prob=[0.1, 0.1, 0.1, 0.1]",
        "--set",
        "pools.guarantee.loss_share=1",
        "--set",
        "pools.guarantee.loss_given_denial=1",
        "--set",
        "pools.guarantee.eligible_classes=[1, 2, 3, 4]",
        "--set",
        "pools.turnover.enabled=false",
        "--grid",
        "pools.guarantee.capital=1e4,3e4,1e6",
    ]);
    succeeded(&out);
    let csv = fs::read_to_string(sb.path("sw/sweep.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let mut checked = 0;
    let mut ruined_somewhere = false;
    for (k, col) in h.iter().enumerate() {
        let Some(metric) = col.strip_suffix("_mean") else {
            continue;
        };
        if !refundsim::metrics::is_share(metric) {
            continue;
        }
        for r in &rows {
            let [m, lo, hi] = [0, 1, 2].map(|i| r[k + i].parse::<f64>().unwrap_or(f64::NAN));
            if m.is_nan() {
                continue;
            }
            assert!(
                (0.0..=m).contains(&lo) && (m..=1.0).contains(&hi),
                "{metric}: {m} has interval [{lo}, {hi}]"
            );
            if m > 0.0 {
                assert!(
                    lo > 0.0,
                    "{metric}: observed {m} yet the interval reaches 0"
                );
            }
            if metric == "guarantee.ruined" && m > 0.0 && m < 1.0 {
                ruined_somewhere = true;
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "share columns checked: {checked}");
    assert!(ruined_somewhere, "the test needs 0 < P(ruin) < 1:\n{csv}");
}

#[test]
fn explain_documents_a_metric_from_the_metric_table() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["explain", "turnover.blocked_share"]));
    for field in [
        "  unit:",
        "  mechanism:",
        "  grouped:",
        "  interval:  share",
    ] {
        assert!(stdout.contains(field), "`{field}` missing:\n{stdout}");
    }
    insta::assert_snapshot!("explain_turnover_blocked_share", stdout);
}

#[test]
fn explain_documents_every_metric() {
    let sb = Sandbox::new();
    for m in refundsim::metrics::METRICS {
        let stdout = succeeded(&sb.output(&["explain", m.name]));
        assert!(
            stdout.starts_with(&format!("{} (output metric)\n", m.name)) && stdout.contains(m.doc),
            "{}:\n{stdout}",
            m.name
        );
    }
}

#[test]
fn explain_without_argument_lists_keys_and_metrics() {
    let sb = Sandbox::new();
    let stdout = succeeded(&sb.output(&["explain"]));
    assert!(
        stdout.contains("\npools.turnover.capital\n"),
        "keys missing"
    );
    for m in refundsim::metrics::METRICS {
        assert!(
            stdout.contains(&format!("\n  {} ", m.name)),
            "{} missing",
            m.name
        );
    }
}

#[test]
fn explain_suggests_a_metric_for_a_misspelt_metric() {
    let sb = Sandbox::new();
    let stderr = rejected(&sb.output(&["explain", "guarantee.ruind"]));
    assert!(
        stderr.contains("did you mean `guarantee.ruined`?"),
        "{stderr}"
    );
    insta::assert_snapshot!("explain_misspelt_metric", stderr);
}

/// `manifest.json` of a run directory.
fn manifest(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn shipped_run_names_the_population_it_covers() {
    // guizhou-2016 holds the eight pilot platforms and the rest-of-guizhou
    // comparison group; its numbers cover both, and its title said "1+7 platforms".
    let sb = Sandbox::new().shipped();
    let stdout = succeeded(&sb.output(&[
        "run",
        "scenarios/guizhou-2016.toml",
        "--paths",
        "2",
        "--quiet",
        "--out",
        "run",
    ]));
    let covers = "all exporters: 8 pilot platforms + comparison group (rest-of-guizhou)";
    assert!(stdout.contains(&format!("covers {covers}")), "{stdout}");
    let m = manifest(&sb.path("run"));
    assert_eq!(m["population"], covers);
    assert_eq!(
        m["population_zh"],
        "全部出口企业：8个试点平台＋对照组（贵州其他地区）"
    );
    let title = m["title"].as_str().unwrap();
    assert!(
        title.contains("rest of the province") && !title.starts_with("Guizhou 1+7 platforms"),
        "{title}"
    );
    succeeded(&sb.output(&["brief", "run", "--lang", "en"]));
    let md = fs::read_to_string(sb.path("run/brief.md")).unwrap();
    assert!(
        md.contains(&format!("The figures below cover {covers}.")),
        "{md}"
    );
}

const FAST: &str = "[policy]\nname = \"fast review\"\nreview = [1, 1, 1, 1]\n";

#[test]
fn overlay_run_is_named_and_titled_after_the_whole_stack() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(sb.path("fast.toml"), FAST).unwrap();
    succeeded(&sb.output(&["run", "tiny.toml", "fast.toml", "--quiet"]));
    // Before: output/tiny, titled like the base.
    assert_eq!(entries(&sb.path("output")), ["tiny+fast"]);
    let m = manifest(&sb.path("output/tiny+fast"));
    assert_eq!(m["scenario_name"], "tiny+fast");
    assert_eq!(m["title"], "Tiny test scenario, with fast review");
    assert_eq!(m["title_zh"], "测试场景＋fast review");
    // The base alone keeps its own folder, so the two never collide.
    succeeded(&sb.output(&["run", "tiny.toml", "--quiet"]));
    assert_eq!(entries(&sb.path("output")), ["tiny", "tiny+fast"]);
    // --out still wins; --set of the name or title wins over the derived one.
    succeeded(&sb.output(&[
        "run",
        "tiny.toml",
        "fast.toml",
        "--quiet",
        "--out",
        "mine",
        "--set",
        "scenario.title=Mine",
    ]));
    assert_eq!(manifest(&sb.path("mine"))["title"], "Mine");
    assert_eq!(entries(&sb.path("output")), ["tiny", "tiny+fast"]);
}

#[test]
fn a_file_that_sets_scenario_name_starts_a_new_stack() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(sb.path("fast.toml"), FAST).unwrap();
    fs::write(sb.path("other.toml"), "[scenario]\nname = \"other\"\n").unwrap();
    succeeded(&sb.output(&["run", "tiny.toml", "other.toml", "fast.toml", "--quiet"]));
    assert_eq!(entries(&sb.path("output")), ["other+fast"]);
}

#[test]
fn compare_and_sweep_default_folders_name_the_stack() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(sb.path("fast.toml"), FAST).unwrap();
    fs::write(
        sb.path("slow.toml"),
        "[policy]\nreview = [30, 30, 30, 30]\n",
    )
    .unwrap();
    succeeded(&sb.output(&[
        "compare",
        "tiny.toml",
        "slow.toml",
        "--reform",
        "fast.toml",
        "--quiet",
    ]));
    succeeded(&sb.output(&[
        "sweep",
        "tiny.toml",
        "fast.toml",
        "--grid",
        "pools.turnover.capital=1e6,2e6",
        "--quiet",
    ]));
    assert_eq!(
        entries(&sb.path("output")),
        ["tiny+fast-sweep", "tiny+slow-vs-fast"]
    );
    let m = manifest(&sb.path("output/tiny+slow-vs-fast/reform"));
    assert_eq!(m["title"], "Tiny test scenario, with slow and fast review");
}

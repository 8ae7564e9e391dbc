//! `compare` with several reforms (MODEL.md §7, §10–11): each reform paired with
//! one base exactly as in a two-arm comparison, `--reform-set` on the reform arms
//! only, `effectiveness.csv`, the 1+7 group's per-path statistics, and the
//! ways a `--reform` can be wrong.

mod support;

use std::fs;
use std::path::Path;

use support::{Sandbox, rejected, succeeded};

/// Mechanisms off in the base; each reform switches one thing on.
const NO_POOLS: &str = "[pools.turnover]\nenabled = false\n\n[pools.guarantee]\nenabled = false\n\n[pools.credit]\nenabled = false\n";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(sb.path("nopools.toml"), NO_POOLS).unwrap();
    fs::write(sb.path("tp.toml"), "[pools.turnover]\nenabled = true\n").unwrap();
    fs::write(sb.path("gp.toml"), "[pools.guarantee]\nenabled = true\n").unwrap();
    fs::write(sb.path("fast.toml"), "[policy]\nreview = [1, 1, 1, 1]\n").unwrap();
    sb
}

fn compare(sb: &Sandbox, reforms: &[&str], extra: &[&str], out: &str) -> String {
    let mut args = vec!["compare", "tiny.toml", "nopools.toml"];
    for r in reforms {
        args.extend(["--reform", r]);
    }
    args.extend(extra);
    args.extend(["--paths", "6", "--out", out, "-q"]);
    succeeded(&sb.output(&args))
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Rows of a CSV (header first), split naively: these files hold no quoted commas.
fn rows(p: &Path) -> Vec<Vec<String>> {
    read(p)
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn three_reforms_give_each_reform_the_deltas_of_its_own_two_arm_comparison() {
    let sb = sandbox();
    let stdout = compare(
        &sb,
        &["tp.toml", "gp.toml", "fast.toml+tp.toml"],
        &[],
        "all",
    );
    assert!(
        stdout.contains("Ranking by working capital released"),
        "{stdout}"
    );
    let all = read(&sb.path("all/delta.csv"));
    let effect = rows(&sb.path("all/effectiveness.csv"));
    for (i, (reform, label)) in [
        ("tp.toml", "tp"),
        ("gp.toml", "gp"),
        ("fast.toml+tp.toml", "fast+tp"),
    ]
    .into_iter()
    .enumerate()
    {
        let out = format!("one-{i}");
        compare(&sb, &[reform], &[], &out);
        let one = read(&sb.path(&format!("{out}/delta.csv")));
        let mut lines = one.lines();
        assert_eq!(lines.next(), all.lines().next(), "same header");
        let mine: Vec<&str> = all
            .lines()
            .filter(|l| l.starts_with(&format!("{label},")))
            .collect();
        let theirs: Vec<&str> = lines.collect();
        assert!(!theirs.is_empty());
        assert_eq!(mine, theirs, "reform {label}: delta.csv rows differ");
        // The arm itself is the same run, byte for byte.
        for f in ["summary.csv", "paths.csv", "by_platform.csv"] {
            assert_eq!(
                read(&sb.path(&format!("all/reforms/{}/{f}", i + 1))),
                read(&sb.path(&format!("{out}/reform/{f}"))),
                "{label} {f}"
            );
        }
        // effectiveness.csv: the same measures (rank aside).
        let single = rows(&sb.path(&format!("{out}/effectiveness.csv")));
        let strip = |r: &Vec<String>| r[..6].to_vec();
        let mine: Vec<Vec<String>> = effect.iter().filter(|r| r[0] == label).map(strip).collect();
        let theirs: Vec<Vec<String>> = single.iter().skip(1).map(strip).collect();
        assert_eq!(
            mine, theirs,
            "reform {label}: effectiveness.csv rows differ"
        );
    }
    // Ranked by released_net_avg of the 1+7 group, largest first.
    let h = &effect[0];
    assert_eq!(
        h[..5],
        ["reform", "metric", "value", "ci_low", "ci_high"].map(String::from)
    );
    let released: Vec<(usize, f64)> = effect
        .iter()
        .skip(1)
        .filter(|r| r[col(h, "metric")] == "released_net_avg" && r[col(h, "group")] == "1+7")
        .map(|r| (r[col(h, "rank")].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    assert_eq!(released.len(), 3);
    for w in released.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 >= w[1].1, "{released:?}");
    }
    // The folder of several reforms can be replaced with --force, and only if
    // it holds nothing but refundsim's files.
    compare(
        &sb,
        &["tp.toml", "gp.toml", "fast.toml+tp.toml"],
        &["--force"],
        "all",
    );
    fs::write(sb.path("all/reforms/2/mine.txt"), "mine").unwrap();
    let stderr = rejected(&sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "tp.toml",
        "--reform",
        "gp.toml",
        "--out",
        "all",
        "--force",
        "-q",
    ]));
    assert!(stderr.contains("mine.txt"), "{stderr}");
}

#[test]
fn a_reform_that_changes_nothing_releases_exactly_zero_at_no_cost() {
    let sb = sandbox();
    // Restates the base's own setting.
    fs::write(sb.path("same.toml"), "[pools.turnover]\nenabled = false\n").unwrap();
    compare(&sb, &["same.toml", "tp.toml"], &[], "c");
    let e = rows(&sb.path("c/effectiveness.csv"));
    let h = e[0].clone();
    let cell = |group: &str, metric: &str| -> Vec<String> {
        let r = e
            .iter()
            .find(|r| r[0] == "same" && r[1] == metric && r[col(&h, "group")] == group)
            .unwrap_or_else(|| panic!("no row same,{metric},{group}"));
        r[2..5].to_vec()
    };
    for g in ["1+7", "all"] {
        assert_eq!(cell(g, "released_net_avg"), ["0", "0", "0"]);
        assert_eq!(cell(g, "fiscal_cost_net"), ["0", "0", "0"]);
        assert_eq!(cell(g, "released_per_fiscal_yuan"), ["", "", ""]);
    }
    // The turnover pool costs public money and releases some: a positive ratio.
    let tp = e
        .iter()
        .find(|r| r[0] == "tp" && r[1] == "released_per_fiscal_yuan")
        .unwrap();
    assert!(tp[2].parse::<f64>().unwrap() > 0.0, "{tp:?}");
}

#[test]
fn the_pilot_group_is_summarised_from_its_own_per_path_totals() {
    let sb = Sandbox::new().shipped();
    succeeded(&sb.output(&[
        "run",
        "scenarios/guizhou-2016.toml",
        "scenarios/policies/full-package.toml",
        "--paths",
        "12",
        "--out",
        "r",
        "-q",
    ]));
    let summary = rows(&sb.path("r/summary.csv"));
    let h = summary[0].clone();
    assert_eq!(h.last().unwrap(), "group");
    let stat = |metric: &str, group: &str, s: &str| -> f64 {
        let r = summary
            .iter()
            .find(|r| r[0] == metric && r[col(&h, "group")] == group)
            .unwrap_or_else(|| panic!("{metric} {group}"));
        r[col(&h, s)].parse().unwrap()
    };
    // The mean of an additive metric is the sum of the pilot platforms' means.
    let bp = rows(&sb.path("r/by_platform.csv"));
    let bh = bp[0].clone();
    let platform_means = |name: &str| -> f64 {
        bp.iter()
            .skip(1)
            .filter(|r| r[col(&bh, "metric")] == name && r[col(&bh, "pilot")] == "true")
            .map(|r| r[col(&bh, "mean")].parse::<f64>().unwrap())
            .sum()
    };
    let group_row = |group: &str, name: &str| -> f64 {
        bp.iter()
            .find(|r| r[0] == group && r[col(&bh, "pilot")].is_empty() && r[3] == name)
            .unwrap_or_else(|| panic!("by_platform {group} {name}"))[col(&bh, "mean")]
        .parse()
        .unwrap()
    };
    for m in ["tied_up_net_avg", "exports", "turnover.advanced"] {
        let g = stat(m, "1+7", "mean");
        let sum = platform_means(m);
        assert!(
            g > 0.0 && ((g - sum) / g).abs() < 1e-12,
            "{m}: {g} vs {sum}"
        );
        assert_eq!(g, group_row("1+7", m), "{m}");
        assert_eq!(stat(m, "all", "mean"), group_row("all", m), "{m}");
        if m != "turnover.advanced" {
            // The comparison group adds to all exporters (it uses no public pool).
            assert!(stat(m, "1+7", "mean") < stat(m, "all", "mean"), "{m}");
        }
    }
    // Its interval: from the per-path totals in paths.csv, not from the
    // platforms' intervals.
    let paths = rows(&sb.path("r/paths.csv"));
    let ph = paths[0].clone();
    let per_path = |name: &str| -> Vec<f64> {
        let c = col(&ph, name);
        paths
            .iter()
            .skip(1)
            .map(|r| r[c].parse().unwrap())
            .collect()
    };
    let v = per_path("1+7:tied_up_net_avg");
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = stat("tied_up_net_avg", "1+7", "std_err");
    assert!(((mean - stat("tied_up_net_avg", "1+7", "mean")) / mean).abs() < 1e-12);
    assert!(
        ((sd / n.sqrt() - se) / se).abs() < 1e-9,
        "{se} vs {}",
        sd / n.sqrt()
    );
    let platform_se: f64 = bp
        .iter()
        .skip(1)
        .filter(|r| r[col(&bh, "metric")] == "tied_up_net_avg" && r[col(&bh, "pilot")] == "true")
        .map(|r| r[col(&bh, "std_err")].parse::<f64>().unwrap().powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        (platform_se - se).abs() > 1e-6 * se,
        "the group's interval is its own, not one combined from the platforms' ({platform_se} vs {se})"
    );
    // Shares of the group come from its own counts: every request to the
    // public pools is a pilot exporter's, so the share is the total's, path by path.
    assert_eq!(
        per_path("1+7:turnover.blocked_share"),
        per_path("turnover.blocked_share")
    );
    // fiscal_cost_net = fiscal_cost − the public pools' fees, per path.
    for ((c, net), (t, g)) in per_path("fiscal_cost")
        .into_iter()
        .zip(per_path("fiscal_cost_net"))
        .zip(
            per_path("turnover.fee_income")
                .into_iter()
                .zip(per_path("guarantee.fee_income")),
        )
    {
        assert!(
            (c - (t + g) - net).abs() <= 1e-6 * c.abs().max(1.0),
            "{c} {t} {g} {net}"
        );
        assert!(t + g > 0.0);
    }
}

#[test]
fn reform_set_changes_the_reform_arms_only() {
    let sb = sandbox();
    compare(
        &sb,
        &["tp.toml", "gp.toml"],
        &["--reform-set", "policy.review=[2, 2, 2, 2]"],
        "c",
    );
    let scenario = |dir: &str| -> serde_json::Value {
        let m: serde_json::Value =
            serde_json::from_str(&read(&sb.path(&format!("c/{dir}/manifest.json")))).unwrap();
        m["scenario"]["policy"]["review"].clone()
    };
    let (base, r1, r2) = (
        scenario("base"),
        scenario("reforms/1"),
        scenario("reforms/2"),
    );
    assert_ne!(base, r1);
    assert_eq!(r1, r2);
    // The base arm is exactly a plain run of the base.
    succeeded(&sb.output(&[
        "run",
        "tiny.toml",
        "nopools.toml",
        "--paths",
        "6",
        "--out",
        "plain",
        "-q",
    ]));
    for f in ["summary.csv", "paths.csv"] {
        assert_eq!(
            read(&sb.path(&format!("c/base/{f}"))),
            read(&sb.path(&format!("plain/{f}"))),
            "{f}"
        );
    }
    let m: serde_json::Value = serde_json::from_str(&read(&sb.path("c/manifest.json"))).unwrap();
    assert_eq!(m["reform_sets"][0], "policy.review=[2, 2, 2, 2]");
}

#[test]
fn a_file_whose_name_holds_a_plus_is_one_overlay() {
    let sb = sandbox();
    fs::write(sb.path("a+b.toml"), "[pools.turnover]\nenabled = true\n").unwrap();
    compare(&sb, &["a+b.toml"], &[], "c");
    let d = read(&sb.path("c/delta.csv"));
    assert!(d.lines().nth(1).unwrap().starts_with("a+b,"), "{d}");
}

#[test]
fn bad_reforms_exit_2_and_say_what_is_wrong() {
    let sb = sandbox();
    let run = |args: &[&str]| {
        let mut a = vec!["compare", "tiny.toml"];
        a.extend(args);
        a.extend(["--out", "x", "-q"]);
        rejected(&sb.output(&a))
    };
    let e = run(&["--reform", "tp.toml+nope.toml"]);
    assert!(
        e.contains("nope.toml does not exist") && e.contains("A.toml+B.toml"),
        "{e}"
    );
    let e = run(&["--reform", "tp.toml+"]);
    assert!(e.contains("empty overlay name"), "{e}");
    let e = run(&["--reform", "tp.toml", "--reform", "./tp.toml"]);
    assert!(e.contains("repeats --reform \"tp.toml\""), "{e}");
    let e = run(&[
        "--reform",
        "tp.toml",
        "--reform-set",
        "pools.turnover.capital",
    ]);
    assert!(
        e.contains("--reform-set \"pools.turnover.capital\": needs KEY=VALUE"),
        "{e}"
    );
    assert!(!sb.path("x").exists(), "nothing written");
    // Not a test of clap: a missing single file is reported like any scenario file.
    let e = run(&["--reform", "nope.toml"]);
    assert!(e.contains("nope.toml"), "{e}");
}

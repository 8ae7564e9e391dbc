//! Sharded runs and sweeps (`--shard I/N`) and `merge`: the merged files equal
//! the unsharded run's byte for byte (timing fields of manifest.json aside), and
//! shards that do not belong together, or bad `--shard` values, are refused with
//! exit 2 and a message naming the problem.

mod support;

use std::fs;

use support::{Sandbox, rejected, succeeded};

const SCENARIO: &str = "scenarios/guizhou-2016.toml";
const RUN_FILES: [&str; 5] = [
    "summary.csv",
    "paths.csv",
    "timeseries.csv",
    "by_platform.csv",
    "by_class.csv",
];

/// `manifest.json` without its timing and invocation fields.
fn manifest_sans_timing(dir: &std::path::Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["elapsed_seconds", "threads", "command"] {
        assert!(o.remove(k).is_some(), "manifest has {k}");
    }
    v
}

/// The run files of `a` and `b` are byte-identical and so are their manifests,
/// timing aside (`what` names the pair in a failure).
fn same_run(a: &std::path::Path, b: &std::path::Path, what: &str) {
    for f in RUN_FILES {
        assert!(
            fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap(),
            "{what}/{f} differs"
        );
    }
    assert_eq!(manifest_sans_timing(a), manifest_sans_timing(b), "{what}");
}

/// Each of `files` reads the same in folders `full` and `merged`.
fn same_text(sb: &Sandbox, files: &[&str]) {
    for f in files {
        assert_eq!(
            fs::read_to_string(sb.path("full").join(f)).unwrap(),
            fs::read_to_string(sb.path("merged").join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Runs the three shards of a 12-path run with `seed` into `shard-I`.
fn shards(sb: &Sandbox, seed: &str, prefix: &str) {
    for i in 1..=3 {
        succeeded(&sb.output(&[
            "run",
            SCENARIO,
            "--paths",
            "12",
            "--seed",
            seed,
            "--quiet",
            "--shard",
            &format!("{i}/3"),
            "--out",
            &format!("{prefix}{i}"),
        ]));
    }
}

#[test]
fn three_shards_of_a_12_path_run_merge_to_the_unsharded_files() {
    let sb = Sandbox::new().shipped();
    succeeded(&sb.output(&[
        "run", SCENARIO, "--paths", "12", "--seed", "7", "--quiet", "--out", "full",
    ]));
    shards(&sb, "7", "shard-");
    // Shards given in any order, merged on another thread count.
    succeeded(&sb.output(&[
        "merge",
        "shard-3",
        "shard-1",
        "shard-2",
        "--out",
        "merged",
        "--threads",
        "1",
    ]));
    same_run(&sb.path("full"), &sb.path("merged"), "merged");
    // A merged run is a run: brief reads it.
    succeeded(&sb.output(&["brief", "merged", "--lang", "en"]));
}

#[test]
fn a_2x2_sweep_in_two_shards_merges_to_the_unsharded_sweep() {
    let sb = Sandbox::new().shipped();
    let grid = [
        "--grid",
        "pools.turnover.capital=1e8,4e8",
        "--grid",
        "economy.opportunity_rate=0.04,0.08",
        "--set",
        "pools.turnover.enabled=true",
    ];
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", SCENARIO, "--paths", "4", "--quiet"];
        args.extend(grid);
        args.extend(extra);
        succeeded(&sb.output(&args));
    };
    sweep(&["--out", "full"]);
    sweep(&["--shard", "1/2", "--out", "s1"]);
    sweep(&["--shard", "2/2", "--out", "s2"]);
    succeeded(&sb.output(&["merge", "s2", "s1", "--out", "merged"]));
    same_text(&sb, &["sweep.csv", "manifest.json"]);
    for i in 0..4 {
        let p = format!("points/{i}/paths.csv");
        assert_eq!(
            fs::read(sb.path("full").join(&p)).unwrap(),
            fs::read(sb.path("merged").join(&p)).unwrap(),
            "{p}"
        );
    }
    // A sweep shard holds only its points.
    assert_eq!(support::entries(&sb.path("s1/points")), ["0", "2"]);
    // A missing sweep shard is named.
    let err = rejected(&sb.output(&["merge", "s1", "--out", "m2"]));
    assert!(err.contains("shard 2 of 2 missing"), "{err}");
}

#[test]
fn merging_with_a_shard_missing_duplicated_or_from_another_seed_is_refused() {
    let sb = Sandbox::new().shipped();
    shards(&sb, "7", "a");
    succeeded(&sb.output(&[
        "run",
        SCENARIO,
        "--paths",
        "12",
        "--seed",
        "8",
        "--quiet",
        "--shard",
        "2/3",
        "--out",
        "other-seed",
    ]));
    let err = rejected(&sb.output(&["merge", "a1", "a3", "--out", "m"]));
    assert!(err.contains("shard 2 of 3 missing"), "{err}");
    let err = rejected(&sb.output(&["merge", "a1", "a2", "a2", "a3", "--out", "m"]));
    assert!(err.contains("shard 2/3 is given twice"), "{err}");
    let err = rejected(&sb.output(&["merge", "a1", "other-seed", "a3", "--out", "m"]));
    assert!(err.contains("seed 7") && err.contains("seed 8"), "{err}");
    assert!(!sb.path("m").exists(), "nothing is written on refusal");
}

#[test]
fn hostile_shard_arguments_and_folders_are_refused_with_exit_2() {
    let sb = Sandbox::new().shipped();
    for bad in ["0/3", "4/3", "x/3", "1/x", "3", "1/0"] {
        let err =
            rejected(&sb.output(&["run", SCENARIO, "--paths", "4", "--quiet", "--shard", bad]));
        assert!(err.contains("--shard"), "{bad}: {err}");
    }
    // A run folder (not a shard) and a folder that does not exist.
    succeeded(&sb.output(&["run", SCENARIO, "--paths", "2", "--quiet", "--out", "plain"]));
    let err = rejected(&sb.output(&["merge", "plain", "--out", "m"]));
    assert!(err.contains("plain is not a shard folder"), "{err}");
    let err = rejected(&sb.output(&["merge", "nowhere", "--out", "m"]));
    assert!(err.contains("nowhere is not a shard folder"), "{err}");
    // Mixed N.
    for (shard, out) in [("1/2", "n2"), ("2/3", "n3")] {
        succeeded(&sb.output(&[
            "run", SCENARIO, "--paths", "4", "--quiet", "--shard", shard, "--out", out,
        ]));
    }
    let err = rejected(&sb.output(&["merge", "n2", "n3", "--out", "m"]));
    assert!(
        err.contains("N (shard count) 2") && err.contains("3"),
        "{err}"
    );
    // A damaged results file.
    let bin = sb.path("n2/results.bin");
    let bytes = fs::read(&bin).unwrap();
    fs::write(&bin, &bytes[..bytes.len() - 8]).unwrap();
    let err = rejected(&sb.output(&["merge", "n2", "--out", "m"]));
    assert!(err.contains("results.bin"), "{err}");
    // --shard auto without a scheduler.
    let err = rejected(
        &sb.refundsim()
            .args([
                "run", SCENARIO, "--paths", "4", "--quiet", "--shard", "auto",
            ])
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap(),
    );
    assert!(err.contains("SLURM_ARRAY_TASK_ID"), "{err}");
}

#[test]
fn shard_auto_takes_the_slurm_array_task() {
    let sb = Sandbox::new().shipped();
    succeeded(
        &sb.refundsim()
            .args([
                "run", SCENARIO, "--paths", "5", "--quiet", "--shard", "auto", "--out", "s",
            ])
            .env("SLURM_ARRAY_TASK_ID", "2")
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .output()
            .unwrap(),
    );
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sb.path("s/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["shard"]["index"], 2);
    assert_eq!(m["shard"]["count"], 2);
    assert_eq!(m["shard_paths"], 2, "paths 1 and 3 of 0..5");
}

#[test]
fn merge_reads_one_column_at_a_time_not_every_paths_series() {
    use refundsim::report::{self, Columns};
    use refundsim::shard::ShardSet;
    let sb = Sandbox::new().shipped();
    shards(&sb, "3", "c");
    let set = ShardSet::open(&[sb.path("c1"), sb.path("c2"), sb.path("c3")]).unwrap();
    assert_eq!(set.paths(), 12);
    let files = report::summary_files(set.meta(), &set);
    let paths = report::paths_csv(&set);
    assert!(set.take_error().is_none());
    assert_eq!(files.len(), 4);
    assert_eq!(paths.lines().count(), 13);
    // The largest read is one column (12 values) or one block of rows (12 paths ×
    // (1 + metrics)), never the 365 days of a series over every path.
    let days = set.meta().dates.len();
    // A row: claims simulated, the metrics of all exporters and of the 1+7 group.
    let row_words = 1 + 2 * refundsim::metrics::N_METRICS;
    assert!(
        set.largest_read() <= 12 * row_words && set.largest_read() < 12 * days,
        "largest read {} values",
        set.largest_read()
    );
}

#[test]
fn more_shards_than_paths_leaves_empty_shards_that_still_merge() {
    let sb = Sandbox::new().shipped();
    succeeded(&sb.output(&[
        "run", SCENARIO, "--paths", "2", "--seed", "5", "--quiet", "--out", "full",
    ]));
    for i in 1..=3 {
        succeeded(&sb.output(&[
            "run",
            SCENARIO,
            "--paths",
            "2",
            "--seed",
            "5",
            "--quiet",
            "--shard",
            &format!("{i}/3"),
            "--out",
            &format!("e{i}"),
        ]));
    }
    succeeded(&sb.output(&["merge", "e1", "e2", "e3", "--out", "merged"]));
    for f in RUN_FILES {
        assert_eq!(
            fs::read(sb.path("full").join(f)).unwrap(),
            fs::read(sb.path("merged").join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A small tornado (2 parameters, 5 evaluations) of `guizhou-2016`, with `extra`.
fn tornado(sb: &Sandbox, extra: &[&str]) {
    let mut args = vec![
        "sensitivity",
        SCENARIO,
        "--param",
        "policy.review.2=15,25",
        "--param",
        "economy.gov_rate=0.02,0.04",
        "--paths",
        "4",
        "--quiet",
    ];
    args.extend(extra);
    succeeded(&sb.output(&args));
}

#[test]
fn a_tornado_in_two_shards_merges_to_the_unsharded_study() {
    let sb = Sandbox::new().shipped();
    tornado(&sb, &["--out", "full"]);
    tornado(&sb, &["--shard", "1/2", "--out", "t1"]);
    tornado(&sb, &["--shard", "2/2", "--out", "t2"]);
    // Five evaluations (base, then low and high of each): shard 1 has 0, 2, 4.
    let full = support::entries(&sb.path("full/points"));
    assert_eq!(full.len(), 5);
    let (s1, s2) = (
        support::entries(&sb.path("t1/points")),
        support::entries(&sb.path("t2/points")),
    );
    assert_eq!((s1.len(), s2.len()), (3, 2), "{s1:?} {s2:?}");
    assert!(!sb.path("t1/tornado.csv").exists(), "a shard has no table");
    succeeded(&sb.output(&["merge", "t2", "t1", "--out", "merged"]));
    same_text(&sb, &["tornado.csv", "manifest.json"]);
    assert_eq!(support::entries(&sb.path("merged/points")), full);
    for id in &full {
        same_run(
            &sb.path("full/points").join(id),
            &sb.path("merged/points").join(id),
            &format!("points/{id}"),
        );
    }
    // A merged study is a study: brief reads it.
    succeeded(&sb.output(&["brief", "merged", "--lang", "en"]));
    // One shard alone is named missing the other.
    let err = rejected(&sb.output(&["merge", "t1", "--out", "m"]));
    assert!(err.contains("shard 2 of 2 missing"), "{err}");
}

#[test]
fn a_sensitivity_shard_mixed_with_a_run_shard_is_refused() {
    let sb = Sandbox::new().shipped();
    tornado(&sb, &["--shard", "1/2", "--out", "t1"]);
    succeeded(&sb.output(&[
        "run", SCENARIO, "--paths", "4", "--quiet", "--shard", "2/2", "--out", "r2",
    ]));
    let err = rejected(&sb.output(&["merge", "t1", "r2", "--out", "m"]));
    assert!(
        err.contains("t1 is a sensitivity shard") && err.contains("r2 is a run shard"),
        "{err}"
    );
    assert!(!sb.path("m").exists(), "nothing is written on refusal");
}

/// `compare` of `guizhou-2016` with two reforms on 7 paths, with `extra`.
fn compare(sb: &Sandbox, extra: &[&str]) {
    let mut args = vec![
        "compare",
        SCENARIO,
        "--reform",
        "scenarios/policies/fast-review-2023.toml",
        "--reform",
        "scenarios/policies/turnover-pool.toml",
        "--paths",
        "7",
        "--quiet",
    ];
    args.extend(extra);
    succeeded(&sb.output(&args));
}

#[test]
fn a_compare_with_two_reforms_in_three_shards_merges_to_the_unsharded_compare() {
    let sb = Sandbox::new().shipped();
    compare(&sb, &["--out", "full"]);
    for i in 1..=3 {
        compare(
            &sb,
            &["--shard", &format!("{i}/3"), "--out", &format!("c{i}")],
        );
    }
    // Each arm of a shard is a run shard of the same paths (7 paths: 3, 2, 2).
    for arm in ["base", "reforms/1", "reforms/2"] {
        let m: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(sb.path("c1").join(arm).join("manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(m["shard_paths"], 3, "{arm}");
    }
    succeeded(&sb.output(&[
        "merge",
        "c3",
        "c1",
        "c2",
        "--out",
        "merged",
        "--threads",
        "1",
    ]));
    same_text(&sb, &["delta.csv", "effectiveness.csv"]);
    for arm in ["base", "reforms/1", "reforms/2"] {
        same_run(
            &sb.path("full").join(arm),
            &sb.path("merged").join(arm),
            arm,
        );
    }
    assert_eq!(
        manifest_sans_timing(&sb.path("full")),
        manifest_sans_timing(&sb.path("merged"))
    );
    // A merged comparison is a comparison: brief reads it.
    succeeded(&sb.output(&["brief", "merged", "--lang", "en"]));
    // A missing shard is named; nothing is written.
    let err = rejected(&sb.output(&["merge", "c1", "c3", "--out", "m"]));
    assert!(err.contains("shard 2 of 3 missing"), "{err}");
    assert!(!sb.path("m").exists(), "nothing is written on refusal");
}

#[test]
fn a_morris_study_in_three_shards_merges_to_the_unsharded_study() {
    let sb = Sandbox::new().shipped();
    let morris = |extra: &[&str]| {
        let mut args = vec![
            "sensitivity",
            SCENARIO,
            "--method",
            "morris",
            "--trajectories",
            "2",
            "--param",
            "policy.review.2=15,25",
            "--param",
            "economy.gov_rate=0.02,0.04",
            "--paths",
            "2",
            "--quiet",
        ];
        args.extend(extra);
        succeeded(&sb.output(&args));
    };
    morris(&["--out", "full"]);
    for i in 1..=3 {
        morris(&["--shard", &format!("{i}/3"), "--out", &format!("m{i}")]);
    }
    succeeded(&sb.output(&["merge", "m1", "m2", "m3", "--out", "merged"]));
    same_text(&sb, &["morris.csv", "manifest.json"]);
    assert_eq!(
        support::entries(&sb.path("merged/points")),
        support::entries(&sb.path("full/points"))
    );
}

/// `merge --out` naming one of its own shard folders (directly or by another
/// spelling of the same path) is refused even with `--force`: the merge would
/// replace an input shard, losing it. The shard is left as it was.
#[test]
fn merge_refuses_to_write_over_one_of_its_shards_even_with_force() {
    let sb = Sandbox::new().shipped();
    shards(&sb, "4", "k");
    let before = fs::read(sb.path("k2/results.bin")).unwrap();
    for out in ["k2", "./k2", "k1/../k2"] {
        let err = rejected(&sb.output(&["merge", "k1", "k2", "k3", "--out", out, "--force"]));
        assert!(err.contains("k2") && err.contains("shard"), "{out}: {err}");
    }
    assert_eq!(fs::read(sb.path("k2/results.bin")).unwrap(), before);
    assert!(!sb.path("k2/summary.csv").exists());
    // The same for a sweep's shards.
    for i in 1..=2 {
        succeeded(&sb.output(&[
            "sweep",
            SCENARIO,
            "--grid",
            "pools.turnover.capital=5e7,2e8",
            "--paths",
            "2",
            "--quiet",
            "--shard",
            &format!("{i}/2"),
            "--out",
            &format!("w{i}"),
        ]));
    }
    let err = rejected(&sb.output(&["merge", "w1", "w2", "--out", "w1", "--force"]));
    assert!(err.contains("w1") && err.contains("shard"), "{err}");
    assert!(!sb.path("w1/sweep.csv").exists());
}

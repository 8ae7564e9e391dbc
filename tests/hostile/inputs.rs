//! Hostile-input tests: inputs — population and calendar files, damaged sweep and
//! run directories, and the warnings a scenario earns when its results would
//! mislead (a window past the calendar, a short warm-up, a starved budget, a
//! comparison whose arms measure different things).

use std::fs;

use crate::support::*;

/// A sandbox holding the population fixture scenario with `csv` as its
/// `exporters.csv`.
fn population(csv: &str) -> Sandbox {
    let sb = Sandbox::new().fixture("bad/population-csv.toml", "population-csv.toml");
    fs::write(sb.path("exporters.csv"), csv).unwrap();
    sb
}

const HEADER: &str = "id,platform,sector,kind,annual_exports,class\n";

#[test]
fn population_exports_beyond_the_bound_are_rejected_with_row_column_and_bound() {
    let sb = population(&format!(
        "{HEADER}e1,gui-an,machinery,manufacturer,3000000,2\ne2,gui-an,machinery,trading,1e308,2\n"
    ));
    let stderr = rejected(&sb.output(&["validate", "population-csv.toml"]));
    assert_problem(
        &stderr,
        "./exporters.csv",
        3,
        "population.file column `annual_exports`",
    );
    assert!(stderr.contains("1e308"), "the value is shown:\n{stderr}");
    assert!(stderr.contains("1e13"), "the bound is stated:\n{stderr}");
}

#[test]
fn population_with_a_duplicate_header_column_is_rejected() {
    let sb = population(
        "id,platform,sector,kind,annual_exports,class,annual_exports\n\
         e1,gui-an,machinery,manufacturer,3000000,2,5\n",
    );
    let stderr = rejected(&sb.output(&["validate", "population-csv.toml"]));
    assert_problem(
        &stderr,
        "./exporters.csv",
        1,
        "population.file column `header`",
    );
    assert!(
        stderr.contains("`annual_exports` appears twice"),
        "the repeated column is named:\n{stderr}"
    );
}

#[test]
fn population_with_an_unterminated_quote_is_rejected_naming_its_row() {
    let sb = population(&format!(
        "{HEADER}e1,gui-an,machinery,manufacturer,3000000,2\ne2,\"gui-an,machinery,trading,300万,2\n"
    ));
    let stderr = rejected(&sb.output(&["validate", "population-csv.toml"]));
    assert_problem(
        &stderr,
        "./exporters.csv",
        3,
        "population.file column `row`",
    );
    assert!(
        stderr.contains("never closed"),
        "says what is wrong:\n{stderr}"
    );
}

/// `run tiny.toml ARGS… --out r -q` in a fresh sandbox; returns the sandbox,
/// stderr and the manifest's `warnings`.
fn run_tiny(args: &[&str]) -> (Sandbox, String, Vec<String>) {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let mut all = vec!["run", "tiny.toml", "--out", "r", "-q"];
    all.extend_from_slice(args);
    let out = sb.output(&all);
    succeeded(&out);
    let warnings = manifest_warnings(&sb.path("r/manifest.json"));
    (sb, text(&out.stderr), warnings)
}

fn manifest_warnings(path: &std::path::Path) -> Vec<String> {
    let m: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    m["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{} has a warnings list", path.display()))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// Asserts one warning containing every needle is on stderr and in `warnings`.
fn assert_warned(stderr: &str, warnings: &[String], needles: &[&str]) {
    let hit = |l: &str| needles.iter().all(|n| l.contains(n));
    assert!(
        stderr.lines().any(|l| l.starts_with("warning: ") && hit(l)),
        "stderr warns with {needles:?}:\n{stderr}"
    );
    assert!(
        warnings.iter().any(|w| hit(w)),
        "the manifest's warnings hold {needles:?}: {warnings:#?}"
    );
}

#[test]
fn a_window_past_the_official_calendar_warns_on_stderr_and_in_the_manifest() {
    let (_sb, stderr, warnings) = run_tiny(&["--set", "scenario.start_date=\"2030-03-01\""]);
    assert_warned(
        &stderr,
        &warnings,
        &[
            "(warm-up and window, 2029–2030) lie outside",
            "covers 2015–2026",
        ],
    );
    // Inside the covered years there is no such warning.
    let (_sb, stderr, warnings) = run_tiny(&[]);
    assert!(
        !stderr.contains("official calendar")
            && !warnings.iter().any(|w| w.contains("official calendar")),
        "no calendar warning for 2016–2017:\n{stderr}"
    );
}

#[test]
fn a_date_both_holiday_and_workday_is_rejected_with_file_and_line() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(
        sb.path("cal.csv"),
        "date,kind,holiday\n2017-01-27,holiday,Spring Festival\n2017-01-28,holiday,Spring Festival\n2017-01-27,workday,Spring Festival\n",
    )
    .unwrap();
    let stderr = rejected(&sb.output(&[
        "validate",
        "tiny.toml",
        "--set",
        "calendar.file=\"cal.csv\"",
    ]));
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("cal.csv:4:") && l.contains("2017-01-27") && l.contains("line 2")),
        "names the file, both lines and the date:\n{stderr}"
    );
}

#[test]
fn a_calendar_with_fully_quoted_fields_reads_like_a_plain_one() {
    let plain = "date,kind,holiday\n2017-01-22,workday,Spring Festival\n2017-01-27,holiday,Spring Festival\n2017-01-30,holiday,Spring Festival\n2017-01-31,holiday,Spring Festival\n2017-02-01,holiday,Spring Festival\n2017-02-02,holiday,Spring Festival\n2017-02-04,workday,Spring Festival\n";
    let quoted: String = plain
        .lines()
        .map(|l| {
            l.split(',')
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    let summary = |cal: &str| {
        let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
        fs::write(sb.path("cal.csv"), cal).unwrap();
        succeeded(&sb.output(&[
            "run",
            "tiny.toml",
            "--set",
            "calendar.file=\"cal.csv\"",
            "--out",
            "r",
            "-q",
        ]));
        fs::read_to_string(sb.path("r/summary.csv")).unwrap()
    };
    assert_eq!(summary(&quoted), summary(plain));
    // And the holidays matter: without them the run differs.
    assert_ne!(
        summary(plain),
        summary("date,kind,holiday\n2016-01-01,holiday,New Year\n")
    );
}

#[test]
fn sweep_csv_keeps_a_comma_in_a_grid_key_in_one_cell() {
    let sb = Sandbox::new();
    let tiny = fs::read_to_string(fixture("ok/tiny.toml"))
        .unwrap()
        .replace("name = \"gui-an\"", "name = \"gui,an\"");
    fs::write(sb.path("tiny.toml"), tiny).unwrap();
    succeeded(&sb.output(&[
        "sweep",
        "tiny.toml",
        "--grid",
        "platform.gui,an.exporters=5,6",
        "--out",
        "sw",
        "-q",
    ]));
    let csv = fs::read_to_string(sb.path("sw/sweep.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let header = rdr.headers().unwrap().clone();
    assert_eq!(&header[1], "platform.gui,an.exporters", "{csv}");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("rectangular")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0][1], &rows[1][1]), ("5", "6"));
}

#[test]
fn a_resumed_sweep_recomputes_a_point_whose_paths_csv_is_garbage() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let args = [
        "sweep",
        "tiny.toml",
        "--grid",
        "pools.turnover.capital=100万,300万",
        "--out",
        "sw",
        "-q",
    ];
    succeeded(&sb.output(&args));
    let before = fs::read_to_string(sb.path("sw/sweep.csv")).unwrap();
    // Its manifest is damaged too, so it cannot vouch for the folder.
    fs::write(sb.path("sw/points/1/paths.csv"), "garbage\n").unwrap();
    fs::write(sb.path("sw/points/1/manifest.json"), [0xff, 0x00]).unwrap();
    let out = sb.output(&args);
    succeeded(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("warning: ")
            && l.contains("paths.csv")
            && l.contains("point 1 will be computed again")),
        "says which point is recomputed:\n{stderr}"
    );
    assert_eq!(
        fs::read_to_string(sb.path("sw/sweep.csv")).unwrap(),
        before,
        "the recomputed point equals the original"
    );
}

/// A sandbox holding a finished run of tiny.toml in `r/`.
fn tiny_run_dir() -> Sandbox {
    let (sb, _, _) = run_tiny(&[]);
    sb
}

#[test]
fn brief_shows_a_tampered_inf_as_a_dash_with_a_warning() {
    let sb = tiny_run_dir();
    let file = sb.path("r/summary.csv");
    let summary = fs::read_to_string(&file).unwrap();
    let tampered: String = summary
        .lines()
        .map(|l| {
            if l.starts_with("tied_up_net_avg,") || l.starts_with("fiscal_cost,") {
                let mut f: Vec<&str> = l.split(',').collect();
                f[2] = if l.starts_with("fiscal") {
                    "NaN"
                } else {
                    "inf"
                };
                f.join(",")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    assert_ne!(tampered, summary, "the fixture has the rows tampered with");
    fs::write(&file, tampered).unwrap();
    let out = sb.output(&["brief", "r"]);
    succeeded(&out);
    let md = fs::read_to_string(sb.path("r/brief.md")).unwrap();
    assert!(
        !md.contains("inf") && !md.contains("NaN"),
        "no infinity shown as a number:\n{md}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("warning: ")
            && l.contains("summary.csv")
            && l.contains("not a finite number")),
        "warns about the damage:\n{stderr}"
    );
}

#[test]
fn brief_rejects_a_binary_summary_csv_with_exit_2_file_and_line() {
    let sb = tiny_run_dir();
    let mut bytes = b"metric,unit,mean\nx,CNY,1\n".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x00, 0x81]);
    fs::write(sb.path("r/summary.csv"), bytes).unwrap();
    let stderr = rejected(&sb.output(&["brief", "r"]));
    assert!(
        stderr.contains("summary.csv, line 3") && stderr.contains("not UTF-8"),
        "names the file, the line and the damage:\n{stderr}"
    );
}

#[test]
fn brief_says_a_directory_named_summary_csv_is_a_directory() {
    let sb = tiny_run_dir();
    fs::remove_file(sb.path("r/summary.csv")).unwrap();
    fs::create_dir(sb.path("r/summary.csv")).unwrap();
    let stderr = rejected(&sb.output(&["brief", "r"]));
    assert!(
        stderr.contains("summary.csv is a directory") && !stderr.contains("missing"),
        "says it is a directory, not that it is missing:\n{stderr}"
    );
}

#[test]
fn compare_warns_when_the_reform_changes_the_window_or_the_population() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(
        sb.path("reform.toml"),
        "[scenario]\nhorizon_days = 90\n\n[[platform]]\nname = \"gui-an\"\nname_zh = \"贵安新区\"\npilot = true\nexporters = 14\nexport_median = \"300万\"\nexport_sigma = 1.2\ntrading_share = 0.25\nclass_mix = [0.05, 0.45, 0.42, 0.08]\n",
    )
    .unwrap();
    let out = sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "reform.toml",
        "--out",
        "c",
        "-q",
    ]);
    succeeded(&out);
    let stderr = text(&out.stderr);
    for w in [
        manifest_warnings(&sb.path("c/manifest.json")),
        manifest_warnings(&sb.path("c/base/manifest.json")),
        manifest_warnings(&sb.path("c/reform/manifest.json")),
    ] {
        assert_warned(
            &stderr,
            &w,
            &["the reform changes scenario.horizon_days (60 → 90)"],
        );
        assert_warned(
            &stderr,
            &w,
            &["the reform changes the number of exporters (20 → 14)"],
        );
        assert_warned(
            &stderr,
            &w,
            &["the reform changes the platform list (gui-an, rest → gui-an)"],
        );
    }
    // A policy-only reform draws no such warning.
    fs::write(
        sb.path("policy.toml"),
        "[policy]\ndenial_prob = [0, 0, 0, 0]\n",
    )
    .unwrap();
    let out = sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "policy.toml",
        "--out",
        "p",
        "-q",
    ]);
    succeeded(&out);
    assert!(
        !text(&out.stderr).contains("the reform changes"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_warmup_shorter_than_the_pipeline_warns_on_stderr_and_in_the_manifest() {
    // 60 days of warm-up against tiny.toml's ≈ 35 documents + 22 filing + 35
    // class IV review + 75 verification + 6 treasury calendar days.
    let (_sb, stderr, warnings) = run_tiny(&["--set", "scenario.warmup_days=60"]);
    assert_warned(
        &stderr,
        &warnings,
        &["warmup_days = 60 is shorter than", "class IV"],
    );
    // tiny.toml's own 180 days is enough.
    let (_sb, stderr, warnings) = run_tiny(&[]);
    assert!(
        !stderr.contains("warmup_days") && !warnings.iter().any(|w| w.contains("warmup_days")),
        "a long warm-up draws no warning:\n{stderr}"
    );
}

#[test]
fn a_refund_budget_far_below_demand_warns_on_stderr_and_in_the_manifest() {
    let (_sb, stderr, warnings) = run_tiny(&["--set", "policy.quota.monthly=1000"]);
    assert_warned(
        &stderr,
        &warnings,
        &["policy.quota.monthly = 1000 yuan", "average month"],
    );
    // tiny.toml's 1000万 a month is far above its demand.
    let (_sb, stderr, warnings) = run_tiny(&[]);
    assert!(
        !stderr.contains("policy.quota.monthly")
            && !warnings.iter().any(|w| w.contains("policy.quota.monthly")),
        "an ample budget draws no warning:\n{stderr}"
    );
}

#[test]
fn validate_shows_the_warnings_a_run_would_show() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let out = sb.output(&["validate", "tiny.toml", "--set", "scenario.warmup_days=60"]);
    let stdout = succeeded(&out);
    assert!(stdout.starts_with("ok: tiny"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: scenario.warmup_days = 60 is shorter than"),
        "{stderr}"
    );
    // A sound scenario validates silently.
    let out = sb.output(&["validate", "tiny.toml"]);
    succeeded(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

//! Hostile-input tests: safety. Nothing a user owns is ever deleted or written
//! through; outputs are whole or absent (also under Ctrl-C and SIGKILL, sent as
//! real signals to the real binary); CSV cells cannot run as spreadsheet
//! formulas; briefs cannot smuggle markup; a bad output folder is refused before
//! the work; a closed or full stdout does not panic. Unix only (real signals,
//! symbolic links, /dev/full).
#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_refundsim");

/// The sandbox with `tiny.toml`, its strings replaced as `(from, to)`.
fn tiny_with(edits: &[(&str, &str)]) -> Sandbox {
    let sb = Sandbox::new();
    let mut toml = fs::read_to_string(fixture("ok/tiny.toml")).unwrap();
    for (from, to) in edits {
        assert!(toml.contains(from), "`{from}` not in tiny.toml");
        toml = toml.replacen(from, to, 1);
    }
    fs::write(sb.path("tiny.toml"), toml).unwrap();
    sb
}

fn tiny() -> Sandbox {
    tiny_with(&[])
}

/// Hidden temporaries (`.NAME.partial-…`) directly in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.contains(".partial"))
        .collect()
}

/// Hidden temporaries anywhere below `dir`.
fn partials_below(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for n in entries(dir) {
        let p = dir.join(&n);
        if n.starts_with('.') && n.contains(".partial") {
            found.push(p.display().to_string());
        } else if p.is_dir() && !p.is_symlink() {
            found.extend(partials_below(&p));
        }
    }
    found
}

/// `refundsim ARGS…` started in the sandbox, its output discarded.
fn spawn(sb: &Sandbox, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .current_dir(sb.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`; kills it and panics past that.
fn wait_at_most(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls until the staging folder of output `name` appears in `dir` (the run is
/// writing its outputs).
fn wait_for_partial(child: &mut Child, dir: &Path, name: &str) -> String {
    let start = Instant::now();
    let prefix = format!(".{name}.partial");
    loop {
        if let Some(p) = partials(dir).into_iter().find(|p| p.starts_with(&prefix)) {
            return p;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before its output was being written");
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no partial output appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, sig).unwrap();
}

/// A run of tiny long enough to be interrupted mid-way (seconds of simulation,
/// then seconds of writing).
const BIG_RUN: [&str; 6] = ["run", "tiny.toml", "--paths", "20000", "--threads", "1"];

/// A run of tiny that would take many seconds (but fits in memory).
const HUGE_RUN: [&str; 6] = ["run", "tiny.toml", "--paths", "100000", "--threads", "1"];

// ---------------------------------------------------------------------------------
// --force

#[test]
fn force_refuses_a_run_folder_holding_a_foreign_file_and_names_it() {
    // The issue's reproduction: a folder that only claims to be a run.
    let sb = tiny();
    fs::create_dir_all(sb.path("d/src")).unwrap();
    fs::write(sb.path("d/src/thesis.tex"), "x").unwrap();
    fs::write(sb.path("d/manifest.json"), r#"{"kind":"run"}"#).unwrap();
    let stderr = rejected(&sb.output(&["run", "tiny.toml", "--out", "d", "--force", "-q"]));
    assert!(stderr.contains("src"), "names the foreign entry: {stderr}");
    assert_eq!(
        fs::read_to_string(sb.path("d/src/thesis.tex")).unwrap(),
        "x"
    );

    // A real run with a brief (refundsim's files only) is replaced...
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "r", "-q"]));
    succeeded(&sb.output(&["brief", "r"]));
    succeeded(&sb.output(&[
        "run",
        "tiny.toml",
        "--out",
        "r",
        "--force",
        "-q",
        "--seed",
        "9",
    ]));
    // ...but not once the user has put a file of their own in it.
    fs::write(sb.path("r/notes.txt"), "mine").unwrap();
    let stderr = rejected(&sb.output(&["run", "tiny.toml", "--out", "r", "--force", "-q"]));
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(fs::read_to_string(sb.path("r/notes.txt")).unwrap(), "mine");

    // The same for a comparison (a foreign file deep inside) and for a sweep
    // asked to replace the run folder.
    succeeded(&sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "tiny.toml",
        "--out",
        "c",
        "-q",
    ]));
    fs::write(sb.path("c/base/keep.xlsx"), "mine").unwrap();
    let stderr = rejected(&sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "tiny.toml",
        "--out",
        "c",
        "--force",
        "-q",
    ]));
    assert!(stderr.contains("keep.xlsx"), "{stderr}");
    assert!(sb.path("c/base/keep.xlsx").exists());
    let stderr = rejected(&sb.output(&[
        "sweep",
        "tiny.toml",
        "--grid",
        "scenario.paths=2,3",
        "--out",
        "r",
        "--force",
        "-q",
    ]));
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(fs::read_to_string(sb.path("r/notes.txt")).unwrap(), "mine");
}

// ---------------------------------------------------------------------------------
// Temporaries

#[test]
fn temporaries_are_never_written_through_a_planted_symlink() {
    let sb = tiny();
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "r", "-q"]));
    fs::write(sb.path("outside.txt"), "keep").unwrap();
    for name in [
        ".brief.md.partial",
        ".brief.html.partial",
        ".brief.xlsx.partial",
    ] {
        std::os::unix::fs::symlink("../outside.txt", sb.path(&format!("r/{name}"))).unwrap();
    }
    succeeded(&sb.output(&["brief", "r"]));
    assert_eq!(fs::read(sb.path("outside.txt")).unwrap(), b"keep");
    assert!(
        fs::read_to_string(sb.path("r/brief.md"))
            .unwrap()
            .starts_with("# ")
    );

    // A sweep finishing a resumed run writes sweep.csv and manifest.json the same way.
    let sweep = [
        "sweep",
        "tiny.toml",
        "--grid",
        "scenario.paths=2,3",
        "--out",
        "s",
        "-q",
    ];
    succeeded(&sb.output(&sweep));
    fs::remove_file(sb.path("s/sweep.csv")).unwrap();
    for name in ["sweep.partial", "manifest.partial", ".sweep.csv.partial"] {
        std::os::unix::fs::symlink("../outside.txt", sb.path(&format!("s/{name}"))).unwrap();
    }
    succeeded(&sb.output(&sweep));
    assert_eq!(fs::read(sb.path("outside.txt")).unwrap(), b"keep");
    assert!(sb.path("s/sweep.csv").is_file());
}

// ---------------------------------------------------------------------------------
// CSV formula injection

/// Asserts no cell of `file` would run as a spreadsheet formula: a cell starting
/// with = + - @ tab or CR is a number or quoted with a leading `'`.
fn assert_no_formula(file: &Path) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(file)
        .unwrap();
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    for cell in rows.iter().flatten() {
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            assert!(
                cell.parse::<f64>().is_ok(),
                "{}: formula-like cell {cell:?}",
                file.display()
            );
        }
    }
    rows
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised_and_numbers_stay_numbers() {
    let sb = tiny_with(&[
        (
            "name = \"gui-an\"",
            "name = '=HYPERLINK(\"http://evil\",\"x\")'",
        ),
        ("name_zh = \"贵安新区\"", "name_zh = \"+cmd|' /C calc'!A0\""),
        ("name = \"rest\"", "name = \"@SUM(1+1)\""),
        ("name_zh = \"其他地区\"", "name_zh = \"-2+3\""),
    ]);
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "r", "-q"]));
    let rows = assert_no_formula(&sb.path("r/by_platform.csv"));
    let names: Vec<&str> = rows.iter().skip(1).map(|r| r[0].as_str()).collect();
    assert!(
        names.contains(&"'=HYPERLINK(\"http://evil\",\"x\")"),
        "{names:?}"
    );
    assert!(names.contains(&"'@SUM(1+1)"), "{names:?}");
    let zh: Vec<&str> = rows.iter().skip(1).map(|r| r[1].as_str()).collect();
    assert!(zh.contains(&"'+cmd|' /C calc'!A0"), "{zh:?}");
    assert!(zh.contains(&"'-2+3"), "{zh:?}");
    for f in ["summary.csv", "by_class.csv", "paths.csv", "timeseries.csv"] {
        assert_no_formula(&sb.path(&format!("r/{f}")));
    }
    // The brief shows the names as the user wrote them.
    succeeded(&sb.output(&["brief", "r", "--lang", "en"]));
    let md = fs::read_to_string(sb.path("r/brief.md")).unwrap();
    assert!(
        md.contains("\\@SUM(1+1)") || md.contains("@SUM(1+1)"),
        "{md}"
    );
    assert!(!md.contains("'@SUM"), "{md}");

    // sweep.csv: grid values of a text key.
    succeeded(&sb.output(&[
        "sweep",
        "tiny.toml",
        "--grid",
        "policy.name=\"=1+1\",\"@A1\",\"-x\"",
        "--out",
        "s",
        "-q",
    ]));
    let rows = assert_no_formula(&sb.path("s/sweep.csv"));
    let values: Vec<&str> = rows.iter().skip(1).map(|r| r[1].as_str()).collect();
    assert_eq!(values, ["'=1+1", "'@A1", "'-x"]);

    // delta.csv: negative differences stay numbers.
    let faster = sb.path("faster.toml");
    fs::write(&faster, "[pools.turnover]\nadvance_ratio = 0.95\n").unwrap();
    succeeded(&sb.output(&[
        "compare",
        "tiny.toml",
        "--reform",
        "faster.toml",
        "--out",
        "c2",
        "-q",
    ]));
    let rows = assert_no_formula(&sb.path("c2/delta.csv"));
    let delta = rows[0].iter().position(|h| h == "delta").unwrap();
    let negative = rows
        .iter()
        .skip(1)
        .filter(|r| r[delta].starts_with('-'))
        .inspect(|r| assert!(r[delta].parse::<f64>().unwrap() < 0.0, "{r:?}"))
        .count();
    assert!(negative > 0, "expected negative deltas: {rows:?}");
}

// ---------------------------------------------------------------------------------
// Brief markup

#[test]
fn brief_escapes_markdown_and_html_in_user_strings() {
    let sb = tiny_with(&[
        (
            "title = \"Tiny test scenario\"",
            "title = \"<script>alert(1)</script>\\n# Injected heading | x\"",
        ),
        (
            "title_zh = \"测试场景\"",
            "title_zh = \"<img src=x onerror=alert(1)>\"",
        ),
        (
            "name_zh = \"贵安新区\"",
            "name_zh = \"<b>bold</b>|cell\\n- item\"",
        ),
        (
            "name = \"status quo\"",
            "name = \"**loud** [link](http://evil)\"",
        ),
    ]);
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "r", "-q"]));
    succeeded(&sb.output(&["brief", "r"]));
    let md = fs::read_to_string(sb.path("r/brief.md")).unwrap();
    // Outside code spans (which show their text verbatim), markup characters
    // of user strings are backslash-escaped.
    let prose: String = md.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    for raw in ["<script", "<img", "<b>", "](http://evil)", "**loud**"] {
        assert!(
            prose
                .match_indices(raw)
                .all(|(i, _)| i > 0 && &prose[i - 1..i] == "\\"),
            "raw `{raw}` in brief.md:\n{md}"
        );
    }
    assert!(
        !md.lines()
            .any(|l| l.starts_with("# Injected") || l.starts_with("- item")),
        "a user string started a heading or list:\n{md}"
    );
    // Every table row has as many unescaped `|` as its header.
    let unescaped = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut width = None;
    for l in md.lines() {
        if l.starts_with('|') {
            let n = unescaped(l);
            if *width.get_or_insert(n) != n {
                panic!("table row with {n} columns instead of {width:?}: {l}\n{md}");
            }
        } else {
            width = None;
        }
    }
    let html = fs::read_to_string(sb.path("r/brief.html")).unwrap();
    for raw in ["<script", "<img", "<b>bold"] {
        assert!(!html.contains(raw), "raw `{raw}` in brief.html");
    }
    assert!(
        html.contains("&lt;script&gt;"),
        "the title is shown, escaped"
    );
}

// ---------------------------------------------------------------------------------
// brief: all or none

#[test]
fn brief_writes_its_three_files_all_or_none() {
    let sb = tiny();
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "r", "-q"]));
    succeeded(&sb.output(&["brief", "r", "--lang", "zh"]));
    let before: Vec<Vec<u8>> = ["brief.md", "brief.html"]
        .iter()
        .map(|f| fs::read(sb.path(&format!("r/{f}"))).unwrap())
        .collect();
    // A real failure on the last file: a folder where brief.xlsx goes.
    fs::remove_file(sb.path("r/brief.xlsx")).unwrap();
    fs::create_dir(sb.path("r/brief.xlsx")).unwrap();
    fs::write(sb.path("r/brief.xlsx/inside"), "x").unwrap();
    let out = sb.output(&["brief", "r", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("brief.xlsx"),
        "{}",
        text(&out.stderr)
    );
    let after: Vec<Vec<u8>> = ["brief.md", "brief.html"]
        .iter()
        .map(|f| fs::read(sb.path(&format!("r/{f}"))).unwrap())
        .collect();
    assert!(before == after, "brief.md / brief.html were replaced");
    assert_eq!(partials(&sb.path("r")), Vec::<String>::new());

    // And on a first brief nothing at all is left.
    fs::remove_file(sb.path("r/brief.md")).unwrap();
    fs::remove_file(sb.path("r/brief.html")).unwrap();
    let out = sb.output(&["brief", "r"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!sb.path("r/brief.md").exists() && !sb.path("r/brief.html").exists());
    assert_eq!(partials(&sb.path("r")), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------
// Ctrl-C and SIGKILL

#[test]
fn ctrl_c_during_the_simulation_exits_130_and_writes_nothing() {
    let sb = tiny();
    let mut args = HUGE_RUN.to_vec();
    args.extend(["--out", "r"]);
    let mut child = spawn(&sb, &args);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "finished too early");
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let status = wait_at_most(&mut child, Duration::from_secs(60), "after Ctrl-C");
    assert_eq!(status.code(), Some(130));
    assert_eq!(sb.entries(), ["tiny.toml"]);
}

#[test]
fn ctrl_c_while_outputs_are_written_exits_130_and_leaves_nothing() {
    let sb = tiny();
    let mut args = BIG_RUN.to_vec();
    args.extend(["--out", "r"]);
    let mut child = spawn(&sb, &args);
    wait_for_partial(&mut child, sb.dir.path(), "r");
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let status = wait_at_most(&mut child, Duration::from_secs(60), "after Ctrl-C");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(sb.entries(), ["tiny.toml"], "no output, no temporary");
}

#[test]
fn ctrl_c_while_a_sweep_point_is_written_exits_130_and_the_sweep_resumes() {
    let sb = tiny();
    let sweep = [
        "sweep",
        "tiny.toml",
        "--grid",
        "scenario.paths=20000,2",
        "--threads",
        "1",
        "-q",
        "--out",
        "s",
    ];
    let mut child = spawn(&sb, &sweep);
    let start = Instant::now();
    while !sb.path("s/points").is_dir() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no points folder"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    wait_for_partial(&mut child, &sb.path("s/points"), "0");
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let status = wait_at_most(&mut child, Duration::from_secs(60), "after Ctrl-C");
    assert_eq!(status.code(), Some(130));
    assert_eq!(entries(&sb.path("s/points")), Vec::<String>::new());
    assert!(!sb.path("s/sweep.csv").exists());
    assert_eq!(partials_below(sb.dir.path()), Vec::<String>::new());
    // The same command resumes it.
    let out = sb.output(&sweep);
    assert!(succeeded(&out).contains("resumed"), "{}", text(&out.stdout));
    assert!(sb.path("s/sweep.csv").is_file());
}

#[test]
fn a_run_killed_while_writing_leaves_a_partial_that_the_next_run_removes() {
    let sb = tiny();
    let mut args = BIG_RUN.to_vec();
    args.extend(["--out", "out/r"]);
    let mut child = spawn(&sb, &args);
    fs::create_dir_all(sb.path("out")).unwrap();
    let partial = wait_for_partial(&mut child, &sb.path("out"), "r");
    child.kill().unwrap(); // SIGKILL: nothing can clean up
    child.wait().unwrap();
    assert!(
        sb.path("out").join(&partial).exists(),
        "SIGKILL leaves {partial}"
    );
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "out/r2", "-q"]));
    assert_eq!(
        entries(&sb.path("out")),
        ["r2"],
        "the stale partial is gone"
    );
}

#[test]
fn partials_of_live_processes_are_kept_and_of_dead_ones_removed() {
    let sb = tiny();
    fs::create_dir(sb.path("out")).unwrap();
    let live = format!(".x.partial-{}-abcdef", std::process::id());
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let dead = format!(".y.partial-{dead_pid}-abcdef");
    fs::create_dir(sb.path(&format!("out/{live}"))).unwrap();
    fs::write(sb.path(&format!("out/{dead}")), "half").unwrap();
    succeeded(&sb.output(&["run", "tiny.toml", "--out", "out/r", "-q"]));
    let left = entries(&sb.path("out"));
    assert!(
        left.contains(&live),
        "a live process's partial was removed: {left:?}"
    );
    assert!(
        !left.contains(&dead),
        "a dead process's partial is left: {left:?}"
    );
}

// ---------------------------------------------------------------------------------
// Output folder checked before the work

#[test]
fn an_unwritable_output_folder_is_refused_before_the_simulation() {
    let sb = tiny();
    std::os::unix::fs::symlink("nowhere", sb.path("dangling")).unwrap();
    let long = "a".repeat(250);
    let cases: Vec<(&str, &str)> = vec![
        ("dangling", "symbolic link"),
        (long.as_str(), "too long"),
        ("tiny.toml/out", "not a folder"),
        #[cfg(target_os = "linux")]
        ("/proc/refundsim-out", "cannot write to /proc/refundsim-out"),
    ];
    for (out, reason) in cases {
        // Minutes of work if the folder were checked after.
        let mut child = Command::new(BIN)
            .args(HUGE_RUN)
            .args(["-q", "--out", out])
            .current_dir(sb.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_at_most(&mut child, Duration::from_secs(15), out);
        let output = child.wait_with_output().unwrap();
        let stderr = rejected(&output);
        assert!(stderr.contains(reason), "--out {out}: {stderr}");
        assert!(stderr.lines().count() == 1, "{stderr}");
    }
    assert_eq!(partials_below(sb.dir.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------
// stdout

#[test]
fn a_closed_stdout_ends_quietly() {
    let sb = tiny();
    for args in [
        vec!["explain"],
        vec!["run", "tiny.toml", "--out", "r", "-q"],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(sb.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // `| true`: the reader is gone
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}

#[test]
fn a_full_stdout_is_one_line_of_error_and_exit_1() {
    let sb = tiny();
    for args in [
        vec!["explain"],
        vec!["run", "tiny.toml", "--out", "r", "-q"],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(sb.dir.path())
            .stdout(
                fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("standard output"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn claims_out_with_force_never_replaces_a_users_own_file() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    fs::write(sb.path("thesis.csv"), "my data\n").unwrap();
    let out = sb.output(&[
        "run",
        "tiny.toml",
        "--out",
        "r",
        "-q",
        "--force",
        "--claims-out",
        "thesis.csv",
    ]);
    let stderr = rejected(&out);
    assert!(stderr.contains("not a file refundsim wrote"), "{stderr}");
    assert_eq!(
        fs::read_to_string(sb.path("thesis.csv")).unwrap(),
        "my data\n"
    );
    // Records refundsim wrote are replaced with --force.
    let run = |out: &str| {
        sb.output(&[
            "run",
            "tiny.toml",
            "--out",
            out,
            "-q",
            "--claims-out",
            "claims.csv",
            "--force",
        ])
    };
    succeeded(&run("r1"));
    succeeded(&run("r2"));
    // Records inside the run folder would be swept away when the run is saved.
    let out = sb.output(&[
        "run",
        "tiny.toml",
        "--out",
        "r3",
        "-q",
        "--claims-out",
        "r3/claims.csv",
    ]);
    let stderr = rejected(&out);
    assert!(stderr.contains("inside the run folder"), "{stderr}");
}

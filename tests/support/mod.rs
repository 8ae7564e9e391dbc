//! Helpers shared by the integration-test crates (`cli`, `hostile`): a sandbox
//! directory per test, the real binary run inside it, and assertions on how a
//! run ended. Each crate uses part of it, hence `dead_code` allowed.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary working directory for one test.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Copies `tests/fixtures/<rel>` into the sandbox as `name`.
    pub fn fixture(self, rel: &str, name: &str) -> Self {
        fs::copy(fixture(rel), self.path(name)).unwrap();
        self
    }

    /// Copies the repository's `scenarios/` and `data/` (the shipped calendar) in,
    /// so the shipped scenarios resolve `data/cn-public-holidays.csv` as they do
    /// from the project root.
    pub fn shipped(self) -> Self {
        copy_dir(&repo().join("scenarios"), &self.path("scenarios"));
        copy_dir(&repo().join("data"), &self.path("data"));
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `refundsim` with the sandbox as its working directory.
    pub fn refundsim(&self) -> Command {
        let mut cmd = Command::cargo_bin("refundsim").unwrap();
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// Runs `refundsim ARGS…` and returns its output, whatever the exit code.
    pub fn output(&self, args: &[&str]) -> Output {
        self.refundsim().args(args).output().unwrap()
    }

    /// Names in the sandbox's top directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        entries(self.dir.path())
    }
}

pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Asserts the run was refused as bad input (exit code 2, nothing on stdout) and
/// returns its stderr.
pub fn rejected(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit code 2 (bad usage or scenario); stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing belongs on stdout: {}",
        text(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked"),
        "a bad input must never panic:\n{stderr}"
    );
    stderr
}

/// Asserts success and returns stdout.
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}; stderr:\n{}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// 1-based number of the only line of fixture `rel` that contains `needle`,
/// comment lines aside.
pub fn line_of(rel: &str, needle: &str) -> usize {
    let src = fs::read_to_string(fixture(rel)).unwrap();
    let hits: Vec<usize> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` must occur once in {rel}");
    hits[0]
}

/// Asserts `stderr` reports one problem at `file:line:` (a column may follow)
/// under `key`.
pub fn assert_problem(stderr: &str, file: &str, line: usize, key: &str) {
    let at = format!("{file}:{line}:");
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with(&at) && l.contains(&format!(" {key}"))),
        "expected a problem at {at} naming `{key}`:\n{stderr}"
    );
}

/// `validate FILE` on a copy of bad fixture `name`; returns stderr (exit 2 checked).
pub fn validate_bad(name: &str) -> String {
    let sb = Sandbox::new().fixture(&format!("bad/{name}"), name);
    rejected(&sb.output(&["validate", name]))
}

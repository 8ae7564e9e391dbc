//! Resumable studies made of many runs (`size`, `sensitivity`): a directory like a
//! sweep's, whose points are named by the content of their scenario.
//!
//! Each evaluated scenario is a finished run under `points/<id>/`, where `id` is a
//! hash of the fully resolved scenario (seed and paths included), written
//! atomically by [`sweep::run_point`]. An interrupted study rerun with the same
//! arguments finds its finished points and computes only the missing ones; a
//! scenario met twice (Morris trajectories share points) runs once. Every result is
//! read back from the points' `paths.csv`, so a resumed study writes the same bytes
//! as an uninterrupted one.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::output;
use crate::scenario::Scenario;
use crate::sweep::{self, SweepError};

/// Per-path metric columns of one evaluated point, by metric name.
pub type Columns = Vec<(String, Vec<f64>)>;

/// The values of `metric` in `cols` (empty if absent).
pub fn column<'a>(cols: &'a Columns, metric: &str) -> &'a [f64] {
    cols.iter()
        .find(|(h, _)| h == metric)
        .map(|c| c.1.as_slice())
        .unwrap_or(&[])
}

/// The name of a scenario's point folder: 16 hex digits of the sha256 of its
/// resolved form.
pub fn point_id(s: &Scenario) -> String {
    let json = serde_json::to_string(s).expect("serialisable");
    crate::input::sha256_hex(json.as_bytes())[..16].to_string()
}

/// sha256 of a study's defining JSON (its kind, arguments and point scenarios).
pub fn fingerprint(v: &serde_json::Value) -> String {
    crate::input::sha256_hex(v.to_string().as_bytes())
}

/// A study directory being filled.
pub struct Study<'a> {
    dir: PathBuf,
    points: PathBuf,
    manifest: serde_json::Value,
    threads: usize,
    progress: &'a (dyn Fn(u64) + Sync),
    cancel: &'a AtomicBool,
    /// Distinct points evaluated (or found finished) so far.
    pub evaluations: usize,
    seen: Vec<String>,
}

impl<'a> Study<'a> {
    /// Opens `dir` for a study whose `manifest` holds at least `kind` and
    /// `fingerprint`: resumes one with the same fingerprint, refuses anything else
    /// unless `force` and it is a refundsim output.
    pub fn open(
        dir: &Path,
        manifest: serde_json::Value,
        force: bool,
        threads: usize,
        progress: &'a (dyn Fn(u64) + Sync),
        cancel: &'a AtomicBool,
    ) -> Result<Study<'a>, SweepError> {
        let kind = manifest["kind"].as_str().unwrap_or("study").to_string();
        let fp = manifest["fingerprint"].as_str().unwrap_or("").to_string();
        let points = sweep::open_study_dir(dir, &kind, &fp, force)?;
        let mut m = manifest;
        m["complete"] = serde_json::Value::Bool(false);
        output::write_file(&dir.join("manifest.json"), pretty(&m).as_bytes())?;
        Ok(Study {
            dir: dir.to_path_buf(),
            points,
            manifest: m,
            threads,
            progress,
            cancel,
            evaluations: 0,
            seen: Vec::new(),
        })
    }

    /// Runs `s` (unless already finished) and returns its per-path metrics.
    pub fn eval(&mut self, s: &Scenario) -> Result<Columns, SweepError> {
        let id = point_id(s);
        let pdir = self.points.join(&id);
        sweep::run_point(s, &pdir, self.threads, self.progress, self.cancel)?;
        if !self.seen.contains(&id) {
            self.seen.push(id);
            self.evaluations += 1;
        }
        let p = pdir.join("paths.csv");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| SweepError::Corrupt(p.clone(), e.to_string()))?;
        sweep::parse_paths_csv(&text).map_err(|e| SweepError::Corrupt(p, e))
    }

    /// The folder name of a point, relative to the study directory.
    pub fn point_dir(s: &Scenario) -> String {
        format!("points/{}", point_id(s))
    }

    /// Writes the result files atomically, then marks the manifest complete with
    /// `extra` fields merged in.
    pub fn finish(
        self,
        files: &[(&str, String)],
        extra: serde_json::Value,
    ) -> Result<PathBuf, SweepError> {
        for (name, text) in files {
            output::write_file(&self.dir.join(name), text.as_bytes())?;
        }
        let mut m = self.manifest;
        if let (Some(o), serde_json::Value::Object(e)) = (m.as_object_mut(), extra) {
            o.extend(e);
        }
        m["complete"] = serde_json::Value::Bool(true);
        output::write_file(&self.dir.join("manifest.json"), pretty(&m).as_bytes())?;
        Ok(self.dir)
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("serialisable") + "\n"
}

/// The common head of a study manifest.
pub fn manifest_head(
    kind: &str,
    base: &Scenario,
    files: &[PathBuf],
    sets: &[String],
) -> serde_json::Value {
    serde_json::json!({
        "kind": kind,
        "refundsim_version": env!("CARGO_PKG_VERSION"),
        "scenario_name": base.name,
        "title": base.title,
        "title_zh": base.title_zh,
        "files": files,
        "sets": sets,
        "seed": base.seed,
        "paths": base.paths,
        "inputs": base.inputs,
        "generator": crate::rng::GENERATOR,
    })
}

/// Loads the scenario `files` + `sets` + `extra` assignments with `paths` and
/// `seed` overridden when given.
pub fn load(
    files: &[PathBuf],
    sets: &[String],
    extra: &[String],
    paths: Option<u32>,
    seed: Option<u64>,
) -> Result<Scenario, crate::scenario::ScenarioError> {
    let mut all = sets.to_vec();
    all.extend(extra.iter().cloned());
    let mut s = Scenario::load(files, &all)?;
    if let Some(p) = paths {
        s.paths = p;
    }
    if let Some(x) = seed {
        s.seed = x;
    }
    Ok(s)
}

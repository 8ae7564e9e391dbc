//! Sharded runs and their exact merge (MODEL.md §10: `--shard I/N`, `merge`).
//!
//! **Which paths.** Shard `I` of `N` (numbered from 1) computes the paths `p`
//! with `p mod N = I − 1`. Every draw of path `p` comes from streams keyed by `p`
//! (MODEL.md §8), so a shard's paths are the very same paths as in the unsharded
//! run, whatever machine computes them. Striding (rather than contiguous blocks)
//! keeps shards equally loaded even when paths differ in cost along the index,
//! and makes every `N` valid for every path count.
//!
//! **A shard folder** holds `manifest.json` (a [`ShardManifest`]: which shard of
//! what, the scenario's fingerprint, the labels the output files need and the
//! shard's own run manifest) and `results.bin`, the shard's whole per-path
//! results in little-endian binary:
//!
//! ```text
//! "RSHARD01"                                      8-byte magic
//! rows:    for each local path j: claims_simulated (u64), metrics of group 0
//!          (f64 × M), metrics of the last group, `1+7` (f64 × M)
//! columns: for each group g, metric m:            the value on each local path (f64 × n)
//!          for each series k, window day d:       the value on each local path (f64 × n)
//! ```
//!
//! The row section feeds `paths.csv` (read a block of rows at a time); the
//! column section feeds every summary, one column at a time. A column of the
//! merged run is read as one contiguous slice of each shard file and
//! interleaved by `p mod N`, so a merge of 1,000,000 paths in 100 shards holds
//! one or a few columns of 1,000,000 values (8 MB each, one per worker thread),
//! never paths × days. Binary rather than CSV because it is exact (no decimal
//! round trip), 8 bytes a value and seekable; the layout is written from the
//! shape of [`PathResult`] (its number of groups, metrics, series and days, taken
//! from the vectors themselves, all recorded in the manifest), so groups, metrics
//! or series other parts of the model add flow through unchanged. A field added
//! to `PathResult` itself fails to compile in [`results_bin`] (it destructures
//! the struct) until it is stored too.
//!
//! **Merge** ([`ShardSet::open`]) checks that the shards belong together (same
//! kind, fingerprint of the resolved scenario, seed, paths and `N`; each `I`
//! present once) and then builds the files with the same code as an unsharded
//! run ([`crate::report::Columns`]), so they are byte-identical, timing fields of
//! `manifest.json` aside (`elapsed_seconds` is the shards' total, `threads` the
//! first shard's, `command` the merge's).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{PathResult, RunOutput};
use crate::manifest::RunManifest;
pub use crate::manifest::Shard;
use crate::report::{Columns, RunMeta};

/// Magic bytes at the start of `results.bin`.
pub const MAGIC: &[u8; 8] = b"RSHARD01";

/// The file holding a shard's per-path results.
pub const RESULTS: &str = "results.bin";

/// Most shards a run may be split into.
pub const MAX_SHARDS: u32 = 100_000;

impl Shard {
    /// Parses `I/N` (1 ≤ I ≤ N ≤ [`MAX_SHARDS`]).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let fix = "give --shard I/N with 1 ≤ I ≤ N, e.g. --shard 2/8, or --shard auto under Slurm or a Kubernetes Indexed Job";
        let Some((i, n)) = s.split_once('/') else {
            return Err(format!("--shard `{s}` is not I/N; {fix}"));
        };
        let whole = |x: &str, what: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("--shard `{s}`: {what} `{x}` is not a whole number; {fix}"))
        };
        let (index, count) = (whole(i, "I")?, whole(n, "N")?);
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "--shard `{s}`: N must be from 1 to {MAX_SHARDS}; {fix}"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "--shard `{s}`: I must be from 1 to N = {count} (shards are numbered from 1); {fix}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard a scheduler assigned this task (`--shard auto`), from its
    /// environment as `env` reads it:
    ///
    /// - Slurm job array: `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` (default
    ///   0 if unset) and `SLURM_ARRAY_TASK_COUNT`: shard `ID − MIN + 1` of
    ///   `COUNT` (so `--array=1-8` and `--array=0-7` both give shards 1…8 of 8).
    /// - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (from 0) and the count
    ///   from `REFUNDSIM_SHARDS` (Kubernetes does not expose `completions` to the
    ///   pod; set it in the Job's env beside `completions`): shard `INDEX + 1`.
    pub fn auto(env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let num = |k: &str| -> Result<Option<u32>, String> {
            match env(k) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .map(Some)
                    .map_err(|_| format!("--shard auto: {k}=`{v}` is not a whole number")),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let Some(count) = num("SLURM_ARRAY_TASK_COUNT")? else {
                return Err("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; submit with sbatch --array".into());
            };
            if id < min {
                return Err(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                ));
            }
            return Shard::parse(&format!("{}/{count}", id - min + 1)).map_err(|e| {
                format!("--shard auto (Slurm array task {id}, min {min}, count {count}; use a contiguous --array range): {e}")
            });
        }
        if let Some(ix) = num("JOB_COMPLETION_INDEX")? {
            let Some(count) = num("REFUNDSIM_SHARDS")? else {
                return Err("--shard auto: JOB_COMPLETION_INDEX is set but REFUNDSIM_SHARDS is not; set REFUNDSIM_SHARDS to the Job's completions".into());
            };
            return Shard::parse(&format!("{}/{count}", ix as u64 + 1))
                .map_err(|e| format!("--shard auto (Kubernetes index {ix}): {e}"));
        }
        Err("--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard I/N".into())
    }

    /// Whether item `i` (a path, a grid point) belongs to this shard.
    pub fn owns(&self, i: u64) -> bool {
        i % self.count as u64 == (self.index - 1) as u64
    }

    /// How many of the items `0 .. n` belong to this shard.
    pub fn len_of(&self, n: u64) -> u64 {
        let first = (self.index - 1) as u64;
        if n <= first {
            0
        } else {
            (n - first).div_ceil(self.count as u64)
        }
    }
}

/// The shape of the per-path results in `results.bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Metric groups (total, platforms, classes, …).
    pub groups: usize,
    /// Metrics per group.
    pub metrics: usize,
    /// Daily series.
    pub series: usize,
    /// Days per series.
    pub days: usize,
}

impl Layout {
    fn row_bytes(&self) -> u64 {
        8 + 16 * self.metrics as u64
    }
    fn columns(&self) -> u64 {
        (self.groups * self.metrics + self.series * self.days) as u64
    }
    /// Size of `results.bin` for `n` local paths.
    pub fn file_len(&self, n: u64) -> u64 {
        MAGIC.len() as u64 + n * self.row_bytes() + self.columns() * n * 8
    }
}

/// `manifest.json` of a shard folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// Always `shard`.
    pub kind: String,
    /// The refundsim version that wrote it.
    pub refundsim_version: String,
    /// Which shard.
    pub shard: Shard,
    /// sha256 of the resolved scenario (seed and paths included): shards of one
    /// run share it.
    pub fingerprint: String,
    /// Master seed.
    pub seed: u64,
    /// Paths of the whole run.
    pub paths: u64,
    /// Paths in this shard.
    pub shard_paths: u64,
    /// Shape of `results.bin`.
    pub layout: Layout,
    /// Labels the output files need.
    pub meta: RunMeta,
    /// The manifest of this shard's part of the run (its `paths` and
    /// `claims_simulated` are the shard's).
    pub run: RunManifest,
}

/// sha256 of a manifest's resolved scenario: two runs with the same fingerprint
/// simulate the same paths identically.
pub fn fingerprint(scenario: &serde_json::Value) -> String {
    let text = serde_json::to_string(scenario).expect("serialisable");
    let d = Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The layout of `out`'s per-path results (of a run of `meta`'s model).
pub fn layout_of(out: &RunOutput, meta: &RunMeta) -> Layout {
    debug_assert!(out.paths.iter().all(|p| p.groups.len() == meta.groups));
    Layout {
        groups: meta.groups,
        metrics: crate::metrics::N_METRICS,
        series: meta.series_names.len(),
        days: meta.dates.len(),
    }
}

/// `results.bin` of a shard's results (see the module documentation).
pub fn results_bin(out: &RunOutput, layout: &Layout) -> Vec<u8> {
    let n = out.paths.len() as u64;
    let mut b = Vec::with_capacity(layout.file_len(n) as usize);
    b.extend_from_slice(MAGIC);
    for p in &out.paths {
        // Destructured so that a field added to PathResult must be stored here.
        let PathResult {
            metrics,
            groups: _,
            series: _,
            claims_simulated,
        } = p;
        b.extend_from_slice(&claims_simulated.to_le_bytes());
        for v in metrics
            .iter()
            .chain(p.groups.last().expect("the total group"))
        {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    for g in 0..layout.groups {
        for m in 0..layout.metrics {
            for p in &out.paths {
                b.extend_from_slice(&p.groups[g][m].to_le_bytes());
            }
        }
    }
    for k in 0..layout.series {
        for d in 0..layout.days {
            for p in &out.paths {
                b.extend_from_slice(&p.series[k][d].to_le_bytes());
            }
        }
    }
    b
}

/// The files of a shard folder: `manifest.json` and `results.bin`.
pub fn shard_files(
    shard: Shard,
    run: RunManifest,
    meta: RunMeta,
    out: &RunOutput,
    total_paths: u64,
) -> Vec<(&'static str, Vec<u8>)> {
    let layout = layout_of(out, &meta);
    let m = ShardManifest {
        kind: "shard".into(),
        refundsim_version: env!("CARGO_PKG_VERSION").into(),
        shard,
        fingerprint: fingerprint(&run.scenario),
        seed: run.seed,
        paths: total_paths,
        shard_paths: out.paths.len() as u64,
        layout,
        meta,
        run,
    };
    let json = serde_json::to_string_pretty(&m).expect("serialisable") + "\n";
    vec![
        (RESULTS, results_bin(out, &layout)),
        ("manifest.json", json.into_bytes()),
    ]
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A folder that is not a shard folder.
    #[error(
        "{0} is not a shard folder ({1}); shard folders are written by `refundsim run`, `sweep`, `sensitivity` or `compare` with `--shard I/N`"
    )]
    NotAShard(PathBuf, String),
    /// Shards of different runs.
    #[error("the shards do not belong together: {0}")]
    Mixed(String),
    /// A shard given twice.
    #[error("shard {shard} is given twice: {a} and {b}; give each shard folder once")]
    Duplicate {
        /// Which shard.
        shard: Shard,
        /// One folder.
        a: PathBuf,
        /// The other.
        b: PathBuf,
    },
    /// Shards missing.
    #[error(
        "shard{} {} of {count} missing (have {have}); merge needs every shard of the run",
        if missing.len() > 1 { "s" } else { "" },
        missing.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    )]
    Missing {
        /// The missing indices.
        missing: Vec<u32>,
        /// N.
        count: u32,
        /// The folders given, as text.
        have: String,
    },
    /// A shard's results file is damaged.
    #[error("{0}: {1}; compute that shard again")]
    Damaged(PathBuf, String),
    /// Shards of different commands (a run's and a sensitivity's, say).
    #[error(
        "{a} is a {ka} shard but {b} is a {kb} shard; merge the shards of one command at a time"
    )]
    Kinds {
        /// One folder.
        a: PathBuf,
        /// Its kind.
        ka: String,
        /// Another folder.
        b: PathBuf,
        /// Its kind.
        kb: String,
    },
    /// Writing the merged files failed (not bad usage: exit 1).
    #[error(transparent)]
    Write(#[from] crate::output::OutputError),
}

/// The kinds of shard folder, by their manifest's `kind`, and the command that
/// writes each (for messages).
pub const SHARD_KINDS: [(&str, &str); 4] = [
    ("shard", "run"),
    ("sweep-shard", "sweep"),
    ("sensitivity-shard", "sensitivity"),
    ("compare-shard", "compare"),
];

/// The shard kind of `dir` (its manifest's `kind`, when that is a kind of
/// [`SHARD_KINDS`]).
pub fn kind_of(dir: &Path) -> Option<&'static str> {
    let t = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&t).ok()?;
    let k = v["kind"].as_str()?;
    SHARD_KINDS.iter().find(|(x, _)| *x == k).map(|(x, _)| *x)
}

/// The kind of shards `dirs` are (`shard` when none is a shard folder, for the
/// run merge to name what is wrong), refusing shards of different commands.
pub fn kind_of_all(dirs: &[PathBuf]) -> Result<&'static str, MergeError> {
    let mut first: Option<(&PathBuf, &'static str)> = None;
    for d in dirs {
        let Some(k) = kind_of(d) else { continue };
        match first {
            None => first = Some((d, k)),
            Some((a, ka)) if ka != k => {
                let cmd = |k: &str| {
                    SHARD_KINDS
                        .iter()
                        .find(|(x, _)| *x == k)
                        .map(|x| x.1.to_string())
                        .unwrap_or_default()
                };
                return Err(MergeError::Kinds {
                    a: a.clone(),
                    ka: cmd(ka),
                    b: d.clone(),
                    kb: cmd(k),
                });
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|f| f.1).unwrap_or("shard"))
}

/// One shard folder of a study (`sweep`, `sensitivity`, `compare`): its folder,
/// manifest and shard.
pub struct StudyShard {
    /// The folder.
    pub dir: PathBuf,
    /// Its `manifest.json`.
    pub manifest: serde_json::Map<String, serde_json::Value>,
    /// Which shard.
    pub shard: Shard,
}

/// Reads the study shard folders `dirs` of kind `kind` (written by `command
/// --shard I/N`) and checks that they are every shard of one study, each once
/// and finished: the same `fingerprint_key` (the unsharded study's
/// fingerprint), seed, paths and `N`. Sorted by shard index.
pub fn study_shards(
    dirs: &[PathBuf],
    kind: &str,
    command: &str,
    fingerprint_key: &str,
) -> Result<Vec<StudyShard>, MergeError> {
    let mut parts: Vec<StudyShard> = Vec::new();
    for d in dirs {
        let not = |why: String| MergeError::NotAShard(d.clone(), why);
        if !d.is_dir() {
            return Err(not("no such folder".into()));
        }
        let v: serde_json::Value = std::fs::read_to_string(d.join("manifest.json"))
            .map_err(|e| not(format!("manifest.json: {e}")))
            .and_then(|t| {
                serde_json::from_str(&t).map_err(|e| not(format!("manifest.json: {e}")))
            })?;
        let serde_json::Value::Object(m) = v else {
            return Err(not("manifest.json is not an object".into()));
        };
        if m.get("kind").and_then(|k| k.as_str()) != Some(kind) {
            return Err(not(format!(
                "its manifest.json is of kind {}, not `{kind}` of `{command} --shard I/N`",
                m.get("kind").cloned().unwrap_or_default()
            )));
        }
        if m.get("complete") == Some(&serde_json::Value::Bool(false)) {
            return Err(MergeError::Mixed(format!(
                "{} is an unfinished shard; rerun its `{command} --shard` command to finish it",
                d.display()
            )));
        }
        let shard: Shard = m
            .get("shard")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .ok_or_else(|| not("manifest.json has no shard".into()))?;
        parts.push(StudyShard {
            dir: d.clone(),
            manifest: m,
            shard,
        });
    }
    let Some(first) = parts.first() else {
        return Err(MergeError::Mixed("no shard folder given".into()));
    };
    for p in &parts[1..] {
        for key in [fingerprint_key, "seed", "paths"] {
            let (a, b) = (first.manifest.get(key), p.manifest.get(key));
            if a != b {
                let show = |v: Option<&serde_json::Value>| match v {
                    Some(serde_json::Value::String(s)) => s.chars().take(12).collect(),
                    Some(v) => v.to_string(),
                    None => "none".into(),
                };
                let why = if key == fingerprint_key {
                    " (a different scenario, --set, parameters, reforms or version)"
                } else {
                    ""
                };
                return Err(MergeError::Mixed(format!(
                    "{} has {key} {} but {} has {key} {}{why}",
                    first.dir.display(),
                    show(a),
                    p.dir.display(),
                    show(b)
                )));
            }
        }
        if p.shard.count != first.shard.count {
            return Err(MergeError::Mixed(format!(
                "{} has N (shard count) {} but {} has N (shard count) {}",
                first.dir.display(),
                first.shard.count,
                p.dir.display(),
                p.shard.count
            )));
        }
    }
    let count = first.shard.count;
    one_of_each(&mut parts, count, |p| (p.shard, &p.dir))?;
    Ok(parts)
}

/// Sorts `parts` by shard index and checks that each of shards `1..=count`
/// is given exactly once (`shard` gives a part's shard and folder). Shared by
/// run shards and study shards.
fn one_of_each<T>(
    parts: &mut [T],
    count: u32,
    shard: impl Fn(&T) -> (Shard, &Path),
) -> Result<(), MergeError> {
    parts.sort_by_key(|p| shard(p).0.index);
    for w in parts.windows(2) {
        let ((s, a), (t, b)) = (shard(&w[0]), shard(&w[1]));
        if s.index == t.index {
            return Err(MergeError::Duplicate {
                shard: s,
                a: a.to_path_buf(),
                b: b.to_path_buf(),
            });
        }
    }
    let missing: Vec<u32> = (1..=count)
        .filter(|i| !parts.iter().any(|p| shard(p).0.index == *i))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            count,
            have: parts
                .iter()
                .map(|p| {
                    let (s, dir) = shard(p);
                    format!("{s} in {}", dir.display())
                })
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

/// Writes the files of the merged run of `set` into `staging` under `sub`
/// (`""` for the folder itself, `base/` for a comparison's arm): the summaries,
/// `paths.csv` streamed a block of rows at a time, and the run manifest with
/// `command`.
pub fn write_run(
    set: &ShardSet,
    staging: &crate::output::Staging,
    sub: &str,
    threads: usize,
    command: &[String],
) -> Result<(), MergeError> {
    use std::io::Write as _;
    let files =
        crate::report::on_threads(threads, || crate::report::summary_files(set.meta(), set));
    for (name, text) in &files {
        staging.write(&format!("{sub}{name}"), text.as_bytes())?;
    }
    let paths_file = staging.path().join(format!("{sub}paths.csv"));
    let io_err = |source: std::io::Error| crate::output::OutputError::Io {
        path: paths_file.clone(),
        source,
    };
    if let Some(parent) = paths_file.parent() {
        std::fs::create_dir_all(parent).map_err(io_err)?;
    }
    let mut w = std::io::BufWriter::new(File::create(&paths_file).map_err(io_err)?);
    crate::report::on_threads(threads, || {
        crate::report::paths_csv_to(set, &mut |piece: &str| w.write_all(piece.as_bytes()))
    })
    .map_err(io_err)?;
    w.into_inner()
        .map_err(|e| io_err(e.into_error()))?
        .sync_all()
        .map_err(io_err)?;
    if let Some(e) = set.take_error() {
        return Err(MergeError::Write(crate::output::OutputError::Io {
            path: set.parts[0].dir.clone(),
            source: std::io::Error::other(format!("reading the shards failed: {e}")),
        }));
    }
    staging.write(
        &format!("{sub}manifest.json"),
        set.manifest(command).to_json().as_bytes(),
    )?;
    Ok(())
}

struct Part {
    dir: PathBuf,
    file: File,
    n: u64,
    manifest: ShardManifest,
}

/// Every shard of one run, opened for merging: the per-path results of the whole
/// run as a [`Columns`] source read from the shard files.
pub struct ShardSet {
    parts: Vec<Part>,
    n: u64,
    layout: Layout,
    error: Mutex<Option<String>>,
    largest: AtomicUsize,
}

/// Reads and checks one shard folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<ShardManifest, MergeError> {
    let not = |why: String| MergeError::NotAShard(dir.to_path_buf(), why);
    if !dir.is_dir() {
        return Err(not("no such folder".into()));
    }
    let text = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| not(format!("manifest.json: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| not(format!("manifest.json: {e}")))?;
    match v.get("kind").and_then(|k| k.as_str()) {
        Some("shard") => {}
        Some(k) => return Err(not(format!("its manifest.json is of kind `{k}`"))),
        None => return Err(not("its manifest.json has no kind".into())),
    }
    serde_json::from_value(v).map_err(|e| not(format!("manifest.json: {e}")))
}

impl ShardSet {
    /// Opens the shard folders `dirs` and checks that they are every shard of
    /// one run, each once.
    pub fn open(dirs: &[PathBuf]) -> Result<ShardSet, MergeError> {
        let mut parts: Vec<Part> = Vec::new();
        for dir in dirs {
            let manifest = read_manifest(dir)?;
            let path = dir.join(RESULTS);
            let file = File::open(&path)
                .map_err(|e| MergeError::NotAShard(dir.clone(), format!("{RESULTS}: {e}")))?;
            let n = manifest.shard_paths;
            let len = file
                .metadata()
                .map_err(|e| MergeError::Damaged(path.clone(), e.to_string()))?
                .len();
            let want = manifest.layout.file_len(n);
            if len != want {
                return Err(MergeError::Damaged(
                    path,
                    format!("{len} bytes where {n} paths take {want}"),
                ));
            }
            let mut magic = [0u8; 8];
            file.read_exact_at(&mut magic, 0)
                .map_err(|e| MergeError::Damaged(path.clone(), e.to_string()))?;
            if &magic != MAGIC {
                return Err(MergeError::Damaged(
                    path,
                    "not a refundsim results file".into(),
                ));
            }
            if manifest.shard.len_of(manifest.paths) != n {
                return Err(MergeError::Damaged(
                    dir.join("manifest.json"),
                    format!(
                        "shard {} of a {}-path run holds {n} paths",
                        manifest.shard, manifest.paths
                    ),
                ));
            }
            parts.push(Part {
                dir: dir.clone(),
                file,
                n,
                manifest,
            });
        }
        let Some(first) = parts.first() else {
            return Err(MergeError::Mixed("no shard folder given".into()));
        };
        let f = &first.manifest;
        for p in &parts[1..] {
            let m = &p.manifest;
            let differ = |what: &str, a: String, b: String| {
                MergeError::Mixed(format!(
                    "{} has {what} {a} but {} has {what} {b}",
                    first.dir.display(),
                    p.dir.display()
                ))
            };
            if m.shard.count != f.shard.count {
                return Err(differ(
                    "N (shard count)",
                    f.shard.count.to_string(),
                    m.shard.count.to_string(),
                ));
            }
            if m.seed != f.seed {
                return Err(differ("seed", f.seed.to_string(), m.seed.to_string()));
            }
            if m.paths != f.paths {
                return Err(differ("paths", f.paths.to_string(), m.paths.to_string()));
            }
            if m.fingerprint != f.fingerprint {
                return Err(differ(
                    "scenario fingerprint",
                    f.fingerprint[..12].to_string(),
                    m.fingerprint[..12].to_string() + " (a different scenario, --set or version)",
                ));
            }
            if m.layout != f.layout || m.meta != f.meta {
                return Err(differ(
                    "result layout",
                    format!("{:?}", f.layout),
                    format!("{:?}", m.layout),
                ));
            }
        }
        let count = f.shard.count;
        let (n, layout) = (f.paths, f.layout);
        one_of_each(&mut parts, count, |p| (p.manifest.shard, &p.dir))?;
        Ok(ShardSet {
            parts,
            n,
            layout,
            error: Mutex::new(None),
            largest: AtomicUsize::new(0),
        })
    }

    /// The labels of the run's output files.
    pub fn meta(&self) -> &RunMeta {
        &self.parts[0].manifest.meta
    }

    /// The merged run's manifest: the first shard's, with the whole run's paths
    /// and claims, and `elapsed_seconds` the shards' total.
    pub fn manifest(&self, command: &[String]) -> RunManifest {
        let mut m = self.parts[0].manifest.run.clone();
        m.paths = self.n;
        m.claims_simulated = self.claims_simulated();
        let secs: f64 = self
            .parts
            .iter()
            .map(|p| p.manifest.run.elapsed_seconds)
            .sum();
        m.elapsed_seconds = (secs * 1000.0).round() / 1000.0;
        m.command = command.to_vec();
        m
    }

    /// The first read error met while building files, if any (the files built
    /// then are incomplete and must not be kept).
    pub fn take_error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    /// The most values held by one read (one column, or one block of rows):
    /// the merge's memory is this times the worker threads, not paths × days.
    pub fn largest_read(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    fn fail(&self, e: String) {
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    }

    fn read_f64s(&self, part: &Part, offset: u64, count: usize) -> Vec<f64> {
        let mut bytes = vec![0u8; count * 8];
        if let Err(e) = part.file.read_exact_at(&mut bytes, offset) {
            self.fail(format!("{}: {e}", part.dir.join(RESULTS).display()));
            return vec![f64::NAN; count];
        }
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }

    /// Column `c` of the column section, interleaved into path order.
    fn column(&self, c: u64) -> Vec<f64> {
        let n_shards = self.parts.len();
        let mut out = vec![0.0; self.n as usize];
        for (i, part) in self.parts.iter().enumerate() {
            let base = MAGIC.len() as u64 + part.n * self.layout.row_bytes();
            let col = self.read_f64s(part, base + c * part.n * 8, part.n as usize);
            for (j, v) in col.into_iter().enumerate() {
                out[j * n_shards + i] = v;
            }
        }
        self.largest.fetch_max(out.len(), Ordering::Relaxed);
        out
    }
}

impl Columns for ShardSet {
    fn paths(&self) -> usize {
        self.n as usize
    }
    fn metric(&self, g: usize, m: usize) -> Vec<f64> {
        self.column((g * self.layout.metrics + m) as u64)
    }
    fn series(&self, k: usize, d: usize) -> Vec<f64> {
        let l = &self.layout;
        self.column((l.groups * l.metrics + k * l.days + d) as u64)
    }
    fn rows(&self, range: std::ops::Range<usize>) -> Vec<(u64, Vec<f64>)> {
        let n_shards = self.parts.len();
        let m = self.layout.metrics;
        let mut out: Vec<(u64, Vec<f64>)> = vec![(0, Vec::new()); range.len()];
        for (i, part) in self.parts.iter().enumerate() {
            // Local rows j with range.start ≤ j·N + i < range.end, read as one block.
            let lo = range.start.saturating_sub(i).div_ceil(n_shards);
            let hi = range.end.saturating_sub(i).div_ceil(n_shards);
            if lo >= hi {
                continue;
            }
            let words = (hi - lo) * (1 + 2 * m);
            let offset = MAGIC.len() as u64 + lo as u64 * self.layout.row_bytes();
            let block = self.read_f64s(part, offset, words);
            self.largest.fetch_max(words, Ordering::Relaxed);
            for (r, row) in block.chunks_exact(1 + 2 * m).enumerate() {
                let p = (lo + r) * n_shards + i;
                out[p - range.start] = (row[0].to_bits(), row[1..].to_vec());
            }
        }
        out
    }
    fn claims_simulated(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| p.manifest.run.claims_simulated)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_i_of_n_owns_paths_congruent_to_i_minus_one() {
        let s = Shard::parse("2/3").unwrap();
        let owned: Vec<u64> = (0..10).filter(|p| s.owns(*p)).collect();
        assert_eq!(owned, [1, 4, 7]);
        for n in 0..20 {
            for i in 1..=4 {
                let s = Shard { index: i, count: 4 };
                assert_eq!(s.len_of(n), (0..n).filter(|p| s.owns(*p)).count() as u64);
            }
        }
    }

    #[test]
    fn shard_arguments_out_of_range_or_not_numbers_are_refused() {
        for bad in ["0/3", "4/3", "x/3", "1/y", "3", "1/0", "-1/3", "1/3/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse("3/3").unwrap(), Shard { index: 3, count: 3 });
    }

    #[test]
    fn auto_reads_slurm_array_and_kubernetes_index() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(a, _)| *a == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(Shard::auto(&slurm).unwrap(), Shard { index: 3, count: 4 });
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0"), ("REFUNDSIM_SHARDS", "5")]);
        assert_eq!(Shard::auto(&k8s).unwrap(), Shard { index: 1, count: 5 });
        assert!(Shard::auto(&env(&[])).is_err());
        assert!(
            Shard::auto(&env(&[
                ("JOB_COMPLETION_INDEX", "5"),
                ("REFUNDSIM_SHARDS", "5")
            ]))
            .is_err()
        );
    }
}

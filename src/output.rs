//! Writing outputs safely: the one place in the crate that creates files.
//!
//! * **Atomic, exclusive temporaries.** Every file or directory refundsim writes
//!   is first created under a fresh hidden name `.NAME.partial-PID-XXXXXX` in the
//!   destination's own folder — created exclusively by the `tempfile` crate, so a
//!   symlink or file planted at a predictable name is never written through — and
//!   renamed into place only when complete. A failure or Ctrl-C removes it.
//! * **Stale partials.** The owning process id is part of the temporary name; a
//!   process killed outright (SIGKILL, power loss) leaves its partial behind, and
//!   the next refundsim writing into that folder removes partials whose process is
//!   gone — never one of a live process.
//! * **`--force` replaces only refundsim's own files.** [`foreign_entry`] walks an
//!   existing output folder against the layout of its kind (run, compare, sweep)
//!   and names the first file refundsim did not write.
//! * **Several files, all or none** ([`write_all_or_none`], used by `brief`).
//! * **Ctrl-C.** The binary calls [`interrupt`] from its signal handler: with no
//!   temporary alive it may exit at once; otherwise writers see [`stop_requested`],
//!   remove their temporaries and return [`OutputError::Interrupted`].
//! * **CSV cells** ([`csv_cell`], [`CsvText`]): every CSV writer goes through one
//!   function that neutralises spreadsheet formulas (OWASP "CSV injection").

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The marker in the names of temporaries: `.NAME.partial-PID-XXXXXX`.
pub const PARTIAL: &str = ".partial-";

/// Errors while writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination holds an earlier run.
    #[error(
        "{0} already exists (an earlier run?); pass --force to replace it, or --out DIR to write elsewhere"
    )]
    Exists(PathBuf),
    /// `--force` was asked to replace something refundsim did not write.
    #[error(
        "{0} is not a refundsim output directory (no refundsim manifest.json); --force only replaces earlier runs, so choose another --out"
    )]
    NotOurs(PathBuf),
    /// `--force` was asked to replace an output folder that also holds other files.
    #[error(
        "{dir} holds {entry}, which refundsim did not write; --force only replaces a folder holding nothing but refundsim's own files — move it out of the folder, or choose another --out"
    )]
    Foreign {
        /// The output folder.
        dir: PathBuf,
        /// The first foreign entry found.
        entry: PathBuf,
    },
    /// The destination is a symbolic link.
    #[error(
        "{path} is a symbolic link{}; refundsim writes its output as a real directory and never through a link — remove the link or pass the real path to --out",
        target.as_ref().map(|t| format!(" (to {}{})", t.display(),
            if path.exists() { "" } else { ", which does not exist" }))
            .unwrap_or_default()
    )]
    Symlink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: Option<PathBuf>,
    },
    /// The destination's folder cannot be written (checked before any work).
    #[error(
        "cannot write to {path} (check the folder's permissions, free space and name, or choose another --out)"
    )]
    NotWritable {
        /// The output path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Interrupted (Ctrl-C) while writing; the temporaries were removed.
    #[error("interrupted; nothing half-written was left")]
    Interrupted,
    /// An I/O failure.
    #[error("cannot write {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------------
// Ctrl-C

static STOP: AtomicBool = AtomicBool::new(false);
/// Temporaries alive in this process (guarded, so the signal handler and a
/// writer creating a temporary never race).
static LIVE: Mutex<usize> = Mutex::new(0);

/// What the caller of [`interrupt`] should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInterrupt {
    /// No temporary exists: exiting now leaves nothing behind.
    ExitNow,
    /// Temporaries exist: their writers stop, remove them and return
    /// [`OutputError::Interrupted`].
    Deferred,
}

/// Records a stop request (Ctrl-C) and says whether the process may exit now.
pub fn interrupt() -> OnInterrupt {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    STOP.store(true, Ordering::SeqCst);
    if *live == 0 {
        OnInterrupt::ExitNow
    } else {
        OnInterrupt::Deferred
    }
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The stop flag, for long computations that poll it (the engine).
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

fn check_stop() -> Result<(), OutputError> {
    if stop_requested() {
        Err(OutputError::Interrupted)
    } else {
        Ok(())
    }
}

/// A registration of one live temporary; dropping it unregisters.
struct Live;

impl Live {
    /// Registers a temporary about to be created by `create` (under the lock, so
    /// an interrupt either comes before — and nothing is created — or after, and
    /// is deferred).
    fn create<T>(
        create: impl FnOnce() -> std::io::Result<T>,
        path: &Path,
    ) -> Result<(Live, T), OutputError> {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        check_stop()?;
        let t = create().map_err(io(path))?;
        *live += 1;
        Ok((Live, t))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        *live = live.saturating_sub(1);
    }
}

// ---------------------------------------------------------------------------------
// Temporaries and stale partials

/// `.NAME.partial-PID-`: the prefix of a temporary for `name`.
fn partial_prefix(name: &OsStr) -> String {
    format!(
        ".{}{PARTIAL}{}-",
        name.to_string_lossy(),
        std::process::id()
    )
}

/// The owning process of a temporary's name `.NAME.partial-PID-XXXXXX`.
fn partial_owner(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let rest = &name[name.rfind(PARTIAL)? + PARTIAL.len()..];
    let (pid, suffix) = rest.split_once('-')?;
    if suffix.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` is alive (a zombie counts as gone). Unknown: alive.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(raw) = i32::try_from(pid) else {
            return true;
        };
        match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
            Err(nix::errno::Errno::ESRCH) => return false,
            Err(_) => return true,
            Ok(()) => {}
        }
        #[cfg(target_os = "linux")]
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some(state) = stat.rsplit(')').next()
            && state.trim_start().starts_with('Z')
        {
            return false;
        }
        true
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Removes the temporaries in `dir` left by processes that no longer exist
/// (killed while writing). Best effort: what cannot be removed stays.
pub fn clean_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(partial_owner) else {
            continue;
        };
        if process_alive(pid) {
            continue;
        }
        let p = e.path();
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                let _ = std::fs::remove_dir_all(&p);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&p);
            }
            Err(_) => {}
        }
    }
}

/// The folder `path` lives in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn file_name_of(path: &Path) -> &OsStr {
    path.file_name().unwrap_or(OsStr::new("output"))
}

fn builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).rand_bytes(6);
    b
}

#[cfg(unix)]
fn with_mode(b: &mut tempfile::Builder<'_, '_>, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    // The usual permissions (umask applies), not tempfile's private 0600/0700.
    b.permissions(std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn with_mode(_: &mut tempfile::Builder<'_, '_>, _: u32) {}

/// A complete temporary file, renamed into place by [`write_all_or_none`].
struct TempOut {
    file: tempfile::NamedTempFile,
    dest: PathBuf,
    _live: Live,
}

fn temp_file(dest: &Path, bytes: &[u8]) -> Result<TempOut, OutputError> {
    let dir = parent_of(dest);
    let prefix = partial_prefix(file_name_of(dest));
    let mut b = builder(&prefix);
    with_mode(&mut b, 0o666);
    let (live, mut file) = Live::create(|| b.tempfile_in(dir), dest)?;
    let tmp = file.path().to_path_buf();
    file.write_all(bytes).map_err(io(&tmp))?;
    file.as_file().sync_all().map_err(io(&tmp))?;
    Ok(TempOut {
        file,
        dest: dest.to_path_buf(),
        _live: live,
    })
}

/// Writes each `(path, contents)` atomically, and all of them or none: every file
/// goes to a temporary beside its destination first; only when all are complete
/// are they renamed into place, and if one rename fails the earlier ones are
/// rolled back (the files they replaced restored). Stale partials in the
/// destinations' folders are removed first.
pub fn write_all_or_none(files: &[(PathBuf, &[u8])]) -> Result<(), OutputError> {
    let mut dirs: Vec<&Path> = files.iter().map(|(p, _)| parent_of(p)).collect();
    dirs.dedup();
    for d in dirs {
        clean_stale_partials(d);
    }
    let mut temps = Vec::new();
    for (path, bytes) in files {
        temps.push(temp_file(path, bytes)?);
        check_stop()?;
    }
    check_stop()?;
    // Keep what each destination held, to restore it if a later rename fails.
    let mut backups: Vec<Option<tempfile::NamedTempFile<()>>> = Vec::new();
    for t in &temps {
        let backup = match std::fs::symlink_metadata(&t.dest) {
            // A file, or a link (linked itself, not its target).
            Ok(m) if !m.is_dir() => {
                let prefix = partial_prefix(file_name_of(&t.dest));
                let dir = parent_of(&t.dest);
                // A hard link costs nothing; a copy where links are not supported.
                let b = builder(&prefix)
                    .make_in(dir, |p| std::fs::hard_link(&t.dest, p))
                    .or_else(|_| {
                        builder(&prefix).make_in(dir, |p| std::fs::copy(&t.dest, p).map(|_| ()))
                    })
                    .map_err(io(&t.dest))?;
                Some(b)
            }
            _ => None,
        };
        backups.push(backup);
    }
    let mut done: Vec<usize> = Vec::new();
    let mut failure = None;
    for (i, t) in temps.iter().enumerate() {
        if let Err(source) = std::fs::rename(t.file.path(), &t.dest) {
            failure = Some(OutputError::Io {
                path: t.dest.clone(),
                source,
            });
            break;
        }
        done.push(i);
    }
    if let Some(e) = failure {
        for i in done {
            let dest = &temps[i].dest;
            match &backups[i] {
                Some(b) => {
                    let _ = std::fs::rename(b.path(), dest);
                }
                None => {
                    let _ = std::fs::remove_file(dest);
                }
            }
        }
        return Err(e);
    }
    for t in temps {
        // Renamed away already: forget the temporary without deleting anything.
        let TempOut { file, _live, .. } = t;
        let _ = file.into_temp_path().keep();
    }
    Ok(())
}

/// A file written in pieces (a stream of records too large to hold), atomically:
/// the pieces go to a temporary beside `dest`, which [`StreamFile::commit`]
/// renames into place; dropped uncommitted (an error, Ctrl-C), the temporary is
/// removed, and a SIGKILL leaves a partial that a later run removes.
pub struct StreamFile {
    temp: TempOut,
    buf: std::io::BufWriter<std::fs::File>,
}

impl StreamFile {
    /// Starts `dest` (its folder must exist); stale partials beside it are removed.
    pub fn create(dest: &Path) -> Result<Self, OutputError> {
        clean_stale_partials(parent_of(dest));
        let temp = temp_file(dest, b"")?;
        let file = temp.file.reopen().map_err(io(temp.file.path()))?;
        Ok(StreamFile {
            temp,
            buf: std::io::BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        check_stop()?;
        self.buf.write_all(bytes).map_err(io(self.temp.file.path()))
    }

    /// Flushes and renames the file into place; returns its path.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        let StreamFile { temp, buf } = self;
        let tmp = temp.file.path().to_path_buf();
        let file = buf.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&tmp))?;
        check_stop()?;
        let TempOut { file, dest, _live } = temp;
        file.persist(&dest).map_err(|e| OutputError::Io {
            path: dest.clone(),
            source: e.error,
        })?;
        Ok(dest)
    }
}

/// Whether the file at `path` is one refundsim wrote: its first 4 KiB hold
/// `marker` (a line every such file starts with). `--force` replaces a single
/// output file (refund records, a calibration overlay) only then, never a
/// file of the user's that happens to have the same name.
pub fn written_by_refundsim(path: &Path, marker: &str) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    if f.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    String::from_utf8_lossy(&head).contains(marker)
}

/// Refuses to replace `path` unless it is absent, or `force` is given and
/// [`written_by_refundsim`] recognises it by `marker`.
pub fn check_replaceable_file(path: &Path, force: bool, marker: &str) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => Err(format!(
            "{} is a directory; give a file name",
            path.display()
        )),
        Ok(_) if !force => Err(format!(
            "{} already exists; choose another name or add --force to replace it",
            path.display()
        )),
        Ok(m) if m.file_type().is_symlink() || !written_by_refundsim(path, marker) => Err(format!(
            "{} is not a file refundsim wrote (it does not start with `{marker}`); --force only replaces refundsim's own files, so choose another name",
            path.display()
        )),
        Ok(_) => Ok(()),
    }
}

/// Writes one file atomically (see [`write_all_or_none`]).
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    write_all_or_none(&[(path.to_path_buf(), contents)])
}

// ---------------------------------------------------------------------------------
// Output folders and --force

/// The files and folders of one kind of output folder.
struct Layout {
    files: &'static [&'static str],
    dirs: &'static [(&'static str, &'static Layout)],
    /// Layout of subfolders named by a number or a hex id (a sweep's
    /// `points/<n>/`, a size or sensitivity study's `points/<sha>/`).
    numbered: Option<&'static Layout>,
}

const RUN: Layout = Layout {
    files: &[
        "summary.csv",
        "timeseries.csv",
        "by_platform.csv",
        "by_class.csv",
        "paths.csv",
        "manifest.json",
        "brief.md",
        "brief.html",
        "brief.xlsx",
    ],
    dirs: &[],
    numbered: None,
};

const COMPARE: Layout = Layout {
    files: &[
        "delta.csv",
        "effectiveness.csv",
        "manifest.json",
        "brief.md",
        "brief.html",
        "brief.xlsx",
    ],
    // One reform: `reform/`; several: `reforms/1/`, `reforms/2/`, …
    dirs: &[("base", &RUN), ("reform", &RUN), ("reforms", &POINTS)],
    numbered: None,
};

const POINTS: Layout = Layout {
    files: &[],
    dirs: &[],
    numbered: Some(&RUN),
};

const SWEEP: Layout = Layout {
    files: &[
        "manifest.json",
        "sweep.csv",
        "brief.md",
        "brief.html",
        "brief.xlsx",
    ],
    dirs: &[("points", &POINTS)],
    numbered: None,
};

const SIZE: Layout = Layout {
    files: &[
        "manifest.json",
        "size.csv",
        "answer.json",
        "brief.md",
        "brief.html",
        "brief.xlsx",
    ],
    dirs: &[("points", &POINTS)],
    numbered: None,
};

const SENSITIVITY: Layout = Layout {
    files: &[
        "manifest.json",
        "tornado.csv",
        "morris.csv",
        "brief.md",
        "brief.html",
        "brief.xlsx",
    ],
    dirs: &[("points", &POINTS)],
    numbered: None,
};

/// A shard folder of `run --shard I/N` ([`crate::shard`]).
const SHARD: Layout = Layout {
    files: &["manifest.json", "results.bin"],
    dirs: &[],
    numbered: None,
};

/// A shard folder of `compare --shard I/N`: each arm a run shard.
const COMPARE_SHARD: Layout = Layout {
    files: &["manifest.json"],
    dirs: &[
        ("base", &SHARD),
        ("reform", &SHARD),
        ("reforms", &SHARD_POINTS),
    ],
    numbered: None,
};

const SHARD_POINTS: Layout = Layout {
    files: &[],
    dirs: &[],
    numbered: Some(&SHARD),
};

/// The layout of an output folder whose manifest says `kind`.
fn layout(kind: &str) -> Option<&'static Layout> {
    match kind {
        "run" => Some(&RUN),
        "compare" => Some(&COMPARE),
        "sweep" => Some(&SWEEP),
        "size" => Some(&SIZE),
        "sensitivity" => Some(&SENSITIVITY),
        "shard" => Some(&SHARD),
        "sweep-shard" => Some(&SWEEP),
        "sensitivity-shard" => Some(&SENSITIVITY),
        "compare-shard" => Some(&COMPARE_SHARD),
        _ => None,
    }
}

/// Every file name refundsim may write into a run folder (for documentation and tests).
pub fn run_files() -> &'static [&'static str] {
    RUN.files
}

/// The `kind` of `dir`'s manifest.json, if it is a refundsim output folder.
fn manifest_kind(dir: &Path) -> Option<String> {
    let t = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&t).ok()?;
    v["kind"].as_str().map(str::to_string)
}

/// Whether `dir` is a directory refundsim wrote (its manifest.json names a kind
/// refundsim knows). Only such a folder, and only if [`foreign_entry`] finds
/// nothing, may `--force` replace.
pub fn is_refundsim_output(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
        && manifest_kind(dir).is_some_and(|k| layout(&k).is_some())
}

/// The first entry of output folder `dir` that refundsim did not write (sorted
/// by name, depth first): anything not in the layout of its kind, a symbolic
/// link, a folder where a file belongs or the reverse. Our own temporaries
/// (`.NAME.partial-…`) are not foreign. `None` when `dir` holds only refundsim's
/// files; `Some(dir)` when it is not a refundsim output folder at all.
pub fn foreign_entry(dir: &Path) -> Option<PathBuf> {
    let Some(l) = manifest_kind(dir).as_deref().and_then(layout) else {
        return Some(dir.to_path_buf());
    };
    foreign_in(dir, l)
}

fn foreign_in(dir: &Path, l: &Layout) -> Option<PathBuf> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().collect(),
        Err(_) => return Some(dir.to_path_buf()),
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            return Some(p);
        };
        if m.file_type().is_symlink() {
            return Some(p);
        }
        // A stale temporary of ours is not foreign; a live process's is busy
        // (replacing the folder would pull it from under that process).
        if let Some(pid) = partial_owner(&name) {
            if process_alive(pid) && pid != std::process::id() {
                return Some(p);
            }
            continue;
        }
        if m.is_file()
            && (l.files.contains(&name.as_ref())
                || (l.files.contains(&"brief.md") && brief_figure(&name).is_some()))
        {
            continue;
        }
        if m.is_dir() {
            let sub = l.dirs.iter().find(|(n, _)| *n == name).map(|d| d.1).or(l
                .numbered
                .filter(|_| !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit())));
            if let Some(sub) = sub {
                if let Some(f) = foreign_in(&p, sub) {
                    return Some(f);
                }
                continue;
            }
        }
        return Some(p);
    }
    None
}

/// The number of a brief's chart file `brief-figN.svg` (written beside brief.md
/// in every folder a brief describes), or `None` for any other name.
pub fn brief_figure(name: &str) -> Option<usize> {
    let n = name.strip_prefix("brief-fig")?.strip_suffix(".svg")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'))
        .then(|| n.parse().ok())
        .flatten()
}

/// Removes the chart files `brief-figN.svg` of an earlier brief in `dir` with
/// N > `keep` (the new brief has fewer charts), so brief.md's figures are the
/// only ones beside it. Best effort: a file that cannot be removed stays.
pub fn remove_stale_figures(dir: &Path, keep: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        if brief_figure(&name.to_string_lossy()).is_some_and(|n| n > keep)
            && e.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether `--force` may replace `dest`: it must be a refundsim output folder
/// holding nothing else.
pub fn check_replaceable(dest: &Path) -> Result<(), OutputError> {
    if !is_refundsim_output(dest) {
        return Err(OutputError::NotOurs(dest.to_path_buf()));
    }
    if let Some(entry) = foreign_entry(dest) {
        return Err(OutputError::Foreign {
            dir: dest.to_path_buf(),
            entry,
        });
    }
    Ok(())
}

/// Refuses a symbolic link at `path`.
fn refuse_symlink(path: &Path) -> Result<(), OutputError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(OutputError::Symlink {
            path: path.to_path_buf(),
            target: std::fs::read_link(path).ok(),
        }),
        _ => Ok(()),
    }
}

/// Checks that a folder can be created at `dest` (or, with `inside`, that files
/// can be written in the existing folder `dest`), by creating and removing a
/// temporary exactly as the real output will be: catches a read-only file system
/// or folder, a missing permission, a parent that is a file, a name too long.
pub fn check_writable(dest: &Path, inside: bool) -> Result<(), OutputError> {
    // The OS error alone: tempfile's message would name the probe, not `dest`.
    let fail = |e: std::io::Error| {
        let text = e.to_string();
        let reason = text.split(" at path ").next().unwrap_or(&text).to_string();
        OutputError::NotWritable {
            path: dest.to_path_buf(),
            source: std::io::Error::new(e.kind(), reason),
        }
    };
    // Probes count as live temporaries: a Ctrl-C now is deferred until they are gone.
    if inside {
        let (_live, probe) = Live::create(
            || builder(&partial_prefix(OsStr::new("probe"))).tempfile_in(dest),
            dest,
        )
        .map_err(|e| match e {
            OutputError::Io { source, .. } => fail(source),
            e => e,
        })?;
        drop(probe);
        return Ok(());
    }
    // The nearest existing ancestor, and the folders still to create below it.
    let mut missing = Vec::new();
    let mut at = parent_of(dest).to_path_buf();
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(fail(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is a file, not a folder", at.display()),
                )));
            }
            Err(_) => {
                let Some(name) = at.file_name() else {
                    return Err(fail(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{} does not exist", at.display()),
                    )));
                };
                missing.push(name.to_os_string());
                at = parent_of(&at).to_path_buf();
            }
        }
    }
    let (_live, probe) = Live::create(
        || builder(&partial_prefix(OsStr::new("probe"))).tempdir_in(&at),
        &at,
    )
    .map_err(|e| match e {
        OutputError::Io { source, .. } => fail(source),
        e => e,
    })?;
    let mut inner = probe.path().to_path_buf();
    for m in missing.iter().rev() {
        inner.push(m);
    }
    std::fs::create_dir_all(&inner).map_err(fail)?;
    builder(&partial_prefix(file_name_of(dest)))
        .tempdir_in(&inner)
        .map_err(fail)?;
    drop(probe);
    Ok(())
}

/// Checks before a long run that its destination can be written: absent (or,
/// with `force`, an earlier refundsim output holding nothing else), not a
/// symbolic link, and in a folder that can be written.
pub fn check_destination(dest: &Path, force: bool) -> Result<(), OutputError> {
    refuse_symlink(dest)?;
    if std::fs::symlink_metadata(dest).is_ok() {
        if !force {
            return Err(OutputError::Exists(dest.to_path_buf()));
        }
        check_replaceable(dest)?;
    }
    check_writable(dest, false)
}

/// A staging directory that becomes `dest` on [`Staging::commit`] and vanishes
/// if dropped (or interrupted).
pub struct Staging {
    dir: tempfile::TempDir,
    dest: PathBuf,
    _live: Live,
}

impl Staging {
    /// Creates a hidden staging directory beside `dest` (creating its parent),
    /// after removing stale partials there.
    pub fn new(dest: &Path) -> Result<Self, OutputError> {
        let parent = parent_of(dest);
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        clean_stale_partials(parent);
        let prefix = partial_prefix(file_name_of(dest));
        let mut b = builder(&prefix);
        with_mode(&mut b, 0o777);
        let (live, dir) = Live::create(|| b.tempdir_in(parent), parent)?;
        Ok(Staging {
            dir,
            dest: dest.to_path_buf(),
            _live: live,
        })
    }

    /// The staging directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one file into the staging directory (`name` may hold `/`).
    pub fn write(&self, name: &str, contents: &[u8]) -> Result<(), OutputError> {
        check_stop()?;
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(io(&p))?;
        f.write_all(contents).map_err(io(&p))?;
        f.sync_all().map_err(io(&p))
    }

    /// Moves the staging directory into place, replacing an earlier run only if
    /// `force` and only if it holds nothing but refundsim's files.
    pub fn commit(self, force: bool) -> Result<PathBuf, OutputError> {
        check_stop()?;
        let dest = self.dest.clone();
        refuse_symlink(&dest)?;
        if std::fs::symlink_metadata(&dest).is_err() {
            std::fs::rename(self.dir.path(), &dest).map_err(io(&dest))?;
            let _ = self.dir.keep();
            return Ok(dest);
        }
        if !force {
            return Err(OutputError::Exists(dest));
        }
        check_replaceable(&dest)?;
        // Move the old run aside under a partial name of this process (so a kill
        // here leaves only stale partials), then the new one into place.
        let aside = builder(&partial_prefix(file_name_of(&dest)))
            .tempdir_in(parent_of(&dest))
            .map_err(io(&dest))?;
        let old = aside.path().join("old");
        std::fs::rename(&dest, &old).map_err(io(&dest))?;
        if let Err(source) = std::fs::rename(self.dir.path(), &dest) {
            let _ = std::fs::rename(&old, &dest);
            return Err(OutputError::Io { path: dest, source });
        }
        let _ = self.dir.keep();
        drop(aside); // removes the old run
        Ok(dest)
    }
}

/// Replaces the refundsim output folder `dir` by nothing: moves it aside under a
/// partial name, then removes it (used by `sweep --force`).
pub fn remove_output_dir(dir: &Path) -> Result<(), OutputError> {
    check_replaceable(dir)?;
    let aside = builder(&partial_prefix(file_name_of(dir)))
        .tempdir_in(parent_of(dir))
        .map_err(io(dir))?;
    std::fs::rename(dir, aside.path().join("old")).map_err(io(dir))?;
    drop(aside);
    Ok(())
}

// ---------------------------------------------------------------------------------
// CSV

/// Whether `s` is a plain decimal number (`-1.5`, `2e-3`, `+7`, `-inf`): such a
/// cell is left as it is, so numbers stay numbers.
fn is_number(s: &str) -> bool {
    // Infinities as Rust prints them (`-inf`): numbers to every reader of ours,
    // and nothing a spreadsheet can run.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return true;
    }
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP), with
/// their full-width forms (which some East Asian spreadsheet set-ups accept).
fn triggers(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠'
    )
}

fn needs_quote_prefix(s: &str) -> bool {
    match s.chars().next() {
        Some('\'') => needs_quote_prefix(&s[1..]),
        Some(c) => triggers(c) && !is_number(s),
        None => false,
    }
}

/// A CSV cell made safe for spreadsheets: a cell beginning with `=`, `+`, `-`,
/// `@`, tab or carriage return (and not a number) gets a leading `'`, as OWASP
/// recommends, so Excel or LibreOffice shows it as text instead of running it.
/// [`csv_uncell`] undoes it exactly.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if needs_quote_prefix(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One CSV field written by hand: formula-safe ([`csv_cell`]) and quoted when
/// it holds a comma, a quote or a line break. (Whole tables use [`CsvText`].)
pub fn csv_field(s: &str) -> String {
    let s = csv_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// The text a [`csv_cell`] was made from.
pub fn csv_uncell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_quote_prefix(rest) => rest,
        _ => s,
    }
}

/// A CSV file built in memory; every cell goes through [`csv_cell`] and is
/// quoted as needed (the `csv` crate).
pub struct CsvText {
    w: csv::Writer<Vec<u8>>,
}

impl Default for CsvText {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvText {
    /// An empty file.
    pub fn new() -> Self {
        CsvText {
            w: csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new()),
        }
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.w
            .write_record(cells.into_iter().map(|c| csv_cell(c.as_ref()).into_owned()))
            .expect("writing to memory cannot fail");
    }

    /// The text.
    pub fn finish(self) -> String {
        let bytes = self.w.into_inner().expect("flushing to memory cannot fail");
        String::from_utf8(bytes).expect("cells are UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_temporary_makes_a_folder_busy_not_replaceable() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("r");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("manifest.json"), r#"{"kind":"run"}"#).unwrap();
        // A dead owner (no such pid): a stale temporary, not foreign.
        std::fs::write(run.join(".claims.csv.partial-4294967-abcdef"), "").unwrap();
        assert_eq!(foreign_entry(&run), None);
        // pid 1 is always alive: its temporary must not be pulled away by --force.
        let live = run.join(".claims.csv.partial-1-abcdef");
        std::fs::write(&live, "").unwrap();
        assert_eq!(foreign_entry(&run), Some(live));
    }

    #[test]
    fn only_files_refundsim_wrote_are_replaced_with_force() {
        let d = tempfile::tempdir().unwrap();
        let ours = d.path().join("claims.csv");
        let theirs = d.path().join("thesis.csv");
        std::fs::write(
            &ours,
            "# SYNTHETIC refund records simulated by refundsim 0.1.0\n",
        )
        .unwrap();
        std::fs::write(&theirs, "id,amount\n").unwrap();
        let m = "# SYNTHETIC refund records simulated by refundsim";
        assert!(check_replaceable_file(&ours, true, m).is_ok());
        assert!(check_replaceable_file(&ours, false, m).is_err());
        let e = check_replaceable_file(&theirs, true, m).unwrap_err();
        assert!(e.contains("not a file refundsim wrote"), "{e}");
        assert!(check_replaceable_file(&d.path().join("new.csv"), false, m).is_ok());
        assert_eq!(csv_field("=1+1,2"), "\"'=1+1,2\"");
        assert_eq!(csv_uncell(&csv_field("@x")), "@x");
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for (raw, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-x", "'-x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-inf", "-inf"),
            ("-information", "'-information"),
            ("-1.5", "-1.5"),
            ("+2e-3", "+2e-3"),
            ("0", "0"),
            ("gui-an", "gui-an"),
            ("", ""),
            ("'=x", "''=x"),
            ("'x", "'x"),
        ] {
            assert_eq!(csv_cell(raw), safe, "{raw:?}");
            assert_eq!(csv_uncell(safe), raw, "{safe:?}");
        }
    }

    #[test]
    fn partial_names_carry_their_owner() {
        assert_eq!(partial_owner(".r.partial-123-abcdef"), Some(123));
        assert_eq!(partial_owner(".brief.md.partial-9-x1y2z3"), Some(9));
        assert_eq!(partial_owner(".brief.md.partial"), None);
        assert_eq!(partial_owner("r.partial-1-abc"), None);
        assert_eq!(partial_owner(".r.partial-abc"), None);
    }
}

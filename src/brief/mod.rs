//! Briefings for decision makers (MODEL.md §11): bilingual 中文/English tables
//! rendered from a run, comparison or sweep directory as Markdown (`brief.md`),
//! a self-contained HTML page with inline SVG charts (`brief.html`) and an
//! Excel workbook (`brief.xlsx`).
//!
//! The work is split in three stages, so that every output shows the same numbers:
//! `load` reads the CSV and JSON files a run wrote, the builders (`run`,
//! `compare`, `sweep`) turn them into a language-neutral `Doc` of tables,
//! charts and notes, and the renderers (`md`, `html`, `xlsx`) lay the `Doc`
//! out. Numbers are formatted for people in `fmt` (3 significant digits, 亿元 /
//! 万元 for Chinese, CNY mn / bn for English); the workbook keeps the raw values
//! as numbers with number formats. Nothing here prints; the three files are
//! written all or none through [`crate::output`]. Every user-supplied string
//! (titles, platform, sector and overlay names, grid values) is escaped for
//! Markdown and HTML by the renderers.

mod calibration;
mod chart;
mod compare;
mod decide;
mod fmt;
mod html;
mod labels;
mod load;
mod md;
mod run;
mod sweep;
mod xlsx;

use std::path::{Path, PathBuf};

pub use chart::y_range;
pub use load::Kind;

/// Which language(s) a brief is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Chinese only: Chinese headers and labels, amounts in 亿元 / 万元.
    Zh,
    /// English only: English headers and labels, amounts in CNY mn / bn.
    En,
    /// Both (the default): "营运资金占用 Working capital tied up", amounts in both units.
    #[default]
    Both,
}

impl Lang {
    /// Whether Chinese text is shown.
    pub fn zh(self) -> bool {
        matches!(self, Lang::Zh | Lang::Both)
    }

    /// Whether English text is shown.
    pub fn en(self) -> bool {
        matches!(self, Lang::En | Lang::Both)
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    /// Parses `zh`, `en` or `both` (the `--lang` values).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            "both" => Ok(Lang::Both),
            _ => Err(format!(
                "unknown language {s:?}; use zh (中文), en (English) or both"
            )),
        }
    }
}

/// Why a brief could not be written. Each message names the file or directory
/// and says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BriefError {
    /// The directory does not exist.
    #[error(
        "{0} does not exist; pass a directory written by `refundsim run`, `compare` or `sweep`"
    )]
    NoDir(PathBuf),
    /// A file was given instead of a directory.
    #[error("{0} is a file; pass the directory that holds it (the one with manifest.json)")]
    IsFile(PathBuf),
    /// A sweep that has not finished.
    #[error(
        "{0} is an unfinished sweep (no sweep.csv yet); finish it by running the same `refundsim sweep` command again, then brief it"
    )]
    UnfinishedSweep(PathBuf),
    /// The directory has no manifest.json.
    #[error(
        "{0} is not a refundsim run, comparison or sweep directory: no manifest.json; pass the directory that `refundsim run`, `compare` or `sweep` wrote (the one holding manifest.json)"
    )]
    NoManifest(PathBuf),
    /// The manifest's `kind` is missing or unknown.
    #[error(
        "{file}: {problem}; expected \"kind\": \"run\", \"compare\" or \"sweep\" — re-create the directory with this version of refundsim"
    )]
    BadKind {
        /// The manifest.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A file the brief needs is missing.
    #[error(
        "{file} is missing: {what}; the directory is incomplete — re-create it with `refundsim {command}`"
    )]
    MissingFile {
        /// The file.
        file: PathBuf,
        /// What it holds.
        what: &'static str,
        /// The subcommand that writes it.
        command: &'static str,
    },
    /// A file the brief reads is a directory.
    #[error(
        "{file} is a directory, not a file; the directory is damaged — re-create it with `refundsim {command}`"
    )]
    IsDir {
        /// The path.
        file: PathBuf,
        /// The subcommand that writes it.
        command: &'static str,
    },
    /// A file is malformed.
    #[error(
        "{file}{}: {problem}; the file was damaged or edited by hand — re-create it with `refundsim {command}`",
        line.map(|l| format!(", line {l}")).unwrap_or_default()
    )]
    Malformed {
        /// The file.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<u64>,
        /// What is wrong.
        problem: String,
        /// The subcommand that writes it.
        command: &'static str,
    },
    /// Reading or writing failed.
    #[error("cannot {action} {path}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Interrupted (Ctrl-C) while writing; the earlier brief files are intact.
    #[error("interrupted; the brief files were left as they were")]
    Interrupted,
    /// A chart or the workbook could not be rendered.
    #[error("cannot render {what} for {dir}: {problem}")]
    Render {
        /// The directory being briefed.
        dir: PathBuf,
        /// "chart …" or "brief.xlsx".
        what: String,
        /// The cause.
        problem: String,
    },
}

/// The file name of the `i`-th chart (from 0) of a brief, written beside
/// brief.md: `brief-fig1.svg`, `brief-fig2.svg`, …
pub fn figure_file(i: usize) -> String {
    format!("brief-fig{}.svg", i + 1)
}

/// The charts of a document, in reading order (the order of [`figure_file`]).
pub(crate) fn charts(doc: &Doc) -> Vec<&Chart> {
    doc.sections
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(|b| match b {
            Block::Chart(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Writes `brief.md`, `brief.html` and `brief.xlsx` into `dir` — a run, comparison
/// or sweep directory, told apart by `manifest.json`'s `"kind"` — and each chart
/// as `brief-figN.svg` beside them (linked from brief.md), and returns their
/// paths in that order. All are rendered in memory first and then written all
/// or none (see [`crate::output::write_all_or_none`]): on any failure the earlier
/// brief files are left as they were. Figures of an earlier brief beyond this
/// one's count are removed afterwards.
pub fn brief(dir: &Path, lang: Lang) -> Result<Vec<PathBuf>, BriefError> {
    let doc = build(dir, lang)?;
    let md = md::render(&doc, lang);
    let html = html::render(&doc, lang);
    let xlsx = xlsx::render(&doc, lang).map_err(|e| BriefError::Render {
        dir: dir.to_path_buf(),
        what: "brief.xlsx".into(),
        problem: e.to_string(),
    })?;
    let svgs: Vec<(PathBuf, String)> = charts(&doc)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (dir.join(figure_file(i)), chart::standalone(c, lang)))
        .collect();
    let mut files = vec![
        (dir.join("brief.md"), md.as_bytes()),
        (dir.join("brief.html"), html.as_bytes()),
        (dir.join("brief.xlsx"), xlsx.as_slice()),
    ];
    files.extend(svgs.iter().map(|(p, s)| (p.clone(), s.as_bytes())));
    crate::output::write_all_or_none(&files).map_err(|e| match e {
        crate::output::OutputError::Interrupted => BriefError::Interrupted,
        crate::output::OutputError::Io { path, source } => BriefError::Io {
            action: "write",
            path,
            source,
        },
        other => BriefError::Io {
            action: "write",
            path: dir.to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        },
    })?;
    crate::output::remove_stale_figures(dir, svgs.len());
    Ok(files.into_iter().map(|f| f.0).collect())
}

/// Renders `calibration.md` and `calibration.html` for `refundsim calibrate`.
pub fn calibration(c: &crate::calibrate::Calibration) -> Result<(String, String), String> {
    calibration::calibration(c)
}

/// Damage in `dir` that [`brief`] works around rather than refuses — cells
/// holding inf or NaN, which it shows as "—" — as warnings for the caller to
/// show. Empty when the directory is sound or cannot be read at all (then
/// [`brief`] reports the error).
pub fn warnings(dir: &Path) -> Vec<String> {
    let Ok((kind, manifest)) = load::manifest(dir) else {
        return Vec::new();
    };
    match kind {
        Kind::Run => load::run(dir, manifest).map(|r| r.warnings),
        Kind::Compare => load::compare(dir, manifest).map(|c| c.warnings),
        Kind::Sweep => load::sweep(dir, manifest).map(|s| s.warnings),
        // Their tables are read whole by the brief, which refuses damage.
        Kind::Size | Kind::Sensitivity => Ok(Vec::new()),
    }
    .unwrap_or_default()
}

/// The kind of directory `dir` is, from its manifest.
pub fn kind(dir: &Path) -> Result<Kind, BriefError> {
    Ok(load::manifest(dir)?.0)
}

/// Builds the language-neutral document of a directory.
fn build(dir: &Path, lang: Lang) -> Result<Doc, BriefError> {
    let (kind, manifest) = load::manifest(dir)?;
    match kind {
        Kind::Run => run::build(&load::run(dir, manifest)?, lang),
        Kind::Compare => compare::build(&load::compare(dir, manifest)?, lang),
        Kind::Sweep => sweep::build(&load::sweep(dir, manifest)?, lang),
        Kind::Size => decide::size(dir, &manifest, lang),
        Kind::Sensitivity => decide::sensitivity(dir, &manifest, lang),
    }
}

/// A text in both languages; which part is shown depends on [`Lang`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct L {
    pub zh: String,
    pub en: String,
}

impl L {
    /// A text with a Chinese and an English version.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> L {
        L {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A text that reads the same in both languages (a code, a file name).
    pub fn same(s: impl Into<String>) -> L {
        let s = s.into();
        L {
            zh: s.clone(),
            en: s,
        }
    }

    /// The text for `lang`; both versions are joined by `sep` (unless equal).
    pub fn join(&self, lang: Lang, sep: &str) -> String {
        match lang {
            Lang::Zh => self.zh.clone(),
            Lang::En => self.en.clone(),
            Lang::Both if self.zh == self.en || self.en.is_empty() => self.zh.clone(),
            Lang::Both if self.zh.is_empty() => self.en.clone(),
            Lang::Both => format!("{}{sep}{}", self.zh, self.en),
        }
    }

    /// The text for `lang`, both versions separated by a space (labels, headers).
    pub fn get(&self, lang: Lang) -> String {
        self.join(lang, " ")
    }
}

/// The kind of quantity a number is, which decides how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Q {
    /// An amount in CNY: 亿元 / 万元, CNY bn / mn.
    Cny,
    /// Days.
    Days,
    /// A count (claims, defaults).
    Count,
    /// A share or probability, stored as a fraction, shown as a percentage.
    Pct,
    /// A plain number (ratios, leverage).
    Plain,
}

/// A number in a table cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Num {
    /// The value (CNY, days, a fraction …); NaN when undefined.
    pub v: f64,
    /// What it is.
    pub q: Q,
    /// Half-width of the 95% confidence interval (1.96 × standard error), shown as `± h`.
    pub ci: Option<f64>,
    /// A 95% confidence interval shown as `[lo, hi]` (a paired difference).
    pub range: Option<(f64, f64)>,
    /// Show a `+` on positive values (differences).
    pub signed: bool,
}

impl Num {
    /// A number without an interval.
    pub fn new(v: f64, q: Q) -> Num {
        Num {
            v,
            q,
            ci: None,
            range: None,
            signed: false,
        }
    }

    /// A number with a `± h` interval (`h` NaN or zero shows no interval).
    pub fn ci(v: f64, q: Q, h: f64) -> Num {
        Num {
            ci: Some(h),
            ..Num::new(v, q)
        }
    }
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing to show ("—").
    Empty,
    /// A label.
    Text(L),
    /// A number.
    Num(Num),
}

/// A table: shown in Markdown and HTML, one sheet in the workbook.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    /// Sheet name in the workbook (kept short: Excel allows 31 characters).
    pub sheet: L,
    /// Caption.
    pub title: L,
    /// Column headers.
    pub cols: Vec<L>,
    /// Rows of cells, as many as `cols`.
    pub rows: Vec<Vec<Cell>>,
    /// The metric name of each row (as in summary.csv), written to the workbook
    /// so an analyst can find the row in the CSV files; empty when rows are not metrics.
    pub codes: Vec<String>,
    /// Rows shown in bold (totals).
    pub bold_rows: Vec<usize>,
    /// A note under the table.
    pub note: Option<L>,
}

impl Table {
    /// An empty table.
    pub fn new(sheet: L, title: L, cols: Vec<L>) -> Table {
        Table {
            sheet,
            title,
            cols,
            rows: Vec::new(),
            codes: Vec::new(),
            bold_rows: Vec::new(),
            note: None,
        }
    }
}

/// A chart, already drawn for the brief's language.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Caption.
    pub title: L,
    /// The SVG element (no XML declaration, no external references).
    pub svg: String,
    /// Legend entries: CSS colour, whether drawn as a band, label.
    pub legend: Vec<(String, bool, L)>,
    /// A note under the chart.
    pub note: Option<L>,
}

/// A piece of a section.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A paragraph.
    Para(L),
    /// A table.
    Table(Table),
    /// A chart (HTML only; Markdown points to brief.html).
    Chart(Chart),
}

/// A numbered section.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// Heading.
    pub title: L,
    /// Content.
    pub blocks: Vec<Block>,
}

/// A whole brief.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    /// Title.
    pub title: L,
    /// Lines under the title (what, when, how many paths).
    pub meta: Vec<L>,
    /// Key findings in one sentence each.
    pub headlines: Vec<L>,
    /// The sections.
    pub sections: Vec<Section>,
    /// Provenance: (label, value) pairs.
    pub provenance: Vec<(L, String)>,
    /// Input files: (role, path, sha256).
    pub inputs: Vec<(L, String, String)>,
}

//! Refund records (docs/model.md §11): one row per refund claim as a tax bureau's
//! refund system exports it. `run --claims-out` writes them from simulated
//! claims ([`render_path`]); `calibrate` reads them back ([`read`]) from CSV
//! (UTF-8, with or without a byte-order mark, `#` comment lines allowed) or from
//! an Excel workbook (first sheet).
//!
//! A simulated export is a snapshot taken at the end of the measurement window:
//! a date after the window's last day is not known yet, so it is left empty and
//! the claim is `pending`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::engine::{Claim, Model};

/// How every records file refundsim writes begins (its first line), so that
/// `--force` can tell it from a user's own file.
pub const MARKER: &str = "# SYNTHETIC refund records simulated by refundsim";

/// The columns of a refund record, in the order `run --claims-out` writes them.
pub const COLUMNS: [&str; 10] = [
    "claim_id",
    "exporter_id",
    "platform",
    "class",
    "export_date",
    "filed_date",
    "approved_date",
    "verification",
    "paid_date",
    "outcome",
];

/// The header line `run --claims-out` writes (the columns and `amount`).
pub fn header() -> String {
    let mut h = COLUMNS.join(",");
    h.push_str(",amount\n");
    h
}

/// The comment line that opens a simulated records file: says it is synthetic.
pub fn comment(model: &Model, paths: u32) -> String {
    let s = &model.scenario;
    format!(
        "{MARKER} {} from scenario `{}` (seed {}, {} path{}, window {} + {} days); not tax-bureau data\n",
        env!("CARGO_PKG_VERSION"),
        s.name,
        s.seed,
        paths,
        if paths == 1 { "" } else { "s" },
        s.start_date,
        s.horizon_days
    )
}

fn push_date(out: &mut String, model: &Model, t: i32, known: bool) {
    if known {
        let d = model.cal.date(t);
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    }
    out.push(',');
}

/// The records (CSV rows, no header) of the claims declared in the measurement
/// window on path `path` (0-based), in claim order. Claim ids are
/// `<path>-<n>`, both numbered from 1.
pub fn render_path(model: &Model, path: u32, claims: &[Claim]) -> Vec<u8> {
    let end = model.end;
    let mut idx: Vec<usize> = (0..claims.len())
        .filter(|&i| (0..end).contains(&claims[i].t0))
        .collect();
    // Claim order: (t0, exporter); each exporter's claims are already in shipment order.
    idx.sort_by_key(|&i| (claims[i].t0, claims[i].exporter));
    let ids = model.scenario.population.as_ref();
    let mut out = String::with_capacity(idx.len() * 110);
    for (n, &i) in idx.iter().enumerate() {
        let c = &claims[i];
        let e = &model.exporters[c.exporter as usize];
        let _ = write!(out, "{}-{},", path + 1, n + 1);
        match ids.and_then(|rows| rows.get(c.exporter as usize)) {
            Some(row) => out.push_str(&crate::output::csv_field(&row.id)),
            None => {
                let _ = write!(out, "E{}", c.exporter + 1);
            }
        }
        out.push(',');
        out.push_str(&crate::output::csv_field(
            &model.scenario.platforms[e.platform].name,
        ));
        let _ = write!(out, ",{},", e.class + 1);
        push_date(&mut out, model, c.t0, true);
        let filed = c.t2 < end;
        let reviewed = c.t3 < end;
        let paid = !c.denied && c.t5 < end;
        push_date(&mut out, model, c.t2, filed);
        push_date(&mut out, model, c.t3, reviewed && !c.denied);
        out.push_str(if reviewed && c.verified { "1," } else { "0," });
        push_date(&mut out, model, c.t5, paid);
        out.push_str(if c.denied && reviewed {
            "denied"
        } else if paid {
            "paid"
        } else {
            "pending"
        });
        let _ = writeln!(out, ",{:.2}", c.r);
    }
    out.into_bytes()
}

/// A record as read, before validation: its cells by column, as text.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    /// 1-based line (CSV) or row (xlsx) in the file.
    pub line: u64,
    /// Cells in [`COLUMNS`] order, then `amount`.
    pub cells: [String; 11],
}

/// Why a records file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The header lacks a column.
    #[error(
        "{path}: the header has no `{column}` column; refund records need the columns {} (docs/model.md §11), in any order",
        all_columns()
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
    },
    /// The file is not valid CSV or not a readable workbook.
    #[error("{path}{}: {problem}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line, when known.
        line: Option<u64>,
        /// What is wrong and what to do.
        problem: String,
    },
}

fn all_columns() -> String {
    let mut v: Vec<&str> = COLUMNS.to_vec();
    v.push("amount");
    v.join(", ")
}

/// Positions of the record columns in a header row.
fn locate(path: &Path, header: &[String]) -> Result<[usize; 11], RecordsError> {
    let norm: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut pos = [0usize; 11];
    for (k, col) in COLUMNS.iter().chain(std::iter::once(&"amount")).enumerate() {
        pos[k] = norm
            .iter()
            .position(|h| h == col)
            .ok_or_else(|| RecordsError::MissingColumn {
                path: path.to_path_buf(),
                column: col,
            })?;
    }
    Ok(pos)
}

/// Reads every record of a CSV or `.xlsx` file, calling `each` on each row.
pub fn read(path: &Path, each: &mut dyn FnMut(&RawRecord)) -> Result<(), RecordsError> {
    let is_xlsx = path
        .extension()
        .map(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xls"))
        .unwrap_or(false);
    if is_xlsx {
        read_xlsx(path, each)
    } else {
        read_csv(path, each)
    }
}

fn read_csv(path: &Path, each: &mut dyn FnMut(&RawRecord)) -> Result<(), RecordsError> {
    let file = std::fs::File::open(path).map_err(|source| RecordsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .buffer_capacity(1 << 20)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut rec = csv::ByteRecord::new();
    let mut pos: Option<[usize; 11]> = None;
    let mut raw = RawRecord::default();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(RecordsError::Malformed {
                    path: path.to_path_buf(),
                    line: e.position().map(|p| p.line()),
                    problem: format!(
                        "not readable as CSV ({e}); save the export as UTF-8 CSV (comma-separated)"
                    ),
                });
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let Some(p) = pos else {
            // The first non-comment line is the header; a byte-order mark may open it.
            let header: Vec<String> = rec
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            if header.len() == 1 && header[0].trim_start_matches('\u{feff}').starts_with('#') {
                continue; // a comment line after a byte-order mark
            }
            pos = Some(locate(path, &header)?);
            continue;
        };
        raw.line = line;
        for (k, &i) in p.iter().enumerate() {
            raw.cells[k].clear();
            match rec.get(i).map(std::str::from_utf8) {
                Some(Ok(s)) => raw.cells[k].push_str(crate::output::csv_uncell(s.trim())),
                Some(Err(_)) => raw.cells[k].push('\u{fffd}'),
                None => {}
            }
        }
        each(&raw);
    }
    if pos.is_none() {
        return Err(RecordsError::Malformed {
            path: path.to_path_buf(),
            line: None,
            problem: format!(
                "no header line; the first line must name the columns: {}",
                all_columns()
            ),
        });
    }
    Ok(())
}

fn read_xlsx(path: &Path, each: &mut dyn FnMut(&RawRecord)) -> Result<(), RecordsError> {
    use calamine::{Data, Reader, open_workbook_auto};
    let bad = |problem: String| RecordsError::Malformed {
        path: path.to_path_buf(),
        line: None,
        problem,
    };
    let mut wb = open_workbook_auto(path).map_err(|e| {
        bad(format!(
            "not a readable workbook ({e}); save it as .xlsx or as UTF-8 CSV"
        ))
    })?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad("the workbook has no sheet".into()))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| bad(format!("cannot read sheet `{sheet}` ({e})")))?;
    let start_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
    let text = |c: &Data| -> String {
        match c {
            Data::Empty => String::new(),
            Data::String(s) => crate::output::csv_uncell(s.trim()).to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => format!("{f}"),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => u8::from(*b).to_string(),
            // Excel serial days count from 1899-12-30.
            Data::DateTime(dt) => NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|e| {
                    e.checked_add_signed(chrono::Duration::days(dt.as_f64().floor() as i64))
                })
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| c.to_string()),
            Data::DateTimeIso(s) => s.chars().take(10).collect(),
            other => other.to_string(),
        }
    };
    let mut pos: Option<[usize; 11]> = None;
    let mut raw = RawRecord::default();
    for (r, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(text).collect();
        if cells.iter().all(|c| c.is_empty()) || cells[0].starts_with('#') {
            continue;
        }
        let Some(p) = pos else {
            pos = Some(locate(path, &cells)?);
            continue;
        };
        raw.line = start_row + r as u64 + 1;
        for (k, &i) in p.iter().enumerate() {
            raw.cells[k].clear();
            if let Some(c) = cells.get(i) {
                raw.cells[k].push_str(c);
            }
        }
        each(&raw);
    }
    if pos.is_none() {
        return Err(bad(format!(
            "no header row; the first row must name the columns: {}",
            all_columns()
        )));
    }
    Ok(())
}

//! The population CSV (`population.file`, MODEL.md §3): one exporter a row,
//! read with the csv crate, every problem named by line and column.
//!
//! Platforms and sectors are given by name, so this reader needs nothing of the
//! scenario model; [`crate::scenario`] re-exports [`ExporterRow`] and [`Kind`].

use serde::Serialize;

use super::parse_amount;
use crate::calendar::CsvProblem;

/// Whether a firm is a trading firm or a manufacturer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 免退: the whole refund is cash.
    Trading,
    /// 免抵退: only the cash share is refunded.
    Manufacturer,
}

/// One exporter row of a population file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExporterRow {
    /// Identifier as written.
    pub id: String,
    /// Index into `platforms`.
    pub platform: usize,
    /// Index into `sectors`.
    pub sector: usize,
    /// Trading or manufacturer.
    pub kind: Kind,
    /// Annual exports, CNY.
    pub annual_exports: f64,
    /// Actual class 1–4.
    pub class: u8,
    /// Cash share, if given.
    pub cash_share: Option<f64>,
    /// Annual PD, if given.
    pub pd: Option<f64>,
    /// Shipments per year, if given.
    pub shipments_per_year: Option<f64>,
}

/// Lines of the text read so far, for the line numbers of records in one forward
/// pass: each record's line is counted from the previous one's, so numbering a
/// file costs one scan of it (counting from the start for every record made a
/// 1M-row file take hours). Counts CRLF files right, which the csv crate's own
/// line numbers do not (BurntSushi/rust-csv#395).
struct LineCursor<'a> {
    bytes: &'a [u8],
    /// Byte offset up to which newlines have been counted.
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
}

impl<'a> LineCursor<'a> {
    fn new(text: &'a str) -> Self {
        LineCursor {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record the reader started at byte `at` (at or after
    /// every earlier call's), skipping the blank and `#` comment lines the reader
    /// passes over before the record itself.
    fn line_of(&mut self, at: usize) -> usize {
        let bytes = self.bytes;
        let mut at = at.max(self.pos).min(bytes.len());
        loop {
            while at < bytes.len() && (bytes[at] == b'\r' || bytes[at] == b'\n') {
                at += 1;
            }
            if at < bytes.len() && bytes[at] == b'#' {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            break;
        }
        self.line += bytes[self.pos..at].iter().filter(|b| **b == b'\n').count();
        self.pos = at;
        self.line
    }
}

/// Whether the record starting at byte `at` of `bytes` ends inside a quoted
/// field, i.e. a `"` opens a field and nothing closes it before the end of the
/// file. The csv crate reads such a field to the end of the file without an
/// error (so the rest of the row looks empty); only the last record can do this.
fn ends_in_open_quote(bytes: &[u8], at: usize) -> bool {
    let (mut field_start, mut quoted) = (true, false);
    let mut i = at;
    while i < bytes.len() {
        let b = bytes[i];
        if quoted {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else {
            match b {
                b'"' if field_start => quoted = true,
                b',' => {
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\n' | b'\r' => return false,
                // Leading blanks are trimmed by the reader, but the quote must
                // still come first for it to open a quoted field.
                _ => {}
            }
            field_start = false;
        }
        i += 1;
    }
    quoted
}

/// The largest annual exports one firm may have, CNY (10万亿, about half of
/// China's total exports a year): anything larger is a typo or a tampered file,
/// and would turn every money metric into infinity or NaN.
pub const MAX_ANNUAL_EXPORTS: f64 = 1e13;

/// Parses a population CSV: `id,platform,sector,kind,annual_exports,class` and
/// optional `cash_share,pd,shipments_per_year`. Problems name the line and column.
pub fn parse_csv(
    text: &str,
    platforms: &[&str],
    sectors: &[&str],
) -> Result<Vec<ExporterRow>, Vec<CsvProblem>> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let idx = columns(&mut rdr)?;
    let mut known = Known {
        platforms,
        sectors,
        ids: std::collections::HashSet::new(),
    };
    let mut rows = Vec::new();
    let mut errs = Vec::new();
    let mut lines = LineCursor::new(text);
    let mut last_start = None;
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                errs.push(CsvProblem {
                    line,
                    column: "row",
                    message: e.to_string(),
                });
                continue;
            }
        }
        let line = rec
            .position()
            .map(|p| {
                let at = p.byte() as usize;
                let line = lines.line_of(at);
                last_start = Some((lines.pos, line));
                line
            })
            .unwrap_or(0);
        let get = |k: usize| idx[k].and_then(|i| rec.get(i)).unwrap_or("");
        if let Some(row) = row(get, line, &mut known, &mut errs) {
            rows.push(row);
        }
    }
    if let Some((at, line)) = last_start
        && ends_in_open_quote(text.as_bytes(), at)
    {
        errs.push(CsvProblem {
            line,
            column: "row",
            message: "a quoted field opens with `\"` and is never closed, so the rest of the file would be read into it; close the quote or remove it".into(),
        });
    }
    if errs.is_empty() && rows.is_empty() {
        errs.push(CsvProblem {
            line: 2,
            column: "row",
            message: "the file has a header but no exporters; add one row per exporter".into(),
        });
    }
    if errs.is_empty() { Ok(rows) } else { Err(errs) }
}

/// Required columns, in the order [`columns`] indexes them.
const REQUIRED: [&str; 6] = [
    "id",
    "platform",
    "sector",
    "kind",
    "annual_exports",
    "class",
];
/// Optional columns, indexed after [`REQUIRED`].
const OPTIONAL: [&str; 3] = ["cash_share", "pd", "shipments_per_year"];

/// Reads the header: the position of each of [`REQUIRED`] then [`OPTIONAL`], or
/// every problem of the header (empty, repeated, unknown or missing columns).
fn columns(rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<Option<usize>>, Vec<CsvProblem>> {
    let header = |message: String| CsvProblem {
        line: 1,
        column: "header",
        message,
    };
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![header(e.to_string())]),
    };
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(vec![header(format!(
            "the file is empty; its first line must be the header {} (optional columns: {})",
            REQUIRED.join(","),
            OPTIONAL.join(",")
        ))]);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut errs = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if headers.iter().take(i).any(|g| g == h) && !h.is_empty() {
            errs.push(header(format!(
                "column `{h}` appears twice (columns {} and {}); each column may appear once — delete or rename one",
                col(h).map(|c| c + 1).unwrap_or(0),
                i + 1
            )));
        }
    }
    for h in headers.iter() {
        if !REQUIRED.contains(&h) && !OPTIONAL.contains(&h) {
            errs.push(header(format!(
                "unknown column `{h}`; columns are {} and optionally {}",
                REQUIRED.join(","),
                OPTIONAL.join(",")
            )));
        }
    }
    for r in REQUIRED {
        if col(r).is_none() {
            errs.push(header(format!(
                "missing column `{r}`; required columns: {}",
                REQUIRED.join(",")
            )));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .map(|c| col(c))
        .collect())
}

/// What a row is checked against: the scenario's names and the ids seen so far.
struct Known<'a> {
    platforms: &'a [&'a str],
    sectors: &'a [&'a str],
    ids: std::collections::HashSet<String>,
}

/// One record (`get(k)` is its cell of the k-th column of [`columns`]), or `None`
/// with its problems added to `errs`.
fn row<'r>(
    get: impl Fn(usize) -> &'r str,
    line: usize,
    known: &mut Known,
    errs: &mut Vec<CsvProblem>,
) -> Option<ExporterRow> {
    let mut bad = |column: &'static str, message: String| {
        errs.push(CsvProblem {
            line,
            column,
            message,
        })
    };
    let id = get(0).to_string();
    if id.is_empty() || !known.ids.insert(id.clone()) {
        bad(
            "id",
            format!("`{id}` is empty or repeats an earlier id; ids must be unique"),
        );
    }
    let mut name = |column: &'static str, table: &str, names: &[&str], v: &str| {
        let at = names.iter().position(|n| *n == v);
        if at.is_none() {
            bad(
                column,
                format!(
                    "`{v}` is not a [[{table}]] of the scenario; known: {}",
                    names.join(", ")
                ),
            );
        }
        at
    };
    let platform = name("platform", "platform", known.platforms, get(1));
    let sector = name("sector", "sector", known.sectors, get(2));
    let kind = match get(3) {
        "trading" => Some(Kind::Trading),
        "manufacturer" => Some(Kind::Manufacturer),
        other => {
            bad(
                "kind",
                format!("`{other}` is not a kind; allowed: trading, manufacturer"),
            );
            None
        }
    };
    let exports = annual_exports(get(4))
        .map_err(|m| bad("annual_exports", m))
        .ok();
    let class = match get(5).parse::<u8>() {
        Ok(c @ 1..=4) => Some(c),
        _ => {
            bad(
                "class",
                format!("`{}` is not a class; allowed: 1, 2, 3, 4", get(5)),
            );
            None
        }
    };
    let mut opt = |k: usize, column: &'static str, lo: f64, hi: f64| -> Option<Option<f64>> {
        let v = get(k);
        if v.is_empty() {
            return Some(None);
        }
        match v.parse::<f64>() {
            Ok(x) if (lo..=hi).contains(&x) => Some(Some(x)),
            _ => {
                bad(
                    column,
                    format!("`{v}` is out of range; allowed: a number from {lo} to {hi}, or empty"),
                );
                None
            }
        }
    };
    let cash_share = opt(6, "cash_share", 0.0, 1.0);
    let pd = opt(7, "pd", 0.0, 1.0);
    let shipments_per_year = opt(8, "shipments_per_year", 0.0, 100000.0);
    Some(ExporterRow {
        id,
        platform: platform?,
        sector: sector?,
        kind: kind?,
        annual_exports: exports?,
        class: class?,
        cash_share: cash_share?,
        pd: pd?,
        shipments_per_year: shipments_per_year?,
    })
}

/// A firm's annual exports, CNY, or the message for its cell.
fn annual_exports(v: &str) -> Result<f64, String> {
    match parse_amount(v) {
        Some(x) if (0.0..=MAX_ANNUAL_EXPORTS).contains(&x) => Ok(x),
        Some(x) if x > MAX_ANNUAL_EXPORTS => Err(format!(
            "`{v}` is too large: at most {MAX_ANNUAL_EXPORTS:e} CNY (10万亿) a year per exporter"
        )),
        _ => Err(format!(
            "`{v}` is not a non-negative amount of CNY from 0 to {MAX_ANNUAL_EXPORTS:e} (e.g. 3000000 or 300万)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each record, counted in one pass, matches a count from the
    /// start of the file, across blank lines, comments and CRLF line ends.
    #[test]
    fn line_cursor_matches_counting_from_the_start() {
        for text in [
            "h\na\n\n# c\nb\n#x\n\nc\n",
            "h\r\na\r\n\r\n# c\r\nb\r\n#x\r\n\r\nc\r\n",
        ] {
            let mut rdr = csv::ReaderBuilder::new()
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let mut cur = LineCursor::new(text);
            let lines: Vec<(String, usize)> = rdr
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    let at = r.position().unwrap().byte() as usize;
                    (r[0].to_string(), cur.line_of(at))
                })
                .collect();
            let expected: Vec<(String, usize)> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| ["a", "b", "c"].contains(&l.trim_end()))
                .map(|(i, l)| (l.trim_end().to_string(), i + 1))
                .collect();
            assert_eq!(lines, expected, "{text:?}");
        }
    }

    #[test]
    fn an_open_quote_is_found_only_when_it_runs_to_the_end() {
        let open = |t: &str| ends_in_open_quote(t.as_bytes(), 0);
        assert!(open("e1,\"gui-an,x,y\n"));
        assert!(open("e1,\"gui-an\nrest"));
        assert!(!open("e1,\"gui-an\",x\n"));
        assert!(!open("e1,\"a \"\"quoted\"\" word\",x"));
        assert!(
            !open("e1,ab\"c,x\n"),
            "a quote inside an unquoted field is text"
        );
    }
}

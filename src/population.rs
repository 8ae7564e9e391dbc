//! Exporters (MODEL.md §3): drawn once per run from the master seed, identical on
//! every path and in both arms of a comparison, or loaded from a CSV file.

use crate::calendar::CsvProblem;
use crate::rng::{Purpose, Stream};
use crate::scenario::{ExporterRow, Kind, Platform, Scenario, Sector};

/// One exporter, with everything the engine needs precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct Exporter {
    /// Index into the scenario's platforms.
    pub platform: usize,
    /// Index into the scenario's sectors.
    pub sector: usize,
    /// Trading or manufacturer.
    pub kind: Kind,
    /// Annual exports, CNY.
    pub annual_exports: f64,
    /// Actual class, 0-based (0 = class I).
    pub class: usize,
    /// Processing class, 0-based, after `policy.class_treatment`.
    pub pclass: usize,
    /// Cash share of the refund (1 for trading firms).
    pub cash_share: f64,
    /// Annual default probability.
    pub pd: f64,
    /// Expected shipments a year (before season and demand).
    pub shipments_per_year: f64,
    /// Whether its platform is a pilot platform.
    pub pilot: bool,
}

impl Exporter {
    /// Refund claim per yuan of FOB: refund rate × cash share.
    pub fn refund_per_fob(&self, s: &Scenario) -> f64 {
        s.sectors[self.sector].refund_rate * self.cash_share
    }
}

fn pick(cum_probs: impl IntoIterator<Item = f64>, u: f64) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (i, p) in cum_probs.into_iter().enumerate() {
        acc += p;
        if p > 0.0 {
            last = i;
        }
        if u < acc {
            return i;
        }
    }
    last
}

fn shipments(s: &Scenario, platform: &Platform, exports: f64) -> f64 {
    let r = &s.exporters.shipments_per_year;
    let ratio = if platform.export_median > 0.0 {
        exports / platform.export_median
    } else {
        1.0
    };
    (r.base * ratio.max(1e-12).powf(r.elasticity)).clamp(r.min, r.max)
}

/// The exporters of a scenario, in id order (platform by platform when drawn).
pub fn exporters(s: &Scenario) -> Vec<Exporter> {
    let pd_of = |class: usize| {
        s.credit_risk
            .as_ref()
            .map(|c| c.pd_by_class[class])
            .unwrap_or(0.0)
    };
    if let Some(rows) = &s.population {
        return rows
            .iter()
            .map(|r| {
                let class = r.class as usize - 1;
                let p = &s.platforms[r.platform];
                Exporter {
                    platform: r.platform,
                    sector: r.sector,
                    kind: r.kind,
                    annual_exports: r.annual_exports,
                    class,
                    pclass: s.processing_class(class),
                    cash_share: match r.kind {
                        Kind::Trading => 1.0,
                        Kind::Manufacturer => r.cash_share.unwrap_or_else(|| {
                            s.exporters.manufacturer_cash_share.mean().clamp(0.0, 1.0)
                        }),
                    },
                    pd: r.pd.unwrap_or_else(|| pd_of(class)),
                    shipments_per_year: r
                        .shipments_per_year
                        .unwrap_or_else(|| shipments(s, p, r.annual_exports)),
                    pilot: p.pilot,
                }
            })
            .collect();
    }
    let mut out = Vec::with_capacity(s.n_exporters());
    for (pi, p) in s.platforms.iter().enumerate() {
        for _ in 0..p.exporters {
            let id = out.len() as u64;
            let mut st = Stream::new(s.seed, Purpose::Population, 0, id, 0);
            let (u_sector, u_kind, u_size, u_class, u_cash) = (
                st.uniform(),
                st.uniform(),
                st.uniform(),
                st.uniform(),
                st.uniform(),
            );
            let sector = pick(s.sectors.iter().map(|x| x.share), u_sector);
            let kind = if u_kind < p.trading_share {
                Kind::Trading
            } else {
                Kind::Manufacturer
            };
            let annual_exports =
                p.export_median * (p.export_sigma * crate::dist::norm_inv(u_size)).exp();
            let class = pick(p.class_mix, u_class);
            let cash_share = match kind {
                Kind::Trading => 1.0,
                Kind::Manufacturer => s
                    .exporters
                    .manufacturer_cash_share
                    .quantile(u_cash)
                    .clamp(0.0, 1.0),
            };
            out.push(Exporter {
                platform: pi,
                sector,
                kind,
                annual_exports,
                class,
                pclass: s.processing_class(class),
                cash_share,
                pd: pd_of(class),
                shipments_per_year: shipments(s, p, annual_exports),
                pilot: p.pilot,
            });
        }
    }
    out
}

/// Warnings about a drawn population that the results will depend on: one draw
/// is used on every path (MODEL.md §3), so a total far from its expectation, or one
/// firm holding a large share of all exports, moves every number. Only for drawn
/// populations of at least 100 firms (smaller ones are tests and toys).
pub fn warnings(s: &Scenario, exporters: &[Exporter]) -> Vec<String> {
    if s.population.is_some() || exporters.len() < 100 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let drawn: f64 = exporters.iter().map(|e| e.annual_exports).sum();
    let expected: f64 = s
        .platforms
        .iter()
        .map(|p| {
            p.exporters as f64 * p.export_median * (0.5 * p.export_sigma * p.export_sigma).exp()
        })
        .sum();
    let ratio = drawn / expected;
    if (ratio - 1.0).abs() > 0.2 {
        out.push(format!(
            "the drawn exporters' annual exports total {:.1} bn yuan, {:+.0}% from the {:.1} bn the platforms' medians and sigmas imply; every path uses this one draw, so try another seed, or load the real firms with population.file",
            drawn / 1e9,
            100.0 * (ratio - 1.0),
            expected / 1e9
        ));
    }
    if let Some(big) = exporters
        .iter()
        .map(|e| e.annual_exports)
        .max_by(f64::total_cmp)
        && big / drawn > 0.10
    {
        out.push(format!(
            "one drawn exporter ships {:.0}% of all exports ({:.2} bn yuan a year); results depend heavily on that firm — try another seed, a smaller export_sigma, or load the real firms with population.file",
            100.0 * big / drawn,
            big / 1e9
        ));
    }
    out
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
    platforms: &[Platform],
    sectors: &[Sector],
) -> Result<Vec<ExporterRow>, Vec<CsvProblem>> {
    const REQUIRED: [&str; 6] = [
        "id",
        "platform",
        "sector",
        "kind",
        "annual_exports",
        "class",
    ];
    const OPTIONAL: [&str; 3] = ["cash_share", "pd", "shipments_per_year"];
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errs = Vec::new();
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![CsvProblem {
                line: 1,
                column: "header",
                message: e.to_string(),
            }]);
        }
    };
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(vec![CsvProblem {
            line: 1,
            column: "header",
            message: format!(
                "the file is empty; its first line must be the header {} (optional columns: {})",
                REQUIRED.join(","),
                OPTIONAL.join(",")
            ),
        }]);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    for (i, h) in headers.iter().enumerate() {
        if headers.iter().take(i).any(|g| g == h) && !h.is_empty() {
            errs.push(CsvProblem {
                line: 1,
                column: "header",
                message: format!(
                    "column `{h}` appears twice (columns {} and {}); each column may appear once — delete or rename one",
                    col(h).map(|c| c + 1).unwrap_or(0),
                    i + 1
                ),
            });
        }
    }
    for h in headers.iter() {
        if !REQUIRED.contains(&h) && !OPTIONAL.contains(&h) {
            errs.push(CsvProblem {
                line: 1,
                column: "header",
                message: format!(
                    "unknown column `{h}`; columns are {} and optionally {}",
                    REQUIRED.join(","),
                    OPTIONAL.join(",")
                ),
            });
        }
    }
    for r in REQUIRED {
        if col(r).is_none() {
            errs.push(CsvProblem {
                line: 1,
                column: "header",
                message: format!(
                    "missing column `{r}`; required columns: {}",
                    REQUIRED.join(",")
                ),
            });
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let idx: Vec<Option<usize>> = REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .map(|c| col(c))
        .collect();
    let mut rows = Vec::new();
    let mut ids = std::collections::HashSet::new();
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
        let mut bad = |column: &'static str, message: String| {
            errs.push(CsvProblem {
                line,
                column,
                message,
            })
        };
        let id = get(0).to_string();
        if id.is_empty() || !ids.insert(id.clone()) {
            bad(
                "id",
                format!("`{id}` is empty or repeats an earlier id; ids must be unique"),
            );
        }
        let platform = platforms.iter().position(|p| p.name == get(1));
        if platform.is_none() {
            let names: Vec<&str> = platforms.iter().map(|p| p.name.as_str()).collect();
            bad(
                "platform",
                format!(
                    "`{}` is not a [[platform]] of the scenario; known: {}",
                    get(1),
                    names.join(", ")
                ),
            );
        }
        let sector = sectors.iter().position(|s| s.name == get(2));
        if sector.is_none() {
            let names: Vec<&str> = sectors.iter().map(|s| s.name.as_str()).collect();
            bad(
                "sector",
                format!(
                    "`{}` is not a [[sector]] of the scenario; known: {}",
                    get(2),
                    names.join(", ")
                ),
            );
        }
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
        let exports = match crate::scenario::build::parse_amount(get(4)) {
            Some(v) if (0.0..=MAX_ANNUAL_EXPORTS).contains(&v) => Some(v),
            Some(v) if v > MAX_ANNUAL_EXPORTS => {
                bad(
                    "annual_exports",
                    format!(
                        "`{}` is too large: at most {MAX_ANNUAL_EXPORTS:e} CNY (10万亿) a year per exporter",
                        get(4)
                    ),
                );
                None
            }
            _ => {
                bad(
                    "annual_exports",
                    format!(
                        "`{}` is not a non-negative amount of CNY from 0 to {MAX_ANNUAL_EXPORTS:e} (e.g. 3000000 or 300万)",
                        get(4)
                    ),
                );
                None
            }
        };
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
                    errs.push(CsvProblem {
                        line,
                        column,
                        message: format!(
                            "`{v}` is out of range; allowed: a number from {lo} to {hi}, or empty"
                        ),
                    });
                    None
                }
            }
        };
        let cash_share = opt(6, "cash_share", 0.0, 1.0);
        let pd = opt(7, "pd", 0.0, 1.0);
        let spy = opt(8, "shipments_per_year", 0.0, 100000.0);
        if let (
            Some(platform),
            Some(sector),
            Some(kind),
            Some(annual_exports),
            Some(class),
            Some(cash_share),
            Some(pd),
            Some(shipments_per_year),
        ) = (platform, sector, kind, exports, class, cash_share, pd, spy)
        {
            rows.push(ExporterRow {
                id,
                platform,
                sector,
                kind,
                annual_exports,
                class,
                cash_share,
                pd,
                shipments_per_year,
            });
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

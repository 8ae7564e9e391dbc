//! refundsim — a Monte Carlo simulator of export VAT-refund liquidity.
//!
//! The design of record is MODEL.md (shared with the team); module by module:
//! [`scenario`] loads and validates scenario files, [`calendar`] does working-day
//! arithmetic, [`population`] draws exporters, [`timeline`] draws each claim's path
//! through the tax bureau, [`engine`] runs paths in parallel ([`finance`] offers
//! claims to the liquidity mechanisms of [`mechanism`], which book into
//! [`ledger`]; [`defaults`] draws exporter defaults), [`stats`] summarises
//! over paths and [`report`] builds the output files, which [`output`] writes
//! (atomically, formula-safe CSV, `--force` only over refundsim's own files);
//! [`compare`], [`sweep`], [`size`] and [`sensitivity`] answer questions with many runs
//! ([`lever`] moves one numeric key, [`study`] keeps their resumable directories);
//! [`footprint`] estimates the memory a run needs before it starts. Nothing here
//! prints or exits:
//! the binary (`src/main.rs`) does that.

pub mod brief;
pub mod budget;
pub mod calendar;
pub mod calibrate;
pub mod compare;
pub mod defaults;
pub mod dist;
pub mod engine;
pub mod explain;
pub mod finance;
pub mod footprint;
pub mod input;
pub mod ledger;
pub mod lever;
pub mod manifest;
pub mod mechanism;
pub mod metrics;
pub mod naming;
pub mod output;
pub mod population;
pub mod records;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
pub mod shard;
pub mod size;
pub mod stats;
pub mod study;
pub mod sweep;
pub mod target;
pub mod timeline;

/// The module graph has no circles: no two top-level modules name each other
/// (`crate::x` in code, not in comments or test modules), so each can be read,
/// tested and changed from the modules below it.
#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Pairs still importing each other, each with the issue that removes it
    /// (none left: `Target` moved below `size` and `sweep`, into `target`).
    const KNOWN: &[(&str, &str)] = &[];

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
                    .unwrap();
                let top = rel.iter().next().unwrap().to_string_lossy();
                let top = top.trim_end_matches(".rs").to_string();
                out.push((top, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }

    /// The top-level modules a file names in code (`crate::x`), leaving out
    /// comments and everything from its `#[cfg(test)]` module on.
    fn names(text: &str) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let mut out = BTreeSet::new();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or("");
            for part in line.split("crate::").skip(1) {
                let m: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.insert(m);
            }
        }
        out
    }

    #[test]
    fn no_two_modules_import_each_other() {
        let mut files = Vec::new();
        sources(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut files,
        );
        let mut edges = BTreeSet::new();
        for (top, text) in &files {
            for m in names(text) {
                if m != *top {
                    edges.insert((top.clone(), m));
                }
            }
        }
        let circles: Vec<_> = edges
            .iter()
            .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
            .filter(|(a, b)| !KNOWN.contains(&(a.as_str(), b.as_str())))
            .collect();
        assert!(
            circles.is_empty(),
            "modules importing each other: {circles:?}"
        );
        assert!(edges.contains(&("scenario".into(), "input".into())));
    }
}

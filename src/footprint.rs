//! How much memory a run needs, estimated from the scenario before anything is
//! drawn or allocated, so that work too big for the machine is refused with the
//! estimate (exit 2) instead of aborting on allocation minutes later.
//!
//! The estimate adds what the engine holds at its peak: the exporters (drawn once
//! per run), one set of per-path buffers per thread (the claims of a path and
//! per-exporter financing state), every path's results and daily series (kept
//! until the output files are written), and the text of `paths.csv`. It aims to be
//! within a small factor of the truth and on the high side: the claims of a path
//! are sized for a bad-demand path (+2σ of the demand factor).

use std::fmt;

use crate::metrics::N_METRICS;
use crate::scenario::{Platform, Scenario};

/// Bytes held per exporter by the model (exporter record and precomputed rates).
const PER_EXPORTER: u64 = 96;
/// Bytes per exporter of a thread's financing buffers.
const PER_EXPORTER_SCRATCH: u64 = 64;
/// Bytes per population-file row (id, numbers), held with the scenario.
const PER_ROW: u64 = 112;
/// Bytes per claim of a thread's path buffers (claim, sorted copy, indices,
/// financing record).
const PER_CLAIM: u64 = 160;
/// Bytes of `paths.csv` text per path and metric.
const CSV_CELL: u64 = 20;

/// The memory a run needs, part by part.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// `(what, bytes)`, largest first.
    pub parts: Vec<(String, u64)>,
    /// Bytes that grow with each path (results, series, output text).
    pub per_path: u64,
    /// Bytes that do not depend on the number of paths.
    pub fixed: u64,
}

/// A run that does not fit in the memory available.
#[derive(Debug, Clone, PartialEq)]
pub struct TooBig {
    /// The estimate.
    pub footprint: Footprint,
    /// Bytes available.
    pub available: u64,
    /// Paths of this run.
    pub paths: u32,
}

impl Footprint {
    /// Total bytes.
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .map(|(_, b)| *b)
            .fold(0, u64::saturating_add)
    }

    /// Ok if the run fits in `available` bytes.
    pub fn check(self, available: u64, paths: u32) -> Result<(), TooBig> {
        if self.total() <= available {
            Ok(())
        } else {
            Err(TooBig {
                footprint: self,
                available,
                paths,
            })
        }
    }
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fp = &self.footprint;
        write!(
            f,
            "this run needs about {} of memory but the machine has {} available: {}",
            gb(fp.total()),
            gb(self.available),
            fp.parts
                .iter()
                .filter(|(_, b)| *b > 0)
                .map(|(what, b)| format!("{} for {what}", gb(*b)))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        // How many paths would fit, if the paths are what does not fit.
        let room = self.available.saturating_sub(fp.fixed);
        let fit = room.checked_div(fp.per_path).unwrap_or(u64::MAX);
        if fp.fixed < self.available && fit < self.paths as u64 && fit >= 1 {
            write!(
                f,
                ". Use fewer paths (about {} fit), a shorter horizon_days, or fewer exporters",
                fit.min(u32::MAX as u64)
            )
        } else {
            write!(
                f,
                ". Use fewer exporters (platform.<name>.exporters or a smaller population file), fewer threads (--threads), or a machine with more memory"
            )
        }
    }
}

impl std::error::Error for TooBig {}

/// `12.3 GB` (decimal units, as `free -h` and file managers show).
pub fn gb(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", (b / 1e6).max(1.0))
    }
}

/// Bytes of memory available for a new process, from the text of
/// `/proc/meminfo`: `MemAvailable`, or `MemTotal` on kernels without it.
pub fn available_from_meminfo(text: &str) -> Option<u64> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb.saturating_mul(1024))
        })
    };
    field("MemAvailable").or_else(|| field("MemTotal"))
}

/// Expected shipments a year of a drawn exporter of `p`: the size rule at the
/// lognormal's mean of `(exports / median)^elasticity`, clamped.
fn shipments_drawn(s: &Scenario, p: &Platform) -> f64 {
    let r = &s.exporters.shipments_per_year;
    let e = r.elasticity * p.export_sigma;
    (r.base * (0.5 * e * e).min(700.0).exp()).clamp(r.min, r.max)
}

/// The memory a run of `s` needs with `paths` paths on `threads` threads, holding
/// `arms` runs' results at once (2 for a comparison).
pub fn estimate(s: &Scenario, paths: u32, threads: usize, arms: u32) -> Footprint {
    let exporters = s.n_exporters() as u64;
    let h = s.horizon_days.max(1) as u64;
    let days = (s.warmup_days.max(0) as u64) + h;
    // Total, platforms, classes I–IV, 1+7 (and the accumulators' sink).
    let groups = 1 + s.platforms.len() as u64 + 4 + 2;
    let series = 2 + crate::finance::series_names(s).len() as u64;
    let shipments: f64 = match &s.population {
        Some(rows) => rows
            .iter()
            .map(|r| {
                r.shipments_per_year.unwrap_or_else(|| {
                    let p = &s.platforms[r.platform];
                    let x = &s.exporters.shipments_per_year;
                    let ratio = if p.export_median > 0.0 {
                        r.annual_exports / p.export_median
                    } else {
                        1.0
                    };
                    (x.base * ratio.max(1e-12).powf(x.elasticity)).clamp(x.min, x.max)
                })
            })
            .sum(),
        None => s
            .platforms
            .iter()
            .map(|p| p.exporters as f64 * shipments_drawn(s, p))
            .sum(),
    };
    let bad_demand = s
        .economy
        .demand_factor
        .unwrap_or((2.0 * s.economy.demand_sigma).exp());
    let claims = (shipments * days as f64 / 365.0 * bad_demand).min(1e18) as u64;
    let arms = arms.max(1) as u64;
    let paths = paths as u64;
    let threads = threads.max(1) as u64;
    let rows = s.population.as_ref().map_or(0, |r| r.len() as u64);

    let population = arms * exporters * PER_EXPORTER + rows * PER_ROW;
    let scratch = threads.saturating_mul(
        claims.saturating_mul(PER_CLAIM)
            + exporters * PER_EXPORTER_SCRATCH
            + groups * (3 * (days + 1) + N_METRICS as u64) * 8,
    );
    // PathResult: total and group metrics, vector headers, the Option<PathResult>
    // the engine collects first and the path-order copy.
    let result = (groups + 1) * N_METRICS as u64 * 8 + (groups + series + 4) * 24 + 2 * 96;
    let daily = series * h * 8;
    let text = N_METRICS as u64 * CSV_CELL + 16;
    let per_path = arms * (result + daily + text);
    let mut parts = vec![
        (
            format!("daily series ({paths} paths × {h} days × {series} series)"),
            paths.saturating_mul(arms * daily),
        ),
        (
            format!("per-path results ({paths} paths × {groups} groups)"),
            paths.saturating_mul(arms * result),
        ),
        (
            format!("output text ({paths} rows of paths.csv)"),
            paths.saturating_mul(arms * text),
        ),
        (format!("population ({exporters} exporters)"), population),
        (
            format!("per-thread buffers ({threads} threads × about {claims} claims a path)"),
            scratch,
        ),
    ];
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    Footprint {
        parts,
        per_path,
        fixed: population.saturating_add(scratch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Scenario {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok/tiny.toml"),
        )
        .unwrap();
        Scenario::parse_str(&text).unwrap()
    }

    #[test]
    fn meminfo_prefers_available_and_falls_back_to_total() {
        let t = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   21000000 kB\n";
        assert_eq!(available_from_meminfo(t), Some(21_000_000 * 1024));
        assert_eq!(
            available_from_meminfo("MemTotal: 1000 kB\n"),
            Some(1_024_000)
        );
        assert_eq!(available_from_meminfo("garbage"), None);
    }

    #[test]
    fn series_grow_with_paths_times_horizon() {
        let mut s = tiny();
        let small = estimate(&s, 100, 2, 1);
        s.horizon_days = 3650;
        let big = estimate(&s, 10_000_000, 2, 1);
        // 10M paths × 3650 days × 5 series × 8 bytes = 1.46 TB of series alone.
        assert!(big.total() > 1_400_000_000_000, "{}", gb(big.total()));
        assert!(small.total() < 100_000_000, "{}", gb(small.total()));
        let e = big
            .check(20_000_000_000, 10_000_000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("daily series"), "{e}");
        assert!(e.contains("about"), "{e}");
    }

    #[test]
    fn a_huge_population_is_counted_before_it_is_drawn() {
        let mut s = tiny();
        for p in &mut s.platforms {
            p.exporters = 50_000_000;
        }
        let fp = estimate(&s, 2, 1, 1);
        assert!(fp.total() > 100 * PER_EXPORTER * 1_000_000);
        let e = fp.check(20_000_000_000, 2).unwrap_err().to_string();
        assert!(e.contains("100000000 exporters"), "{e}");
        assert!(e.contains("fewer exporters"), "{e}");
    }

    #[test]
    fn the_tiny_run_fits_easily() {
        assert!(estimate(&tiny(), 4, 2, 2).check(1_000_000_000, 4).is_ok());
    }
}

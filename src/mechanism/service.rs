//! Foreign-trade service company advances, `pools.service` (MODEL.md §6.4,
//! opinion item (六)): a private company (外贸综合服务企业) advances
//! `advance_ratio × R` of its clients' refunds from its own capital S for a fee
//! (代垫退税), repaid out of the refund on `t5`. Open to every platform, pilot
//! or not; private money, so nothing in `fiscal_cost`; its fees count in
//! `financing_cost`. Capital is reserved at the request and returns at
//! repayment, fees add to the balance; a request the balance cannot cover falls
//! through at once (like the turnover pool with `queue = "none"`).
//!
//! Clients are drawn once per exporter, the same on every path, from the
//! `population` stream under a key of their own (claim field
//! [`CLIENT_KEY`]), so adding the company moves no other draw.

use super::{Outcome, Pool, Request, Settlement, admits, grant, ratio, refill};
use crate::ledger::{Claim, Financing, Ledger, World};
use crate::metrics::M;
use crate::rng::{Purpose, Stream};
use crate::scenario::{Mechanism, Scenario, ServiceSpec};

/// The claim field of the `population` stream key `(seed, population, 0,
/// exporter, ·)` that decides whether an exporter is a client (the exporter's
/// attributes use field 0).
pub const CLIENT_KEY: u64 = 1;

/// Whether an exporter with `annual_exports` is a client of the company (pure):
/// at most `client_max_exports` (no limit when `None`), and its uniform draw `u`
/// below `client_share`.
#[inline]
pub fn is_client(
    annual_exports: f64,
    client_max_exports: Option<f64>,
    client_share: f64,
    u: f64,
) -> bool {
    client_max_exports.is_none_or(|m| annual_exports <= m) && u < client_share
}

/// The company's advance on a claim of `r` with `unfinanced` still open:
/// `advance_ratio × R`, at most the unfinanced part (pure).
#[inline]
pub fn service_advance(advance_ratio: f64, r: f64, unfinanced: f64) -> f64 {
    (advance_ratio * r).min(unfinanced)
}

/// The company's balance: `S − reserved − losses + fees` (pure).
#[inline]
pub fn balance(capital: f64, reserved: f64, losses: f64, fees: f64) -> f64 {
    capital - reserved - losses + fees
}

/// The fee on an advance of `amount` outstanding `days` calendar days:
/// `amount × (fee_flat + fee_rate × days / 365)` (pure).
#[inline]
pub fn fee(s: &ServiceSpec, amount: f64, days: i32) -> f64 {
    super::advance_fee(amount, s.fee_flat, s.fee_rate, days)
}

/// The service company on one path.
#[derive(Debug, Default)]
pub struct Service {
    spec: ServiceSpec,
    /// Capital reserved by outstanding advances.
    pub reserved: f64,
    /// Losses on denied claims.
    pub losses: f64,
    /// Fees collected.
    pub fees: f64,
    /// Per exporter: a client whose class the company serves.
    clients: Vec<bool>,
    /// The draw `clients` was made for: (seed, share, max exports, exporters).
    drawn_for: Option<(u64, f64, Option<f64>, usize)>,
    n_clients: f64,
    requests: f64,
    blocked: f64,
    util_sum: f64,
    series: Vec<f64>,
}

impl Service {
    /// The company's balance now.
    #[inline]
    pub fn balance(&self) -> f64 {
        balance(self.spec.capital, self.reserved, self.losses, self.fees)
    }

    /// Draws the clients (once per model: the draw is the same on every path).
    fn draw_clients(&mut self, w: &World) {
        let s = &self.spec;
        let key = (
            w.scenario.seed,
            s.client_share,
            s.client_max_exports,
            w.exporters.len(),
        );
        if self.drawn_for == Some(key) {
            return;
        }
        self.clients.clear();
        self.clients
            .extend(w.exporters.iter().enumerate().map(|(ei, e)| {
                let u = Stream::new(
                    w.scenario.seed,
                    Purpose::Population,
                    0,
                    ei as u64,
                    CLIENT_KEY,
                )
                .uniform();
                is_client(e.annual_exports, s.client_max_exports, s.client_share, u)
            }));
        self.n_clients = self.clients.iter().filter(|c| **c).count() as f64;
        self.drawn_for = Some(key);
    }
}

impl Pool for Service {
    const KIND: Mechanism = Mechanism::Service;
    const CLAIM_BACKED: bool = true;
    const LABEL: (&'static str, &'static str) =
        ("外贸综合服务企业代垫退税", "Foreign-trade service company");
    const SERIES: (&'static str, &'static str, &'static str) = (
        "service.balance",
        "外贸综合服务企业可用资金",
        "Service company balance",
    );

    const DELIVERED: M = M::ServiceAdvanced;
    const LOSSES: &'static [M] = &[M::ServiceLoss];
    const PUBLIC_CAPITAL_KEY: Option<&'static str> = None;

    fn enabled(s: &Scenario) -> bool {
        s.service.is_some()
    }

    fn public_capital(_: &Scenario) -> f64 {
        0.0
    }

    fn begin(&mut self, w: &World) {
        self.spec = w.scenario.service.clone().expect("enabled");
        self.draw_clients(w);
        (self.reserved, self.losses, self.fees) = (0.0, 0.0, 0.0);
        (self.requests, self.blocked, self.util_sum) = (0.0, 0.0, 0.0);
        refill(&mut self.series, w.end as usize, 0.0);
    }

    fn admits(&self, w: &World, ei: usize) -> bool {
        // Every platform, pilot or not: only the client draw and the class count.
        admits(
            self.clients[ei],
            w.exporters[ei].pclass,
            &self.spec.eligible,
        )
    }

    #[inline]
    fn offer<L: Ledger>(
        &mut self,
        w: &World,
        rq: &Request,
        rec: &mut Financing,
        ledger: &mut L,
    ) -> Outcome {
        if rq.in_window {
            self.requests += 1.0;
            ledger.flow(rq.g, M::ServiceRequests, 1.0);
        }
        let a = service_advance(self.spec.advance_ratio, rq.r, rq.unfinanced);
        if a > 0.0 && self.balance() >= a {
            self.reserved += a;
            let lag = self.spec.lag;
            grant::<Self, L>(w, rq, rec, a, lag, M::ServiceAdvanced, ledger);
            return Outcome::Granted;
        }
        if rq.in_window {
            self.blocked += 1.0;
        }
        Outcome::Declined
    }

    #[inline]
    fn settle<L: Ledger>(
        &mut self,
        _w: &World,
        st: &Settlement,
        f: &Financing,
        ledger: &mut L,
    ) -> f64 {
        self.reserved -= f.amount;
        if f.cancelled {
            return 0.0;
        }
        if st.denied {
            let loss = f.amount * self.spec.loss_given_denial;
            self.losses += loss;
            if st.in_window {
                ledger.flow(st.g, M::ServiceLoss, loss);
            }
            0.0
        } else {
            let fee = fee(&self.spec, f.amount, st.day - f.cash_day);
            self.fees += fee;
            if st.in_window {
                ledger.flow(st.g, M::ServiceFeeIncome, fee);
            }
            fee
        }
    }

    fn end_of_day(&mut self, d: i32, in_window: bool) {
        if in_window {
            self.series[d as usize] = self.balance();
            self.util_sum += self.reserved;
        }
    }

    fn finish(&self, w: &World, m: &mut [f64]) {
        let h = w.end as f64;
        m[M::ServiceClients as usize] = self.n_clients;
        m[M::ServiceBlockedShare as usize] = ratio(self.blocked, self.requests);
        m[M::ServiceUtilizationAvg as usize] = ratio(self.util_sum / h, self.spec.capital);
    }

    fn series(&self) -> &[f64] {
        &self.series
    }

    fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String> {
        let s = &self.spec;
        let (mut reserved, mut losses, mut fees) = (0.0, 0.0, 0.0);
        for (f, c) in fin.iter().zip(claims) {
            if f.backed_by != Some(Mechanism::Service) {
                continue;
            }
            if !self.clients[c.exporter as usize] {
                return Err(format!(
                    "advance to exporter {} who is no client",
                    c.exporter
                ));
            }
            if f.amount > s.advance_ratio * c.r * (1.0 + 1e-12) {
                return Err(format!(
                    "service advance {} exceeds the ratio of {}",
                    f.amount, c.r
                ));
            }
            if c.end() >= w.end {
                reserved += f.amount;
            } else if !f.cancelled {
                if c.denied {
                    losses += f.amount * s.loss_given_denial;
                } else {
                    fees += fee(s, f.amount, c.t5 - f.cash_day);
                }
            }
        }
        super::compare(&[
            ("service reserved", reserved, self.reserved),
            ("service losses", losses, self.losses),
            ("service fees", fees, self.fees),
        ])?;
        let bal = self.balance();
        if bal < -super::tol(s.capital) {
            return Err(format!("service company balance went negative: {bal}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_small_enough_and_drawn_below_the_share() {
        assert!(is_client(1e7, None, 0.5, 0.49));
        assert!(!is_client(1e7, None, 0.5, 0.5), "u < share, not ≤");
        assert!(is_client(1e7, Some(1e7), 0.5, 0.1), "at the limit is in");
        assert!(!is_client(1.01e7, Some(1e7), 1.0, 0.0), "too large");
        // client_share = 1 takes every small firm, 0 none (u is in [0, 1)).
        assert!(is_client(1e7, None, 1.0, 0.999_999));
        assert!(!is_client(1e7, None, 0.0, 0.0));
    }

    #[test]
    fn the_advance_is_the_ratio_of_r_within_the_unfinanced_part() {
        assert_eq!(service_advance(0.8, 100.0, 100.0), 80.0);
        assert_eq!(service_advance(0.8, 100.0, 30.0), 30.0);
        assert_eq!(service_advance(1.0, 100.0, 100.0), 100.0);
    }

    #[test]
    fn fees_add_to_the_balance_and_accrue_by_calendar_days() {
        assert_eq!(balance(1000.0, 300.0, 50.0, 20.0), 670.0);
        let s = ServiceSpec {
            fee_flat: 0.04,
            fee_rate: 0.073,
            ..ServiceSpec::default()
        };
        assert!((fee(&s, 1000.0, 50) - (40.0 + 1000.0 * 0.073 * 50.0 / 365.0)).abs() < 1e-9);
        assert_eq!(fee(&s, 1000.0, -3), 40.0, "no negative days");
    }
}

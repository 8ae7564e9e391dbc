//! Guarantee pool and refund-backed loans, `pools.guarantee` (MODEL.md §6.2): a
//! public fund G guarantees bank loans of `loan_to_refund × R` up to `L × (G −
//! losses)`, bears its `loss_share` of denial losses up to G, and is ruined once
//! its losses reach G.

use super::{Outcome, Pool, Request, Settlement, admits, grant, ratio, refill};
use crate::ledger::{Claim, Financing, Ledger, World, years};
use crate::metrics::M;
use crate::scenario::{GuaranteeSpec, Mechanism, Scenario};

/// Room for new guaranteed principal: `L × (G − losses) − outstanding` (pure).
#[inline]
pub fn guarantee_room(leverage: f64, capital: f64, losses: f64, outstanding: f64) -> f64 {
    leverage * (capital - losses) - outstanding
}

/// The guarantee pool's part of a loss: its `loss_share`, limited to what is left
/// of its capital G after the losses it has already borne (pure). The pool's
/// liability is limited to G (MODEL.md §6.2); the bank bears `loss −` this.
#[inline]
pub fn guarantee_pool_share(loss: f64, loss_share: f64, capital: f64, pool_losses: f64) -> f64 {
    (loss * loss_share).min((capital - pool_losses).max(0.0))
}

/// Running totals of the guarantee pool on one path (whole path, warm-up included).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GuaranteeTotals {
    /// Guaranteed principal outstanding.
    pub outstanding: f64,
    /// The pool's share of losses, never above its capital G.
    pub losses_pool: f64,
    /// The banks' share of losses (with what the pool could not cover).
    pub losses_bank: f64,
    /// Whether the pool is ruined.
    pub ruined: bool,
}

/// The guarantee pool on one path.
#[derive(Debug, Default)]
pub struct Guarantee {
    spec: GuaranteeSpec,
    /// Running totals.
    pub totals: GuaranteeTotals,
    requests: f64,
    blocked: f64,
    out_sum: f64,
    series: Vec<f64>,
}

impl Guarantee {
    /// Room for new guaranteed principal now.
    #[inline]
    fn room(&self) -> f64 {
        let g = &self.spec;
        guarantee_room(
            g.leverage,
            g.capital,
            self.totals.losses_pool,
            self.totals.outstanding,
        )
    }

    /// Books a denial loss of `loss` between pool and bank; returns the pool's part.
    fn book_loss(&mut self, loss: f64) -> f64 {
        let gs = &self.spec;
        let t = &mut self.totals;
        let pool = guarantee_pool_share(loss, gs.loss_share, gs.capital, t.losses_pool);
        t.losses_bank += loss - pool;
        if pool < loss * gs.loss_share {
            // Capped: the pool has now lost exactly its capital.
            t.losses_pool = gs.capital;
        } else {
            t.losses_pool += pool;
        }
        if t.losses_pool >= gs.capital {
            t.ruined = true;
        }
        pool
    }
}

impl Pool for Guarantee {
    const KIND: Mechanism = Mechanism::Guarantee;
    const CLAIM_BACKED: bool = true;
    const LABEL: (&'static str, &'static str) =
        ("退税融资担保池", "Refund financing guarantee pool");
    const SERIES: (&'static str, &'static str, &'static str) = (
        "guarantee.outstanding",
        "担保贷款余额",
        "Guaranteed loans outstanding",
    );

    const DELIVERED: M = M::GuaranteeLoans;
    const LOSSES: &'static [M] = &[M::GuaranteeLossPool, M::GuaranteeLossBank];
    const PUBLIC_CAPITAL_KEY: Option<&'static str> = Some("capital");

    fn enabled(s: &Scenario) -> bool {
        s.guarantee.is_some()
    }

    fn public_capital(s: &Scenario) -> f64 {
        s.guarantee.as_ref().map_or(0.0, |g| g.capital)
    }

    fn begin(&mut self, w: &World) {
        self.spec = w.scenario.guarantee.clone().expect("enabled");
        self.totals = GuaranteeTotals::default();
        (self.requests, self.blocked, self.out_sum) = (0.0, 0.0, 0.0);
        refill(&mut self.series, w.end as usize, 0.0);
    }

    fn admits(&self, w: &World, ei: usize) -> bool {
        let e = &w.exporters[ei];
        admits(e.pilot, e.pclass, &self.spec.eligible)
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
        }
        let loan = (self.spec.loan_to_refund * rq.r).min(rq.unfinanced);
        if self.totals.ruined || loan <= 0.0 || self.room() < loan {
            if rq.in_window {
                self.blocked += 1.0;
            }
            return Outcome::Declined;
        }
        self.totals.outstanding += loan;
        let lag = self.spec.lag;
        grant::<Self, L>(w, rq, rec, loan, lag, M::GuaranteeLoans, ledger);
        Outcome::Granted
    }

    #[inline]
    fn settle<L: Ledger>(
        &mut self,
        _w: &World,
        st: &Settlement,
        f: &Financing,
        ledger: &mut L,
    ) -> f64 {
        self.totals.outstanding -= f.amount;
        if f.cancelled {
            return 0.0;
        }
        let gs = &self.spec;
        if st.denied {
            let loss = f.amount * gs.loss_given_denial;
            let pool = self.book_loss(loss);
            if st.in_window {
                ledger.flow(st.g, M::GuaranteeLossPool, pool);
                ledger.flow(st.g, M::GuaranteeLossBank, loss - pool);
            }
            0.0
        } else {
            let yrs = years(st.day - f.cash_day);
            let interest = f.amount * gs.rate * yrs;
            let fee = f.amount * gs.guarantee_fee * yrs;
            if st.in_window {
                ledger.flow(st.g, M::GuaranteeInterest, interest);
                ledger.flow(st.g, M::GuaranteeFeeIncome, fee);
            }
            interest + fee
        }
    }

    fn end_of_day(&mut self, d: i32, in_window: bool) {
        if in_window {
            self.series[d as usize] = self.totals.outstanding;
            self.out_sum += self.totals.outstanding;
        }
    }

    fn finish(&self, w: &World, m: &mut [f64]) {
        let h = w.end as f64;
        m[M::GuaranteeOutstandingAvg as usize] = self.out_sum / h;
        m[M::GuaranteeLeverageAvg as usize] = ratio(self.out_sum / h, self.spec.capital);
        m[M::GuaranteeBlockedShare as usize] = ratio(self.blocked, self.requests);
        m[M::GuaranteeRuined as usize] = f64::from(u8::from(self.totals.ruined));
    }

    fn series(&self) -> &[f64] {
        &self.series
    }

    fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String> {
        let gs = &self.spec;
        let (mut out, mut pool, mut loss) = (0.0, 0.0, 0.0);
        for (f, c) in fin.iter().zip(claims) {
            if f.backed_by != Some(Mechanism::Guarantee) {
                continue;
            }
            if c.end() >= w.end {
                out += f.amount;
            } else if !f.cancelled && c.denied {
                loss += f.amount * gs.loss_given_denial;
                pool += f.amount * gs.loss_given_denial * gs.loss_share;
            }
        }
        // Capping each loss at what is left of G makes the running total
        // min(Σ uncapped shares, G), whatever the order of settlement.
        let pool = pool.min(gs.capital);
        let t = &self.totals;
        super::compare(&[
            ("guarantee outstanding", out, t.outstanding),
            ("guarantee pool losses", pool, t.losses_pool),
            (
                "guarantee pool + bank losses",
                loss,
                t.losses_pool + t.losses_bank,
            ),
        ])?;
        if t.losses_pool > gs.capital * (1.0 + 1e-12) {
            return Err(format!(
                "guarantee pool lost {} of its capital {}",
                t.losses_pool, gs.capital
            ));
        }
        if t.outstanding > gs.leverage * gs.capital * (1.0 + 1e-9) + 1e-6 {
            return Err(format!(
                "guaranteed principal {} above L × G",
                t.outstanding
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_leverage_times_what_is_left_of_the_fund_less_outstanding() {
        assert_eq!(guarantee_room(5.0, 100.0, 0.0, 0.0), 500.0);
        assert_eq!(guarantee_room(5.0, 100.0, 20.0, 300.0), 100.0);
        // Outstanding above the shrunken limit: negative room, so no loan fits.
        assert!(guarantee_room(5.0, 100.0, 60.0, 300.0) < 0.0);
    }

    #[test]
    fn the_pools_share_of_a_loss_never_takes_it_past_its_capital() {
        assert_eq!(guarantee_pool_share(100.0, 0.8, 1000.0, 0.0), 80.0);
        assert_eq!(guarantee_pool_share(100.0, 0.8, 1000.0, 950.0), 50.0);
        assert_eq!(guarantee_pool_share(100.0, 0.8, 1000.0, 1000.0), 0.0);
        assert_eq!(guarantee_pool_share(100.0, 0.8, 1000.0, 1100.0), 0.0);
    }

    #[test]
    fn a_capped_loss_ruins_the_pool_and_sends_the_rest_to_the_bank() {
        let mut g = Guarantee {
            spec: GuaranteeSpec {
                capital: 100.0,
                loss_share: 0.5,
                ..GuaranteeSpec::default()
            },
            ..Guarantee::default()
        };
        assert_eq!(g.book_loss(120.0), 60.0);
        assert!(!g.totals.ruined);
        assert_eq!(g.book_loss(120.0), 40.0, "only 40 of G is left");
        assert!(g.totals.ruined);
        assert_eq!(g.totals.losses_pool, 100.0);
        assert_eq!(g.totals.losses_pool + g.totals.losses_bank, 240.0);
    }
}

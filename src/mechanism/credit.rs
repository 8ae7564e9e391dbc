//! Foreign-trade credit loans, `pools.credit` (MODEL.md §6.3): each eligible
//! exporter has a line of `min(line_share × annual exports, line_cap)`, draws on
//! it against what no claim-backed mechanism financed, within a risk fund's
//! leverage, and repays with interest on the claim's end; a default loses its
//! outstanding draws at `lgd`, shared between fund and bank.

use super::{Outcome, Pool, Request, Settlement, admits, refill};
use crate::ledger::{Cell, Claim, Financing, Ledger, World, years};
use crate::metrics::M;
use crate::scenario::{CreditSpec, Mechanism, Scenario};

/// An exporter's credit line: `line_share × annual exports`, capped at
/// `line_cap` (pure).
#[inline]
pub fn credit_line(line_share: f64, line_cap: Option<f64>, annual_exports: f64) -> f64 {
    line_cap.map_or(line_share * annual_exports, |cap| {
        (line_share * annual_exports).min(cap)
    })
}

/// Room for new credit in the risk fund: `leverage × (C − losses) − drawn` (pure).
#[inline]
pub fn credit_room(fund_leverage: f64, risk_fund: f64, losses_fund: f64, drawn: f64) -> f64 {
    fund_leverage * (risk_fund - losses_fund) - drawn
}

/// An exporter's credit line and its outstanding draws.
#[derive(Debug, Default, Clone, Copy)]
struct Line {
    line: f64,
    drawn: f64,
}

/// Credit lines on one path.
#[derive(Debug, Default)]
pub struct Credit {
    spec: CreditSpec,
    /// Credit drawn and outstanding.
    pub drawn: f64,
    /// The risk fund's share of default losses.
    pub losses_fund: f64,
    /// Per exporter: its line and what it has drawn (together: a draw reads both).
    lines: Vec<Line>,
    /// Per exporter: the claims with live draws.
    live_draws: Vec<Vec<u32>>,
    drawn_sum: f64,
    series: Vec<f64>,
}

impl Pool for Credit {
    const KIND: Mechanism = Mechanism::Credit;
    const CLAIM_BACKED: bool = false;
    const LABEL: (&'static str, &'static str) = ("外贸信用贷", "Foreign-trade credit loans");
    const SERIES: (&'static str, &'static str, &'static str) =
        ("credit.drawn", "外贸信用贷余额", "Credit outstanding");

    const DELIVERED: M = M::CreditDraws;
    const LOSSES: &'static [M] = &[M::CreditLossFund, M::CreditLossBank];
    const PUBLIC_CAPITAL_KEY: Option<&'static str> = Some("risk_fund");

    fn enabled(s: &Scenario) -> bool {
        s.credit.is_some()
    }

    fn public_capital(s: &Scenario) -> f64 {
        s.credit.as_ref().map_or(0.0, |c| c.risk_fund)
    }

    fn begin(&mut self, w: &World) {
        self.spec = w.scenario.credit.clone().expect("enabled");
        let n = w.exporters.len();
        self.drawn = 0.0;
        self.losses_fund = 0.0;
        self.drawn_sum = 0.0;
        let cs = &self.spec;
        self.lines.clear();
        self.lines.extend(w.exporters.iter().map(|e| Line {
            line: credit_line(cs.line_share, cs.line_cap, e.annual_exports),
            drawn: 0.0,
        }));
        self.live_draws.resize_with(n, Vec::new);
        self.live_draws.iter_mut().for_each(Vec::clear);
        refill(&mut self.series, w.end as usize, 0.0);
    }

    fn admits(&self, w: &World, ei: usize) -> bool {
        let e = &w.exporters[ei];
        admits(e.pilot, e.pclass, &self.spec.eligible)
    }

    #[inline]
    fn offer<L: Ledger>(
        &mut self,
        _w: &World,
        rq: &Request,
        rec: &mut Financing,
        ledger: &mut L,
    ) -> Outcome {
        if rec.credit > 0.0 {
            return Outcome::Declined;
        }
        let ei = rq.exporter;
        let cs = &self.spec;
        let draw = rq
            .unfinanced
            .min(self.lines[ei].line - self.lines[ei].drawn)
            .min(credit_room(
                cs.fund_leverage,
                cs.risk_fund,
                self.losses_fund,
                self.drawn,
            ));
        if draw <= 0.0 {
            return Outcome::Declined;
        }
        self.drawn += draw;
        self.lines[ei].drawn += draw;
        self.live_draws[ei].push(rq.i as u32);
        rec.credit = draw;
        rec.credit_day = rq.day;
        if rq.in_window {
            ledger.flow(rq.g, M::CreditDraws, draw);
        }
        ledger.held(rq.g, rq.day, rq.end, draw);
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
        let ei = st.exporter;
        self.drawn -= f.credit;
        self.lines[ei].drawn -= f.credit;
        if let Some(p) = self.live_draws[ei].iter().position(|&x| x as usize == st.i) {
            self.live_draws[ei].swap_remove(p);
        }
        let interest = f.credit * self.spec.rate * years(st.day - f.credit_day);
        if st.in_window {
            ledger.flow(st.g, M::CreditInterest, interest);
        }
        interest
    }

    fn on_default<L: Ledger>(
        &mut self,
        _w: &World,
        ei: usize,
        g: Cell,
        d: i32,
        fin: &mut [Financing],
        ledger: &mut L,
    ) {
        let draws = std::mem::take(&mut self.live_draws[ei]);
        for i in draws {
            let f = &mut fin[i as usize];
            let loss = f.credit * self.spec.lgd;
            let fund = loss * self.spec.loss_share;
            f.credit_lost = true;
            self.drawn -= f.credit;
            self.lines[ei].drawn -= f.credit;
            self.losses_fund += fund;
            if d >= 0 {
                ledger.flow(g, M::CreditLossFund, fund);
                ledger.flow(g, M::CreditLossBank, loss - fund);
            }
        }
    }

    fn end_of_day(&mut self, d: i32, in_window: bool) {
        if in_window {
            self.series[d as usize] = self.drawn;
            self.drawn_sum += self.drawn;
        }
    }

    fn finish(&self, w: &World, m: &mut [f64]) {
        m[M::CreditDrawnAvg as usize] = self.drawn_sum / w.end as f64;
    }

    fn series(&self) -> &[f64] {
        &self.series
    }

    fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String> {
        let drawn: f64 = fin
            .iter()
            .zip(claims)
            .filter(|(f, c)| f.credit > 0.0 && !f.credit_lost && c.end() >= w.end)
            .map(|(f, _)| f.credit)
            .sum();
        super::compare(&[("credit drawn", drawn, self.drawn)])?;
        let cs = &self.spec;
        if self.drawn > cs.fund_leverage * cs.risk_fund * (1.0 + 1e-9) + 1e-6 {
            return Err(format!("credit drawn {} above leverage × fund", self.drawn));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_a_share_of_exports_under_the_cap() {
        assert_eq!(credit_line(0.1, None, 1e7), 1e6);
        assert_eq!(credit_line(0.1, Some(5e5), 1e7), 5e5);
        assert_eq!(credit_line(0.1, Some(5e6), 1e7), 1e6);
    }

    #[test]
    fn the_funds_room_shrinks_with_its_losses() {
        assert_eq!(credit_room(10.0, 100.0, 0.0, 0.0), 1000.0);
        assert_eq!(credit_room(10.0, 100.0, 10.0, 500.0), 400.0);
    }
}

//! Refund turnover pool, `pools.turnover` (MODEL.md §6.1): a public revolving
//! fund that advances `advance_ratio × R` to pilot-platform exporters and is
//! repaid, with fees, out of the refund; requests it cannot cover fall through
//! or wait in a FIFO queue.

use std::collections::VecDeque;

use super::{Outcome, Pool, Request, Settlement, admits, grant, ratio, refill};
use crate::ledger::{Claim, Financing, Ledger, World};
use crate::metrics::M;
use crate::scenario::{Mechanism, Scenario, TurnoverSpec};

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

/// The pool's balance: `K − reserved − losses (+ fees when they revolve)` (pure).
#[inline]
pub fn balance(t: &TurnoverSpec, reserved: f64, losses: f64, fees: f64) -> f64 {
    t.capital - reserved - losses + if t.fees_to_pool { fees } else { 0.0 }
}

/// The turnover pool on one path.
#[derive(Debug, Default)]
pub struct Turnover {
    spec: TurnoverSpec,
    /// Capital reserved by outstanding advances.
    pub reserved: f64,
    /// Losses on denied claims.
    pub losses: f64,
    /// Fees collected.
    pub fees: f64,
    exporter_outstanding: Vec<f64>,
    /// Waiting requests, in order.
    queue: VecDeque<Waiting>,
    /// Whether some request found the balance short today.
    empty_today: bool,
    win: Window,
    series: Vec<f64>,
}

/// A waiting request: what serving it needs of the claim, copied when it
/// joins the queue (so that serving the queue reads no claim), and its day.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    r: f64,
    /// The unfinanced part of `R` when it joined (and still: nothing
    /// finances a waiting claim).
    unfinanced: f64,
    i: u32,
    exporter: u32,
    end: i32,
    /// Request day.
    day: i32,
    denied: bool,
    /// Whether its financing record was empty when it joined (and so still
    /// is: nothing changes it while it waits).
    fresh: bool,
}

/// Window statistics that are not flows by group.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    requests: f64,
    blocked: f64,
    wait_sum: f64,
    served: f64,
    empty_days: f64,
    util_sum: f64,
}

impl Turnover {
    /// The pool's balance now.
    #[inline]
    pub fn balance(&self) -> f64 {
        balance(&self.spec, self.reserved, self.losses, self.fees)
    }

    /// Reserves and books an advance of `a` for request `rq`.
    fn advance<L: Ledger>(
        &mut self,
        w: &World,
        rq: &Request,
        rec: &mut Financing,
        a: f64,
        ledger: &mut L,
    ) {
        self.reserved += a;
        self.exporter_outstanding[rq.exporter] += a;
        grant::<Turnover, L>(w, rq, rec, a, self.spec.lag, M::TurnoverAdvanced, ledger);
    }
}

impl Pool for Turnover {
    const KIND: Mechanism = Mechanism::Turnover;
    const CLAIM_BACKED: bool = true;
    const LABEL: (&'static str, &'static str) = ("退税资金周转池", "Refund turnover pool");
    const SERIES: (&'static str, &'static str, &'static str) = (
        "turnover.balance",
        "周转池可用余额",
        "Turnover pool balance",
    );

    const DELIVERED: M = M::TurnoverAdvanced;
    const LOSSES: &'static [M] = &[M::TurnoverLoss];
    const PUBLIC_CAPITAL_KEY: Option<&'static str> = Some("capital");

    fn enabled(s: &Scenario) -> bool {
        s.turnover.is_some()
    }

    fn public_capital(s: &Scenario) -> f64 {
        s.turnover.as_ref().map_or(0.0, |t| t.capital)
    }

    fn begin(&mut self, w: &World) {
        self.spec = w.scenario.turnover.clone().expect("enabled");
        self.reserved = 0.0;
        self.losses = 0.0;
        self.fees = 0.0;
        refill(&mut self.exporter_outstanding, w.exporters.len(), 0.0);
        self.queue.clear();
        self.empty_today = false;
        self.win = Window::default();
        refill(&mut self.series, w.end as usize, 0.0);
    }

    fn admits(&self, w: &World, ei: usize) -> bool {
        let e = &w.exporters[ei];
        admits(e.pilot, e.pclass, &self.spec.eligible)
    }

    // Always inlined: most requests meet the queue here (see `finance::offer`).
    #[inline(always)]
    fn offer<L: Ledger>(
        &mut self,
        w: &World,
        rq: &Request,
        rec: &mut Financing,
        ledger: &mut L,
    ) -> Outcome {
        if rq.in_window {
            self.win.requests += 1.0;
            ledger.flow(rq.g, M::TurnoverRequests, 1.0);
        }
        let t = &self.spec;
        let a = turnover_advance(
            t.advance_ratio,
            rq.r,
            t.max_per_exporter,
            self.exporter_outstanding[rq.exporter],
        )
        .min(rq.unfinanced);
        let free = self.queue.is_empty();
        if a > 0.0 && free && self.balance() >= a {
            self.advance(w, rq, rec, a, ledger);
            if rq.in_window {
                self.win.served += 1.0;
            }
            return Outcome::Granted;
        }
        if rq.in_window {
            self.win.blocked += 1.0;
        }
        if a > 0.0 && free {
            self.empty_today = true;
        }
        // With max_wait_days = 0 a request may only be served today: it falls
        // through at once, exactly as without a queue.
        if a > 0.0 && self.spec.queue_fifo && self.spec.max_wait_days > 0 {
            self.queue.push_back(Waiting {
                r: rq.r,
                unfinanced: rq.unfinanced,
                i: rq.i as u32,
                exporter: rq.exporter as u32,
                end: rq.end,
                day: rq.day,
                denied: rq.denied,
                fresh: !rec.financed(),
            });
            return Outcome::Queued;
        }
        Outcome::Declined
    }

    fn next_waiting<L: Ledger>(
        &mut self,
        w: &World,
        d: i32,
        fin: &mut [Financing],
        defaulted_on: &[i32],
        ledger: &mut L,
    ) -> Option<(Request, bool)> {
        while let Some(&q) = self.queue.front() {
            let ei = q.exporter as usize;
            if q.end <= d || defaulted_on[ei] <= d {
                self.queue.pop_front();
                continue;
            }
            let t = &self.spec;
            let a = turnover_advance(
                t.advance_ratio,
                q.r,
                t.max_per_exporter,
                self.exporter_outstanding[ei],
            )
            .min(q.unfinanced);
            let rq = |a| Request {
                i: q.i as usize,
                exporter: ei,
                r: q.r,
                end: q.end,
                denied: q.denied,
                day: d,
                g: w.cell_of(ei),
                in_window: d >= 0,
                unfinanced: a,
            };
            // The claim leaves the queue: an empty record is written afresh
            // rather than read (the write need not wait for a cache miss).
            let rec = &mut fin[q.i as usize];
            if a > 0.0 && self.balance() >= a {
                self.queue.pop_front();
                if q.fresh {
                    *rec = Financing::default();
                }
                let rq = rq(a);
                self.advance(w, &rq, rec, a, ledger);
                if q.day >= 0 {
                    self.win.wait_sum += (d - q.day) as f64;
                    self.win.served += 1.0;
                }
                return Some((rq, true));
            }
            if a > 0.0 {
                self.empty_today = true;
            }
            if a <= 0.0 || d >= q.day + self.spec.max_wait_days {
                self.queue.pop_front();
                if q.fresh {
                    *rec = Financing::default();
                }
                return Some((rq(a), false));
            }
            return None;
        }
        None
    }

    #[inline]
    fn settle<L: Ledger>(
        &mut self,
        _w: &World,
        st: &Settlement,
        f: &Financing,
        ledger: &mut L,
    ) -> f64 {
        let t = &self.spec;
        self.reserved -= f.amount;
        self.exporter_outstanding[st.exporter] -= f.amount;
        if f.cancelled {
            return 0.0;
        }
        if st.denied {
            let loss = f.amount * t.loss_given_denial;
            self.losses += loss;
            if st.in_window {
                ledger.flow(st.g, M::TurnoverLoss, loss);
            }
            0.0
        } else {
            let fee = super::advance_fee(f.amount, t.fee_flat, t.fee_rate, st.day - f.cash_day);
            self.fees += fee;
            if st.in_window {
                ledger.flow(st.g, M::TurnoverFeeIncome, fee);
            }
            fee
        }
    }

    fn end_of_day(&mut self, d: i32, in_window: bool) {
        if in_window {
            self.series[d as usize] = self.balance();
            self.win.util_sum += self.reserved;
            if self.empty_today {
                self.win.empty_days += 1.0;
            }
        }
        self.empty_today = false;
    }

    fn finish(&self, w: &World, m: &mut [f64]) {
        let (h, k, win) = (w.end as f64, self.spec.capital, &self.win);
        m[M::TurnoverBlockedShare as usize] = ratio(win.blocked, win.requests);
        m[M::TurnoverWaitAvgDays as usize] = ratio(win.wait_sum, win.served);
        m[M::TurnoverUtilizationAvg as usize] = ratio(win.util_sum / h, k);
        m[M::TurnoverTurnoverRatio as usize] = ratio(m[M::TurnoverAdvanced as usize], k);
        m[M::TurnoverEmptyDaysShare as usize] = win.empty_days / h;
    }

    fn series(&self) -> &[f64] {
        &self.series
    }

    fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String> {
        let t = &self.spec;
        let (mut reserved, mut losses, mut fees) = (0.0, 0.0, 0.0);
        for (f, c) in fin.iter().zip(claims) {
            if f.backed_by != Some(Mechanism::Turnover) {
                continue;
            }
            if f.amount > t.advance_ratio * c.r * (1.0 + 1e-12) {
                return Err(format!("advance {} exceeds the ratio of {}", f.amount, c.r));
            }
            if c.end() >= w.end {
                reserved += f.amount;
            } else if !f.cancelled {
                if c.denied {
                    losses += f.amount * t.loss_given_denial;
                } else {
                    fees += super::advance_fee(f.amount, t.fee_flat, t.fee_rate, c.t5 - f.cash_day);
                }
            }
        }
        super::compare(&[
            ("turnover reserved", reserved, self.reserved),
            ("turnover losses", losses, self.losses),
            ("turnover fees", fees, self.fees),
        ])?;
        let bal = self.balance();
        if bal < -super::tol(t.capital) {
            return Err(format!("turnover balance went negative: {bal}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advance_is_the_ratio_trimmed_to_the_exporters_room() {
        assert_eq!(turnover_advance(0.8, 100.0, None, 1e9), 80.0);
        assert_eq!(turnover_advance(0.8, 100.0, Some(1000.0), 0.0), 80.0);
        assert_eq!(turnover_advance(0.8, 100.0, Some(1000.0), 950.0), 50.0);
        // No room (or over the cap after a trim elsewhere): nothing, never negative.
        assert_eq!(turnover_advance(0.8, 100.0, Some(1000.0), 1000.0), 0.0);
        assert_eq!(turnover_advance(0.8, 100.0, Some(1000.0), 1200.0), 0.0);
    }

    #[test]
    fn fees_revolve_only_when_asked() {
        let mut t = TurnoverSpec {
            capital: 1000.0,
            fees_to_pool: true,
            ..TurnoverSpec::default()
        };
        assert_eq!(balance(&t, 300.0, 50.0, 20.0), 670.0);
        t.fees_to_pool = false;
        assert_eq!(balance(&t, 300.0, 50.0, 20.0), 650.0);
    }
}

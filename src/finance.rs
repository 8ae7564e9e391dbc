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
use crate::metrics::M;
use crate::rng::{Purpose, Stream};
use crate::scenario::{Mechanism, Scenario, Trigger};

/// Whether any liquidity mechanism is enabled.
pub fn mechanisms_on(s: &Scenario) -> bool {
    s.turnover.is_some() || s.guarantee.is_some() || s.credit.is_some()
}

/// Whether the path needs the day-by-day finance phase (mechanisms or defaults).
pub fn active(s: &Scenario) -> bool {
    mechanisms_on(s) || s.credit_risk.is_some()
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

/// The guarantee pool's part of a loss: its `loss_share`, limited to what is left
/// of its capital G after the losses it has already borne (pure). The pool's
/// liability is limited to G (MODEL.md §6.2); the bank bears `loss −` this.
#[inline]
pub fn guarantee_pool_share(loss: f64, loss_share: f64, capital: f64, pool_losses: f64) -> f64 {
    (loss * loss_share).min((capital - pool_losses).max(0.0))
}

/// How a claim is financed on a path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Financing {
    /// 0 none, 1 turnover advance, 2 guaranteed loan.
    pub backed_by: u8,
    /// Advance or loan principal.
    pub amount: f64,
    /// Day the cash reaches the exporter.
    pub cash_day: i32,
    /// Whether the claim ends on or before the cash day (no cash, no charges).
    pub cancelled: bool,
    /// Credit drawn against the claim.
    pub credit: f64,
    /// Day the credit was drawn (and reached the exporter).
    pub credit_day: i32,
    /// Whether the draw was lost in a default.
    pub credit_lost: bool,
    /// Whether the claim is in the settlement list.
    listed: bool,
}

/// Running totals of one path's mechanisms, in CNY (whole path, warm-up included).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Turnover capital reserved by outstanding advances.
    pub t_reserved: f64,
    /// Turnover losses.
    pub t_losses: f64,
    /// Turnover fees collected.
    pub t_fees: f64,
    /// Guaranteed principal outstanding.
    pub g_outstanding: f64,
    /// The guarantee pool's share of losses, never above its capital G.
    pub g_losses_pool: f64,
    /// The banks' share of guarantee losses (with what the pool could not cover).
    pub g_losses_bank: f64,
    /// Whether the guarantee pool is ruined.
    pub g_ruined: bool,
    /// Credit drawn and outstanding.
    pub c_drawn: f64,
    /// The risk fund's share of default losses.
    pub c_losses_fund: f64,
}

/// Window statistics that are not flows by group.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    t_requests: f64,
    t_blocked: f64,
    t_wait_sum: f64,
    t_served: f64,
    t_empty_days: f64,
    t_util_sum: f64,
    g_requests: f64,
    g_blocked: f64,
    g_out_sum: f64,
    c_drawn_sum: f64,
    defaults: f64,
}

/// State and results of the mechanisms on one path.
#[derive(Debug, Default)]
pub struct Finance {
    /// Per claim, in claim order.
    pub fin: Vec<Financing>,
    /// Running totals.
    pub totals: Totals,
    win: Window,
    series: Vec<Vec<f64>>,
    exporter_outstanding: Vec<f64>,
    exporter_drawn: Vec<f64>,
    live_draws: Vec<Vec<u32>>,
    defaulted_on: Vec<i32>,
    /// Per exporter: the mechanisms its platform and class may use
    /// ([`TURNOVER`] | [`GUARANTEE`] | [`CREDIT`]).
    allowed: Vec<u8>,
    /// Per exporter: its credit line (0 without credit lines).
    line: Vec<f64>,
    /// Reused buffers: request buckets and settlement lists.
    buffers: Buffers,
}

/// Bit of [`Finance`]'s per-exporter mask: the turnover pool may take its claims.
const TURNOVER: u8 = 1;
/// The guarantee pool may take its claims.
const GUARANTEE: u8 = 2;
/// It has a credit line.
const CREDIT: u8 = 4;

/// Day buckets reused from path to path (large: a few per claim).
#[derive(Debug, Default)]
struct Buffers {
    req_start: Vec<u32>,
    requests: Vec<u32>,
    settle_head: Vec<u32>,
    settle_tail: Vec<u32>,
    settle_next: Vec<u32>,
    /// The claims settling on the current day.
    settling: Vec<u32>,
}

/// Empties `v` and fills it with `n` copies of `x`, keeping its allocation.
fn refill<T: Clone>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

/// Seconds-free day count convention: calendar days / 365.
#[inline]
fn years(days: i32) -> f64 {
    days.max(0) as f64 / 365.0
}

impl Finance {
    /// Forgets the last path (keeping allocations).
    pub fn reset(&mut self) {
        self.fin.clear();
        self.totals = Totals::default();
        self.win = Window::default();
        self.series.clear();
    }

    /// `(financing cash delivered for claim i, Σ amount × days from t0 to its cash day)`.
    pub fn financed_cash(&self, i: usize, c: &Claim) -> (f64, f64) {
        let Some(f) = self.fin.get(i) else {
            return (0.0, 0.0);
        };
        let mut cash = 0.0;
        let mut amount_days = 0.0;
        if f.backed_by != 0 && !f.cancelled {
            cash += f.amount;
            amount_days += f.amount * (f.cash_day - c.t0) as f64;
        }
        if f.credit > 0.0 {
            cash += f.credit;
            amount_days += f.credit * (f.credit_day - c.t0) as f64;
        }
        (cash, amount_days)
    }

    /// The daily series this phase produced (see [`series_names`]).
    pub fn series(&self) -> Vec<Vec<f64>> {
        self.series.clone()
    }

    /// Balance of the turnover pool: K − reserved − losses (+ fees when they revolve).
    pub fn turnover_balance(&self, model: &Model) -> f64 {
        let Some(t) = model.scenario.turnover.as_ref() else {
            return 0.0;
        };
        let tt = &self.totals;
        t.capital - tt.t_reserved - tt.t_losses + if t.fees_to_pool { tt.t_fees } else { 0.0 }
    }

    /// Room for new guaranteed principal.
    fn guarantee_room(&self, model: &Model) -> f64 {
        let g = model.scenario.guarantee.as_ref().expect("enabled");
        guarantee_room(
            g.leverage,
            g.capital,
            self.totals.g_losses_pool,
            self.totals.g_outstanding,
        )
    }

    /// Room for new credit in the risk fund: leverage × (C − losses) − drawn.
    fn credit_room(&self, model: &Model) -> f64 {
        let c = model.scenario.credit.as_ref().expect("enabled");
        c.fund_leverage * (c.risk_fund - self.totals.c_losses_fund) - self.totals.c_drawn
    }

    /// Fills group `g`'s mechanism metrics (flows are already in place).
    pub fn finish_group(&self, model: &Model, g: usize, m: &mut [f64], per_year: f64) {
        let s = &model.scenario;
        let h = model.end as f64;
        let nan = f64::NAN;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { nan };
        let set_nan = |m: &mut [f64], from: M, to: M| {
            for v in &mut m[from as usize..=to as usize] {
                *v = nan;
            }
        };
        if s.turnover.is_none() {
            set_nan(m, M::TurnoverRequests, M::TurnoverFeeIncome);
        }
        if s.guarantee.is_none() {
            set_nan(m, M::GuaranteeLoans, M::GuaranteeFeeIncome);
        }
        if s.credit.is_none() {
            // Defaults exist without credit lines (defaulted firms stop shipping).
            let defaults = m[M::CreditDefaults as usize];
            set_nan(m, M::CreditDraws, M::CreditInterest);
            m[M::CreditDefaults as usize] = defaults;
        }
        if s.credit_risk.is_none() {
            m[M::CreditDefaults as usize] = nan;
        }
        if g != 0 {
            return;
        }
        let w = &self.win;
        if let Some(t) = &s.turnover {
            m[M::TurnoverBlockedShare as usize] = ratio(w.t_blocked, w.t_requests);
            m[M::TurnoverWaitAvgDays as usize] = ratio(w.t_wait_sum, w.t_served);
            m[M::TurnoverUtilizationAvg as usize] = ratio(w.t_util_sum / h, t.capital);
            m[M::TurnoverTurnoverRatio as usize] =
                ratio(m[M::TurnoverAdvanced as usize], t.capital);
            m[M::TurnoverEmptyDaysShare as usize] = w.t_empty_days / h;
        }
        if let Some(gs) = &s.guarantee {
            m[M::GuaranteeOutstandingAvg as usize] = w.g_out_sum / h;
            m[M::GuaranteeLeverageAvg as usize] = ratio(w.g_out_sum / h, gs.capital);
            m[M::GuaranteeBlockedShare as usize] = ratio(w.g_blocked, w.g_requests);
            m[M::GuaranteeRuined as usize] = f64::from(u8::from(self.totals.g_ruined));
        }
        if s.credit.is_some() {
            m[M::CreditDrawnAvg as usize] = w.c_drawn_sum / h;
        }
        if s.credit_risk.is_some() {
            m[M::CreditDefaultRate as usize] =
                ratio(w.defaults * per_year, model.exporters.len() as f64);
        }
        let committed = s.turnover.as_ref().map_or(0.0, |t| t.capital)
            + s.guarantee.as_ref().map_or(0.0, |g| g.capital)
            + s.credit.as_ref().map_or(0.0, |c| c.risk_fund);
        let public_losses = [M::TurnoverLoss, M::GuaranteeLossPool, M::CreditLossFund]
            .iter()
            .map(|k| m[*k as usize])
            .filter(|v| !v.is_nan())
            .sum::<f64>();
        m[M::FiscalCost as usize] = committed * s.economy.gov_rate + public_losses;
    }

    /// Runs the mechanisms over one path's claims (in claim order).
    pub fn run(
        &mut self,
        model: &Model,
        claims: &[Claim],
        defaults: Option<&[i32]>,
        acc: &mut Acc,
    ) {
        let s = &model.scenario;
        let n_exp = model.exporters.len();
        self.reset();
        if !mechanisms_on(s) {
            // Defaults only: nothing is financed, so there are no requests,
            // settlements or balances to keep: count the defaults and stop.
            self.count_defaults(model, defaults, acc);
            return;
        }
        refill(&mut self.fin, claims.len(), Financing::default());
        refill(&mut self.exporter_outstanding, n_exp, 0.0);
        refill(&mut self.exporter_drawn, n_exp, 0.0);
        // What each exporter may use, looked up once per path instead of once per
        // request (the exporters' records are large and requests jump between them).
        self.allowed.clear();
        self.allowed.extend(model.exporters.iter().map(|e| {
            let ok = |classes: &[bool; 4]| eligible(e.pilot, e.pclass, classes, false, 1, 0);
            let mut m = 0;
            if s.turnover.as_ref().is_some_and(|t| ok(&t.eligible)) {
                m |= TURNOVER;
            }
            if s.guarantee.as_ref().is_some_and(|g| ok(&g.eligible)) {
                m |= GUARANTEE;
            }
            if s.credit.as_ref().is_some_and(|c| ok(&c.eligible)) {
                m |= CREDIT;
            }
            m
        }));
        self.line.clear();
        self.line.extend(model.exporters.iter().map(|e| {
            s.credit.as_ref().map_or(0.0, |cs| {
                cs.line_cap.map_or(cs.line_share * e.annual_exports, |cap| {
                    (cs.line_share * e.annual_exports).min(cap)
                })
            })
        }));
        if s.credit.is_some() {
            self.live_draws.resize_with(n_exp, Vec::new);
            self.live_draws.iter_mut().for_each(Vec::clear);
        }
        match defaults {
            Some(d) => {
                self.defaulted_on.clear();
                self.defaulted_on.extend_from_slice(d);
            }
            None => refill(&mut self.defaulted_on, n_exp, NEVER),
        }
        let names = series_names(s);
        self.series.resize_with(names.len(), Vec::new);
        for v in &mut self.series {
            refill(v, model.end as usize, 0.0);
        }
        let mut b = std::mem::take(&mut self.buffers);

        let (first, end) = (model.first, model.end);
        let days = (end - first) as usize;
        // Requests bucketed by trigger day, in claim order.
        let trigger = |c: &Claim| match s.finance.trigger {
            Trigger::Declared => c.t0,
            Trigger::Filed => c.t2,
            Trigger::Approved => {
                if c.denied {
                    NEVER
                } else {
                    c.t3
                }
            }
        };
        let Buffers {
            req_start,
            requests,
            settle_head,
            settle_tail,
            settle_next,
            settling,
        } = &mut b;
        refill(req_start, days + 1, 0);
        for c in claims {
            let t = trigger(c);
            if t >= first && t < end {
                req_start[(t - first) as usize + 1] += 1;
            }
        }
        for i in 0..days {
            req_start[i + 1] += req_start[i];
        }
        let mut fill = req_start.clone();
        refill(requests, req_start[days] as usize, 0);
        for (i, c) in claims.iter().enumerate() {
            let t = trigger(c);
            if t >= first && t < end {
                let b = (t - first) as usize;
                requests[fill[b] as usize] = i as u32;
                fill[b] += 1;
            }
        }
        // Settlement lists by end day, in the order claims were financed.
        refill(settle_head, days, u32::MAX);
        refill(settle_tail, days, u32::MAX);
        refill(settle_next, claims.len(), u32::MAX);
        // Defaults by day.
        let mut default_list: Vec<(i32, u32)> = self
            .defaulted_on
            .iter()
            .enumerate()
            .filter(|(_, d)| **d >= first && **d < end)
            .map(|(i, d)| (*d, i as u32))
            .collect();
        default_list.sort_unstable();
        let mut next_default = 0;
        let mut queue: VecDeque<(u32, i32)> = VecDeque::new();

        for d in first..end {
            let in_window = d >= 0;
            // (1) Settle claims ending today: list them, touch their records in one
            // loop (overlapping the cache misses, as for requests below), settle.
            settling.clear();
            let mut k = settle_head[(d - first) as usize];
            while k != u32::MAX {
                settling.push(k);
                k = settle_next[k as usize];
            }
            let warm = settling.iter().fold(0.0, |acc, &k| {
                let k = k as usize;
                acc + claims[k].r + self.fin[k].amount
            });
            std::hint::black_box(warm);
            for &k in settling.iter() {
                self.settle(model, k as usize, &claims[k as usize], d, acc);
            }
            // (2) Defaults.
            while next_default < default_list.len() && default_list[next_default].0 == d {
                let ei = default_list[next_default].1 as usize;
                self.default_exporter(model, ei, d, acc);
                next_default += 1;
            }
            // (3) Serve the turnover queue from its head; (4) new requests.
            let mut empty_today = false;
            let mut list = |fin: &mut Finance, i: usize| {
                let f = &mut fin.fin[i];
                let e = claims[i].end();
                if !f.listed && e < end {
                    f.listed = true;
                    let b = (e - first) as usize;
                    if settle_head[b] == u32::MAX {
                        settle_head[b] = i as u32;
                    } else {
                        settle_next[settle_tail[b] as usize] = i as u32;
                    }
                    settle_tail[b] = i as u32;
                }
            };
            if let Some(t) = &s.turnover {
                while let Some(&(i, rday)) = queue.front() {
                    let i = i as usize;
                    let c = &claims[i];
                    let ei = c.exporter as usize;
                    if c.end() <= d || self.defaulted_on[ei] <= d {
                        queue.pop_front();
                        continue;
                    }
                    let a = turnover_advance(
                        t.advance_ratio,
                        c.r,
                        t.max_per_exporter,
                        self.exporter_outstanding[ei],
                    )
                    .min(c.r - self.fin[i].credit);
                    if a > 0.0 && self.turnover_balance(model) >= a {
                        queue.pop_front();
                        self.grant(model, i, c, 1, a, d, acc);
                        list(self, i);
                        if rday >= 0 {
                            self.win.t_wait_sum += (d - rday) as f64;
                            self.win.t_served += 1.0;
                        }
                        self.offer(
                            model,
                            i,
                            c,
                            d,
                            Some(Mechanism::Turnover),
                            &mut queue,
                            &mut empty_today,
                            acc,
                            &mut list,
                        );
                        continue;
                    }
                    if a > 0.0 {
                        empty_today = true;
                    }
                    if a <= 0.0 || d >= rday + t.max_wait_days {
                        queue.pop_front();
                        self.offer(
                            model,
                            i,
                            c,
                            d,
                            Some(Mechanism::Turnover),
                            &mut queue,
                            &mut empty_today,
                            acc,
                            &mut list,
                        );
                        continue;
                    }
                    break;
                }
            }
            let b = (d - first) as usize;
            let today = &requests[req_start[b] as usize..req_start[b + 1] as usize];
            // Today's requests are scattered over the claims (claim order is by
            // declaration day): touch their records first in one loop of independent
            // loads, so that the cache misses overlap instead of stalling each offer
            // in turn. Changes no value.
            let warm = today.iter().fold(0.0, |acc, &i| {
                let i = i as usize;
                acc + claims[i].r + self.fin[i].amount
            });
            std::hint::black_box(warm);
            for &i in today {
                let i = i as usize;
                self.offer(
                    model,
                    i,
                    &claims[i],
                    d,
                    None,
                    &mut queue,
                    &mut empty_today,
                    acc,
                    &mut list,
                );
            }
            // End-of-day state.
            if in_window {
                let di = d as usize;
                let mut k = 0;
                if s.turnover.is_some() {
                    let bal = self.turnover_balance(model);
                    self.series[k][di] = bal;
                    self.win.t_util_sum += self.totals.t_reserved;
                    if empty_today {
                        self.win.t_empty_days += 1.0;
                    }
                    k += 1;
                }
                if s.guarantee.is_some() {
                    self.series[k][di] = self.totals.g_outstanding;
                    self.win.g_out_sum += self.totals.g_outstanding;
                    k += 1;
                }
                if s.credit.is_some() {
                    self.series[k][di] = self.totals.c_drawn;
                    self.win.c_drawn_sum += self.totals.c_drawn;
                }
            }
        }
        self.buffers = b;
    }

    /// The finance phase without mechanisms: only defaults happen, and each adds one
    /// to a count, so they need no day loop (the sums are whole numbers, exact in
    /// any order).
    fn count_defaults(&mut self, model: &Model, defaults: Option<&[i32]>, acc: &mut Acc) {
        let Some(d) = defaults else { return };
        for (ei, &day) in d.iter().enumerate() {
            if (model.first..model.end).contains(&day) {
                self.default_exporter(model, ei, day, acc);
            }
        }
    }

    /// Offers claim `i` to the mechanisms on day `d`, starting after `after` (None:
    /// from the first). Stops when it joins the turnover queue.
    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        model: &Model,
        i: usize,
        c: &Claim,
        d: i32,
        after: Option<Mechanism>,
        queue: &mut VecDeque<(u32, i32)>,
        empty_today: &mut bool,
        acc: &mut Acc,
        list: &mut impl FnMut(&mut Finance, usize),
    ) {
        let s = &model.scenario;
        let ei = c.exporter as usize;
        let defaulted = self.defaulted_on[ei] <= d;
        let end = c.end();
        // No mechanism takes a defaulted exporter's claim or one that has ended.
        if !eligible(true, 0, &[true; 4], defaulted, end, d) {
            return;
        }
        // Which mechanisms the exporter's platform and class allow (bit per
        // mechanism; see `Finance::run`): none, and the offer changes nothing.
        let allowed = self.allowed[ei];
        if allowed == 0 {
            return;
        }
        let g = model.groups_of(ei);
        let in_window = d >= 0;
        let start = after.map_or(0, |a| {
            s.finance
                .order
                .iter()
                .position(|m| *m == a)
                .map_or(0, |p| p + 1)
        });
        for &mech in &s.finance.order[start..] {
            let backed = self.fin[i].backed_by != 0;
            // Each mechanism finances at most the still-unfinanced part of R.
            let unfinanced = c.r - self.fin[i].amount - self.fin[i].credit;
            if unfinanced <= 0.0 {
                return;
            }
            match mech {
                Mechanism::Turnover => {
                    let Some(t) = &s.turnover else { continue };
                    if backed || allowed & TURNOVER == 0 || after == Some(Mechanism::Turnover) {
                        continue;
                    }
                    if in_window {
                        self.win.t_requests += 1.0;
                        acc.flow(g, M::TurnoverRequests, 1.0);
                    }
                    let a = turnover_advance(
                        t.advance_ratio,
                        c.r,
                        t.max_per_exporter,
                        self.exporter_outstanding[c.exporter as usize],
                    )
                    .min(unfinanced);
                    let can = a > 0.0 && queue.is_empty() && self.turnover_balance(model) >= a;
                    if can {
                        self.grant(model, i, c, 1, a, d, acc);
                        list(self, i);
                        if in_window {
                            self.win.t_served += 1.0;
                        }
                        continue;
                    }
                    if in_window {
                        self.win.t_blocked += 1.0;
                    }
                    if a > 0.0 && queue.is_empty() {
                        *empty_today = true;
                    }
                    // With max_wait_days = 0 a request may only be served today: it
                    // falls through at once, exactly as without a queue.
                    if a > 0.0 && t.queue_fifo && t.max_wait_days > 0 {
                        queue.push_back((i as u32, d));
                        return;
                    }
                }
                Mechanism::Guarantee => {
                    let Some(gs) = &s.guarantee else { continue };
                    if backed || allowed & GUARANTEE == 0 {
                        continue;
                    }
                    if in_window {
                        self.win.g_requests += 1.0;
                    }
                    let loan = (gs.loan_to_refund * c.r).min(unfinanced);
                    if self.totals.g_ruined || loan <= 0.0 || self.guarantee_room(model) < loan {
                        if in_window {
                            self.win.g_blocked += 1.0;
                        }
                        continue;
                    }
                    self.grant(model, i, c, 2, loan, d, acc);
                    list(self, i);
                }
                Mechanism::Credit => {
                    // (The bit is set only with credit lines enabled.)
                    if allowed & CREDIT == 0 || self.fin[i].credit > 0.0 {
                        continue;
                    }
                    let line = self.line[ei];
                    let draw = unfinanced
                        .min(line - self.exporter_drawn[ei])
                        .min(self.credit_room(model));
                    if draw <= 0.0 {
                        continue;
                    }
                    self.totals.c_drawn += draw;
                    self.exporter_drawn[ei] += draw;
                    self.live_draws[ei].push(i as u32);
                    let f = &mut self.fin[i];
                    f.credit = draw;
                    f.credit_day = d;
                    if in_window {
                        acc.flow(g, M::CreditDraws, draw);
                    }
                    acc.held(g, d, end, draw);
                    list(self, i);
                }
            }
        }
    }

    /// Reserves and schedules a claim-backed advance (1) or loan (2).
    #[allow(clippy::too_many_arguments)]
    fn grant(
        &mut self,
        model: &Model,
        i: usize,
        c: &Claim,
        kind: u8,
        amount: f64,
        d: i32,
        acc: &mut Acc,
    ) {
        let s = &model.scenario;
        let g = model.groups_of(c.exporter as usize);
        let lag = if kind == 1 {
            s.turnover.as_ref().expect("on").lag
        } else {
            s.guarantee.as_ref().expect("on").lag
        };
        let cash_day = model.cal.add_workdays(d, lag);
        let end = c.end();
        let cancelled = end <= cash_day;
        if kind == 1 {
            self.totals.t_reserved += amount;
            self.exporter_outstanding[c.exporter as usize] += amount;
        } else {
            self.totals.g_outstanding += amount;
        }
        let f = &mut self.fin[i];
        f.backed_by = kind;
        f.amount = amount;
        f.cash_day = cash_day;
        f.cancelled = cancelled;
        if !cancelled {
            if (0..model.end).contains(&cash_day) {
                acc.flow(
                    g,
                    if kind == 1 {
                        M::TurnoverAdvanced
                    } else {
                        M::GuaranteeLoans
                    },
                    amount,
                );
            }
            acc.held(g, cash_day, end, amount);
        }
    }

    /// Settles claim `i`, which ends on day `d`: repayments, fees, interest, losses.
    fn settle(&mut self, model: &Model, i: usize, c: &Claim, d: i32, acc: &mut Acc) {
        let s = &model.scenario;
        let g = model.groups_of(c.exporter as usize);
        let in_window = (0..model.end).contains(&d);
        let f = self.fin[i];
        let mut charges = 0.0;
        match f.backed_by {
            1 => {
                let t = s.turnover.as_ref().expect("on");
                self.totals.t_reserved -= f.amount;
                self.exporter_outstanding[c.exporter as usize] -= f.amount;
                if !f.cancelled {
                    if c.denied {
                        let loss = f.amount * t.loss_given_denial;
                        self.totals.t_losses += loss;
                        if in_window {
                            acc.flow(g, M::TurnoverLoss, loss);
                        }
                    } else {
                        let fee = f.amount * (t.fee_flat + t.fee_rate * years(d - f.cash_day));
                        self.totals.t_fees += fee;
                        charges += fee;
                        if in_window {
                            acc.flow(g, M::TurnoverFeeIncome, fee);
                        }
                    }
                }
            }
            2 => {
                let gs = s.guarantee.as_ref().expect("on");
                self.totals.g_outstanding -= f.amount;
                if !f.cancelled {
                    if c.denied {
                        let loss = f.amount * gs.loss_given_denial;
                        let pool = guarantee_pool_share(
                            loss,
                            gs.loss_share,
                            gs.capital,
                            self.totals.g_losses_pool,
                        );
                        self.totals.g_losses_bank += loss - pool;
                        if pool < loss * gs.loss_share {
                            // Capped: the pool has now lost exactly its capital.
                            self.totals.g_losses_pool = gs.capital;
                        } else {
                            self.totals.g_losses_pool += pool;
                        }
                        if self.totals.g_losses_pool >= gs.capital {
                            self.totals.g_ruined = true;
                        }
                        if in_window {
                            acc.flow(g, M::GuaranteeLossPool, pool);
                            acc.flow(g, M::GuaranteeLossBank, loss - pool);
                        }
                    } else {
                        let yrs = years(d - f.cash_day);
                        let interest = f.amount * gs.rate * yrs;
                        let fee = f.amount * gs.guarantee_fee * yrs;
                        charges += interest + fee;
                        if in_window {
                            acc.flow(g, M::GuaranteeInterest, interest);
                            acc.flow(g, M::GuaranteeFeeIncome, fee);
                        }
                    }
                }
            }
            _ => {}
        }
        if f.credit > 0.0 && !f.credit_lost {
            let cs = s.credit.as_ref().expect("on");
            self.totals.c_drawn -= f.credit;
            self.exporter_drawn[c.exporter as usize] -= f.credit;
            let ei = c.exporter as usize;
            if let Some(p) = self.live_draws[ei].iter().position(|&x| x as usize == i) {
                self.live_draws[ei].swap_remove(p);
            }
            let interest = f.credit * cs.rate * years(d - f.credit_day);
            charges += interest;
            if in_window {
                acc.flow(g, M::CreditInterest, interest);
            }
        }
        if in_window {
            acc.flow(g, M::FinancingCost, charges);
        }
    }

    /// Exporter `ei` defaults on day `d`: its outstanding credit is lost at `lgd`.
    fn default_exporter(&mut self, model: &Model, ei: usize, d: i32, acc: &mut Acc) {
        let s = &model.scenario;
        let g = model.groups_of(ei);
        if d >= 0 {
            self.win.defaults += 1.0;
            acc.flow(g, M::CreditDefaults, 1.0);
        }
        let Some(cs) = &s.credit else { return };
        let draws = std::mem::take(&mut self.live_draws[ei]);
        for i in draws {
            let f = &mut self.fin[i as usize];
            let loss = f.credit * cs.lgd;
            let fund = loss * cs.loss_share;
            f.credit_lost = true;
            self.totals.c_drawn -= f.credit;
            self.exporter_drawn[ei] -= f.credit;
            self.totals.c_losses_fund += fund;
            if d >= 0 {
                acc.flow(g, M::CreditLossFund, fund);
                acc.flow(g, M::CreditLossBank, loss - fund);
            }
        }
    }

    /// Recomputes every balance from the per-claim records and compares it with the
    /// running totals: the accounting identities of MODEL.md §6. Returns the first
    /// discrepancy found. `claims` must be the claims the path ran on.
    pub fn audit(&self, model: &Model, claims: &[Claim]) -> Result<(), String> {
        let s = &model.scenario;
        let end = model.end;
        let tol = |x: f64| 1e-6 * (1.0 + x.abs());
        let (mut reserved, mut losses, mut fees, mut g_out, mut g_pool, mut drawn) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let mut g_loss = 0.0;
        for (f, c) in self.fin.iter().zip(claims) {
            let settled = c.end() < end;
            match f.backed_by {
                1 => {
                    let t = s.turnover.as_ref().ok_or("advance without a pool")?;
                    if f.amount > t.advance_ratio * c.r * (1.0 + 1e-12) {
                        return Err(format!("advance {} exceeds the ratio of {}", f.amount, c.r));
                    }
                    if !settled {
                        reserved += f.amount;
                    } else if !f.cancelled {
                        if c.denied {
                            losses += f.amount * t.loss_given_denial;
                        } else {
                            fees += f.amount * (t.fee_flat + t.fee_rate * years(c.t5 - f.cash_day));
                        }
                    }
                }
                2 => {
                    let gs = s.guarantee.as_ref().ok_or("loan without a pool")?;
                    if !settled {
                        g_out += f.amount;
                    } else if !f.cancelled && c.denied {
                        g_loss += f.amount * gs.loss_given_denial;
                        g_pool += f.amount * gs.loss_given_denial * gs.loss_share;
                    }
                }
                _ => {}
            }
            if f.amount + f.credit > c.r * (1.0 + 1e-12) {
                return Err(format!(
                    "claim of {} financed {} + {}",
                    c.r, f.amount, f.credit
                ));
            }
            if f.credit > 0.0 && !f.credit_lost && !settled {
                drawn += f.credit;
            }
        }
        // Capping each loss at what is left of G makes the running total
        // min(Σ uncapped shares, G), whatever the order of settlement.
        if let Some(gs) = &s.guarantee {
            g_pool = g_pool.min(gs.capital);
        }
        let t = &self.totals;
        for (name, a, b) in [
            ("turnover reserved", reserved, t.t_reserved),
            ("turnover losses", losses, t.t_losses),
            ("turnover fees", fees, t.t_fees),
            ("guarantee outstanding", g_out, t.g_outstanding),
            ("guarantee pool losses", g_pool, t.g_losses_pool),
            (
                "guarantee pool + bank losses",
                g_loss,
                t.g_losses_pool + t.g_losses_bank,
            ),
            ("credit drawn", drawn, t.c_drawn),
        ] {
            if (a - b).abs() > tol(a) {
                return Err(format!("{name}: records give {a}, running total {b}"));
            }
        }
        if let Some(tp) = &s.turnover {
            let bal = self.turnover_balance(model);
            if bal < -tol(tp.capital) {
                return Err(format!("turnover balance went negative: {bal}"));
            }
        }
        if let Some(gs) = &s.guarantee
            && t.g_losses_pool > gs.capital * (1.0 + 1e-12)
        {
            return Err(format!(
                "guarantee pool lost {} of its capital {}",
                t.g_losses_pool, gs.capital
            ));
        }
        if let Some(gs) = &s.guarantee
            && t.g_outstanding > gs.leverage * gs.capital * (1.0 + 1e-9) + 1e-6
        {
            return Err(format!(
                "guaranteed principal {} above L × G",
                t.g_outstanding
            ));
        }
        if let Some(cs) = &s.credit
            && t.c_drawn > cs.fund_leverage * cs.risk_fund * (1.0 + 1e-9) + 1e-6
        {
            return Err(format!("credit drawn {} above leverage × fund", t.c_drawn));
        }
        Ok(())
    }
}

//! The liquidity mechanisms (MODEL.md §6), one module each behind one trait,
//! [`Pool`], and told apart by [`Mechanism`] (the name `finance.order` uses).
//!
//! A mechanism owns its scenario section (its spec), the metric rows it fills,
//! its daily series and its labels; [`crate::finance`] owns only the order of
//! offers, the settlement calendar and the per-claim ledger, and calls each
//! mechanism through [`AnyPool`] (an enum: static dispatch in the day loop, no
//! boxed trait objects). Mechanisms see the path through [`crate::ledger`] only
//! and never import the engine.
//!
//! Adding a mechanism: a module here implementing [`Pool`], one line in the
//! `registry!` below, a variant of [`Mechanism`], its spec in
//! [`crate::scenario`] (struct, keys, builder) and its metric rows appended to
//! [`crate::metrics`].

pub mod credit;
pub mod guarantee;
pub mod service;
pub mod turnover;

use crate::ledger::{Cell, Claim, Financing, Ledger, World};
use crate::metrics::M;
pub use crate::scenario::Mechanism;
use crate::scenario::Scenario;

/// The fee on an advance of `amount` outstanding `days` calendar days (none
/// when negative): `amount × (fee_flat + fee_rate × days / 365)`, paid on `t5`;
/// the turnover pool's and the service company's alike (pure).
#[inline]
pub fn advance_fee(amount: f64, fee_flat: f64, fee_rate: f64, days: i32) -> f64 {
    amount * (fee_flat + fee_rate * crate::ledger::years(days))
}

/// Whether a mechanism serves an exporter at all (pure): its platform may use
/// it (`platform_ok`: a pilot platform, for the public schemes) and its
/// processing class `pclass` is served.
#[inline]
pub fn admits(platform_ok: bool, pclass: usize, classes: &[bool; 4]) -> bool {
    platform_ok && classes[pclass]
}

/// Whether a claim can still be financed on `day` (pure): its exporter has not
/// defaulted and the claim has not ended by then.
#[inline]
pub fn live(defaulted: bool, ends: i32, day: i32) -> bool {
    !defaulted && ends > day
}

/// One request (or settlement) of claim `i` on day `day`, as a mechanism sees it:
/// the few facts of the claim the mechanisms use, copied (the day loop reads
/// them from compact day lists, not from the claims, which it would reach in
/// scattered order).
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Claim index (claim order).
    pub i: usize,
    /// The claim's exporter (index).
    pub exporter: usize,
    /// The refund claimed, `R` (CNY).
    pub r: f64,
    /// The day the claim ends ([`Claim::end`]).
    pub end: i32,
    /// Whether the claim is denied.
    pub denied: bool,
    /// The day.
    pub day: i32,
    /// The exporter's accumulation cell (where flows are booked).
    pub g: Cell,
    /// Whether the request day is in the window (for the window statistics).
    pub in_window: bool,
    /// The part of `R` no mechanism has financed yet.
    pub unfinanced: f64,
}

impl Request {
    /// The request of claim `i` (`c`) on `day`, its exporter in cell `g`.
    #[inline]
    pub fn of(i: usize, c: &Claim, day: i32, g: Cell, in_window: bool, unfinanced: f64) -> Self {
        Request {
            i,
            exporter: c.exporter as usize,
            r: c.r,
            end: c.end(),
            denied: c.denied,
            day,
            g,
            in_window,
            unfinanced,
        }
    }
}

/// The settlement of financed claim `i`, which ends on `day`, as a mechanism sees it.
#[derive(Debug, Clone, Copy)]
pub struct Settlement {
    /// Claim index (claim order).
    pub i: usize,
    /// The claim's exporter (index).
    pub exporter: usize,
    /// Whether the claim is denied (else paid today).
    pub denied: bool,
    /// The day.
    pub day: i32,
    /// The exporter's accumulation cell (where flows are booked).
    pub g: Cell,
    /// Whether the day is in the window.
    pub in_window: bool,
}

/// What a mechanism did with an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing: offer the claim to the next mechanism.
    Declined,
    /// Financed (part of) it: list it for settlement, then offer the rest on.
    Granted,
    /// It waits in the mechanism's queue: offer it to nobody else today.
    Queued,
}

/// One liquidity mechanism. Each method is called by [`crate::finance`] in the
/// day order of MODEL.md §13: settle, defaults, waiting queue, new requests,
/// end of day; `finish` once per path.
pub trait Pool: Default {
    /// Its identity.
    const KIND: Mechanism;
    /// Whether it finances claims (at most one claim-backed mechanism per claim)
    /// rather than lending against a line.
    const CLAIM_BACKED: bool;
    /// Chinese and English names.
    const LABEL: (&'static str, &'static str);
    /// Its daily series in timeseries.csv: name, Chinese and English labels.
    const SERIES: (&'static str, &'static str, &'static str);
    /// The metric of the cash it delivers (CNY/yr).
    const DELIVERED: M;
    /// The metrics of its losses (CNY/yr), the public part first.
    const LOSSES: &'static [M];
    /// The key of the public money it commits (`capital`, `risk_fund`); `None`
    /// for private money.
    const PUBLIC_CAPITAL_KEY: Option<&'static str>;
    /// Whether the scenario enables it.
    fn enabled(s: &Scenario) -> bool;
    /// Public capital it commits (counted in `fiscal_cost`); 0 for private money.
    fn public_capital(s: &Scenario) -> f64;
    /// Prepares a path: reads its spec, empties its state (keeping allocations).
    fn begin(&mut self, w: &World);
    /// Whether exporter `ei` may use it at all (platform, class, client).
    fn admits(&self, w: &World, ei: usize) -> bool;
    /// Offers request `rq` (whose record is `rec`).
    fn offer<L: Ledger>(
        &mut self,
        w: &World,
        rq: &Request,
        rec: &mut Financing,
        ledger: &mut L,
    ) -> Outcome;
    /// Settles its part of claim `st.i`, which ends today; returns the interest
    /// and fees the exporter pays (for `financing_cost`).
    fn settle<L: Ledger>(
        &mut self,
        w: &World,
        st: &Settlement,
        rec: &Financing,
        ledger: &mut L,
    ) -> f64;
    /// Exporter `ei` (cell `g`) defaults on day `d`.
    fn on_default<L: Ledger>(
        &mut self,
        _w: &World,
        _ei: usize,
        _g: Cell,
        _d: i32,
        _fin: &mut [Financing],
        _ledger: &mut L,
    ) {
    }
    /// Serves its waiting queue on day `d`: the request of the next claim that
    /// left the queue, which must be offered to the mechanisms after this one,
    /// and whether it was financed; `None` when the queue is done for today.
    fn next_waiting<L: Ledger>(
        &mut self,
        _w: &World,
        _d: i32,
        _fin: &mut [Financing],
        _defaulted_on: &[i32],
        _ledger: &mut L,
    ) -> Option<(Request, bool)> {
        None
    }
    /// End of day `d`: its series value and window sums (`in_window`).
    fn end_of_day(&mut self, d: i32, in_window: bool);
    /// Fills its window statistics into the total group's metrics `m` (flows
    /// are already in place).
    fn finish(&self, w: &World, m: &mut [f64]);
    /// Its daily series over the window.
    fn series(&self) -> &[f64];
    /// Recomputes its balances from the per-claim records and compares them with
    /// its running totals (MODEL.md §6); the first discrepancy.
    fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String>;
}

/// Empties `v` and fills it with `n` copies of `x`, keeping its allocation.
pub(crate) fn refill<T: Clone>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

/// Books mechanism `P`'s claim-backed advance or loan of `amount` requested on `rq.day`: the
/// cash reaches the exporter `lag` working days later (counted in `delivered`,
/// dated by the cash day) unless the claim ends first (cancelled). Returns
/// whether it was cancelled.
pub(crate) fn grant<P: Pool, L: Ledger>(
    w: &World,
    rq: &Request,
    rec: &mut Financing,
    amount: f64,
    lag: i32,
    delivered: M,
    ledger: &mut L,
) -> bool {
    let cash_day = w.cal.add_workdays(rq.day, lag);
    let end = rq.end;
    let cancelled = end <= cash_day;
    rec.backed_by = Some(P::KIND);
    rec.amount = amount;
    rec.cash_day = cash_day;
    rec.cancelled = cancelled;
    if !cancelled {
        if (0..w.end).contains(&cash_day) {
            ledger.flow(rq.g, delivered, amount);
        }
        ledger.held(rq.g, cash_day, end, amount);
    }
    cancelled
}

/// `a / b`, or NaN when `b` is not positive (an empty share).
#[inline]
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

macro_rules! registry {
    ($($kind:ident => $ty:ty,)*) => {
        /// One enabled mechanism on a path (static dispatch over [`Pool`]).
        #[derive(Debug)]
        pub enum AnyPool { $(
            #[doc = concat!("[`", stringify!($ty), "`]")]
            $kind($ty),
        )* }

        /// Calls `$body` with `$p` bound to the pool inside `$pool`.
        macro_rules! dispatch {
            ($pool:expr, $p:ident => $body:expr) => {
                match $pool { $(AnyPool::$kind($p) => $body,)* }
            };
        }

        /// Calls `$body` with `$T` the pool type of mechanism `$kind`.
        macro_rules! by_kind {
            ($k:expr, $T:ident => $body:expr) => {
                match $k { $(Mechanism::$kind => { type $T = $ty; $body })* }
            };
        }

        impl AnyPool {
            /// A fresh pool of mechanism `k`.
            pub fn new(k: Mechanism) -> Self {
                match k { $(Mechanism::$kind => AnyPool::$kind(<$ty>::default()),)* }
            }
        }
    };
}

// The registry: one line per mechanism.
registry! {
    Turnover => turnover::Turnover,
    Guarantee => guarantee::Guarantee,
    Credit => credit::Credit,
    Service => service::Service,
}

impl Mechanism {
    /// Every mechanism, in the order of their metric rows and daily series.
    pub const ALL: [Mechanism; 4] = [
        Mechanism::Turnover,
        Mechanism::Guarantee,
        Mechanism::Credit,
        Mechanism::Service,
    ];

    /// Its name in `finance.order` and in `pools.NAME`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Turnover => "turnover",
            Mechanism::Guarantee => "guarantee",
            Mechanism::Credit => "credit",
            Mechanism::Service => "service",
        }
    }

    /// The mechanism named `name` in `finance.order`.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the scenario enables it.
    pub fn enabled(self, s: &Scenario) -> bool {
        by_kind!(self, T => T::enabled(s))
    }

    /// Public capital it commits (for `fiscal_cost`).
    pub fn public_capital(self, s: &Scenario) -> f64 {
        by_kind!(self, T => T::public_capital(s))
    }

    /// Whether it finances claims (turnover, guarantee, service) rather than
    /// lending against a line (credit).
    pub fn claim_backed(self) -> bool {
        by_kind!(self, T => T::CLAIM_BACKED)
    }

    /// Chinese and English names.
    pub fn label(self) -> (&'static str, &'static str) {
        by_kind!(self, T => T::LABEL)
    }

    /// Its daily series: name, Chinese and English labels.
    pub fn series(self) -> (&'static str, &'static str, &'static str) {
        by_kind!(self, T => T::SERIES)
    }

    /// The metric of the cash it delivers.
    pub fn delivered(self) -> M {
        by_kind!(self, T => T::DELIVERED)
    }

    /// The metrics of its losses, the public part first.
    pub fn losses(self) -> &'static [M] {
        by_kind!(self, T => T::LOSSES)
    }

    /// The key (in `pools.NAME`) of the public money it commits; `None` for private money.
    pub fn public_capital_key(self) -> Option<&'static str> {
        by_kind!(self, T => T::PUBLIC_CAPITAL_KEY)
    }
}

/// The enabled mechanisms, in the canonical order ([`Mechanism::ALL`]).
pub fn enabled(s: &Scenario) -> impl Iterator<Item = Mechanism> + '_ {
    Mechanism::ALL.into_iter().filter(|m| m.enabled(s))
}

impl AnyPool {
    /// Its identity.
    #[inline]
    pub fn kind(&self) -> Mechanism {
        dispatch!(self, _p => pool_kind(_p))
    }

    /// See [`Pool::begin`].
    pub fn begin(&mut self, w: &World) {
        dispatch!(self, p => p.begin(w))
    }

    /// See [`Pool::admits`].
    pub fn admits(&self, w: &World, ei: usize) -> bool {
        dispatch!(self, p => p.admits(w, ei))
    }

    /// See [`Pool::offer`]. Always inlined: see `finance::offer`.
    #[inline(always)]
    pub fn offer<L: Ledger>(
        &mut self,
        w: &World,
        rq: &Request,
        rec: &mut Financing,
        ledger: &mut L,
    ) -> Outcome {
        dispatch!(self, p => p.offer(w, rq, rec, ledger))
    }

    /// See [`Pool::settle`].
    #[inline]
    pub fn settle<L: Ledger>(
        &mut self,
        w: &World,
        st: &Settlement,
        rec: &Financing,
        ledger: &mut L,
    ) -> f64 {
        dispatch!(self, p => p.settle(w, st, rec, ledger))
    }

    /// See [`Pool::on_default`].
    pub fn on_default<L: Ledger>(
        &mut self,
        w: &World,
        ei: usize,
        g: Cell,
        d: i32,
        fin: &mut [Financing],
        ledger: &mut L,
    ) {
        dispatch!(self, p => p.on_default(w, ei, g, d, fin, ledger))
    }

    /// See [`Pool::next_waiting`].
    pub fn next_waiting<L: Ledger>(
        &mut self,
        w: &World,
        d: i32,
        fin: &mut [Financing],
        defaulted_on: &[i32],
        ledger: &mut L,
    ) -> Option<(Request, bool)> {
        dispatch!(self, p => p.next_waiting(w, d, fin, defaulted_on, ledger))
    }

    /// See [`Pool::end_of_day`].
    #[inline]
    pub fn end_of_day(&mut self, d: i32, in_window: bool) {
        dispatch!(self, p => p.end_of_day(d, in_window))
    }

    /// See [`Pool::finish`].
    pub fn finish(&self, w: &World, m: &mut [f64]) {
        dispatch!(self, p => p.finish(w, m))
    }

    /// See [`Pool::series`].
    pub fn series(&self) -> &[f64] {
        dispatch!(self, p => p.series())
    }

    /// See [`Pool::audit`].
    pub fn audit(&self, w: &World, fin: &[Financing], claims: &[Claim]) -> Result<(), String> {
        dispatch!(self, p => p.audit(w, fin, claims))
    }
}

/// The identity of a pool, from its type.
#[inline]
fn pool_kind<P: Pool>(_: &P) -> Mechanism {
    P::KIND
}

/// The audit's tolerance around a value `x`.
#[inline]
pub(crate) fn tol(x: f64) -> f64 {
    1e-6 * (1.0 + x.abs())
}

/// Compares `(what, from the records, running total)` triples: the first that
/// differ beyond [`tol`].
pub(crate) fn compare(checks: &[(&str, f64, f64)]) -> Result<(), String> {
    for &(name, a, b) in checks {
        if (a - b).abs() > tol(a) {
            return Err(format!("{name}: records give {a}, running total {b}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eligibility_needs_platform_class_no_default_and_a_live_claim() {
        let classes = [true, true, false, false];
        assert!(admits(true, 0, &classes) && live(false, 10, 9));
        assert!(!admits(false, 0, &classes), "platform");
        assert!(!admits(true, 2, &classes), "class III not served");
        assert!(!live(true, 10, 9), "defaulted");
        assert!(!live(false, 10, 10), "ends on the request day");
        assert!(!live(false, 8, 10), "already ended");
    }

    #[test]
    fn names_round_trip_and_only_credit_is_not_claim_backed() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
            assert_eq!(m.claim_backed(), m != Mechanism::Credit);
            assert!(m.series().0.starts_with(m.name()));
            assert!(m.delivered().name().starts_with(m.name()));
            assert!(m.losses().iter().all(|l| l.name().starts_with(m.name())));
        }
        assert_eq!(Mechanism::from_name("bank"), None);
        // Only the service company is private money.
        assert_eq!(Mechanism::Service.public_capital_key(), None);
        assert!(
            Mechanism::ALL[..3]
                .iter()
                .all(|m| m.public_capital_key().is_some())
        );
    }

    #[test]
    fn empty_shares_are_nan() {
        assert!(ratio(1.0, 0.0).is_nan());
        assert_eq!(ratio(1.0, 4.0), 0.25);
    }
}

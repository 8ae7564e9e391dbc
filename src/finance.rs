//! The finance phase (MODEL.md §6, §13): the order of offers, the settlement
//! calendar and the per-claim ledger; the mechanisms themselves live in
//! [`crate::mechanism`], the default model in [`crate::defaults`].
//!
//! Runs day by day over one path's claims (already in claim order, with their
//! stage days and payment days known). Each day, in this order: (1) settle every
//! financed claim that ends today — repayments, fees, interest, denial losses;
//! (2) defaults; (3) serve waiting queues (the turnover pool's) from their head;
//! (4) new requests, in claim order, each offered to the mechanisms in
//! `finance.order`. A claim is financed by at most one claim-backed mechanism
//! (turnover, guarantee or service); a credit line may then cover what is still
//! unfinanced.
//!
//! The bookkeeping keeps every yuan: each mechanism's balance is capital −
//! outstanding − losses (+ fees where they revolve), checked by [`Finance::audit`].

use crate::calendar::NEVER;
use crate::ledger::{Cell, Claim, Financing, Ledger, World};
use crate::mechanism::{self, AnyPool, Mechanism, Outcome, Request, Settlement, live, refill};
use crate::metrics::{M, METRICS, Source};
use crate::scenario::{Scenario, Trigger};

/// Whether any liquidity mechanism is enabled.
pub fn mechanisms_on(s: &Scenario) -> bool {
    mechanism::enabled(s).next().is_some()
}

/// Whether the path needs the day-by-day finance phase (mechanisms or defaults).
pub fn active(s: &Scenario) -> bool {
    mechanisms_on(s) || s.credit_risk.is_some()
}

/// Names of the daily series the finance phase adds (one per enabled
/// mechanism, in the canonical order of [`Mechanism::ALL`]).
pub fn series_names(s: &Scenario) -> Vec<&'static str> {
    mechanism::enabled(s).map(|m| m.series().0).collect()
}

/// Whether the metrics of `source` are defined for scenario `s`: a mechanism's
/// rows are empty (NaN) where it is off, the default rows without `[credit_risk]`.
pub fn source_on(source: Source, s: &Scenario) -> bool {
    match source {
        Source::Claims | Source::Timeline | Source::Mechanisms | Source::Budget => true,
        Source::Defaults => s.credit_risk.is_some(),
        Source::Pool(m) => m.enabled(s),
    }
}

/// State and results of the mechanisms on one path.
#[derive(Debug, Default)]
pub struct Finance {
    /// Per claim, in claim order.
    pub fin: Vec<Financing>,
    /// The enabled mechanisms, in `finance.order`.
    pools: Vec<AnyPool>,
    /// Index in `pools` of each mechanism (by [`Mechanism`] as usize).
    slot: [Option<u8>; 4],
    /// Defaults in the window.
    defaults: f64,
    defaulted_on: Vec<i32>,
    /// Per exporter: the mechanisms its platform, class (and client draw) allow,
    /// bit `k` for `pools[k]`, looked up once per path instead of once per
    /// request (the exporters' records are large and requests jump between them).
    allowed: Vec<u8>,
    /// Reused buffers: request buckets and the settlement calendar.
    buffers: Buffers,
}

/// Day lists reused from path to path (large: a record per financed claim).
#[derive(Debug, Default)]
struct Buffers {
    /// Per trigger day, the requests that can be served, in claim order.
    requests: DayLists<Ask>,
    settle: Settlements,
}

/// What the day loop needs of a claim, copied once, when its request is
/// bucketed in one pass over the claims: the loop then streams through a
/// day's requests and settlements in these compact lists instead of jumping
/// between the claims (a day's requests are scattered over the claims, which
/// are in declaration order, and a path's claims take ~10 MB).
#[derive(Debug, Clone, Copy)]
struct Ask {
    /// Refund claimed, `R`.
    r: f64,
    /// Claim index.
    i: u32,
    /// Exporter index.
    exporter: u32,
    /// The day the claim ends ([`Claim::end`]).
    end: i32,
    /// Denied at `t3`.
    denied: bool,
    /// The mechanisms the exporter may use, bit `k` for `pools[k]`.
    allowed: u8,
}

impl Ask {
    #[inline]
    fn of(i: usize, c: &Claim, allowed: u8) -> Self {
        Ask {
            r: c.r,
            i: i as u32,
            exporter: c.exporter,
            end: c.end(),
            denied: c.denied,
            allowed,
        }
    }

    /// The ask of a request a mechanism's queue gives back.
    #[inline]
    fn of_request(rq: &Request, allowed: u8) -> Self {
        Ask {
            r: rq.r,
            i: rq.i as u32,
            exporter: rq.exporter as u32,
            end: rq.end,
            denied: rq.denied,
            allowed,
        }
    }

    /// The request a mechanism sees on `day`.
    #[inline]
    fn request(&self, day: i32, g: Cell, in_window: bool, unfinanced: f64) -> Request {
        Request {
            i: self.i as usize,
            exporter: self.exporter as usize,
            r: self.r,
            end: self.end,
            denied: self.denied,
            day,
            g,
            in_window,
            unfinanced,
        }
    }

    /// Whether any mechanism may take it on day `d`: the exporter may use
    /// one, has not defaulted (on `defaulted_on`), and the claim is live.
    #[inline]
    fn open(&self, defaulted_on: i32, d: i32) -> bool {
        self.allowed != 0 && live(defaulted_on <= d, self.end, d)
    }
}

/// One list per day of the run, in the order items were added (the lists
/// keep their allocations from path to path).
#[derive(Debug)]
struct DayLists<T> {
    first: i32,
    lists: Vec<Vec<T>>,
}

impl<T> Default for DayLists<T> {
    fn default() -> Self {
        DayLists {
            first: 0,
            lists: Vec::new(),
        }
    }
}

impl<T> DayLists<T> {
    fn reset(&mut self, first: i32, end: i32) {
        let days = (end - first) as usize;
        self.first = first;
        self.lists.truncate(days);
        self.lists.iter_mut().for_each(Vec::clear);
        self.lists.resize_with(days, Vec::new);
    }

    #[inline]
    fn push(&mut self, d: i32, x: T) {
        self.lists[(d - self.first) as usize].push(x);
    }

    /// Day `d`'s list, lent out (give it back with [`DayLists::give_back`]).
    #[inline]
    fn take(&mut self, d: i32) -> Vec<T> {
        std::mem::take(&mut self.lists[(d - self.first) as usize])
    }

    #[inline]
    fn give_back(&mut self, d: i32, list: Vec<T>) {
        self.lists[(d - self.first) as usize] = list;
    }
}

/// The settlement calendar: per end day, the financed claims ending then, in
/// the order they were first financed (claim indices: settling reads the
/// claim's financing record only).
#[derive(Debug, Default)]
struct Settlements {
    days: DayLists<u32>,
    end: i32,
}

impl Settlements {
    fn reset(&mut self, first: i32, end: i32) {
        self.days.reset(first, end);
        self.end = end;
    }

    /// Claim `a` (record `rec`) was just financed by a mechanism: when it is
    /// the first (`first`), copies what settling needs of the claim into the
    /// record and lists the claim for settlement if it ends in the run.
    #[inline]
    fn financed(&mut self, rec: &mut Financing, a: &Ask, first: bool) {
        if first {
            rec.exporter = a.exporter;
            rec.denied = a.denied;
            if a.end < self.end {
                self.days.push(a.end, a.i);
            }
        }
    }
}

/// The day a claim asks for financing ([`NEVER`] if it never does).
#[inline]
fn trigger_day(trigger: Trigger, c: &Claim) -> i32 {
    match trigger {
        Trigger::Declared => c.t0,
        Trigger::Filed => c.t2,
        Trigger::Approved => {
            if c.denied {
                NEVER
            } else {
                c.t3
            }
        }
    }
}

impl Finance {
    /// Forgets the last path (keeping allocations).
    pub fn reset(&mut self) {
        self.fin.clear();
        self.defaults = 0.0;
    }

    /// `(financing cash delivered for claim i, Σ amount × days from t0 to its cash day)`.
    pub fn financed_cash(&self, i: usize, c: &Claim) -> (f64, f64) {
        let Some(f) = self.fin.get(i) else {
            return (0.0, 0.0);
        };
        let mut cash = 0.0;
        let mut amount_days = 0.0;
        if f.backed_by.is_some() && !f.cancelled {
            cash += f.amount;
            amount_days += f.amount * (f.cash_day - c.t0) as f64;
        }
        if f.credit > 0.0 {
            cash += f.credit;
            amount_days += f.credit * (f.credit_day - c.t0) as f64;
        }
        (cash, amount_days)
    }

    /// The mechanism `k` of the last path, if it was enabled.
    pub fn pool(&self, k: Mechanism) -> Option<&AnyPool> {
        self.slot[k as usize].map(|i| &self.pools[i as usize])
    }

    /// The guarantee pool's running totals on the last path, if it was enabled.
    pub fn guarantee_totals(&self) -> Option<mechanism::guarantee::GuaranteeTotals> {
        match self.pool(Mechanism::Guarantee)? {
            AnyPool::Guarantee(g) => Some(g.totals),
            _ => None,
        }
    }

    /// The daily series this phase produced (see [`series_names`]).
    pub fn series(&self, s: &Scenario) -> Vec<Vec<f64>> {
        if !mechanisms_on(s) {
            return Vec::new();
        }
        mechanism::enabled(s)
            .filter_map(|k| self.pool(k))
            .map(|p| p.series().to_vec())
            .collect()
    }

    /// Fills group `g`'s mechanism metrics (flows are already in place): empty
    /// (NaN) where the owner is off, as [`METRICS`] declares; then, for the
    /// total group, each mechanism's window statistics, the default rate and
    /// the fiscal cost.
    pub fn finish_group(&self, w: &World, g: usize, m: &mut [f64], per_year: f64) {
        let s = w.scenario;
        for (v, def) in m.iter_mut().zip(METRICS) {
            if !source_on(def.source, s) {
                *v = f64::NAN;
            }
        }
        if g != 0 {
            return;
        }
        if mechanisms_on(s) {
            for p in &self.pools {
                p.finish(w, m);
            }
        }
        if s.credit_risk.is_some() {
            m[M::CreditDefaultRate as usize] =
                mechanism::ratio(self.defaults * per_year, w.exporters.len() as f64);
        }
        let committed = Mechanism::ALL
            .iter()
            .filter(|k| k.enabled(s))
            .fold(0.0, |a, k| a + k.public_capital(s));
        let public_losses = [M::TurnoverLoss, M::GuaranteeLossPool, M::CreditLossFund]
            .iter()
            .map(|k| m[*k as usize])
            .filter(|v| !v.is_nan())
            .sum::<f64>();
        m[M::FiscalCost as usize] = committed * s.economy.gov_rate + public_losses;
    }

    /// Sets up the path: the pools in `finance.order`, what each exporter may
    /// use, the per-claim records and the default days.
    fn prepare(&mut self, w: &World, claims: usize, defaults: Option<&[i32]>) {
        let s = w.scenario;
        let n_exp = w.exporters.len();
        let order = s.finance.order.iter().copied().filter(|m| m.enabled(s));
        if !order.clone().eq(self.pools.iter().map(AnyPool::kind)) {
            self.pools = order.map(AnyPool::new).collect();
        }
        self.slot = [None; 4];
        for (k, p) in self.pools.iter_mut().enumerate() {
            p.begin(w);
            self.slot[p.kind() as usize] = Some(k as u8);
        }
        refill(&mut self.fin, claims, Financing::default());
        self.allowed.clear();
        let pools = &self.pools;
        self.allowed.extend((0..n_exp).map(|ei| {
            pools
                .iter()
                .enumerate()
                .filter(|(_, p)| p.admits(w, ei))
                .fold(0u8, |m, (k, _)| m | (1 << k))
        }));
        match defaults {
            Some(d) => {
                self.defaulted_on.clear();
                self.defaulted_on.extend_from_slice(d);
            }
            None => refill(&mut self.defaulted_on, n_exp, NEVER),
        }
    }

    /// Runs the mechanisms over one path's claims (in claim order). Not
    /// inlined: once a path, and profiles then show the finance phase apart.
    #[inline(never)]
    pub fn run<L: Ledger>(
        &mut self,
        w: &World,
        claims: &[Claim],
        defaults: Option<&[i32]>,
        ledger: &mut L,
    ) {
        self.reset();
        if !mechanisms_on(w.scenario) {
            // Defaults only: nothing is financed, so there are no requests,
            // settlements or balances to keep: count the defaults and stop.
            self.count_defaults(w, defaults, ledger);
            return;
        }
        self.prepare(w, claims.len(), defaults);
        let mut b = std::mem::take(&mut self.buffers);
        self.bucket_requests(w, claims, &mut b.requests);
        b.settle.reset(w.first, w.end);
        // Defaults by day.
        let mut default_list: Vec<(i32, u32)> = self
            .defaulted_on
            .iter()
            .enumerate()
            .filter(|(_, d)| (w.first..w.end).contains(*d))
            .map(|(i, d)| (*d, i as u32))
            .collect();
        default_list.sort_unstable();
        let mut next_default = 0;
        for d in w.first..w.end {
            self.settle_day(w, d, &mut b.settle, ledger);
            // (2) Defaults.
            while next_default < default_list.len() && default_list[next_default].0 == d {
                let ei = default_list[next_default].1 as usize;
                self.default_exporter(w, ei, d, ledger);
                next_default += 1;
            }
            self.serve_queues(w, d, &mut b.settle, ledger);
            // (4) New requests, in claim order. A claim asks once, on its
            // trigger day, and nothing touches its record before: it is
            // written afresh rather than read (today's requests are scattered
            // over the claims; a read would wait for a cache miss, the write
            // need not).
            let today = b.requests.take(d);
            for a in &today {
                let rec = &mut self.fin[a.i as usize];
                *rec = Financing::default();
                offer(&mut self.pools, w, a, rec, d, 0, &mut b.settle, ledger);
            }
            b.requests.give_back(d, today);
            for p in &mut self.pools {
                p.end_of_day(d, d >= 0);
            }
        }
        self.buffers = b;
    }

    /// (1) Settles the claims ending on day `d`: touches their records in
    /// one loop (overlapping the cache misses), then settles each.
    fn settle_day<L: Ledger>(
        &mut self,
        w: &World,
        d: i32,
        settle: &mut Settlements,
        ledger: &mut L,
    ) {
        let due = settle.days.take(d);
        let warm = due
            .iter()
            .fold(0.0, |acc, &i| acc + self.fin[i as usize].amount);
        std::hint::black_box(warm);
        for &i in &due {
            self.settle(w, i as usize, d, ledger);
        }
        settle.days.give_back(d, due);
    }

    /// (3) Serves each mechanism's waiting queue from its head: a claim that
    /// leaves it (financed or not) is offered to the mechanisms after it.
    fn serve_queues<L: Ledger>(
        &mut self,
        w: &World,
        d: i32,
        settle: &mut Settlements,
        ledger: &mut L,
    ) {
        for k in 0..self.pools.len() {
            while let Some((rq, served)) =
                self.pools[k].next_waiting(w, d, &mut self.fin, &self.defaulted_on, ledger)
            {
                let ei = rq.exporter;
                let a = Ask::of_request(&rq, self.allowed[ei]);
                let rec = &mut self.fin[rq.i];
                if served {
                    // A waiting claim has no claim-backed financing: it was
                    // financed before only if it drew credit.
                    let first = rec.credit <= 0.0;
                    settle.financed(rec, &a, first);
                }
                if a.open(self.defaulted_on[ei], d) {
                    offer(&mut self.pools, w, &a, rec, d, k + 1, settle, ledger);
                }
            }
        }
    }

    /// The finance phase without mechanisms: only defaults happen, and each adds one
    /// to a count, so they need no day loop (the sums are whole numbers, exact in
    /// any order).
    fn count_defaults<L: Ledger>(&mut self, w: &World, defaults: Option<&[i32]>, ledger: &mut L) {
        let Some(d) = defaults else { return };
        for (ei, &day) in d.iter().enumerate() {
            if (w.first..w.end).contains(&day) {
                self.default_exporter(w, ei, day, ledger);
            }
        }
    }

    /// Settles claim `i`, which ends on day `d`: repayments, fees, interest, losses.
    fn settle<L: Ledger>(&mut self, w: &World, i: usize, d: i32, ledger: &mut L) {
        let f = self.fin[i];
        let exporter = f.exporter as usize;
        let g = w.cell_of(exporter);
        let in_window = (0..w.end).contains(&d);
        let st = Settlement {
            i,
            exporter,
            denied: f.denied,
            day: d,
            g,
            in_window,
        };
        let mut charges = 0.0;
        if let Some(k) = f.backed_by.and_then(|m| self.slot[m as usize]) {
            charges += self.pools[k as usize].settle(w, &st, &f, ledger);
        }
        if f.credit > 0.0
            && !f.credit_lost
            && let Some(k) = self.slot[Mechanism::Credit as usize]
        {
            charges += self.pools[k as usize].settle(w, &st, &f, ledger);
        }
        if in_window {
            ledger.flow(g, M::FinancingCost, charges);
        }
    }

    /// Buckets the requests that some mechanism may take (the exporter may use
    /// one, has not defaulted, the claim is live on its trigger day) by trigger
    /// day, in claim order, in one pass over the claims. The requests left out
    /// are those whose offer would change nothing.
    fn bucket_requests(&self, w: &World, claims: &[Claim], requests: &mut DayLists<Ask>) {
        let (first, end) = (w.first, w.end);
        let trigger = w.scenario.finance.trigger;
        requests.reset(first, end);
        for (i, c) in claims.iter().enumerate() {
            let t = trigger_day(trigger, c);
            if t < first || t >= end {
                continue;
            }
            let ei = c.exporter as usize;
            let a = Ask::of(i, c, self.allowed[ei]);
            if a.open(self.defaulted_on[ei], t) {
                requests.push(t, a);
            }
        }
    }

    /// Exporter `ei` defaults on day `d`: counted, and each mechanism books what
    /// it loses (credit: its outstanding draws at `lgd`).
    fn default_exporter<L: Ledger>(&mut self, w: &World, ei: usize, d: i32, ledger: &mut L) {
        let g = w.cell_of(ei);
        if d >= 0 {
            self.defaults += 1.0;
            ledger.flow(g, M::CreditDefaults, 1.0);
        }
        if !mechanisms_on(w.scenario) {
            return;
        }
        for p in &mut self.pools {
            p.on_default(w, ei, g, d, &mut self.fin, ledger);
        }
    }

    /// Recomputes every balance from the per-claim records and compares it with the
    /// running totals: the accounting identities of MODEL.md §6, for every enabled
    /// mechanism. Returns the first discrepancy found. `claims` must be the claims
    /// the path ran on.
    pub fn audit(&self, w: &World, claims: &[Claim]) -> Result<(), String> {
        for (f, c) in self.fin.iter().zip(claims) {
            if f.amount + f.credit > c.r * (1.0 + 1e-12) {
                return Err(format!(
                    "claim of {} financed {} + {}",
                    c.r, f.amount, f.credit
                ));
            }
            if f.financed() && (f.exporter != c.exporter || f.denied != c.denied) {
                return Err(format!(
                    "financing record of a claim of {} is not its own",
                    c.r
                ));
            }
            if f.backed_by.is_some_and(|m| self.pool(m).is_none()) {
                return Err(format!("{:?} financing without the mechanism", f.backed_by));
            }
        }
        if mechanisms_on(w.scenario) {
            for p in &self.pools {
                p.audit(w, &self.fin, claims)?;
            }
        }
        Ok(())
    }
}

/// Offers claim `a` (record `rec`) on day `d` to the mechanisms
/// `pools[start..]`, in `finance.order`; the caller has checked that some
/// mechanism may take it ([`Ask::open`]). Stops when it joins a queue or is
/// fully financed.
///
/// Inlined (with the pools' offers) into the request loop, where the record
/// was just written empty: the compiler then knows its fields instead of
/// loading them back (measured: the turnover pool's offer, out of line,
/// stalled on those loads).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn offer<L: Ledger>(
    pools: &mut [AnyPool],
    w: &World,
    a: &Ask,
    rec: &mut Financing,
    d: i32,
    start: usize,
    settle: &mut Settlements,
    ledger: &mut L,
) {
    let g = w.cell_of(a.exporter as usize);
    for (k, pool) in pools.iter_mut().enumerate().skip(start) {
        // Each mechanism finances at most the still-unfinanced part of R.
        let unfinanced = a.r - rec.amount - rec.credit;
        if unfinanced <= 0.0 {
            break;
        }
        if a.allowed & (1 << k) == 0 || (rec.backed_by.is_some() && pool.kind().claim_backed()) {
            continue;
        }
        let rq = a.request(d, g, d >= 0, unfinanced);
        let first = !rec.financed();
        match pool.offer(w, &rq, rec, ledger) {
            Outcome::Declined => {}
            Outcome::Granted => settle.financed(rec, a, first),
            Outcome::Queued => break,
        }
    }
}

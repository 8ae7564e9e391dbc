//! The Monte Carlo engine: one path is a year of shipments, claims, the refund
//! budget and the mechanisms; paths run in parallel with rayon and are combined
//! in path order, so results are identical for any thread count (MODEL.md §8).
//!
//! A path runs in phases: draw shipments and each claim's stage days exporter by
//! exporter; put claims in claim order `(t0, exporter, shipment number)` with a
//! counting sort; pay them from the refund budget; run the mechanisms day by day
//! ([`crate::finance`]); and accumulate metrics with difference arrays over the
//! measurement window.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::budget::{self, Waiting};
use crate::calendar::{Calendar, NEVER};
use crate::finance::{self, Finance};
use crate::metrics::{M, N_METRICS};
use crate::population::{self, Exporter};
use crate::rng::{KeyPrefix, Purpose, Stream};
use crate::scenario::{QuotaOrder, Scenario};
use crate::timeline::Timeline;

/// Days after the window the calendar still covers (stage days past it are NEVER).
const CALENDAR_TAIL: i32 = 800;

/// A refund claim on one path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    /// Declared (shipment day).
    pub t0: i32,
    /// Filed.
    pub t2: i32,
    /// Reviewed (approved or denied).
    pub t3: i32,
    /// Ready for payment (treasury done); NEVER if denied.
    pub t4: i32,
    /// Paid; NEVER if denied or not paid by the end of the window.
    pub t5: i32,
    /// Exporter index.
    pub exporter: u32,
    /// Denied at `t3`.
    pub denied: bool,
    /// Held for supplier verification before `t3` (for refund records, §14).
    pub verified: bool,
    /// Refund claimed (CNY).
    pub r: f64,
}

impl Claim {
    /// The day the claim ends: paid (`t5`) or denied (`t3`).
    #[inline]
    pub fn end(&self) -> i32 {
        if self.denied { self.t3 } else { self.t5 }
    }
}

/// Everything a path needs that does not change between paths.
#[derive(Debug, Clone)]
pub struct Model {
    /// The scenario.
    pub scenario: Scenario,
    /// Working days from the first warm-up day to well past the window.
    pub cal: Calendar,
    /// The exporters.
    pub exporters: Vec<Exporter>,
    /// The compiled refund-speed policy.
    pub timeline: Timeline,
    /// First simulated day (−warmup).
    pub first: i32,
    /// End of the window (horizon_days): days `0 .. end` are measured.
    pub end: i32,
    /// `season_cum[i]`: Σ season factors over days `first .. first + i`.
    season_cum: Vec<f64>,
    /// `season_guide[j]`: the first day index `c` with `season_cum[c + 1] > j ·
    /// season_step`, where the search for a shipment's day may start.
    season_guide: Vec<u32>,
    /// Width of a bucket of cumulative intensity in [`Model::season_guide`].
    season_step: f64,
    /// Platform and class group of each exporter (small and contiguous, for the
    /// per-claim loops).
    group_of: Vec<[u16; 2]>,
    /// Mean FOB per shipment, by exporter.
    fob_unit: Vec<f64>,
    /// Refund per yuan of FOB, by exporter.
    refund_per_fob: Vec<f64>,
    /// Shipments per day at season factor 1, by exporter.
    rate: Vec<f64>,
    /// Queue priority level of each exporter for the budget.
    priority: Vec<u8>,
    /// Number of metric groups: total, each platform, each class.
    pub groups: usize,
    /// Things about this model the results depend on that a user should know.
    pub warnings: Vec<String>,
}

/// Everything about a scenario and its exporters the results depend on that a
/// user should know, as values for the binary to show (and the manifest to keep):
/// the drawn population's [`population::warnings`], a window outside the official
/// calendar ([`crate::calendar::coverage_warning`]), a warm-up shorter than the
/// pipeline ([`crate::timeline::warmup_warning`]) and a refund budget far below
/// demand ([`crate::budget::demand_warning`]).
pub fn warnings(s: &Scenario, exporters: &[Exporter]) -> Vec<String> {
    let mut warnings = population::warnings(s, exporters);
    let extra: Vec<chrono::NaiveDate> = s
        .calendar
        .holidays
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .chain(s.calendar.workdays.iter().copied())
        .collect();
    warnings.extend(crate::calendar::coverage_warning(
        s.calendar.working_days,
        &s.calendar.file,
        &s.calendar.official,
        &extra,
        s.start_date,
        -s.warmup_days,
        s.horizon_days,
    ));
    warnings.extend(crate::timeline::warmup_warning(s));
    warnings.extend(crate::budget::demand_warning(s, exporters));
    warnings
}

impl Model {
    /// Prepares a scenario for simulation.
    pub fn new(scenario: Scenario) -> Self {
        let s = &scenario;
        let first = -s.warmup_days;
        let end = s.horizon_days;
        let cal = Calendar::new(
            s.start_date,
            first,
            end + CALENDAR_TAIL,
            s.calendar.working_days,
            &s.calendar.official,
            &s.calendar.holidays,
            &s.calendar.workdays,
        );
        let mut season_cum = Vec::with_capacity((end - first + 1) as usize);
        let mut acc = 0.0;
        season_cum.push(0.0);
        for t in first..end {
            acc += s.economy.season[chrono::Datelike::month0(&cal.date(t)) as usize];
            season_cum.push(acc);
        }
        // A guide into season_cum, one bucket per day on average, so that finding a
        // shipment's day is a short walk instead of a walk over every day.
        let days = season_cum.len() - 1;
        let season_step = acc / days.max(1) as f64;
        let mut season_guide = Vec::with_capacity(days + 1);
        let mut c = 0usize;
        for j in 0..=days {
            let x = j as f64 * season_step;
            while c + 1 < days && season_cum[c + 1] <= x {
                c += 1;
            }
            season_guide.push(c as u32);
        }
        let exporters = population::exporters(s);
        let group_of = exporters
            .iter()
            .map(|e| {
                [
                    (1 + e.platform) as u16,
                    (1 + s.platforms.len() + e.class) as u16,
                ]
            })
            .collect();
        let fob_unit = exporters
            .iter()
            .map(|e| e.annual_exports / e.shipments_per_year.max(1e-12))
            .collect();
        let refund_per_fob = exporters.iter().map(|e| e.refund_per_fob(s)).collect();
        let rate = exporters
            .iter()
            .map(|e| e.shipments_per_year / 365.0)
            .collect();
        let priority = exporters
            .iter()
            .map(|e| match s.policy.quota.as_ref().map(|q| q.order) {
                Some(QuotaOrder::PilotFirst) => u8::from(!e.pilot),
                Some(QuotaOrder::Class) => e.pclass as u8,
                _ => 0,
            })
            .collect();
        let groups = 1 + s.platforms.len() + 4;
        let warnings = warnings(s, &exporters);
        Model {
            timeline: Timeline::new(s),
            scenario,
            cal,
            exporters,
            first,
            end,
            season_cum,
            season_guide,
            season_step,
            group_of,
            fob_unit,
            refund_per_fob,
            rate,
            priority,
            groups,
            warnings,
        }
    }

    /// Group index of an exporter's platform.
    #[inline]
    pub fn platform_group(&self, e: &Exporter) -> usize {
        1 + e.platform
    }

    /// Group index of an exporter's actual class.
    #[inline]
    pub fn class_group(&self, e: &Exporter) -> usize {
        1 + self.scenario.platforms.len() + e.class
    }

    /// The day index (from `first`) of a shipment at cumulative intensity `sum`
    /// (`0 ≤ sum <` the total): the first day whose cumulative intensity passes
    /// `sum`. `from` is a day known not to be later (the previous shipment's).
    #[inline]
    fn shipment_day(&self, sum: f64, from: usize) -> usize {
        // Start from the guide's lower bound, one bucket below `sum / step` so that
        // rounding never starts past the day.
        let j = ((sum / self.season_step) as usize)
            .saturating_sub(1)
            .min(self.season_guide.len() - 1);
        let mut c = from.max(self.season_guide[j] as usize);
        while self.season_cum[c + 1] <= sum {
            c += 1;
        }
        c
    }

    /// The three metric groups of exporter `ei`: total, platform, class.
    #[inline]
    pub fn groups_of(&self, ei: usize) -> [usize; 3] {
        let [p, c] = self.group_of[ei];
        [0, p as usize, c as usize]
    }

    /// Names of the daily series in [`PathResult::series`].
    pub fn series_names(&self) -> Vec<&'static str> {
        let mut v = vec!["tied_up_gross", "tied_up_net"];
        v.extend(finance::series_names(&self.scenario));
        v
    }
}

/// The results of one path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathResult {
    /// Metrics in [`crate::metrics::METRICS`] order.
    pub metrics: Vec<f64>,
    /// Metrics by group: `[0]` total (same as `metrics`), then platforms, then classes I–IV.
    pub groups: Vec<Vec<f64>>,
    /// Daily series (end of day) over the window, named by [`Model::series_names`].
    pub series: Vec<Vec<f64>>,
    /// Claims simulated, warm-up included.
    pub claims_simulated: u64,
}

/// Buffers reused from path to path on one thread.
#[derive(Default)]
pub struct Scratch {
    claims: Vec<Claim>,
    sorted: Vec<Claim>,
    fin: Finance,
    order: Vec<u32>,
    counts: Vec<u32>,
    waiting: Vec<Waiting>,
    paid_on: Vec<i32>,
    acc: Acc,
}

/// Per-path accumulators over the window, by group.
#[derive(Default)]
pub struct Acc {
    h: usize,
    groups: usize,
    /// Difference arrays of gross tied-up refunds, `groups × (h + 1)`.
    gross: Vec<f64>,
    /// Difference arrays of financing cash held against pending claims.
    held: Vec<f64>,
    /// Flow sums (window totals) by group, `groups × N_METRICS`.
    pub flows: Vec<f64>,
    /// Amount-weighted histogram of days to refund, `groups × max_days`.
    hist: Vec<f64>,
    max_days: usize,
    /// Σ R × days to cash, by group.
    cash_days: Vec<f64>,
}

impl Acc {
    fn reset(&mut self, h: usize, groups: usize, max_days: usize) {
        self.h = h;
        self.groups = groups;
        self.max_days = max_days;
        for (v, n) in [
            (&mut self.gross, groups * (h + 1)),
            (&mut self.held, groups * (h + 1)),
            (&mut self.flows, groups * N_METRICS),
            (&mut self.hist, groups * max_days),
            (&mut self.cash_days, groups),
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
    }

    /// Adds `amount` to a flow metric of the three groups of an exporter.
    #[inline]
    pub fn flow(&mut self, g: [usize; 3], m: M, amount: f64) {
        for gi in g {
            self.flows[gi * N_METRICS + m as usize] += amount;
        }
    }

    /// Marks `amount` outstanding over window days `[from, to)` in a difference array.
    #[inline]
    fn span(v: &mut [f64], h: usize, g: [usize; 3], from: i32, to: i32, amount: f64) {
        let a = from.max(0) as usize;
        let b = (to.max(0) as usize).min(h);
        if a < b {
            for gi in g {
                v[gi * (h + 1) + a] += amount;
                v[gi * (h + 1) + b] -= amount;
            }
        }
    }

    /// Financing cash `amount` held by the exporter from `from` until `to`.
    #[inline]
    pub fn held(&mut self, g: [usize; 3], from: i32, to: i32, amount: f64) {
        Self::span(&mut self.held, self.h, g, from, to, amount);
    }

    /// Adds to the Σ R × days-to-cash of the three groups.
    #[inline]
    pub fn cash(&mut self, g: [usize; 3], amount_days: f64) {
        for gi in g {
            self.cash_days[gi] += amount_days;
        }
    }
}

/// Simulates one path.
pub fn simulate_path(model: &Model, path: u32, sc: &mut Scratch) -> PathResult {
    let (result, fin) = simulate_path_detailed(model, path, sc);
    sc.fin = fin; // keep its buffers for the next path
    result
}

impl Scratch {
    /// The claims of the last path simulated with this scratch, in claim order
    /// when the budget or the mechanisms needed it.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }
}

/// Simulates one path and also returns the mechanisms' records (for audits and
/// tests); the path's claims stay in `sc` ([`Scratch::claims`]).
pub fn simulate_path_detailed(model: &Model, path: u32, sc: &mut Scratch) -> (PathResult, Finance) {
    let s = &model.scenario;
    let h = model.end as usize;
    let horizon = model.end;
    let max_days = (model.end - model.first + 1) as usize;
    sc.acc.reset(h, model.groups, max_days);
    sc.claims.clear();

    // Path-level demand factor: lognormal with mean 1.
    let sigma = s.economy.demand_sigma;
    let demand = {
        let z = Stream::new(s.seed, Purpose::Demand, path as u64, 0, 0).normal();
        (sigma * z - 0.5 * sigma * sigma).exp()
    };
    let defaults = finance::default_days(model, path);
    let value_sigma = s.exporters.shipment_value_sigma;
    let total_intensity = *model.season_cum.last().expect("non-empty");

    // Phase 1: shipments and claim stages, exporter by exporter.
    for (ei, e) in model.exporters.iter().enumerate() {
        let g = model.groups_of(ei);
        let rate = model.rate[ei] * demand;
        if rate <= 0.0 {
            continue;
        }
        let stop = defaults.as_ref().map(|d| d[ei]).unwrap_or(NEVER);
        let mut ship = Stream::new(s.seed, Purpose::Shipments, path as u64, ei as u64, 0);
        let claim_key = KeyPrefix::new(s.seed, Purpose::Claim, path as u64, ei as u64);
        let mut sum = 0.0;
        let mut cursor = 0usize;
        let mut k = 0u64;
        let (mut exports, mut claims, mut declared) = (0.0, 0.0, 0.0);
        loop {
            // Next arrival of a Poisson process with intensity rate × season(t),
            // by inverting the cumulative intensity.
            sum += -ship.uniform().ln() / rate;
            let u_value = ship.uniform();
            if sum >= total_intensity {
                break;
            }
            cursor = model.shipment_day(sum, cursor);
            let t0 = model.first + cursor as i32;
            if t0 >= stop {
                break;
            }
            let m = if value_sigma > 0.0 {
                (value_sigma * crate::dist::norm_inv(u_value) - 0.5 * value_sigma * value_sigma)
                    .exp()
            } else {
                1.0
            };
            let fob = model.fob_unit[ei] * m;
            let r = fob * model.refund_per_fob[ei];
            let in_window = t0 >= 0;
            if in_window {
                exports += fob;
            }
            k += 1;
            if r <= 0.0 {
                continue;
            }
            let mut st = Stream::claim(claim_key, k);
            let stg = model.timeline.stages(&model.cal, e, t0, &mut st);
            sc.claims.push(Claim {
                t0,
                t2: stg.t2,
                t3: stg.t3,
                t4: stg.t4,
                t5: stg.t4,
                exporter: ei as u32,
                denied: stg.denied,
                verified: stg.verified,
                r,
            });
            if in_window {
                claims += 1.0;
                declared += r;
            }
        }
        // The exporter's window totals, added to its three groups once.
        sc.acc.flow(g, M::Exports, exports);
        sc.acc.flow(g, M::Claims, claims);
        sc.acc.flow(g, M::RefundDeclared, declared);
    }
    let claims_simulated = sc.claims.len() as u64;

    // Phase 2: claim order (t0, exporter, shipment number) by a stable counting sort.
    let need_order = s.policy.quota.is_some() || finance::active(s);
    if need_order {
        counting_sort(
            &sc.claims,
            |c| c.t0,
            model.first,
            model.end,
            &mut sc.counts,
            &mut sc.order,
        );
        sc.sorted.clear();
        sc.sorted
            .extend(sc.order.iter().map(|&i| sc.claims[i as usize]));
        std::mem::swap(&mut sc.claims, &mut sc.sorted);
    }

    // Phase 3: the refund budget.
    if let Some(q) = &s.policy.quota {
        sc.waiting.clear();
        // Queue order: by t4, then claim order (stable sort of the ordered claims).
        counting_sort(
            &sc.claims,
            |c| if c.t4 < horizon { c.t4 } else { NEVER },
            model.first,
            model.end,
            &mut sc.counts,
            &mut sc.order,
        );
        for &i in &sc.order {
            let c = &sc.claims[i as usize];
            if c.t4 < horizon {
                sc.waiting.push(Waiting {
                    claim: i,
                    t4: c.t4,
                    amount: c.r,
                    priority: model.priority[c.exporter as usize],
                });
            }
            sc.claims[i as usize].t5 = NEVER;
        }
        let levels = match q.order {
            QuotaOrder::Fifo => 1,
            QuotaOrder::PilotFirst => 2,
            QuotaOrder::Class => 4,
        };
        budget::pay(
            &model.cal,
            model.first,
            model.end,
            q.monthly,
            &sc.waiting,
            levels,
            &mut sc.paid_on,
        );
        for (w, &d) in sc.waiting.iter().zip(&sc.paid_on) {
            sc.claims[w.claim as usize].t5 = d;
        }
    }

    // Phase 4: the mechanisms, day by day.
    let mut fin = std::mem::take(&mut sc.fin);
    fin.reset();
    if finance::active(s) {
        fin.run(model, &sc.claims, defaults.as_deref(), &mut sc.acc);
    }

    // Phase 5: claim-level metrics.
    for (i, c) in sc.claims.iter().enumerate() {
        let g = model.groups_of(c.exporter as usize);
        let end = c.end();
        Acc::span(&mut sc.acc.gross, h, g, c.t0, end, c.r);
        if c.denied {
            if (0..horizon).contains(&c.t3) {
                sc.acc.flow(g, M::RefundDenied, c.r);
            }
        } else if (0..horizon).contains(&c.t5) {
            sc.acc.flow(g, M::RefundPaid, c.r);
            let days = (c.t5 - c.t0) as usize;
            for gi in g {
                sc.acc.hist[gi * max_days + days.min(max_days - 1)] += c.r;
            }
            // Days to cash: the parts financed earlier are added by the finance
            // phase; the rest arrives with the refund.
            let financed = fin.financed_cash(i, c);
            sc.acc
                .cash(g, (c.r - financed.0) * (c.t5 - c.t0) as f64 + financed.1);
        }
    }
    let result = finish(model, &sc.acc, &fin, claims_simulated);
    (result, fin)
}

/// Stable counting sort of claim indices by a day key in `first .. end` (keys
/// outside go last, in their original order).
fn counting_sort(
    claims: &[Claim],
    key: impl Fn(&Claim) -> i32,
    first: i32,
    end: i32,
    counts: &mut Vec<u32>,
    order: &mut Vec<u32>,
) {
    let n = (end - first + 1) as usize;
    counts.clear();
    counts.resize(n + 1, 0);
    let bucket = |c: &Claim| {
        let k = key(c);
        if k < first || k >= end {
            n - 1
        } else {
            (k - first) as usize
        }
    };
    for c in claims {
        counts[bucket(c) + 1] += 1;
    }
    for i in 0..n {
        counts[i + 1] += counts[i];
    }
    order.clear();
    order.resize(claims.len(), 0);
    for (i, c) in claims.iter().enumerate() {
        let b = bucket(c);
        order[counts[b] as usize] = i as u32;
        counts[b] += 1;
    }
}

/// Turns a path's accumulators into metrics and series.
fn finish(model: &Model, acc: &Acc, fin: &Finance, claims_simulated: u64) -> PathResult {
    let s = &model.scenario;
    let h = acc.h;
    let per_year = 365.0 / h as f64;
    let mut groups = Vec::with_capacity(acc.groups);
    let mut series = vec![vec![0.0; h]; 2];
    for g in 0..acc.groups {
        let mut m = vec![f64::NAN; N_METRICS];
        let fl = &acc.flows[g * N_METRICS..(g + 1) * N_METRICS];
        for (i, v) in m.iter_mut().enumerate() {
            if crate::metrics::METRICS[i].unit.ends_with("/yr") {
                *v = fl[i] * per_year;
            }
        }
        let (mut gross, mut held) = (0.0, 0.0);
        let (mut gsum, mut gpeak, mut nsum, mut npeak) = (0.0, 0.0f64, 0.0, 0.0f64);
        let days = g * (h + 1)..g * (h + 1) + h;
        for (d, (dg, dh)) in acc.gross[days.clone()]
            .iter()
            .zip(&acc.held[days])
            .enumerate()
        {
            gross += dg;
            held += dh;
            let net = gross - held;
            gsum += gross;
            nsum += net;
            gpeak = gpeak.max(gross);
            npeak = npeak.max(net);
            if g == 0 {
                series[0][d] = gross;
                series[1][d] = net;
            }
        }
        m[M::TiedUpGrossAvg as usize] = gsum / h as f64;
        m[M::TiedUpGrossPeak as usize] = gpeak;
        m[M::TiedUpNetAvg as usize] = nsum / h as f64;
        m[M::TiedUpNetPeak as usize] = npeak;
        m[M::CarryingCost as usize] = nsum * s.economy.opportunity_rate / h as f64;
        let hist = &acc.hist[g * acc.max_days..(g + 1) * acc.max_days];
        let paid: f64 = hist.iter().sum();
        if paid > 0.0 {
            let wsum: f64 = hist.iter().enumerate().map(|(d, w)| d as f64 * w).sum();
            m[M::DaysToRefundAvg as usize] = wsum / paid;
            let mut cum = 0.0;
            for (d, w) in hist.iter().enumerate() {
                cum += w;
                if cum >= 0.9 * paid * (1.0 - 1e-12) {
                    m[M::DaysToRefundP90 as usize] = d as f64;
                    break;
                }
            }
            m[M::DaysToCashAvg as usize] = acc.cash_days[g] / paid;
        }
        fin.finish_group(model, g, &mut m, per_year);
        groups.push(m);
    }
    series.extend(fin.series());
    PathResult {
        metrics: groups[0].clone(),
        groups,
        series,
        claims_simulated,
    }
}

/// The run was cancelled (Ctrl-C) before every path finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// All paths of a run, in path order.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// One result per path, path 0 first.
    pub paths: Vec<PathResult>,
    /// Claims simulated over all paths, warm-up included.
    pub claims_simulated: u64,
}

/// Runs paths `0 .. n` on `threads` threads. `on_path` is called after each path
/// (for a progress bar); setting `cancel` stops the run between paths.
pub fn run(
    model: &Model,
    n: u32,
    threads: usize,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<RunOutput, Cancelled> {
    let pool = thread_pool(threads);
    let paths = simulate_range(&pool, 0..n, model, on_path, cancel)?;
    let claims_simulated = paths.iter().map(|p| p.claims_simulated).sum();
    Ok(RunOutput {
        paths,
        claims_simulated,
    })
}

fn thread_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .expect("a thread pool")
}

/// Runs the paths `p` of `0 .. n` with `p mod count = index` (shard `index + 1`
/// of `count`, see [`crate::shard`]) like [`run`]: each path's randomness is keyed
/// by `p`, so these results equal the same paths of the unsharded run.
pub fn run_strided(
    model: &Model,
    n: u32,
    index: u32,
    count: u32,
    threads: usize,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<RunOutput, Cancelled> {
    let pool = thread_pool(threads);
    let paths = simulate_paths(
        &pool,
        (index.min(n)..n)
            .into_par_iter()
            .step_by(count.max(1) as usize),
        model,
        on_path,
        cancel,
    )?;
    let claims_simulated = paths.iter().map(|p| p.claims_simulated).sum();
    Ok(RunOutput {
        paths,
        claims_simulated,
    })
}

/// Simulates paths `range` on `pool`, results in path order.
fn simulate_range(
    pool: &rayon::ThreadPool,
    range: std::ops::Range<u32>,
    model: &Model,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<Vec<PathResult>, Cancelled> {
    simulate_paths(pool, range.into_par_iter(), model, on_path, cancel)
}

/// Simulates the paths `paths` yields on `pool`, results in their order.
fn simulate_paths(
    pool: &rayon::ThreadPool,
    paths: impl IndexedParallelIterator<Item = u32>,
    model: &Model,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<Vec<PathResult>, Cancelled> {
    let results: Vec<Option<PathResult>> = pool.install(|| {
        paths
            .map_init(Scratch::default, |sc, p| {
                if cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let r = simulate_path(model, p, sc);
                on_path();
                Some(r)
            })
            .collect()
    });
    results
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or(Cancelled)
}

/// Where `run --claims-out` sends claims: the first `paths` paths' claims are
/// turned into bytes by `render` (on the worker thread, right after the path,
/// while they are still in the scratch) and handed to `sink` in path order.
pub struct ClaimsSink<'a> {
    /// How many paths, from path 0, to hand over.
    pub paths: u32,
    /// Turns one path's claims (path index, claims) into bytes.
    pub render: &'a (dyn Fn(u32, &[Claim]) -> Vec<u8> + Sync),
    /// Receives each path's bytes, in path order.
    pub sink: &'a mut dyn FnMut(Vec<u8>),
}

/// Runs paths `0 .. n` like [`run`], and also hands the claims of the first
/// `claims.paths` paths to `claims.sink` in path order. Those paths run in
/// batches of a few per thread, so only one batch of rendered claims is ever
/// held in memory; the other paths run as in [`run`]. Results are identical to
/// [`run`]'s.
pub fn run_with_claims(
    model: &Model,
    n: u32,
    threads: usize,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
    claims: ClaimsSink<'_>,
) -> Result<RunOutput, Cancelled> {
    let ClaimsSink {
        paths: claim_paths,
        render,
        sink,
    } = claims;
    let pool = thread_pool(threads);
    let batch = 2 * threads.max(1) as u32;
    let visited = claim_paths.min(n);
    let mut paths = Vec::with_capacity(n as usize);
    let mut from = 0;
    while from < visited {
        let to = (from + batch).min(visited);
        let done: Vec<Option<(PathResult, Vec<u8>)>> = pool.install(|| {
            (from..to)
                .into_par_iter()
                .map_init(Scratch::default, |sc, p| {
                    if cancel.load(Ordering::Relaxed) {
                        return None;
                    }
                    let r = simulate_path(model, p, sc);
                    let bytes = render(p, sc.claims());
                    on_path();
                    Some((r, bytes))
                })
                .collect()
        });
        for d in done {
            let (r, bytes) = d.ok_or(Cancelled)?;
            sink(bytes);
            paths.push(r);
        }
        from = to;
    }
    paths.extend(simulate_range(&pool, visited..n, model, on_path, cancel)?);
    let claims_simulated = paths.iter().map(|p| p.claims_simulated).sum();
    Ok(RunOutput {
        paths,
        claims_simulated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guided search for a shipment's day finds the same day as a walk over
    /// every day from the first, at and around every day boundary.
    #[test]
    fn guided_shipment_days_equal_a_full_walk() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let s = Scenario::load(&[root.join("scenarios/guizhou-2020-target.toml")], &[])
            .expect("shipped scenario");
        let m = Model::new(s);
        let total = *m.season_cum.last().unwrap();
        let mut sums: Vec<f64> = (0..100_000).map(|i| total * i as f64 / 100_000.0).collect();
        for &b in &m.season_cum[1..m.season_cum.len() - 1] {
            sums.extend([b, b.next_down(), b.next_up()]);
        }
        for sum in sums.into_iter().filter(|x| *x >= 0.0 && *x < total) {
            let mut walk = 0;
            while m.season_cum[walk + 1] <= sum {
                walk += 1;
            }
            assert_eq!(m.shipment_day(sum, 0), walk, "sum {sum}");
            assert_eq!(m.shipment_day(sum, walk), walk, "sum {sum}");
        }
    }
}

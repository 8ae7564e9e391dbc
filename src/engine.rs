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
pub use crate::ledger::Claim;
use crate::ledger::{Cell, Ledger, World};
use crate::metrics::{Kind, M, METRICS, N_METRICS};
use crate::population::{self, Exporter};
use crate::rng::{KeyPrefix, Purpose, Stream};
use crate::scenario::{QuotaOrder, Scenario};
use crate::timeline::Timeline;

/// Days after the window the calendar still covers (stage days past it are NEVER).
const CALENDAR_TAIL: i32 = 800;

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
    /// The accumulation cell (platform × actual class) of each exporter: small
    /// and contiguous, for the per-claim loops. Events are added to their cell
    /// once; [`Model::group_cells`] sums cells into the reported groups.
    cell_of: Vec<Cell>,
    /// Number of cells (platforms × 4 classes).
    cells: usize,
    /// The cells of each reported group, ascending: the order in which a
    /// group's sums are formed.
    group_cells: Vec<Vec<usize>>,
    /// Mean FOB per shipment, by exporter.
    fob_unit: Vec<f64>,
    /// Refund per yuan of FOB, by exporter.
    refund_per_fob: Vec<f64>,
    /// Shipments per day at season factor 1, by exporter.
    rate: Vec<f64>,
    /// Queue priority level of each exporter for the budget.
    priority: Vec<u8>,
    /// Number of metric groups: total, each platform, each class, then the 1+7
    /// group (every exporter on a pilot platform, [`Model::pilot_group`]).
    pub groups: usize,
    /// Exporters on pilot platforms (the 1+7 group's size).
    pub pilot_exporters: usize,
    /// Things about this model the results depend on that a user should know.
    pub warnings: Vec<String>,
}

/// Everything about a scenario and its exporters the results depend on that a
/// user should know, as values for the binary to show (and the manifest to keep):
/// the drawn population's [`population::warnings`], a window outside the official
/// calendar ([`crate::calendar::coverage_warning`]), a warm-up shorter than the
/// pipeline ([`crate::timeline::warmup_warning`]), a refund budget far below
/// demand ([`crate::budget::demand_warning`]) and a fixed demand factor
/// (`economy.demand_factor`: `demand_sigma` is then ignored).
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
    warnings.extend(demand_factor_note(s));
    warnings
}

/// With `economy.demand_factor` set, every path has that factor and
/// `economy.demand_sigma` is ignored: said once, in the run's warnings (and so in
/// manifest.json, which also records the factor in its scenario).
fn demand_factor_note(s: &Scenario) -> Option<String> {
    let f = s.economy.demand_factor?;
    Some(format!(
        "economy.demand_factor = {f} fixes the demand factor on every path (a stress year: shipment rates × {f}); economy.demand_sigma{} is ignored, so the spread across paths comes from shipments, values and claim stages only",
        if s.economy.demand_sigma > 0.0 {
            format!(" = {}", s.economy.demand_sigma)
        } else {
            String::new()
        }
    ))
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
        // Groups: total, platforms, classes I–IV, 1+7 (every cell of a pilot platform).
        let n_platforms = s.platforms.len();
        let groups = 1 + n_platforms + 4 + 1;
        let cells = n_platforms * 4;
        let cell_of = exporters
            .iter()
            .map(|e| Cell::new(e.platform, e.class))
            .collect();
        let mut group_cells = vec![Vec::new(); groups];
        for p in 0..n_platforms {
            for c in 0..4 {
                let cell = Cell::new(p, c).index();
                group_cells[0].push(cell);
                group_cells[1 + p].push(cell);
                group_cells[1 + n_platforms + c].push(cell);
                if s.platforms[p].pilot {
                    group_cells[groups - 1].push(cell);
                }
            }
        }
        for g in &mut group_cells {
            g.sort_unstable();
        }
        let pilot_exporters = exporters.iter().filter(|e| e.pilot).count();
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
            cell_of,
            cells,
            group_cells,
            fob_unit,
            refund_per_fob,
            rate,
            priority,
            groups,
            pilot_exporters,
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

    /// Group index of the 1+7 group: every exporter on a pilot platform (MODEL.md §7).
    #[inline]
    pub fn pilot_group(&self) -> usize {
        self.groups - 1
    }

    /// The reported groups exporter `ei` belongs to: total, its platform, its
    /// class, and the 1+7 group when its platform is a pilot platform.
    pub fn groups_of(&self, ei: usize) -> impl Iterator<Item = usize> + '_ {
        let cell = self.cell_of[ei].index();
        (0..self.groups).filter(move |&g| self.group_cells[g].contains(&cell))
    }

    /// What the mechanisms see of the model ([`crate::ledger::World`]).
    pub fn world(&self) -> World<'_> {
        World {
            scenario: &self.scenario,
            cal: &self.cal,
            exporters: &self.exporters,
            first: self.first,
            end: self.end,
            cell_of: &self.cell_of,
        }
    }

    /// Names of the daily series in [`PathResult::series`].
    pub fn series_names(&self) -> Vec<&'static str> {
        let mut v = vec!["tied_up_gross", "tied_up_net"];
        v.extend(finance::series_names(&self.scenario));
        if self.scenario.policy.quota.is_some() {
            v.push("budget_backlog");
        }
        v
    }
}

/// The results of one path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathResult {
    /// Metrics in [`crate::metrics::METRICS`] order.
    pub metrics: Vec<f64>,
    /// Metrics by group: `[0]` total (same as `metrics`), then platforms, then
    /// classes I–IV, then the 1+7 group ([`Model::pilot_group`]).
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
    /// One exporter's shipments on the path: day and the uniform of its value.
    arrivals: Vec<(i32, f64)>,
    sorted: Vec<Claim>,
    fin: Finance,
    /// Claims by declaration day (claim order) and by treasury day (budget queue).
    by_t0: DayCounts,
    by_t4: DayCounts,
    waiting: Vec<Waiting>,
    budget: budget::Outcome,
    acc: Acc,
}

/// Per-path accumulators over the window, by cell ([`Cell`]): every event is
/// added once, to its exporter's cell; [`finish`] sums the cells into groups.
#[derive(Default)]
pub struct Acc {
    h: usize,
    /// Difference arrays of gross tied-up refunds, `cells × (h + 1)`.
    gross: Vec<f64>,
    /// Difference arrays of financing cash held against pending claims.
    held: Vec<f64>,
    /// Flow sums (window totals) by cell, `cells × N_METRICS`.
    pub flows: Vec<f64>,
    /// Amount-weighted histogram of days to refund, `cells × max_days`.
    hist: Vec<f64>,
    max_days: usize,
    /// Σ R × days to cash, by cell.
    cash_days: Vec<f64>,
    /// Difference arrays of approved claims waiting for the refund budget
    /// (`t4 … t5 − 1`), `cells × (h + 1)`; empty without a budget.
    backlog: Vec<f64>,
    /// Σ R × days waited for the budget (`t5 − t4`) over claims paid in the window, by cell.
    wait_days: Vec<f64>,
    /// Months in which the refund budget bound (a path-level count, the same
    /// for every group).
    binding_months: f64,
}

impl Acc {
    fn reset(&mut self, h: usize, cells: usize, max_days: usize, budget: bool) {
        self.h = h;
        self.max_days = max_days;
        self.binding_months = 0.0;
        for (v, n) in [
            (&mut self.gross, cells * (h + 1)),
            (&mut self.held, cells * (h + 1)),
            (&mut self.flows, cells * N_METRICS),
            (&mut self.hist, cells * max_days),
            (&mut self.cash_days, cells),
            (&mut self.backlog, if budget { cells * (h + 1) } else { 0 }),
            (&mut self.wait_days, cells),
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
    }

    /// Adds `amount` to a flow metric of a cell.
    #[inline]
    pub fn flow(&mut self, g: Cell, m: M, amount: f64) {
        self.flows[g.index() * N_METRICS + m as usize] += amount;
    }

    /// Marks `amount` outstanding over window days `[from, to)` in a difference array.
    #[inline]
    fn span(v: &mut [f64], h: usize, g: Cell, from: i32, to: i32, amount: f64) {
        let a = from.max(0) as usize;
        let b = (to.max(0) as usize).min(h);
        if a < b {
            let row = &mut v[g.index() * (h + 1)..][..h + 1];
            row[a] += amount;
            row[b] -= amount;
        }
    }

    /// Financing cash `amount` held by the exporter from `from` until `to`.
    #[inline]
    pub fn held(&mut self, g: Cell, from: i32, to: i32, amount: f64) {
        Self::span(&mut self.held, self.h, g, from, to, amount);
    }

    /// Adds to the Σ R × days-to-cash of a cell.
    #[inline]
    pub fn cash(&mut self, g: Cell, amount_days: f64) {
        self.cash_days[g.index()] += amount_days;
    }
}

impl Ledger for Acc {
    #[inline]
    fn flow(&mut self, g: Cell, m: M, amount: f64) {
        Acc::flow(self, g, m, amount);
    }

    #[inline]
    fn held(&mut self, g: Cell, from: i32, to: i32, amount: f64) {
        Acc::held(self, g, from, to, amount);
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
    let budget_on = s.policy.quota.is_some();
    sc.acc.reset(h, model.cells, max_days, budget_on);
    sc.claims.clear();

    let demand = demand_factor(s, path);
    let defaults = crate::defaults::default_days(s, &model.exporters, model.end, path);
    // Phase 1: shipments and claim stages, exporter by exporter.
    draw_claims(model, path, demand, defaults.as_deref(), sc);
    let claims_simulated = sc.claims.len() as u64;

    // Phase 2: claim order (t0, exporter, shipment number) by a stable counting sort.
    if needs_claim_order(s) {
        // Every t0 is in `first .. end`, so every claim lands in a day bucket.
        counting_sort(
            &sc.claims,
            |c| c.t0,
            &mut sc.by_t0,
            &mut sc.sorted,
            |_, c| *c,
        );
        std::mem::swap(&mut sc.claims, &mut sc.sorted);
    }

    // Phase 3: the refund budget.
    if let Some(q) = &s.policy.quota {
        pay_from_budget(model, q, sc);
    }

    // Phase 4: the mechanisms, day by day.
    let mut fin = std::mem::take(&mut sc.fin);
    fin.reset();
    if finance::active(s) {
        fin.run(&model.world(), &sc.claims, defaults.as_deref(), &mut sc.acc);
    }

    // Phase 5: claim-level metrics.
    for (i, c) in sc.claims.iter().enumerate() {
        let g = model.cell_of[c.exporter as usize];
        let end = c.end();
        Acc::span(&mut sc.acc.gross, h, g, c.t0, end, c.r);
        if budget_on && !c.denied {
            Acc::span(&mut sc.acc.backlog, h, g, c.t4, c.t5, c.r);
        }
        if c.denied {
            if (0..horizon).contains(&c.t3) {
                sc.acc.flow(g, M::RefundDenied, c.r);
            }
        } else if (0..horizon).contains(&c.t5) {
            sc.acc.flow(g, M::RefundPaid, c.r);
            let days = (c.t5 - c.t0) as usize;
            sc.acc.hist[g.index() * max_days + days.min(max_days - 1)] += c.r;
            sc.acc.wait_days[g.index()] += c.r * (c.t5 - c.t4) as f64;
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

/// Whether a path's claims are put in claim order (the budget queue and the
/// mechanisms read them so); only then are they counted by declaration day.
fn needs_claim_order(s: &Scenario) -> bool {
    s.policy.quota.is_some() || finance::active(s)
}

/// A path's demand factor: lognormal with mean 1, or fixed for a stress year
/// (`economy.demand_factor`). It has its own stream, so fixing it shifts no
/// other draw.
fn demand_factor(s: &Scenario, path: u32) -> f64 {
    match s.economy.demand_factor {
        Some(f) => f,
        None => {
            let sigma = s.economy.demand_sigma;
            let z = Stream::new(s.seed, Purpose::Demand, path as u64, 0, 0).normal();
            (sigma * z - 0.5 * sigma * sigma).exp()
        }
    }
}

/// Phase 1 of a path: each exporter's shipments (a Poisson process scaled by the
/// season and the path's `demand`, stopped at its default day) and each claim's
/// stage days, appended to `sc.claims` exporter by exporter; the exporters'
/// window totals go to their groups.
fn draw_claims(model: &Model, path: u32, demand: f64, defaults: Option<&[i32]>, sc: &mut Scratch) {
    let s = &model.scenario;
    let value_sigma = s.exporters.shipment_value_sigma;
    let total_intensity = *model.season_cum.last().expect("non-empty");
    let budget_on = s.policy.quota.is_some();
    let ordered = needs_claim_order(s);
    sc.by_t0.reset(model.first, model.end);
    sc.by_t4.reset(model.first, model.end);

    for (ei, e) in model.exporters.iter().enumerate() {
        let g = model.cell_of[ei];
        let rate = model.rate[ei] * demand;
        if rate <= 0.0 {
            continue;
        }
        let stop = defaults.map_or(NEVER, |d| d[ei]);
        let mut ship = Stream::new(s.seed, Purpose::Shipments, path as u64, ei as u64, 0);
        let claim_key = KeyPrefix::new(s.seed, Purpose::Claim, path as u64, ei as u64);
        // Pass 1: the shipment days and value uniforms. Each arrival depends on
        // the last (a chain of logarithms), so this short loop runs apart from
        // the long per-claim work below, whose claims are independent of each
        // other and so overlap in the processor.
        sc.arrivals.clear();
        let mut sum = 0.0;
        let mut cursor = 0usize;
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
            sc.arrivals.push((t0, u_value));
        }
        // Pass 2: each shipment's value and its claim's stage days.
        let (mut exports, mut claims, mut declared) = (0.0, 0.0, 0.0);
        for (k, &(t0, u_value)) in (1u64..).zip(&sc.arrivals) {
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
            if r <= 0.0 {
                continue;
            }
            let mut st = Stream::claim(claim_key, k);
            let stg = model.timeline.stages(&model.cal, e, t0, &mut st);
            if ordered {
                sc.by_t0.count(t0);
            }
            if budget_on {
                sc.by_t4.count(stg.t4);
            }
            sc.claims.push(Claim {
                t0,
                t2: stg.t2,
                t3: stg.t3,
                t4: stg.t4,
                // Paid when ready, or (with a budget) when the budget pays it.
                t5: if budget_on { NEVER } else { stg.t4 },
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
        // The exporter's window totals, added to its cell once.
        sc.acc.flow(g, M::Exports, exports);
        sc.acc.flow(g, M::Claims, claims);
        sc.acc.flow(g, M::RefundDeclared, declared);
    }
}

/// Phase 3 of a path: pays approved claims from the monthly refund budget `q`
/// in queue order (MODEL.md §13), setting each claim's `t5`.
fn pay_from_budget(model: &Model, q: &crate::scenario::Quota, sc: &mut Scratch) {
    // Queue order: by t4, then claim order (stable sort of the ordered claims);
    // claims ready after the window (or never) sort last and are dropped.
    let queued = counting_sort(
        &sc.claims,
        |c| c.t4,
        &mut sc.by_t4,
        &mut sc.waiting,
        |i, c| Waiting {
            claim: i as u32,
            t4: c.t4,
            amount: c.r,
            priority: model.priority[c.exporter as usize],
        },
    );
    sc.waiting.truncate(queued);
    let levels = match q.order {
        QuotaOrder::Fifo => 1,
        QuotaOrder::PilotFirst => 2,
        QuotaOrder::Class => 4,
    };
    budget::pay(
        &model.cal,
        model.first,
        model.end,
        &q.monthly,
        &sc.waiting,
        levels,
        &mut sc.budget,
    );
    for (w, &d) in sc.waiting.iter().zip(&sc.budget.paid_on) {
        sc.claims[w.claim as usize].t5 = d;
    }
    // Months in which the budget bound on a window day: a path-level count.
    sc.acc.binding_months = sc.budget.binding.iter().filter(|d| **d >= 0).count() as f64;
}

/// Claims counted by a day key in `first .. end` (keys outside in one last
/// bucket), while they are drawn: the first half of a counting sort, done
/// without a pass of its own over the claims.
#[derive(Default)]
struct DayCounts {
    first: i32,
    end: i32,
    /// `counts[b + 1]`: claims in bucket `b` (then, in [`counting_sort`],
    /// the running start of each bucket).
    counts: Vec<u32>,
    /// The claims' indices in sorted order.
    order: Vec<u32>,
}

impl DayCounts {
    fn reset(&mut self, first: i32, end: i32) {
        (self.first, self.end) = (first, end);
        self.counts.clear();
        self.counts.resize((end - first + 2) as usize, 0);
    }

    /// The bucket of key `k`: its day, or the last bucket for keys outside.
    #[inline]
    fn bucket(&self, k: i32) -> usize {
        if k < self.first || k >= self.end {
            (self.end - self.first) as usize
        } else {
            (k - self.first) as usize
        }
    }

    #[inline]
    fn count(&mut self, k: i32) {
        let b = self.bucket(k);
        self.counts[b + 1] += 1;
    }
}

/// The second half of a stable counting sort of `claims` by `key`, counted in
/// `counts` (keys outside `first .. end` last, in their original order): puts
/// `image(i, claim)` of each claim, in sorted order, into `out`, and returns
/// how many keys were inside. The claims' indices are placed first (a small
/// array), then the claims read in that order: measured on this machine, that
/// beats writing each claim straight to its place (the best of 30 paths, 2.8
/// against 4.8 ms for the claims of `guizhou-2020-target`).
fn counting_sort<T: Copy>(
    claims: &[Claim],
    key: impl Fn(&Claim) -> i32,
    counts: &mut DayCounts,
    out: &mut Vec<T>,
    mut image: impl FnMut(usize, &Claim) -> T,
) -> usize {
    let n = counts.counts.len() - 1;
    debug_assert_eq!(
        counts.counts[1..].iter().sum::<u32>() as usize,
        claims.len()
    );
    for i in 0..n {
        counts.counts[i + 1] += counts.counts[i];
    }
    let inside = counts.counts[n - 1] as usize;
    counts.order.clear();
    counts.order.resize(claims.len(), 0);
    for (i, c) in claims.iter().enumerate() {
        let b = counts.bucket(key(c));
        counts.order[counts.counts[b] as usize] = i as u32;
        counts.counts[b] += 1;
    }
    out.clear();
    out.extend(
        counts
            .order
            .iter()
            .map(|&i| image(i as usize, &claims[i as usize])),
    );
    inside
}

/// Turns a path's accumulators into metrics and series.
fn finish(model: &Model, acc: &Acc, fin: &Finance, claims_simulated: u64) -> PathResult {
    let s = &model.scenario;
    let h = acc.h;
    let per_year = 365.0 / h as f64;
    let mut groups = Vec::with_capacity(model.groups);
    let mut series = vec![vec![0.0; h]; 2];
    let mut backlog = vec![0.0; if acc.backlog.is_empty() { 0 } else { h }];
    let mut group = GroupSums::default();
    for g in 0..model.groups {
        group.of(acc, &model.group_cells[g]);
        let mut m = vec![f64::NAN; N_METRICS];
        group.flows[M::BudgetBindingMonths as usize] = acc.binding_months;
        for (i, v) in m.iter_mut().enumerate() {
            if METRICS[i].kind == Kind::Flow {
                *v = group.flows[i] * per_year;
            }
        }
        let (mut gross, mut held) = (0.0, 0.0);
        let (mut gsum, mut gpeak, mut nsum, mut npeak) = (0.0, 0.0f64, 0.0, 0.0f64);
        for (d, (dg, dh)) in group.gross[..h].iter().zip(&group.held).enumerate() {
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
        let hist = &group.hist;
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
            m[M::DaysToCashAvg as usize] = group.cash_days / paid;
            m[M::BudgetWaitDaysAvg as usize] = group.wait_days / paid;
        }
        m[M::BudgetBacklogAvg as usize] = if acc.backlog.is_empty() {
            0.0
        } else {
            let mut waiting = 0.0;
            let mut sum = 0.0;
            for (d, dw) in group.backlog[..h].iter().enumerate() {
                waiting += dw;
                sum += waiting;
                if g == 0 {
                    backlog[d] = waiting;
                }
            }
            sum / h as f64
        };
        fin.finish_group(&model.world(), g, &mut m, per_year);
        m[M::FiscalCostNet as usize] = fiscal_cost_net(&m);
        groups.push(m);
    }
    pilot_pool_metrics(model, &mut groups);
    series.extend(fin.series(s));
    if !acc.backlog.is_empty() {
        series.push(backlog);
    }
    PathResult {
        metrics: groups[0].clone(),
        groups,
        series,
        claims_simulated,
    }
}

/// One group's accumulators: the sums of its cells' (see [`Acc`]), formed cell
/// by cell in ascending order.
#[derive(Default)]
struct GroupSums {
    flows: Vec<f64>,
    gross: Vec<f64>,
    held: Vec<f64>,
    hist: Vec<f64>,
    backlog: Vec<f64>,
    cash_days: f64,
    wait_days: f64,
}

impl GroupSums {
    /// Sums the accumulators of `cells` into this one.
    fn of(&mut self, acc: &Acc, cells: &[usize]) {
        let rows = |v: &[f64], width: usize, out: &mut Vec<f64>| {
            out.clear();
            out.resize(width, 0.0);
            if v.is_empty() {
                return;
            }
            for &c in cells {
                for (o, x) in out.iter_mut().zip(&v[c * width..(c + 1) * width]) {
                    *o += x;
                }
            }
        };
        let days = acc.h + 1;
        rows(&acc.flows, N_METRICS, &mut self.flows);
        rows(&acc.gross, days, &mut self.gross);
        rows(&acc.held, days, &mut self.held);
        rows(&acc.hist, acc.max_days, &mut self.hist);
        rows(&acc.backlog, days, &mut self.backlog);
        self.cash_days = cells.iter().map(|&c| acc.cash_days[c]).sum();
        self.wait_days = cells.iter().map(|&c| acc.wait_days[c]).sum();
    }
}

/// `fiscal_cost_net` (MODEL.md §7): `fiscal_cost` − the fees the public pools
/// earn (`turnover.fee_income` + `guarantee.fee_income`; a disabled pool earns
/// nothing). Undefined where `fiscal_cost` is (platform and class groups).
fn fiscal_cost_net(m: &[f64]) -> f64 {
    let fees = [M::TurnoverFeeIncome, M::GuaranteeFeeIncome]
        .iter()
        .map(|k| m[*k as usize])
        .filter(|v| !v.is_nan())
        .sum::<f64>();
    m[M::FiscalCost as usize] - fees
}

/// The 1+7 group's pool-level metrics (those not reported by platform), from the
/// group's own numerators and denominators on this path. The public mechanisms
/// (turnover, guarantee, credit) serve only exporters on pilot platforms (MODEL.md
/// §6), so every request, advance, loan, draw, loss and fee — and so every
/// pool-level share, average and the fiscal cost — belongs to the 1+7 group in
/// full: its value is the total's. The exception is `credit.default_rate`,
/// whose numerator and denominator are the group's own defaults and exporters.
fn pilot_pool_metrics(model: &Model, groups: &mut [Vec<f64>]) {
    use crate::metrics::{METRICS, Source};
    let pilot = model.pilot_group();
    for (i, def) in METRICS.iter().enumerate() {
        // The public pools serve pilot exporters only, so their pool-wide numbers
        // are the group's; the service company (open to all) is not copied.
        let public = matches!(def.source, Source::Pool(k) if k.public_capital_key().is_some())
            || i == M::FiscalCost as usize
            || i == M::FiscalCostNet as usize;
        if public && !def.grouped {
            groups[pilot][i] = groups[0][i];
        }
    }
    // The group's own default rate, wherever the total has one (credit_risk on);
    // credit.defaults is already per year.
    let rate = M::CreditDefaultRate as usize;
    let total_has_rate = !groups[0][rate].is_nan();
    let g = &mut groups[pilot];
    if total_has_rate {
        g[rate] = if model.pilot_exporters > 0 {
            g[M::CreditDefaults as usize] / model.pilot_exporters as f64
        } else {
            f64::NAN
        };
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

impl RunOutput {
    /// The run made of these paths' results (in path order).
    fn of(paths: Vec<PathResult>) -> Self {
        let claims_simulated = paths.iter().map(|p| p.claims_simulated).sum();
        RunOutput {
            paths,
            claims_simulated,
        }
    }
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
    Ok(RunOutput::of(paths))
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
    let mine: Vec<u32> = (index.min(n)..n).step_by(count.max(1) as usize).collect();
    let paths = simulate_paths(&pool, &mine, model, on_path, cancel)?;
    Ok(RunOutput::of(paths))
}

/// Simulates paths `range` on `pool`, results in path order.
fn simulate_range(
    pool: &rayon::ThreadPool,
    range: std::ops::Range<u32>,
    model: &Model,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<Vec<PathResult>, Cancelled> {
    let paths: Vec<u32> = range.collect();
    simulate_paths(pool, &paths, model, on_path, cancel)
}

/// Simulates `paths` on `pool`, results in their order. The paths are started
/// busiest first (by their demand factor, which scales their claims), so that
/// the last paths to finish are short ones and no thread waits long for
/// another at the end; each path's result depends only on its index.
fn simulate_paths(
    pool: &rayon::ThreadPool,
    paths: &[u32],
    model: &Model,
    on_path: &(dyn Fn() + Sync),
    cancel: &AtomicBool,
) -> Result<Vec<PathResult>, Cancelled> {
    let mut schedule: Vec<(f64, usize)> = paths
        .iter()
        .enumerate()
        .map(|(k, &p)| (demand_factor(&model.scenario, p), k))
        .collect();
    schedule.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // Each thread takes the next path of the schedule until none is left.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<Vec<(usize, Option<PathResult>)>> = pool.broadcast(|_| {
        let mut sc = Scratch::default();
        let mut mine = Vec::new();
        loop {
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, k)) = schedule.get(j) else {
                break;
            };
            if cancel.load(Ordering::Relaxed) {
                mine.push((k, None));
                continue;
            }
            mine.push((k, Some(simulate_path(model, paths[k], &mut sc))));
            on_path();
        }
        mine
    });
    let mut results: Vec<Option<PathResult>> = vec![None; paths.len()];
    for (k, r) in done.into_iter().flatten() {
        results[k] = r;
    }
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
    Ok(RunOutput::of(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counting sort by day (counted while claims are drawn) is the stable sort: ties keep their order, keys outside the
    /// days go last in their order, and the count of keys inside is returned.
    #[test]
    fn counting_sort_is_a_stable_sort_with_outside_keys_last() {
        let (first, end) = (-5, 7);
        let claim = |t4: i32, exporter: u32| Claim {
            t0: 0,
            t2: 0,
            t3: 0,
            t4,
            t5: 0,
            exporter,
            denied: false,
            verified: false,
            r: 1.0,
        };
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let claims: Vec<Claim> = (0..500)
            .map(|i| {
                x = crate::rng::mix64(x);
                let t4 = match x % 10 {
                    0 => NEVER,
                    1 => end + (x >> 8) as i32 % 3,
                    _ => first + ((x >> 8) % (end - first) as u64) as i32,
                };
                claim(t4, i)
            })
            .collect();
        let mut counts = DayCounts::default();
        counts.reset(first, end);
        for c in &claims {
            counts.count(c.t4);
        }
        let mut out = Vec::new();
        let inside = counting_sort(&claims, |c| c.t4, &mut counts, &mut out, |i, _| i);
        let mut expected: Vec<usize> = (0..claims.len()).collect();
        let key = |i: &usize| match claims[*i].t4 {
            t if (first..end).contains(&t) => t,
            _ => end,
        };
        expected.sort_by_key(key);
        assert_eq!(out, expected);
        assert_eq!(
            inside,
            claims
                .iter()
                .filter(|c| (first..end).contains(&c.t4))
                .count()
        );
    }

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

//! Model-level checks against answers nobody here wrote: Little's law, the
//! Vasicek default law, binomial counts, conservation of every yuan, and the
//! reproducibility contracts (thread count, common random numbers).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use proptest::prelude::*;
use refundsim::calendar::NEVER;
use refundsim::engine::{self, Model, Scratch};
use refundsim::metrics::M;
use refundsim::scenario::{Mechanism, Scenario};
use refundsim::stats::Summary;

/// A small stationary scenario: one sector, one pilot platform of identical
/// trading firms (refund = 10% of FOB), every day a working day.
const BASE: &str = r#"
[scenario]
name = "t"
start_date = "2017-01-01"
warmup_days = 120
horizon_days = 365
paths = 40
seed = 7

[calendar]
working_days = "all"

[economy]
demand_sigma = 0

[[sector]]
name = "s"
refund_rate = 0.1
share = 1

[[platform]]
name = "p"
exporters = 50
export_median = 1.2e7
export_sigma = 0
trading_share = 1
class_mix = [0.25, 0.25, 0.25, 0.25]

[exporters]
shipments_per_year = 24
shipment_value_sigma = 0

[policy]
docs = 10
filing = { mode = "continuous", lag = 5 }
review = [10, 10, 10, 10]
treasury = 5
"#;

fn scenario(overlay: &str, sets: &[&str]) -> Scenario {
    let files = vec![
        (
            "base.toml".to_string(),
            BASE.to_string(),
            PathBuf::from("."),
        ),
        (
            "overlay.toml".to_string(),
            overlay.to_string(),
            PathBuf::from("."),
        ),
    ];
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::from_texts(files, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn shipped(files: &[&str], sets: &[&str]) -> Scenario {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::load(&files, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: Scenario, threads: usize) -> (Model, engine::RunOutput) {
    let model = Model::new(s);
    let out = engine::run(
        &model,
        model.scenario.paths,
        threads,
        &|| {},
        &AtomicBool::new(false),
    )
    .expect("not cancelled");
    (model, out)
}

fn summary(out: &engine::RunOutput, m: M) -> Summary {
    Summary::of(out.paths.iter().map(|p| p.metrics[m as usize]))
}

#[test]
fn littles_law_holds_for_fixed_delays_and_constant_claims() {
    let (_, out) = run(scenario("", &[]), 2);
    // λ = 50 firms × 24 / 365 claims a day, R = 1.2e7 / 24 × 10% = 50,000, delay 30 days.
    let expected = 50.0 * 24.0 / 365.0 * 50_000.0 * 30.0;
    let g = summary(&out, M::TiedUpGrossAvg);
    assert!(
        (g.mean - expected).abs() < 5.0 * g.std_err,
        "{} vs {expected} (se {})",
        g.mean,
        g.std_err
    );
    for p in &out.paths {
        assert_eq!(p.metrics[M::DaysToRefundAvg as usize], 30.0);
        assert_eq!(p.metrics[M::DaysToRefundP90 as usize], 30.0);
        assert_eq!(
            p.metrics[M::TiedUpNetAvg as usize],
            p.metrics[M::TiedUpGrossAvg as usize]
        );
    }
    // Declared refunds: Poisson count × R; mean within 5 standard errors.
    let d = summary(&out, M::RefundDeclared);
    let expected_flow = 50.0 * 24.0 * 50_000.0;
    assert!(
        (d.mean - expected_flow).abs() < 5.0 * d.std_err,
        "{} vs {expected_flow}",
        d.mean
    );
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let s = shipped(
        &[
            "scenarios/guizhou-2016.toml",
            "scenarios/policies/full-package.toml",
        ],
        &["scenario.paths=6"],
    );
    let (_, a) = run(s.clone(), 1);
    let (_, b) = run(s, 2);
    // Debug text compares NaN (undefined metrics) as equal, bit for bit otherwise.
    assert_eq!(format!("{:?}", a.paths), format!("{:?}", b.paths));
}

#[test]
fn a_changed_review_time_leaves_every_shipment_identical() {
    let a = Model::new(shipped(
        &["scenarios/guizhou-2016.toml"],
        &["policy.review=[{ uniform = [2, 8] }, 6, 9, 12]"],
    ));
    let b = Model::new(shipped(
        &["scenarios/guizhou-2016.toml"],
        &["policy.review=[{ uniform = [5, 30] }, 20, 25, 30]"],
    ));
    for path in [0, 3] {
        let (mut sa, mut sb) = (Scratch::default(), Scratch::default());
        engine::simulate_path(&a, path, &mut sa);
        engine::simulate_path(&b, path, &mut sb);
        let (ca, cb) = (sa.claims(), sb.claims());
        assert_eq!(ca.len(), cb.len());
        let mut later = 0;
        for (x, y) in ca.iter().zip(cb) {
            assert_eq!(
                (x.t0, x.exporter, x.r, x.t2, x.denied),
                (y.t0, y.exporter, y.r, y.t2, y.denied)
            );
            // Review only got longer: every approval moves later or stays (monotone).
            if x.t3 != NEVER && y.t3 != NEVER {
                assert!(y.t3 >= x.t3);
                later += usize::from(y.t3 > x.t3);
            }
        }
        assert!(later > ca.len() / 2, "the change must actually move claims");
    }
}

#[test]
fn baseline_2016_is_plausible() {
    let (_, out) = run(
        shipped(&["scenarios/guizhou-2016.toml"], &["scenario.paths=40"]),
        2,
    );
    let days = summary(&out, M::DaysToRefundAvg).mean;
    assert!((60.0..=120.0).contains(&days), "days to refund {days}");
    // Little's law on the real baseline: tied-up ≈ refunds declared × delay / 365.
    let tied = summary(&out, M::TiedUpGrossAvg).mean;
    let flow = summary(&out, M::RefundDeclared).mean;
    let ratio = tied / (flow * days / 365.0);
    assert!((0.85..1.15).contains(&ratio), "ratio {ratio}");
}

// ---- The mechanisms ----------------------------------------------------------

const POOL_ALL: &str = r#"
[finance]
trigger = "declared"
[pools.turnover]
capital = 1e12
advance_ratio = 0.6
lag = 0
eligible_classes = [1, 2, 3, 4]
"#;

#[test]
fn an_unlimited_pool_leaves_one_minus_a_of_gross_tied_up() {
    let (_, out) = run(scenario(POOL_ALL, &["scenario.paths=8"]), 2);
    for p in &out.paths {
        let gross = p.metrics[M::TiedUpGrossAvg as usize];
        let net = p.metrics[M::TiedUpNetAvg as usize];
        assert!(
            (net - 0.4 * gross).abs() <= 1e-9 * gross,
            "{net} vs {}",
            0.4 * gross
        );
        assert_eq!(p.metrics[M::TurnoverBlockedShare as usize], 0.0);
        assert_eq!(p.metrics[M::TurnoverEmptyDaysShare as usize], 0.0);
    }
}

#[test]
fn a_pool_with_zero_capital_changes_nothing() {
    let (_, with) = run(
        scenario(&POOL_ALL.replace("1e12", "0"), &["scenario.paths=8"]),
        2,
    );
    let (_, without) = run(scenario("", &["scenario.paths=8"]), 2);
    for (a, b) in with.paths.iter().zip(&without.paths) {
        for m in [
            M::TiedUpGrossAvg,
            M::TiedUpNetAvg,
            M::DaysToCashAvg,
            M::RefundPaid,
            M::CarryingCost,
        ] {
            assert_eq!(a.metrics[m as usize], b.metrics[m as usize], "{m:?}");
        }
        assert_eq!(a.metrics[M::TurnoverAdvanced as usize], 0.0);
        assert_eq!(a.metrics[M::TurnoverBlockedShare as usize], 1.0);
    }
}

fn small_pool_text(queue: &str) -> String {
    format!(
        "[finance]\ntrigger = \"filed\"\n[pools.turnover]\ncapital = 6e5\nadvance_ratio = 0.8\nlag = 2\neligible_classes = [1, 2, 3, 4]\nqueue = \"{queue}\"\nmax_wait_days = 4\n"
    )
}

fn small_pool(queue: &str) -> Scenario {
    scenario(&small_pool_text(queue), &["scenario.paths=6"])
}

#[test]
fn blocking_and_waiting_follow_the_queue_mode() {
    let (_, none) = run(small_pool("none"), 2);
    let (_, fifo) = run(small_pool("fifo"), 2);
    for p in &none.paths {
        assert_eq!(
            p.metrics[M::TurnoverWaitAvgDays as usize],
            0.0,
            "no queue, no waiting"
        );
        assert!(
            p.metrics[M::TurnoverBlockedShare as usize] > 0.05,
            "the small pool must bind"
        );
    }
    for p in &fifo.paths {
        let w = p.metrics[M::TurnoverWaitAvgDays as usize];
        assert!(
            w > 0.0 && w <= 4.0,
            "waits are positive and within max_wait_days: {w}"
        );
    }
}

#[test]
fn waiting_requests_are_served_in_order_and_never_beyond_max_wait() {
    let model = Model::new(small_pool("fifo"));
    let mut sc = Scratch::default();
    let (_, fin) = engine::simulate_path_detailed(&model, 0, &mut sc);
    fin.audit(&model.world(), sc.claims()).unwrap();
    // Requests are made on t2 (filed) and cash arrives 2 working days after service.
    let mut served_from_queue = 0;
    for (f, c) in fin.fin.iter().zip(sc.claims()) {
        if f.backed_by == Some(Mechanism::Turnover) {
            let service = f.cash_day - 2; // every day is a working day here
            assert!(
                service >= c.t2 && service <= c.t2 + 4,
                "served within max_wait_days"
            );
            served_from_queue += usize::from(service > c.t2);
        }
    }
    assert!(served_from_queue > 0);
    // FIFO: among claims that waited, the service order follows the request order.
    let mut waited: Vec<(i32, i32)> = fin
        .fin
        .iter()
        .zip(sc.claims())
        .filter(|(f, c)| f.backed_by == Some(Mechanism::Turnover) && f.cash_day - 2 > c.t2)
        .map(|(f, c)| (c.t2, f.cash_day - 2))
        .collect();
    waited.sort();
    assert!(
        waited.windows(2).all(|w| w[0].1 <= w[1].1),
        "no overtaking in the queue"
    );
}

#[test]
fn new_requests_never_overtake_waiting_ones() {
    // Every served request, waited or not: in request order (day, then claim
    // order), service days never go backwards.
    let model = Model::new(small_pool("fifo"));
    let mut sc = Scratch::default();
    for path in 0..3 {
        let (_, fin) = engine::simulate_path_detailed(&model, path, &mut sc);
        let served: Vec<(i32, usize, i32)> = fin
            .fin
            .iter()
            .zip(sc.claims())
            .enumerate()
            .filter(|(_, (f, _))| f.backed_by == Some(Mechanism::Turnover))
            .map(|(i, (f, c))| (c.t2, i, f.cash_day - 2))
            .collect();
        let mut sorted = served.clone();
        sorted.sort();
        assert!(
            sorted.windows(2).all(|w| w[0].2 <= w[1].2),
            "a later request was served first"
        );
        assert!(sorted.len() > 100);
    }
}

#[test]
fn a_fifo_queue_with_no_wait_is_the_same_as_no_queue() {
    let fifo0 = scenario(
        &small_pool_text("fifo").replace("max_wait_days = 4", "max_wait_days = 0"),
        &["scenario.paths=6"],
    );
    let (_, a) = run(fifo0, 2);
    let (_, b) = run(small_pool("none"), 2);
    assert!(
        format!("{:?}", a.paths) == format!("{:?}", b.paths),
        "fifo with max_wait_days = 0 differs from none"
    );
}

#[test]
fn financing_that_would_arrive_on_or_after_the_refund_is_cancelled() {
    // Every claim ends exactly 30 days after declaration (all days are working days).
    let pool = |lag: i32| {
        scenario(
            &format!(
                "[finance]\ntrigger = \"declared\"\n[pools.turnover]\ncapital = 1e12\nlag = {lag}\neligible_classes = [1, 2, 3, 4]\n"
            ),
            &["scenario.paths=2"],
        )
    };
    let (_, on_the_day) = run(pool(30), 2);
    let (_, day_before) = run(pool(29), 2);
    for p in &on_the_day.paths {
        assert_eq!(
            p.metrics[M::TurnoverAdvanced as usize],
            0.0,
            "cash on the refund day is cancelled"
        );
        assert_eq!(
            p.metrics[M::TiedUpNetAvg as usize],
            p.metrics[M::TiedUpGrossAvg as usize]
        );
        assert_eq!(p.metrics[M::FinancingCost as usize], 0.0);
    }
    for p in &day_before.paths {
        assert!(p.metrics[M::TurnoverAdvanced as usize] > 0.0);
        assert!(p.metrics[M::TiedUpNetAvg as usize] < p.metrics[M::TiedUpGrossAvg as usize]);
    }
}

#[test]
fn defaults_are_counted_without_credit_lines() {
    let (_, out) = run(
        scenario(
            "[credit_risk]\npd_by_class = [0.2, 0.2, 0.2, 0.2]\n",
            &["scenario.paths=4"],
        ),
        2,
    );
    for p in &out.paths {
        let d = p.metrics[M::CreditDefaults as usize];
        assert!(d > 0.0, "defaults {d}");
        assert_eq!(p.metrics[M::CreditDefaultRate as usize], d / 50.0);
        assert!(
            p.metrics[M::CreditDraws as usize].is_nan(),
            "no credit lines, no draws"
        );
    }
}

const GUARANTEE: &str = r#"
[finance]
trigger = "filed"
[pools.guarantee]
capital = 2e5
leverage = 5
loan_to_refund = 0.7
lag = 1
rate = 0.06
guarantee_fee = 0.01
eligible_classes = [1, 2, 3, 4]
loss_given_denial = 1.0
loss_share = 1.0
"#;

#[test]
fn the_guarantee_pool_stops_at_its_leverage_limit_and_after_ruin() {
    // Leverage: a tiny fund (5 × 2e5 = 1e6 of principal) must refuse requests.
    let model = Model::new(scenario(GUARANTEE, &["scenario.paths=4"]));
    let mut sc = Scratch::default();
    let (r, fin) = engine::simulate_path_detailed(&model, 0, &mut sc);
    fin.audit(&model.world(), sc.claims()).unwrap();
    assert!(r.metrics[M::GuaranteeBlockedShare as usize] > 0.1);
    assert!(r.metrics[M::GuaranteeOutstandingAvg as usize] <= 1e6 + 1e-6);
    // Ruin: with 20% denials every loss is the pool's; once losses reach G no loan is granted.
    let model = Model::new(scenario(
        GUARANTEE,
        &[
            "scenario.paths=4",
            "policy.denial_prob=[0.2, 0.2, 0.2, 0.2]",
        ],
    ));
    let (r, fin) = engine::simulate_path_detailed(&model, 0, &mut sc);
    assert_eq!(r.metrics[M::GuaranteeRuined as usize], 1.0);
    // The day the pool was ruined: the end day of the denial that took losses to G.
    let mut losses = 0.0;
    let mut ruin_day = NEVER;
    let mut ends: Vec<(i32, usize)> = sc
        .claims()
        .iter()
        .enumerate()
        .map(|(i, c)| (c.end(), i))
        .collect();
    ends.sort();
    for (day, i) in ends {
        let (f, c) = (&fin.fin[i], &sc.claims()[i]);
        if f.backed_by == Some(Mechanism::Guarantee) && !f.cancelled && c.denied && day < model.end
        {
            losses += f.amount;
            if losses >= 2e5 {
                ruin_day = day;
                break;
            }
        }
    }
    assert_ne!(ruin_day, NEVER);
    for (f, c) in fin.fin.iter().zip(sc.claims()) {
        if f.backed_by == Some(Mechanism::Guarantee) {
            assert!(
                c.t2 < ruin_day,
                "loan granted on {} after ruin on {ruin_day}",
                c.t2
            );
        }
    }
}

#[test]
fn the_guarantee_pool_never_loses_more_than_its_capital() {
    // 20% denials at full loss: loans granted before ruin keep failing after it.
    // Before the cap the pool booked up to L × G of losses; MODEL.md §6.2 limits
    // it to G and sends the rest to the bank.
    let model = Model::new(scenario(
        GUARANTEE,
        &[
            "scenario.paths=4",
            "policy.denial_prob=[0.2, 0.2, 0.2, 0.2]",
        ],
    ));
    let mut sc = Scratch::default();
    let g = 2e5;
    for path in 0..4 {
        let (r, fin) = engine::simulate_path_detailed(&model, path, &mut sc);
        fin.audit(&model.world(), sc.claims()).unwrap();
        let t = fin.guarantee_totals().expect("guarantee on");
        assert!(t.ruined);
        assert!(t.losses_pool <= g, "pool lost {} of {g}", t.losses_pool);
        // Every loss is shared out: pool + bank = principal × loss_given_denial.
        let total: f64 = fin
            .fin
            .iter()
            .zip(sc.claims())
            .filter(|(f, c)| {
                f.backed_by == Some(Mechanism::Guarantee)
                    && !f.cancelled
                    && c.denied
                    && c.end() < model.end
            })
            .map(|(f, _)| f.amount)
            .sum();
        assert!(total > g, "the test needs losses beyond G: {total}");
        let booked = t.losses_pool + t.losses_bank;
        assert!(
            (booked - total).abs() <= 1e-6 * total,
            "{booked} vs {total}"
        );
        // The window's flow (horizon 365, so per year = window total) obeys it too.
        let pool = r.metrics[M::GuaranteeLossPool as usize];
        assert!(pool <= g * (1.0 + 1e-12), "loss_pool {pool} above G");
        assert!(t.losses_bank > 0.0, "the bank bears what the pool cannot");
    }
}

/// The service company with unlimited capital (10¹³), every exporter a client,
/// 80% advanced on declaration with no lag: MODEL.md §13 dates the cash on the
/// request day (`add_workdays(t0, 0) = t0`, and t0 is the first day a claim is
/// outstanding), so each claim's held cash spans exactly its gross days and
/// tied_up_net = 0.2 × tied_up_gross, day by day, to rounding.
const SERVICE: &str = r#"
[finance]
order = ["service"]
trigger = "declared"
[pools.service]
capital = 1e13
advance_ratio = 0.8
lag = 0
client_share = 1
eligible_classes = [1, 2, 3, 4]
fee_flat = 0.01
fee_rate = 0.05
"#;

#[test]
fn the_service_company_finances_eighty_percent_of_everything_on_a_non_pilot_platform() {
    let s = scenario(SERVICE, &["platform.p.pilot=false", "scenario.paths=4"]);
    assert!(!s.platforms[0].pilot);
    let base = scenario("", &["platform.p.pilot=false", "scenario.paths=4"]);
    let (model, out) = run(s, 1);
    let (_, without) = run(base, 1);
    let mut sc = Scratch::default();
    for (path, (p, b)) in out.paths.iter().zip(&without.paths).enumerate() {
        let m = |k: M| p.metrics[k as usize];
        let gross = m(M::TiedUpGrossAvg);
        assert!(gross > 0.0);
        assert!(
            (m(M::TiedUpNetAvg) - 0.2 * gross).abs() <= 1e-9 * gross,
            "net {} vs 0.2 × gross {gross}",
            m(M::TiedUpNetAvg)
        );
        for d in 0..model.end as usize {
            assert!((p.series[1][d] - 0.2 * p.series[0][d]).abs() <= 1e-6 * (1.0 + p.series[0][d]));
        }
        // Every exporter is a client and nobody is turned away.
        assert_eq!(m(M::ServiceClients), 50.0);
        assert_eq!(m(M::ServiceBlockedShare), 0.0);
        assert!(m(M::ServiceAdvanced) > 0.0 && m(M::ServiceFeeIncome) > 0.0);
        // Private money: the fiscal cost is what it is without the company (0 here);
        // its fees are the exporters' whole financing cost.
        assert_eq!(m(M::FiscalCost), b.metrics[M::FiscalCost as usize]);
        assert!((m(M::FinancingCost) - m(M::ServiceFeeIncome)).abs() <= 1e-9 * m(M::FinancingCost));
        // The public mechanisms' rows are empty, the company's are not.
        assert!(m(M::TurnoverRequests).is_nan() && b.metrics[M::ServiceAdvanced as usize].is_nan());
        let (_, fin) = engine::simulate_path_detailed(&model, path as u32, &mut sc);
        fin.audit(&model.world(), sc.claims()).unwrap();
    }
}

#[test]
fn the_service_company_changes_neither_the_public_pool_nor_the_fiscal_cost() {
    let with = |on: bool| {
        format!(
            r#"
[policy]
denial_prob = [0.05, 0.05, 0.05, 0.05]
[finance]
order = ["turnover", "service"]
trigger = "filed"
[pools.turnover]
capital = 2e6
advance_ratio = 0.8
lag = 2
eligible_classes = [1, 2, 3]
fee_rate = 0.05
queue = "fifo"
max_wait_days = 3
[pools.service]
enabled = {on}
capital = 3e6
advance_ratio = 0.9
lag = 1
fee_flat = 0.04
client_share = 0.5
eligible_classes = [1, 2, 3, 4]
"#
        )
    };
    let (_, a) = run(scenario(&with(true), &["scenario.paths=4"]), 2);
    let (_, b) = run(scenario(&with(false), &["scenario.paths=4"]), 2);
    for (p, q) in a.paths.iter().zip(&b.paths) {
        let (m, n) = (|k: M| p.metrics[k as usize], |k: M| q.metrics[k as usize]);
        assert!(
            m(M::ServiceAdvanced) > 0.0,
            "the company must take what the pool leaves"
        );
        assert!(m(M::ServiceClients) > 10.0 && m(M::ServiceClients) < 40.0);
        assert_eq!(m(M::FiscalCost), n(M::FiscalCost));
        for k in [
            M::TurnoverAdvanced,
            M::TurnoverLoss,
            M::TurnoverFeeIncome,
            M::TurnoverBlockedShare,
        ] {
            assert_eq!(m(k), n(k), "{}", k.name());
        }
        let extra = m(M::FinancingCost) - n(M::FinancingCost);
        assert!((extra - m(M::ServiceFeeIncome)).abs() <= 1e-9 * m(M::FinancingCost));
        assert!(m(M::TiedUpNetAvg) < n(M::TiedUpNetAvg));
    }
    // Offered first with room for everything, it leaves the pool nothing: a claim
    // it finances is offered to no other claim-backed mechanism.
    let first = with(true)
        .replace("[\"turnover\", \"service\"]", "[\"service\", \"turnover\"]")
        .replace("capital = 3e6", "capital = 1e13")
        .replace("client_share = 0.5", "client_share = 1");
    let (_, c) = run(scenario(&first, &["scenario.paths=2"]), 2);
    for p in &c.paths {
        assert_eq!(p.metrics[M::TurnoverRequests as usize], 0.0);
    }
}

const CREDIT: &str = r#"
[finance]
trigger = "filed"
[pools.credit]
line_share = 0.01
line_cap = 1e5
rate = 0.06
risk_fund = 2e5
fund_leverage = 10
loss_share = 0.5
lgd = 0.6
eligible_classes = [1, 2, 3, 4]
[credit_risk]
pd_by_class = [0.2, 0.2, 0.2, 0.2]
rho = 0.1
"#;

#[test]
fn credit_draws_never_exceed_the_line_or_the_fund() {
    let model = Model::new(scenario(CREDIT, &["scenario.paths=4"]));
    let mut sc = Scratch::default();
    for path in 0..4 {
        let (r, fin) = engine::simulate_path_detailed(&model, path, &mut sc);
        fin.audit(&model.world(), sc.claims()).unwrap();
        assert!(r.metrics[M::CreditDrawnAvg as usize] <= 10.0 * 2e5 + 1e-6);
        // Replay each exporter's outstanding draws day by day against its line.
        let line = (0.01 * 1.2e7f64).min(1e5);
        let mut events: Vec<(i32, i32, u32, f64)> = Vec::new();
        for (f, c) in fin.fin.iter().zip(sc.claims()) {
            if f.credit > 0.0 {
                events.push((f.credit_day, 1, c.exporter, f.credit));
                events.push((c.end().min(model.end), 0, c.exporter, -f.credit));
            }
        }
        events.sort_by_key(|e| (e.0, e.1));
        let mut per = vec![0.0; model.exporters.len()];
        for (_, _, e, x) in events {
            per[e as usize] += x;
            assert!(per[e as usize] <= line * (1.0 + 1e-12), "line exceeded");
        }
        assert!(r.metrics[M::CreditDefaults as usize] > 0.0);
    }
}

// ---- Defaults: the Vasicek law -----------------------------------------------

/// Each path's default days for a homogeneous portfolio of `n` firms.
fn default_days(n: u32, paths: u32, pd: f64, rho: f64, horizon: u32) -> Vec<Vec<i32>> {
    let s = scenario(
        &format!("[credit_risk]\npd_by_class = [{pd}, {pd}, {pd}, {pd}]\nrho = {rho}\n"),
        &[
            &format!("platform.p.exporters={n}"),
            &format!("scenario.horizon_days={horizon}"),
        ],
    );
    let model = Model::new(s);
    (0..paths)
        .map(|p| {
            let d =
                refundsim::defaults::default_days(&model.scenario, &model.exporters, model.end, p)
                    .expect("credit_risk set");
            d.into_iter().filter(|x| *x != NEVER).collect()
        })
        .collect()
}

fn default_fractions(n: u32, paths: u32, pd: f64, rho: f64) -> Vec<f64> {
    default_days(n, paths, pd, rho, 365)
        .iter()
        .map(|d| d.len() as f64 / n as f64)
        .collect()
}

/// P(K ≤ k) for the number of defaults K among `n` firms under the one-factor
/// model: K | Z ~ Binomial(n, p(Z)), p(z) = Φ((Φ⁻¹(pd) − √ρ·z)/√(1−ρ)) — the exact
/// finite-portfolio Vasicek law — by integrating over Z on a fine grid.
fn vasicek_count_cdf(n: u64, pd: f64, rho: f64, k: u64) -> f64 {
    use refundsim::dist::{norm_cdf, norm_inv};
    use statrs::distribution::{Binomial, DiscreteCDF};
    let (steps, lo, hi) = (3200, -8.0f64, 8.0f64);
    let h = (hi - lo) / steps as f64;
    let mut total = 0.0;
    for i in 0..=steps {
        let z = lo + h * i as f64;
        let p = norm_cdf((norm_inv(pd) - rho.sqrt() * z) / (1.0 - rho).sqrt()).clamp(0.0, 1.0);
        let w = if i == 0 || i == steps { 0.5 } else { 1.0 };
        let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        total += w * h * phi * Binomial::new(p, n).expect("valid").cdf(k);
    }
    total
}

/// Smallest k with P(K ≤ k) ≥ alpha.
fn vasicek_count_quantile(n: u64, pd: f64, rho: f64, alpha: f64) -> u64 {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if vasicek_count_cdf(n, pd, rho, mid) >= alpha {
            hi = mid
        } else {
            lo = mid + 1
        }
    }
    lo
}

fn check_vasicek(n: u32, paths: u32) {
    let (pd, rho) = (0.04, 0.12);
    let f = default_fractions(n, paths, pd, rho);
    let s = Summary::of(f.iter().copied());
    // Mean: the unconditional PD, within 5 standard errors.
    assert!(
        (s.mean - pd).abs() < 5.0 * s.std_err,
        "mean {} vs {pd} (se {})",
        s.mean,
        s.std_err
    );
    // Median and spread: at the exact law's 10%, 50% and 90% quantiles k, the share of
    // paths with at most k defaults estimates P(K ≤ k); its standard error is
    // √(F(1−F)/paths), a distribution-free binomial bound. A wrong correlation must
    // fail the same check, so the test has power.
    let counts: Vec<u64> = f.iter().map(|x| (x * n as f64).round() as u64).collect();
    let mut wrong_rho_rejected = [false; 2];
    for alpha in [0.1, 0.5, 0.9] {
        let k = vasicek_count_quantile(n as u64, pd, rho, alpha);
        let exact = vasicek_count_cdf(n as u64, pd, rho, k);
        let seen = counts.iter().filter(|c| **c <= k).count() as f64 / paths as f64;
        let se = (exact * (1.0 - exact) / paths as f64).sqrt();
        assert!(
            (seen - exact).abs() < 5.0 * se,
            "P(K ≤ {k}): {seen} vs exact {exact} (se {se})"
        );
        for (j, wrong) in [0.04, 0.30].into_iter().enumerate() {
            let w = vasicek_count_cdf(n as u64, pd, wrong, k);
            let se_w = (w * (1.0 - w) / paths as f64).sqrt().max(1e-9);
            wrong_rho_rejected[j] |= (seen - w).abs() > 5.0 * se_w;
        }
    }
    assert_eq!(
        wrong_rho_rejected,
        [true, true],
        "the check must tell rho = 0.12 from 0.04 and 0.30"
    );
}

#[test]
fn each_measured_year_draws_its_own_systematic_factor_and_uniform_days() {
    let (n, paths, pd) = (2000u32, 300u32, 0.05);
    let days = default_days(n, paths, pd, 0.2, 730);
    let mut f0 = Vec::new();
    let mut f1 = Vec::new();
    let mut day_of_year = Vec::new();
    for d in &days {
        let k0 = d.iter().filter(|x| **x < 365).count() as f64;
        let k1 = d.iter().filter(|x| (365..730).contains(*x)).count() as f64;
        assert!(
            d.iter().all(|x| (0..730).contains(x)),
            "no defaults in the warm-up or past the window"
        );
        f0.push(k0 / n as f64);
        f1.push(k1 / (n as f64 - k0)); // among firms still alive at the year's start
        day_of_year.extend(d.iter().map(|x| (x % 365) as f64));
    }
    for f in [&f0, &f1] {
        let s = Summary::of(f.iter().copied());
        assert!(
            (s.mean - pd).abs() < 5.0 * s.std_err,
            "yearly default rate {} vs {pd}",
            s.mean
        );
    }
    // Independent systematic draws: the two years' rates are uncorrelated.
    let (m0, m1) = (
        Summary::of(f0.iter().copied()),
        Summary::of(f1.iter().copied()),
    );
    let cov = f0
        .iter()
        .zip(&f1)
        .map(|(a, b)| (a - m0.mean) * (b - m1.mean))
        .sum::<f64>()
        / (paths - 1) as f64;
    let corr = cov / (m0.std * m1.std);
    assert!(
        corr.abs() < 5.0 / (paths as f64).sqrt(),
        "correlation {corr}"
    );
    // The default day is uniform in its year: mean 182, sd 365/√12.
    let s = Summary::of(day_of_year.iter().copied());
    let se = 365.0 / 12f64.sqrt() / (day_of_year.len() as f64).sqrt();
    assert!((s.mean - 182.0).abs() < 5.0 * se, "mean day {}", s.mean);
}

#[test]
fn default_rates_follow_the_vasicek_law() {
    check_vasicek(4000, 600);
}

/// The long version: `cargo test --release --test model -- --ignored`.
#[test]
#[ignore = "long statistical check; run with --ignored"]
fn default_rates_follow_the_vasicek_law_closely() {
    check_vasicek(20000, 5000);
}

#[test]
fn with_rho_zero_default_counts_are_binomial() {
    let (n, pd, paths) = (2000u32, 0.05, 800u32);
    let f = default_fractions(n, paths, pd, 0.0);
    let counts: Vec<f64> = f.iter().map(|x| x * n as f64).collect();
    let s = Summary::of(counts.iter().copied());
    let mean = n as f64 * pd;
    let var = mean * (1.0 - pd);
    assert!(
        (s.mean - mean).abs() < 5.0 * (var / paths as f64).sqrt(),
        "mean {}",
        s.mean
    );
    // Sample variance of a binomial: standard error ≈ var × √(2/(paths − 1)).
    let v = s.std * s.std;
    assert!(
        (v - var).abs() < 5.0 * var * (2.0 / (paths - 1) as f64).sqrt(),
        "variance {v} vs {var}"
    );
}

// ---- Conservation on random scenarios ----------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn every_yuan_is_accounted_for(
        k in 0.0f64..3e6, a in 0.1f64..1.0, lag in 0i32..5, queue in prop::bool::ANY,
        g in 0.0f64..5e5, lev in 1.0f64..10.0, ltr in 0.1f64..1.0,
        c in 0.0f64..5e5, share in 0.0f64..0.2,
        deny in 0.0f64..0.2, trigger in 0usize..3, order in 0usize..3,
        quota in prop::option::of(5e5f64..3e6), seed in 0u64..1000,
        svc in 0.0f64..2e6, clients in 0.0f64..1.0,
    ) {
        let triggers = ["declared", "filed", "approved"];
        let orders = ["[\"turnover\", \"guarantee\", \"credit\", \"service\"]", "[\"guarantee\", \"service\", \"turnover\", \"credit\"]", "[\"service\", \"credit\", \"turnover\", \"guarantee\"]"];
        let q = quota.map(|m| format!("quota = {{ monthly = {m} }}\n")).unwrap_or_default();
        let overlay = format!(r#"
[policy]
denial_prob = [{deny}, {deny}, {deny}, {deny}]
verification = {{ prob = [0.1, 0.1, 0.2, 0.3], days = {{ uniform = [5, 30] }} }}
review = [{{ gamma = {{ mean = 8, cv = 0.6 }} }}, 10, 12, {{ lognormal = {{ mean = 15, cv = 0.5 }} }}]
{q}
[finance]
trigger = "{t}"
order = {o}
[pools.turnover]
capital = {k}
advance_ratio = {a}
lag = {lag}
eligible_classes = [1, 2, 3]
max_per_exporter = 2e5
fee_flat = 0.005
fee_rate = 0.05
queue = "{qm}"
[pools.guarantee]
capital = {g}
leverage = {lev}
loan_to_refund = {ltr}
eligible_classes = [1, 2, 3, 4]
[pools.credit]
line_share = {share}
risk_fund = {c}
[pools.service]
capital = {svc}
advance_ratio = {a}
lag = {lag}
fee_flat = 0.04
fee_rate = 0.02
client_share = {clients}
client_max_exports = 1.3e7
eligible_classes = [1, 2, 3, 4]
[credit_risk]
pd_by_class = [0.05, 0.1, 0.1, 0.3]
rho = 0.2
"#, t = triggers[trigger], o = orders[order], qm = if queue { "fifo" } else { "none" });
        let s = scenario(&overlay, &["scenario.paths=2", "platform.p.exporters=12", &format!("scenario.seed={seed}")]);
        let model = Model::new(s);
        let mut sc = Scratch::default();
        for path in 0..2 {
            let (r, fin) = engine::simulate_path_detailed(&model, path, &mut sc);
            prop_assert!(fin.audit(&model.world(), sc.claims()).is_ok(), "{:?}", fin.audit(&model.world(), sc.claims()));
            // The guarantee pool's liability is limited to its capital (§6.2): the
            // window's loss_pool (horizon 365: per year = window total) never exceeds G.
            let pool = r.metrics[M::GuaranteeLossPool as usize];
            prop_assert!(pool.is_nan() || pool <= g * (1.0 + 1e-12), "loss_pool {pool} > G {g}");
            // Every claim is paid, denied or pending at the end of the window, and the
            // last day's gross tied-up equals the claims still pending then.
            let h = model.end;
            let pending: f64 = sc.claims().iter().filter(|c| c.t0 < h && c.end() >= h).map(|c| c.r).sum();
            let last = r.series[0][h as usize - 1];
            prop_assert!((last - pending).abs() <= 1e-6 * (1.0 + pending), "{last} vs {pending}");
            // Net never exceeds gross, and financing never makes it negative.
            for d in 0..h as usize {
                prop_assert!(r.series[1][d] <= r.series[0][d] + 1e-6);
                prop_assert!(r.series[1][d] >= -1e-6);
            }
        }
    }
}

#[test]
fn scratch_reuse_does_not_leak_between_paths() {
    let s = shipped(
        &[
            "scenarios/guizhou-2016.toml",
            "scenarios/policies/full-package.toml",
        ],
        &["scenario.paths=3"],
    );
    let model = Model::new(s);
    let mut reused = Scratch::default();
    engine::simulate_path(&model, 0, &mut reused);
    let a = engine::simulate_path(&model, 1, &mut reused);
    let b = engine::simulate_path(&model, 1, &mut Scratch::default());
    for (i, (x, y)) in a.metrics.iter().zip(&b.metrics).enumerate() {
        assert!(
            x == y || (x.is_nan() && y.is_nan()),
            "metric {i}: {x} vs {y}"
        );
    }
}

/// Credit before a queued turnover pool, and many defaults: a waiting claim may
/// already hold a credit draw (its record is not empty when it leaves the
/// queue) and its exporter may default while it waits. The books still balance,
/// every financed record is its own claim's (the audit), some claims drew
/// credit and then got an advance from the queue, and a reused scratch gives
/// what a fresh one gives.
#[test]
fn credit_before_a_queued_pool_with_defaults_keeps_the_books() {
    let s = shipped(
        &[
            "scenarios/guizhou-2016.toml",
            "scenarios/policies/full-package.toml",
        ],
        &[
            "scenario.paths=3",
            "finance.order=[\"credit\", \"turnover\", \"guarantee\"]",
            "credit_risk.pd_by_class=[0.2, 0.3, 0.4, 0.5]",
            "pools.credit.line_cap=\"5万\"",
            "pools.turnover.capital=\"300万\"",
            "pools.turnover.max_wait_days=30",
        ],
    );
    let model = Model::new(s);
    let mut reused = Scratch::default();
    engine::simulate_path(&model, 0, &mut reused);
    let (a, fin) = engine::simulate_path_detailed(&model, 1, &mut reused);
    fin.audit(&model.world(), reused.claims()).unwrap();
    let w = model.world();
    let credit_then_queue = fin
        .fin
        .iter()
        .zip(reused.claims())
        .filter(|(f, c)| {
            f.backed_by == Some(Mechanism::Turnover)
                && f.credit > 0.0
                && f.cash_day > w.cal.add_workdays(c.t2, 3)
        })
        .count();
    assert!(
        credit_then_queue > 0,
        "no claim drew credit and then waited for an advance"
    );
    assert!(a.metrics[M::CreditDefaults as usize] > 0.0);
    assert!(
        a.metrics[M::CreditLossFund as usize] > 0.0,
        "defaults cost the credit fund"
    );
    let b = engine::simulate_path(&model, 1, &mut Scratch::default());
    for (i, (x, y)) in a.metrics.iter().zip(&b.metrics).enumerate() {
        assert!(
            x == y || (x.is_nan() && y.is_nan()),
            "metric {i}: {x} vs {y}"
        );
    }
}

/// Without mechanisms the finance phase only counts defaults (no day loop): the
/// count in the window, by group, must equal the default days `default_days` drew.
#[test]
fn defaults_alone_are_counted_in_the_window_by_group() {
    let s = scenario(
        "[credit_risk]\npd_by_class = [0.3, 0.3, 0.3, 0.3]\n",
        &["scenario.paths=3"],
    );
    let model = Model::new(s);
    let mut sc = Scratch::default();
    for path in 0..3 {
        let r = engine::simulate_path(&model, path, &mut sc);
        let days =
            refundsim::defaults::default_days(&model.scenario, &model.exporters, model.end, path)
                .expect("credit risk on");
        let mut by_group = vec![0.0; model.groups];
        for (ei, &d) in days.iter().enumerate() {
            if (0..model.end).contains(&d) {
                for g in model.groups_of(ei) {
                    by_group[g] += 1.0;
                }
            }
        }
        assert!(by_group[0] > 0.0, "some defaults on path {path}");
        let per_year = 365.0 / model.end as f64;
        for (g, n) in by_group.iter().enumerate() {
            assert_eq!(
                r.groups[g][M::CreditDefaults as usize],
                n * per_year,
                "group {g}, path {path}"
            );
        }
    }
}

/// The 1+7 group's `credit.default_rate` is its own defaults over its own
/// exporters (MODEL.md §7: the same set for the 1+7 group). Since the merge that
/// gave default metrics their own owner (`Source::Defaults`), it was left empty.
#[test]
fn the_pilot_group_has_its_own_default_rate() {
    let s = shipped(&["scenarios/guizhou-2016.toml"], &["scenario.paths=2"]);
    assert!(s.credit_risk.is_some());
    let model = Model::new(s);
    let pilot = model.pilot_group();
    assert!(model.pilot_exporters > 0 && model.pilot_exporters < model.exporters.len());
    let mut sc = Scratch::default();
    for path in 0..2 {
        let r = engine::simulate_path(&model, path, &mut sc);
        let g = &r.groups[pilot];
        let rate = g[M::CreditDefaultRate as usize];
        assert_eq!(
            rate,
            g[M::CreditDefaults as usize] / model.pilot_exporters as f64,
            "path {path}: 1+7 default rate"
        );
        assert!(rate > 0.0, "path {path}: some pilot defaults");
    }
}

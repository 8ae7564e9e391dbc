//! Budget stress (issue 9): a fixed demand factor (`economy.demand_factor`), twelve
//! monthly refund budgets (`policy.quota.monthly`) and the `budget.*` metrics,
//! checked against the engine's own claim list and against answers nobody here
//! wrote (Poisson counts, the budget's monthly amounts).

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use chrono::Datelike;
use refundsim::calendar::NEVER;
use refundsim::engine::{self, Model, Scratch};
use refundsim::metrics::M;
use refundsim::scenario::Scenario;
use refundsim::stats::Summary;
use support::{Sandbox, assert_problem, rejected, succeeded};

/// 50 identical trading firms (refund 10% of FOB, 24 shipments a year of 500,000
/// each, so R = 50,000), every day a working day, fixed delays of 30 days.
const BASE: &str = r#"
[scenario]
name = "t"
start_date = "2017-01-01"
warmup_days = 120
horizon_days = 365
paths = 200
seed = 11

[calendar]
working_days = "all"

[economy]
demand_sigma = 0.5

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

fn scenario(sets: &[&str]) -> Scenario {
    let files = vec![(
        "base.toml".to_string(),
        BASE.to_string(),
        PathBuf::from("."),
    )];
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::from_texts(files, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: Scenario) -> (Model, engine::RunOutput) {
    let model = Model::new(s);
    let out = engine::run(
        &model,
        model.scenario.paths,
        2,
        &|| {},
        &AtomicBool::new(false),
    )
    .expect("not cancelled");
    (model, out)
}

fn metric(out: &engine::RunOutput, m: M) -> Vec<f64> {
    out.paths.iter().map(|p| p.metrics[m as usize]).collect()
}

#[test]
fn with_a_fixed_demand_factor_the_spread_of_exports_is_poisson_only() {
    // demand_sigma = 0.5 would give a variance of counts of about
    // λ + λ²(e^0.25 − 1) ≈ 6.4e5; the fixed factor leaves only Poisson's λ.
    let (_, out) = run(scenario(&["economy.demand_factor=1.25"]));
    let n = out.paths.len() as f64;
    let lambda = 50.0 * 24.0 * 1.25; // shipments in the 365-day window
    let fob = 1.2e7 / 24.0;
    // Every shipment has the same value: exports / FOB is the path's count.
    let counts: Vec<f64> = metric(&out, M::Exports).iter().map(|x| x / fob).collect();
    for (c, k) in counts.iter().zip(metric(&out, M::Claims)) {
        assert!((c - k).abs() < 1e-6, "exports {c} shipments vs {k} claims");
    }
    let s = Summary::of(counts.iter().copied());
    let mean_se = (lambda / n).sqrt();
    assert!(
        (s.mean - lambda).abs() < 5.0 * mean_se,
        "mean count {} vs Poisson {lambda} (se {mean_se})",
        s.mean
    );
    // The sample variance of a Poisson count has a standard error of about
    // λ·√(2/(n − 1)) (normal approximation; the excess kurtosis 1/λ is negligible).
    let var = s.std * s.std;
    let var_se = lambda * (2.0 / (n - 1.0)).sqrt();
    assert!(
        (var - lambda).abs() < 5.0 * var_se,
        "variance {var} vs Poisson {lambda} (se {var_se})"
    );
    // With the factor drawn instead, the spread is far wider: the test can fail.
    let (_, drawn) = run(scenario(&[]));
    let d = Summary::of(metric(&drawn, M::Exports).iter().map(|x| x / fob));
    assert!(
        d.std * d.std > 20.0 * lambda,
        "drawn factor: variance {}",
        d.std * d.std
    );
}

#[test]
fn a_fixed_factor_moves_no_other_draw_and_ignores_demand_sigma() {
    // Factor 1 with sigma 0.5 is exactly the run with sigma 0 (whose lognormal
    // factor is exp(0) = 1): the same shipments, stages and metrics, bit for bit.
    let (m1, fixed) = run(scenario(&["economy.demand_factor=1", "scenario.paths=20"]));
    let (_, none) = run(scenario(&["economy.demand_sigma=0", "scenario.paths=20"]));
    for (a, b) in fixed.paths.iter().zip(&none.paths) {
        assert_eq!(
            a.metrics.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.metrics.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
    // And the run says that demand_sigma is ignored.
    assert!(
        m1.warnings
            .iter()
            .any(|w| w.contains("economy.demand_factor = 1")
                && w.contains("demand_sigma = 0.5 is ignored")),
        "{:?}",
        m1.warnings
    );
}

/// Twelve monthly budgets for BASE (demand is 5 mn a month): 4 mn a month, but
/// nothing in March and 1 yuan in June.
const MONTHLY: &str = "policy.quota.monthly=[\"400万\", \"400万\", 0, \"400万\", \"400万\", 1, \"400万\", \"400万\", \"400万\", \"400万\", \"400万\", \"400万\"]";

#[test]
fn a_binding_monthly_budget_never_pays_more_than_its_month() {
    let s = scenario(&[MONTHLY, "economy.demand_sigma=0", "scenario.paths=8"]);
    let amounts = s.policy.quota.as_ref().unwrap().monthly;
    assert_eq!(amounts[2], 0.0);
    assert_eq!(amounts[5], 1.0);
    let model = Model::new(s);
    let mut sc = Scratch::default();
    for path in 0..8 {
        let r = engine::simulate_path(&model, path, &mut sc);
        // Payments by (year, month) from the engine's claim list.
        let mut paid = BTreeMap::<(i32, u32), (f64, usize)>::new();
        for c in sc.claims().iter().filter(|c| !c.denied && c.t5 != NEVER) {
            assert!(c.t5 >= c.t4, "paid before approval");
            let d = model.cal.date(c.t5);
            let e = paid.entry((d.year(), d.month0())).or_default();
            e.0 += c.r;
            e.1 += 1;
        }
        assert!(!paid.is_empty());
        for (&(y, m), &(sum, count)) in &paid {
            let budget = amounts[m as usize];
            // §13: a claim larger than a month's whole (positive) budget is paid
            // alone in a month with nothing else paid, using up that month.
            let one_big_claim = count == 1 && budget > 0.0;
            assert!(
                sum <= budget * (1.0 + 1e-12) || one_big_claim,
                "path {path}: {y}-{:02} paid {sum} in {count} claims, budget {budget}",
                m + 1
            );
            assert_ne!(m, 2, "March's budget is 0: nothing is paid in March");
            if m == 5 {
                assert_eq!(
                    count, 1,
                    "June's 1 yuan pays one claim (the big-claim rule)"
                );
            }
        }
        // Demand exceeds every month's budget: every month of the window binds.
        let binding = r.metrics[M::BudgetBindingMonths as usize];
        assert_eq!(binding, 12.0, "path {path}");
        assert!(r.metrics[M::BudgetBacklogAvg as usize] > 0.0);
        assert!(r.metrics[M::BudgetWaitDaysAvg as usize] > 0.0);
        // The backlog series is the last one, and its window average is the metric.
        let backlog = r.series.last().unwrap();
        let avg = backlog.iter().sum::<f64>() / backlog.len() as f64;
        let m = r.metrics[M::BudgetBacklogAvg as usize];
        assert!((avg - m).abs() <= 1e-9 * m, "{avg} vs {m}");
        // Days to refund = days to approval-ready (30) + days waited for the budget.
        let wait = r.metrics[M::BudgetWaitDaysAvg as usize];
        let to_refund = r.metrics[M::DaysToRefundAvg as usize];
        assert!(
            (to_refund - 30.0 - wait).abs() < 1e-9 * to_refund,
            "{to_refund} vs 30 + {wait}"
        );
    }
}

#[test]
fn without_a_budget_nothing_waits_and_with_an_ample_one_nothing_binds() {
    let (model, out) = run(scenario(&["scenario.paths=4"]));
    assert!(!model.series_names().contains(&"budget_backlog"));
    for p in &out.paths {
        assert_eq!(p.metrics[M::BudgetBindingMonths as usize], 0.0);
        assert_eq!(p.metrics[M::BudgetBacklogAvg as usize], 0.0);
        assert_eq!(p.metrics[M::BudgetWaitDaysAvg as usize], 0.0);
    }
    // A budget of 10亿 a month covers everything: it never binds and nobody
    // waits longer than to the next working day (every day works here: 0 days).
    let (model, out) = run(scenario(&[
        "scenario.paths=4",
        "policy.quota.monthly=\"10亿\"",
    ]));
    assert_eq!(model.series_names().last(), Some(&"budget_backlog"));
    for p in &out.paths {
        assert_eq!(p.metrics[M::BudgetBindingMonths as usize], 0.0);
        assert_eq!(p.metrics[M::BudgetBacklogAvg as usize], 0.0);
        assert_eq!(p.metrics[M::BudgetWaitDaysAvg as usize], 0.0);
    }
}

#[test]
fn a_bad_monthly_list_or_demand_factor_is_refused_with_file_line_and_key() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    // Validates tiny.toml with an overlay `name` holding `text`: the error text.
    let overlay_rejected = |name: &str, text: &str| {
        std::fs::write(sb.path(name), text).unwrap();
        rejected(&sb.output(&["validate", "tiny.toml", name]))
    };
    let stderr = overlay_rejected(
        "stress.toml",
        "[economy]\ndemand_factor = 0\n\n[policy.quota]\nmonthly = [\"1亿\", \"1亿\", \"1亿\", \"lots\", \"1亿\", \"1亿\", \"1亿\", \"1亿\", \"1亿\", \"1亿\", \"1亿\", -5]\n",
    );
    assert_problem(&stderr, "stress.toml", 2, "economy.demand_factor");
    assert_problem(&stderr, "stress.toml", 5, "policy.quota.monthly[3]");
    assert_problem(&stderr, "stress.toml", 5, "policy.quota.monthly[11]");
    assert!(stderr.contains("a list of 12 such amounts"), "{stderr}");
    let stderr = overlay_rejected("short.toml", "[policy.quota]\nmonthly = [1, 2, 3]\n");
    assert_problem(&stderr, "short.toml", 2, "policy.quota.monthly");
    assert!(stderr.contains("expected a list of 12 values"), "{stderr}");
    let stderr = overlay_rejected(
        "zero.toml",
        "[policy.quota]\nmonthly = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
    );
    assert_problem(&stderr, "zero.toml", 2, "policy.quota.monthly");
    assert!(stderr.contains("never pays a refund"), "{stderr}");
}

#[test]
fn run_appends_the_budget_rows_and_backlog_columns() {
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    succeeded(&sb.output(&[
        "run",
        "tiny.toml",
        "--quiet",
        "--paths",
        "3",
        "--set",
        "economy.demand_factor=1.25",
        "--out",
        "r",
    ]));
    let summary = std::fs::read_to_string(sb.path("r/summary.csv")).unwrap();
    // The `all` rows, in file order (the `1+7` rows follow them).
    let names: Vec<&str> = summary
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",all"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let at = names
        .iter()
        .position(|n| *n == "budget.binding_months")
        .expect("budget rows in summary.csv");
    assert_eq!(
        names[at - 1..at + 3],
        [
            "service.loss",
            "budget.binding_months",
            "budget.backlog_avg",
            "budget.wait_days_avg"
        ],
        "the budget rows follow the service rows, appended after the older metrics"
    );
    let ts = std::fs::read_to_string(sb.path("r/timeseries.csv")).unwrap();
    assert!(
        ts.lines().next().unwrap().ends_with(
            ",budget_backlog_mean,budget_backlog_p5,budget_backlog_p50,budget_backlog_p95"
        ),
        "{}",
        ts.lines().next().unwrap()
    );
    let manifest = std::fs::read_to_string(sb.path("r/manifest.json")).unwrap();
    assert!(manifest.contains("\"demand_factor\": 1.25"), "{manifest}");
    assert!(
        manifest.contains("demand_sigma = 0.1 is ignored"),
        "{manifest}"
    );
}

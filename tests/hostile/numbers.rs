//! Hostile-input tests: numbers that once misled (guarantee losses beyond the
//! pool's capital, titles naming the wrong population, intervals of shares below
//! zero, metrics without documentation).

use std::fs;

use crate::support::*;

/// Per-path values of a metric column of `paths.csv`.
fn path_column(csv: &str, metric: &str) -> Vec<f64> {
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let k = h.iter().position(|c| c == metric).unwrap();
    rdr.records()
        .map(|r| r.unwrap()[k].parse::<f64>().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn guarantee_pool_never_books_more_loss_than_its_capital() {
    // A 1万 fund at leverage 10, a third of claims denied and every loss the
    // pool's: loans granted before ruin keep failing after it. Before the fix the
    // pool booked several times its capital.
    let sb = Sandbox::new().fixture("ok/tiny.toml", "tiny.toml");
    let out = sb.output(&[
        "run",
        "tiny.toml",
        "--quiet",
        "--out",
        "run",
        "--set",
        "scenario.horizon_days=365",
        "--set",
        "pools.turnover.enabled=false",
        "--set",
        "pools.guarantee.capital=1e4",
        "--set",
        "pools.guarantee.leverage=10",
        "--set",
        "pools.guarantee.loss_given_denial=1",
        "--set",
        "pools.guarantee.loss_share=1",
        "--set",
        "pools.guarantee.eligible_classes=[1, 2, 3, 4]",
        "--set",
        "policy.denial_prob=[0.3, 0.3, 0.3, 0.3]",
    ]);
    succeeded(&out);
    let csv = fs::read_to_string(sb.path("run/paths.csv")).unwrap();
    let pool = path_column(&csv, "guarantee.loss_pool");
    let bank = path_column(&csv, "guarantee.loss_bank");
    let ruined = path_column(&csv, "guarantee.ruined");
    for ((p, b), r) in pool.iter().zip(&bank).zip(&ruined) {
        // Horizon 365 days: the per-year flow is the window's total.
        assert!(*p <= 1e4 * (1.0 + 1e-9), "pool lost {p} of its 1e4 capital");
        if *r == 1.0 {
            assert!(*b > 0.0, "after ruin the bank bears the losses");
        }
    }
    assert!(
        ruined.contains(&1.0),
        "the test needs a ruined pool: {ruined:?}"
    );
}

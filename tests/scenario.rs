//! Validation of contradictions across keys, on the tiny fixture scenario.

use std::path::PathBuf;

use refundsim::scenario::Scenario;

fn tiny_with(sets: &[&str]) -> Result<Scenario, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::load(&[root.join("tests/fixtures/ok/tiny.toml")], &sets).map_err(|e| e.to_string())
}

#[test]
fn the_tiny_fixture_is_valid() {
    tiny_with(&[]).unwrap();
}

#[test]
fn rejects_an_eligible_class_list_naming_class_5() {
    let e = tiny_with(&["pools.turnover.eligible_classes=[1, 2, 5]"]).unwrap_err();
    assert!(
        e.contains("pools.turnover.eligible_classes[2]") && e.contains("5 is not a class"),
        "{e}"
    );
}

#[test]
fn rejects_an_enabled_pool_that_finance_order_never_reaches() {
    let e = tiny_with(&["finance.order=[\"turnover\", \"guarantee\"]"]).unwrap_err();
    assert!(
        e.contains("pools.credit") && e.contains("finance.order does not list \"credit\""),
        "{e}"
    );
    // Disabling the pool instead is fine.
    tiny_with(&[
        "finance.order=[\"turnover\", \"guarantee\"]",
        "pools.credit.enabled=false",
    ])
    .unwrap();
}

#[test]
fn rejects_correlations_that_leave_no_idiosyncratic_risk() {
    let e = tiny_with(&["credit_risk.rho=0.6", "credit_risk.sector_rho=0.5"]).unwrap_err();
    assert!(e.contains("rho + sector_rho"), "{e}");
}

#[test]
fn rejects_a_mechanism_listed_twice() {
    let e = tiny_with(&["finance.order=[\"turnover\", \"turnover\", \"guarantee\", \"credit\"]"])
        .unwrap_err();
    assert!(e.contains("listed twice"), "{e}");
}

#[test]
fn a_population_file_replaces_the_drawn_exporters() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let s = tiny_with(&[&format!(
        "population.file=\"{}\"",
        root.join("tests/fixtures/ok/exporters.csv").display()
    )])
    .unwrap();
    assert_eq!(s.n_exporters(), 4);
    let model = refundsim::engine::Model::new(s);
    let e = &model.exporters;
    assert_eq!(
        (
            e[0].platform,
            e[0].class,
            e[0].cash_share,
            e[0].shipments_per_year
        ),
        (0, 0, 1.0, 24.0)
    );
    assert_eq!(
        (e[1].annual_exports, e[1].cash_share, e[1].pd),
        (6e6, 0.5, 0.02)
    );
    assert_eq!((e[3].platform, e[3].class, e[3].pd), (1, 3, 0.2));
    assert!(!e[3].pilot, "rest is the comparison group");
    // The fertilizer firm has a 0% refund rate: it exports but never claims.
    let r = refundsim::engine::simulate_path(&model, 0, &mut refundsim::engine::Scratch::default());
    assert!(r.metrics[refundsim::metrics::M::Claims as usize] > 0.0);
}

#[test]
fn a_lopsided_drawn_population_is_flagged() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let load = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let s = Scenario::load(&[root.join("scenarios/guizhou-2016.toml")], &sets).unwrap();
        refundsim::engine::Model::new(s).warnings
    };
    // Identical firms: the total is exactly as expected and nobody dominates.
    let even: Vec<String> = [
        "gui-an",
        "guiyang-hitech",
        "guiyang-etdz",
        "zunyi-etdz",
        "guiyang-cbz",
        "gui-an-cbz",
        "zunyi-cbz",
        "shuanglong",
        "rest-of-guizhou",
    ]
    .iter()
    .map(|p| format!("platform.{p}.export_sigma=0"))
    .collect();
    let even: Vec<&str> = even.iter().map(String::as_str).collect();
    assert!(load(&even).is_empty());
    // A huge dispersion on one platform: its largest firm dwarfs everyone else.
    let w = load(&["platform.guiyang-hitech.export_sigma=4"]);
    assert!(w.iter().any(|m| m.contains("of all exports")), "{w:?}");
}

#[test]
fn rejects_an_enabled_pool_with_no_eligible_class() {
    let e = tiny_with(&["pools.guarantee.eligible_classes=[]"]).unwrap_err();
    assert!(
        e.contains("pools.guarantee.eligible_classes") && e.contains("serve nobody"),
        "{e}"
    );
}

#[test]
fn the_service_company_is_checked_like_the_public_pools() {
    let order = "finance.order=[\"turnover\", \"guarantee\", \"credit\", \"service\"]";
    // Enabled (a table with a capital) but never offered a claim.
    let e = tiny_with(&["pools.service.capital=1e7"]).unwrap_err();
    assert!(
        e.contains("pools.service") && e.contains("finance.order does not list \"service\""),
        "{e}"
    );
    // Listed: valid, with the documented defaults.
    let s = tiny_with(&["pools.service.capital=1e7", order]).unwrap();
    let sv = s.service.expect("enabled");
    assert_eq!(
        (
            sv.capital,
            sv.advance_ratio,
            sv.lag,
            sv.fee_flat,
            sv.fee_rate
        ),
        (1e7, 1.0, 3, 0.04, 0.0)
    );
    assert_eq!(sv.client_max_exports, None);
    assert_eq!(sv.client_share, 1.0);
    assert_eq!(sv.eligible, [true, true, true, false]);
    // Out of range, and a name that is not a mechanism (the message lists "service").
    let e = tiny_with(&[
        "pools.service.capital=1e7",
        "pools.service.client_share=1.5",
        order,
    ])
    .unwrap_err();
    assert!(e.contains("pools.service.client_share"), "{e}");
    let e = tiny_with(&["finance.order=[\"servise\"]"]).unwrap_err();
    assert!(
        e.contains("is not a mechanism") && e.contains("\"service\""),
        "{e}"
    );
    // Switched off, it is still checked but takes no part.
    let s = tiny_with(&["pools.service.enabled=false", "pools.service.capital=1e7"]).unwrap();
    assert!(s.service.is_none());
}

//! Engine throughput in claims per second (criterion).
//!
//! `cargo bench --bench engine` times single paths of the shipped 2020-target
//! scenario (6,000 pilot exporters plus a comparison group), with and without the
//! full package of mechanisms, on one thread; and a batch of paths on one and on
//! two threads for the parallel speed-up; and Φ⁻¹ (AS 241) against statrs on 10⁶
//! points. Throughput is set to the claims the
//! timed work simulates, so criterion reports claims per second.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refundsim::dist;
use refundsim::engine::{self, Model, Scratch};
use refundsim::scenario::Scenario;

fn model(overlays: &[&str]) -> Model {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("scenarios/guizhou-2020-target.toml")];
    files.extend(overlays.iter().map(|o| root.join(o)));
    Model::new(Scenario::load(&files, &[]).expect("shipped scenario"))
}

fn claims_per_path(m: &Model, paths: u32) -> u64 {
    let mut sc = Scratch::default();
    (0..paths)
        .map(|p| engine::simulate_path(m, p, &mut sc).claims_simulated)
        .sum()
}

fn single_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("one_thread_one_path");
    g.sample_size(20);
    for (name, overlays) in [
        ("status_quo", vec![]),
        ("full_package", vec!["scenarios/policies/full-package.toml"]),
    ] {
        let m = model(&overlays);
        g.throughput(Throughput::Elements(claims_per_path(&m, 1)));
        let mut sc = Scratch::default();
        g.bench_function(name, |b| b.iter(|| engine::simulate_path(&m, 0, &mut sc)));
    }
    g.finish();
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("eight_paths");
    g.sample_size(10);
    let m = model(&[]);
    g.throughput(Throughput::Elements(claims_per_path(&m, 8)));
    for t in [1usize, 2] {
        g.bench_function(format!("threads_{t}"), |b| {
            b.iter(|| {
                engine::run(&m, 8, t, &|| {}, &AtomicBool::new(false)).expect("not cancelled")
            })
        });
    }
    g.finish();
}

/// Φ⁻¹ on 10⁶ points spread over (0, 1) and both tails: AS 241 against statrs.
fn normal_quantile(c: &mut Criterion) {
    let n = 1_000_000;
    let ps: Vec<f64> = (0..n)
        .map(|i| {
            let u = (i as f64 + 0.5) / n as f64;
            // Every 16th point in a tail, down to 10⁻³⁰⁰.
            if i % 16 == 0 {
                10f64.powf(-300.0 * u)
            } else {
                u
            }
        })
        .collect();
    let mut g = c.benchmark_group("norm_inv_1e6_points");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("as241", |b| {
        b.iter(|| ps.iter().map(|&p| dist::norm_inv(p)).sum::<f64>())
    });
    g.bench_function("statrs", |b| {
        b.iter(|| ps.iter().map(|&p| dist::norm_inv_statrs(p)).sum::<f64>())
    });
    g.finish();
}

criterion_group!(benches, single_path, threads, normal_quantile);
criterion_main!(benches);

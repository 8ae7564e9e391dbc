//! Engine throughput in claims per second (criterion).
//!
//! `cargo bench --bench engine` times single paths of the shipped 2020-target
//! scenario (6,000 pilot exporters plus a comparison group), with and without the
//! full package of mechanisms, on one thread; and a batch of paths on one and on
//! two threads for the parallel speed-up. Throughput is set to the claims the
//! timed work simulates, so criterion reports claims per second.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

criterion_group!(benches, single_path, threads);
criterion_main!(benches);

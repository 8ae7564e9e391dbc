//! Population CSV parsing in rows per second (criterion).
//!
//! `cargo bench --bench population` parses generated population files of the
//! shipped 2020-target scenario's platforms and sectors — 10,000, 100,000 and
//! 1,000,000 exporters, with the optional columns and a comment line every
//! thousand rows — through `input::population_csv::parse_csv`, the function `population.file`
//! goes through. Throughput is set to the rows, so criterion reports rows per
//! second; a linear parser shows the same rate at every size (the quadratic one it
//! replaced fell from ~7,000 rows/s at 20k rows to ~500 at 80k).

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use refundsim::input::population_csv::parse_csv;
use refundsim::scenario::Scenario;

fn scenario() -> Scenario {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Scenario::load(&[root.join("scenarios/guizhou-2020-target.toml")], &[])
        .expect("shipped scenario")
}

/// A population file of `n` exporters spread over every platform and sector.
fn file(s: &Scenario, n: usize) -> String {
    let mut t = String::from("id,platform,sector,kind,annual_exports,class,cash_share,pd\n");
    for i in 0..n {
        if i % 1000 == 0 {
            let _ = writeln!(t, "# block {}", i / 1000);
        }
        let p = &s.platforms[i % s.platforms.len()].name;
        let sec = &s.sectors[i % s.sectors.len()].name;
        let (kind, cash) = if i % 3 == 0 {
            ("trading", String::new())
        } else {
            ("manufacturer", "0.5".to_string())
        };
        let _ = writeln!(
            t,
            "e{i},{p},{sec},{kind},{}万,{},{cash},",
            100 + (i * 7919) % 5000,
            1 + i % 4
        );
    }
    t
}

fn parse(c: &mut Criterion) {
    let s = scenario();
    let mut g = c.benchmark_group("population_csv");
    g.sample_size(10);
    let platforms: Vec<&str> = s.platforms.iter().map(|p| p.name.as_str()).collect();
    let sectors: Vec<&str> = s.sectors.iter().map(|s| s.name.as_str()).collect();
    for n in [10_000usize, 100_000, 1_000_000] {
        let text = file(&s, n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let rows = parse_csv(text, &platforms, &sectors).expect("valid file");
                assert_eq!(rows.len(), n);
                rows
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);

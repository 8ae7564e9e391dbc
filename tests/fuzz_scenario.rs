//! Fuzzing the scenario loader: random TOML documents and `--set` strings must
//! never panic, and every problem they cause must say where it is.
//!
//! The documents are mutations of the shipped scenarios and the tiny fixture:
//! keys from the key table with random values of every type, garbage bytes, deep
//! nesting, huge and tiny numbers, odd unicode, deleted and duplicated lines. The
//! run is bounded (a fixed number of cases from a fixed seed), so it is the same
//! every time and takes a few seconds in CI; raise `REFUNDSIM_FUZZ_CASES` to
//! search longer.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use refundsim::scenario::Scenario;
use refundsim::scenario::keys::{KEYS, Shape};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `(name, text, directory)` of every seed document.
fn seeds() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for dir in ["scenarios", "scenarios/policies", "tests/fixtures/ok"] {
        let dir = repo().join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            out.push((
                f.file_name().unwrap().to_string_lossy().into_owned(),
                text,
                dir.clone(),
            ));
        }
    }
    out
}

/// Odd strings: amounts good and bad, unicode, control characters, huge text.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1,5亿".to_string()),
        Just("1,500万".to_string()),
        Just("1e400".to_string()),
        Just("-300万".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("3亿元".to_string()),
        Just("fifi".to_string()),
        Just("mon-fri".to_string()),
        Just("2017-02-30".to_string()),
        Just("\u{202e}\u{0}\u{7f}\u{feff}".to_string()),
        Just("x".repeat(5000)),
        Just("名".repeat(300)),
        Just("a\nb\tc\r".to_string()),
        Just("../../etc/passwd".to_string()),
        ".{0,12}",
        "[0-9,._e万亿元-]{0,10}",
    ]
}

/// A TOML value of any type, nested up to `depth`.
fn value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(4),
            Just(10_000_001),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        prop_oneof![
            Just("nan"),
            Just("inf"),
            Just("-inf"),
            Just("1e308"),
            Just("5e-324"),
            Just("-0.0"),
            Just("1e-9"),
            Just("1e-200"),
            Just("0.5"),
            Just("1.5")
        ]
        .prop_map(str::to_string),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("2017-01-01".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        odd_string().prop_map(|s| toml_quote(&s)),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let inner = value(depth - 1);
    prop_oneof![
        4 => leaf,
        1 => prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec(("[a-z_]{1,8}", inner.clone()), 0..4).prop_map(|kv| {
            format!(
                "{{ {} }}",
                kv.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
        1 => (
            prop::sample::select(vec!["fixed", "uniform", "triangular", "lognormal", "gamma", "empirical", "weibull"]),
            inner,
        )
            .prop_map(|(form, v)| format!("{{ {form} = {v} }}")),
        1 => (
            prop::sample::select(vec!["lognormal", "gamma"]),
            value(0),
            value(0),
        )
            .prop_map(|(form, m, c)| format!("{{ {form} = {{ mean = {m}, cv = {c} }} }}")),
    ]
    .boxed()
}

/// A TOML basic string holding `s` (control characters escaped).
fn toml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A dotted key from the key table, with platform and sector keys given an
/// element name or position, or now and then a made-up key.
fn key() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = KEYS
        .iter()
        .filter(|d| d.shape() != Shape::Section && d.shape() != Shape::Tables)
        .map(|d| d.key)
        .collect();
    prop_oneof![
        8 => (prop::sample::select(known), prop::sample::select(vec!["gui-an", "rest", "1", "2", "9", "nowhere", "0"]))
            .prop_map(|(k, name)| match k.split_once('.') {
                Some((head @ ("platform" | "sector"), tail)) => format!("{head}.{name}.{tail}"),
                _ => k.to_string(),
            }),
        1 => "[a-z_.]{1,24}",
        1 => prop::sample::select(vec![
            "policy.review.1.lognormal.mean",
            "policy.review.0",
            "policy.review.5.fixed",
            "policy.denial_prob.2",
            "economy.season.13",
            "..",
            "a..b",
            "",
        ])
        .prop_map(str::to_string),
    ]
}

/// One mutation of a document's text.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace the value of the n-th `key = value` line.
    Revalue(usize, String),
    /// Append `[section]\nleaf = value`.
    Append(String, String),
    /// Put `dotted.key = value` at the top.
    Prepend(String, String),
    /// Insert raw text at a byte fraction of the document.
    Garbage(f64, String),
    /// Delete lines `[a, a + n)`.
    Delete(usize, usize),
    /// Duplicate line n.
    Duplicate(usize),
    /// Wrap a value in deep nesting.
    Nest(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), value(2)).prop_map(|(n, v)| Edit::Revalue(n, v)),
        2 => (key(), value(2)).prop_map(|(k, v)| Edit::Append(k, v)),
        1 => (key(), value(1)).prop_map(|(k, v)| Edit::Prepend(k, v)),
        1 => (0.0..1.0f64, prop_oneof![
            ".{0,16}".boxed(),
            Just("[[platform]]\n".to_string()).boxed(),
            Just("[".to_string()).boxed(),
            Just("\"".to_string()).boxed(),
            Just("\u{0}".to_string()).boxed(),
            Just("= =".to_string()).boxed(),
            Just("\n[pools.turnover]\nenabled = true\n".to_string()).boxed(),
        ]).prop_map(|(at, g)| Edit::Garbage(at, g)),
        1 => (any::<usize>(), 1..8usize).prop_map(|(a, n)| Edit::Delete(a, n)),
        1 => any::<usize>().prop_map(Edit::Duplicate),
        1 => (any::<usize>(), 1..200usize).prop_map(|(n, d)| Edit::Nest(n, d)),
    ]
}

fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let assignments: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(" = "))
        .map(|(i, _)| i)
        .collect();
    match e {
        Edit::Revalue(n, _) | Edit::Nest(n, _) if !assignments.is_empty() => {
            let i = assignments[n % assignments.len()];
            let k = lines[i].split(" = ").next().unwrap_or("").to_string();
            let v = match e {
                Edit::Nest(_, d) => format!("{}1{}", "[".repeat(*d), "]".repeat(*d)),
                Edit::Revalue(_, v) => v.clone(),
                _ => return text.to_string(),
            };
            lines[i] = format!("{k} = {v}");
        }
        Edit::Append(k, v) => match k.rsplit_once('.') {
            Some((section, leaf)) => lines.push(format!("\n[{section}]\n{leaf} = {v}")),
            None => lines.insert(0, format!("{k} = {v}")),
        },
        Edit::Prepend(k, v) => lines.insert(0, format!("{k} = {v}")),
        Edit::Garbage(at, g) => {
            let mut t = lines.join("\n");
            let mut cut = ((t.len() as f64) * at) as usize;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            t.insert_str(cut, g);
            return t;
        }
        Edit::Delete(a, n) if !lines.is_empty() => {
            let a = a % lines.len();
            let b = (a + n).min(lines.len());
            lines.drain(a..b);
        }
        Edit::Duplicate(n) if !lines.is_empty() => {
            let i = n % lines.len();
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        _ => {}
    }
    lines.join("\n") + "\n"
}

/// A `--set` string: mostly `key=value`, sometimes without `=`, with a line
/// break, or pure noise.
fn set_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (key(), value(1)).prop_map(|(k, v)| format!("{k}={v}")),
        2 => (key(), odd_string()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key(),
        1 => (key(), value(0)).prop_map(|(k, v)| format!("{k}={v}\nscenario.seed=3")),
        1 => ".{0,30}",
    ]
}

#[test]
fn random_scenarios_and_sets_never_panic_and_every_problem_is_located() {
    let seeds = seeds();
    let cases: u32 = std::env::var("REFUNDSIM_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let n = seeds.len();
    let strategy = (
        prop::collection::vec((0..n, prop::collection::vec(edit(), 0..5)), 1..3),
        prop::collection::vec(set_arg(), 0..3),
    );
    runner
        .run(&strategy, |(docs, sets)| {
            let files: Vec<(String, String, PathBuf)> = docs
                .iter()
                .map(|(i, edits)| {
                    let (name, text, dir) = &seeds[*i];
                    let text = edits.iter().fold(text.clone(), |t, e| apply(&t, e));
                    (name.clone(), text, dir.clone())
                })
                .collect();
            let names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
            if let Err(e) = Scenario::from_texts(files, &sets) {
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    prop_assert!(!p.message.trim().is_empty(), "{p:?}");
                    let located = names.iter().any(|n| p.location.starts_with(n.as_str()))
                        || p.location.starts_with("--set #")
                        || p.location.contains(".csv");
                    prop_assert!(located, "problem without a location: {p:?}");
                    prop_assert!(
                        !p.location.contains('\n') && !p.message.contains('\n'),
                        "a problem is one line: {p:?}"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

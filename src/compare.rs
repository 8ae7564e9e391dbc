//! Policy comparisons on common random numbers (MODEL.md §7, §10–11).
//!
//! Every arm — the base and each reform — runs with the same seed and paths, so
//! every draw whose key exists in two arms is shared, and the per-path
//! differences `reform − base` cancel most of the Monte Carlo noise: the paired
//! confidence interval is much tighter than the one of two independent runs of
//! the same size. Several reforms run against one base ([`Plan`]); each reform's
//! deltas are exactly those of a two-arm comparison of that reform alone.
//!
//! **Reforms.** A reform is a stack of overlays merged after the base files: one
//! `--reform` per reform, several overlays in one reform written `A.toml+B.toml`
//! ([`parse_reform`]). Each is named by its overlays' file stems joined by `+`
//! ([`ReformSpec`]), the name in `delta.csv` and `effectiveness.csv`.
//!
//! **Cost-effectiveness** ([`effectiveness`], MODEL.md §7): per reform and for
//! the 1+7 group and all exporters, `released_net_avg`, `released_net_peak`,
//! `days_to_cash_saved`, `fiscal_cost_net` (the reform's change in it),
//! `released_per_fiscal_yuan` and `exporter_net_benefit`, each with a paired 95%
//! interval over paths. The ratio's interval is by the **delta method** on the
//! paired per-path values ([`ratio_of_means`]): `R = x̄ / ȳ`, `Var R ≈ (s²ₓ −
//! 2R·sₓᵧ + R²·s²ᵧ) / (n·ȳ²)`. It is chosen over a bootstrap because it is a closed
//! form of the same per-path pairs every other interval uses — no resampling, no
//! second seed, the same bytes for any thread count — and because the
//! denominator, mostly committed capital × `gov_rate`, varies little across
//! paths, where the delta method and the bootstrap agree. Where it would not (the
//! denominator's own 95% interval reaches 0, so the ratio is unbounded, Fieller
//! 1954) the interval is left empty rather than reported falsely narrow.
//!
//! **Shards** (`compare --shard I/N`): every arm runs only the paths `p` with
//! `p mod N = I − 1` ([`Plan::run_shard`]) — the same paths in every arm, so the
//! pairs stay pairs — and the compare shard folder (kind `compare-shard`) holds
//! each arm as a run shard ([`crate::shard`]) in `base/` and the reform folders.
//! [`merge_shards`] merges each arm with the run merge and computes `delta.csv`
//! and `effectiveness.csv` from the merged arms' per-path columns
//! ([`crate::report::Columns`], read exactly from the shards' binary files) with
//! the same code as an unsharded comparison, so every file is byte-identical
//! (timing fields of the manifests aside).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::engine::{self, Cancelled, Model, RunOutput};
use crate::metrics::{M, METRICS, N_METRICS};
use crate::report::{ALL_GROUP, Columns, PILOT_GROUP, RunInfo, num};
use crate::scenario::Scenario;
use crate::stats::{Summary, Z95, mean_ci95};

/// A `--reform` argument that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReformError {
    /// An overlay of `A.toml+B.toml` does not exist.
    #[error(
        "--reform {arg:?}: {part} does not exist (a reform made of several overlays is written A.toml+B.toml, each part an existing scenario file; a file whose name holds `+` is taken whole when it exists)"
    )]
    Missing {
        /// The argument as given.
        arg: String,
        /// The part that is not a file.
        part: String,
    },
    /// `A.toml+` or `+B.toml`.
    #[error(
        "--reform {arg:?}: an empty overlay name around `+`; write the overlays of one reform as A.toml+B.toml"
    )]
    Empty {
        /// The argument as given.
        arg: String,
    },
    /// Two `--reform`s name the same overlays.
    #[error(
        "--reform {second:?} repeats --reform {first:?} (the same overlay files): each reform is run once; drop the repeat"
    )]
    Duplicate {
        /// The first occurrence, as given.
        first: String,
        /// The repeat, as given.
        second: String,
    },
    /// A `--reform-set` without `=`.
    #[error(
        "--reform-set {0:?}: needs KEY=VALUE, e.g. --reform-set pools.turnover.capital=5e8 (it changes the reform arms only; --set changes every arm)"
    )]
    ReformSet(String),
}

/// Checks that every `--reform-set` is `KEY=VALUE`.
pub fn check_reform_sets(sets: &[String]) -> Result<(), ReformError> {
    match sets.iter().find(|s| !s.contains('=')) {
        Some(s) => Err(ReformError::ReformSet(s.clone())),
        None => Ok(()),
    }
}

/// The overlay files of one `--reform` argument: the argument itself when it is
/// an existing file (so a file name holding `+` works), else its parts around
/// `+` (`A.toml+B.toml`), each of which must exist. A single name that does not
/// exist is returned as it is, for loading to report like any missing file.
pub fn parse_reform(arg: &str) -> Result<Vec<PathBuf>, ReformError> {
    if Path::new(arg).is_file() || !arg.contains('+') {
        return Ok(vec![PathBuf::from(arg)]);
    }
    let parts: Vec<&str> = arg.split('+').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(ReformError::Empty { arg: arg.into() });
    }
    if let Some(part) = parts.iter().find(|p| !Path::new(p).is_file()) {
        return Err(ReformError::Missing {
            arg: arg.into(),
            part: part.to_string(),
        });
    }
    Ok(parts.into_iter().map(PathBuf::from).collect())
}

/// One reform: its name and the overlay files stacked on the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReformSpec {
    /// The name in `delta.csv` and `effectiveness.csv`: the overlays' file stems
    /// joined by `+` (their paths as given, when two reforms' stems coincide).
    pub label: String,
    /// The overlays, merged left to right after the base files.
    pub files: Vec<PathBuf>,
}

/// Names the reforms given as `--reform` occurrences (each the values of one
/// `--reform`, stacked: `--reform A.toml B.toml` is `--reform A.toml+B.toml`),
/// refusing a repeated one.
pub fn reform_specs(reforms: &[Vec<String>]) -> Result<Vec<ReformSpec>, ReformError> {
    let mut files = Vec::with_capacity(reforms.len());
    let mut seen: Vec<(Vec<PathBuf>, String)> = Vec::new();
    for values in reforms {
        let mut f = Vec::new();
        for v in values {
            f.extend(parse_reform(v)?);
        }
        let arg = values.join(" ");
        let key: Vec<PathBuf> = f
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .collect();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(ReformError::Duplicate {
                first: first.clone(),
                second: arg,
            });
        }
        seen.push((key, arg));
        files.push(f);
    }
    let join = |f: &[PathBuf], by_stem: bool| {
        f.iter()
            .map(|p| {
                if by_stem {
                    p.file_stem()
                        .map(|s| s.to_string_lossy().to_string())
                        .unwrap_or_default()
                } else {
                    p.display().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("+")
    };
    let stems: Vec<String> = files.iter().map(|f| join(f, true)).collect();
    Ok(files
        .iter()
        .zip(&stems)
        .map(|(f, st)| ReformSpec {
            label: if stems.iter().filter(|x| *x == st).count() > 1 {
                join(f, false)
            } else {
                st.clone()
            },
            files: f.clone(),
        })
        .collect())
}

/// A comparison ready to run: the base and each reform as models, paired on the
/// base's seed and paths, with the warnings of every arm and of the pairing.
pub struct Plan {
    /// The base arm.
    pub base: Model,
    /// The reform arms, in the order given.
    pub reforms: Vec<(ReformSpec, Model)>,
    /// Every arm's warnings and the pairing warnings, each once.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Pairs `reforms` with `base`: every reform runs the base's seed and paths.
    /// Pairing warnings ([`pairing_warnings`]) go into the base's and that
    /// reform's manifests; with several reforms they name the reform.
    pub fn new(base: Scenario, reforms: Vec<(ReformSpec, Scenario)>) -> Plan {
        let several = reforms.len() > 1;
        let mut base_extra = Vec::new();
        let mut arms = Vec::with_capacity(reforms.len());
        for (spec, mut s) in reforms {
            s.seed = base.seed;
            s.paths = base.paths;
            let pairing: Vec<String> = pairing_warnings(&base, &s)
                .into_iter()
                .map(|w| {
                    if several {
                        format!("reform {}: {w}", spec.label)
                    } else {
                        w
                    }
                })
                .collect();
            base_extra.extend(pairing.iter().cloned());
            let mut model = Model::new(s);
            model.warnings.extend(pairing);
            arms.push((spec, model));
        }
        let mut base = Model::new(base);
        base.warnings.extend(base_extra);
        let mut warnings: Vec<String> = Vec::new();
        for w in base
            .warnings
            .iter()
            .chain(arms.iter().flat_map(|a| a.1.warnings.iter()))
        {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        Plan {
            base,
            reforms: arms,
            warnings,
        }
    }

    /// Paths of every arm.
    pub fn paths(&self) -> u32 {
        self.base.scenario.paths
    }

    /// The scenario with the most exporters (for the memory check).
    pub fn largest(&self) -> &Scenario {
        self.reforms
            .iter()
            .map(|r| &r.1.scenario)
            .fold(&self.base.scenario, |a, b| {
                if b.n_exporters() > a.n_exporters() {
                    b
                } else {
                    a
                }
            })
    }

    /// Runs every arm (the base first, then the reforms in order) on `threads`
    /// threads; `on_path` is called after each path of each arm.
    pub fn run(
        self,
        threads: usize,
        on_path: &(dyn Fn() + Sync),
        cancel: &AtomicBool,
    ) -> Result<Comparison, Cancelled> {
        self.run_shard(threads, on_path, cancel, None)
    }

    /// [`Plan::run`] for shard `shard`: every arm runs only the paths `p` with
    /// `p mod N = I − 1` (`None`: all paths).
    pub fn run_shard(
        self,
        threads: usize,
        on_path: &(dyn Fn() + Sync),
        cancel: &AtomicBool,
        shard: Option<crate::shard::Shard>,
    ) -> Result<Comparison, Cancelled> {
        let paths = self.paths();
        let arm = |m: &Model| match shard {
            None => engine::run(m, paths, threads, on_path, cancel),
            Some(s) => {
                engine::run_strided(m, paths, s.index - 1, s.count, threads, on_path, cancel)
            }
        };
        let base_out = arm(&self.base)?;
        let mut reforms = Vec::with_capacity(self.reforms.len());
        for (spec, model) in self.reforms {
            let out = arm(&model)?;
            reforms.push(Arm { spec, model, out });
        }
        Ok(Comparison {
            base: (self.base, base_out),
            reforms,
            warnings: self.warnings,
        })
    }
}

/// A reform arm after its run.
pub struct Arm {
    /// The reform.
    pub spec: ReformSpec,
    /// Its model.
    pub model: Model,
    /// Its paths.
    pub out: RunOutput,
}

/// A finished comparison.
pub struct Comparison {
    /// The base arm and its paths.
    pub base: (Model, RunOutput),
    /// The reform arms, in the order given.
    pub reforms: Vec<Arm>,
    /// Every arm's warnings and the pairing warnings.
    pub warnings: Vec<String>,
}

/// What the manifest of a comparison records about how it was asked for.
pub struct Request<'a> {
    /// The base files.
    pub base_files: &'a [PathBuf],
    /// `--set`: every arm.
    pub sets: &'a [String],
    /// `--reform-set`: the reform arms only.
    pub reform_sets: &'a [String],
}

impl Comparison {
    /// The folder of reform `i` (0-based) in the output: `reform` for a single
    /// reform (the layout of a two-arm comparison), `reforms/<i + 1>` for several.
    pub fn reform_dir(&self, i: usize) -> String {
        if self.reforms.len() == 1 {
            "reform".into()
        } else {
            format!("reforms/{}", i + 1)
        }
    }

    /// The paired deltas of every metric for each reform (all exporters).
    pub fn deltas(&self) -> Vec<Vec<Delta>> {
        self.reforms
            .iter()
            .map(|r| deltas(&self.base.1, &r.out))
            .collect()
    }

    /// The arms as [`ArmColumns`]: the base, then each reform.
    fn arm_columns(&self) -> (ArmColumns<'_, RunOutput>, Vec<ArmColumns<'_, RunOutput>>) {
        (
            ArmColumns {
                label: String::new(),
                columns: &self.base.1,
                pilot: self.base.0.pilot_group(),
            },
            self.reforms
                .iter()
                .map(|r| ArmColumns {
                    label: r.spec.label.clone(),
                    columns: &r.out,
                    pilot: r.model.pilot_group(),
                })
                .collect(),
        )
    }

    /// Each reform's cost-effectiveness, ranked ([`rank`]).
    pub fn effectiveness(&self) -> Vec<Effectiveness> {
        let (base, reforms) = self.arm_columns();
        effectiveness_of(&base, &reforms)
    }

    /// Every file of the comparison, as `(path in the folder, contents)`: each
    /// arm's run files in `base/` and its reform folder, `delta.csv`,
    /// `effectiveness.csv` and `manifest.json`.
    pub fn files(&self, info: &RunInfo, req: &Request<'_>) -> Vec<(String, String)> {
        let mut files = Vec::new();
        for (file, text) in crate::report::run_files(&self.base.0, &self.base.1, info) {
            files.push((format!("base/{file}"), text));
        }
        for (i, r) in self.reforms.iter().enumerate() {
            for (file, text) in crate::report::run_files(&r.model, &r.out, info) {
                files.push((format!("{}/{file}", self.reform_dir(i)), text));
            }
        }
        let (base, reforms) = self.arm_columns();
        for (name, text) in tables(&base, &reforms) {
            files.push((name.into(), text));
        }
        files.push(("manifest.json".into(), self.manifest_json(info, req)));
        files
    }

    /// The files of shard `shard` of the comparison (this comparison's arms
    /// having run only the shard's paths, [`Plan::run_shard`]): each arm as a run
    /// shard folder in `base/` and its reform folder, and `manifest.json` of kind
    /// `compare-shard`: the comparison's manifest (the shard's claims, the whole
    /// comparison's paths) with the shard and a fingerprint of every arm.
    pub fn shard_files(
        &self,
        info: &RunInfo,
        req: &Request<'_>,
        shard: crate::shard::Shard,
    ) -> Vec<(String, Vec<u8>)> {
        let total = self.base.0.scenario.paths as u64;
        let mut files = Vec::new();
        let mut fingerprints = Vec::new();
        let arms = std::iter::once(("base".to_string(), &self.base.0, &self.base.1)).chain(
            self.reforms
                .iter()
                .enumerate()
                .map(|(i, r)| (self.reform_dir(i), &r.model, &r.out)),
        );
        for (dir, model, out) in arms {
            let run = crate::report::manifest(model, out, info);
            fingerprints.push(crate::shard::fingerprint(&run.scenario));
            for (name, bytes) in
                crate::shard::shard_files(shard, run, crate::report::RunMeta::of(model), out, total)
            {
                files.push((format!("{dir}/{name}"), bytes));
            }
        }
        let mut v: serde_json::Value =
            serde_json::from_str(&self.manifest_json(info, req)).expect("our own json");
        v["kind"] = "compare-shard".into();
        v["shard"] = serde_json::to_value(shard).expect("serialisable");
        v["paths"] = total.into();
        v["compare_fingerprint"] =
            crate::input::sha256_hex(fingerprints.join(",").as_bytes()).into();
        let json = serde_json::to_string_pretty(&v).expect("serialisable") + "\n";
        files.push(("manifest.json".into(), json.into_bytes()));
        files
    }

    /// `manifest.json` of the comparison folder.
    fn manifest_json(&self, info: &RunInfo, req: &Request<'_>) -> String {
        let (bm, bo) = &self.base;
        let s = &bm.scenario;
        let mut inputs = s.inputs.clone();
        for r in &self.reforms {
            for i in &r.model.scenario.inputs {
                if !inputs.contains(i) {
                    inputs.push(i.clone());
                }
            }
        }
        let reforms: Vec<serde_json::Value> = self
            .reforms
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::json!({
                    "label": r.spec.label,
                    "files": r.spec.files,
                    "dir": self.reform_dir(i),
                    "scenario_name": r.model.scenario.name,
                })
            })
            .collect();
        let reform_files: Vec<&PathBuf> = self.reforms.iter().flat_map(|r| &r.spec.files).collect();
        let claims = bo.claims_simulated
            + self
                .reforms
                .iter()
                .map(|r| r.out.claims_simulated)
                .sum::<u64>();
        let (pop, pop_zh) = crate::naming::population(s);
        let (pilot, pilot_zh) = crate::naming::pilot_population(s);
        let v = serde_json::json!({
            "kind": "compare",
            "refundsim_version": env!("CARGO_PKG_VERSION"),
            "scenario_name": s.name,
            "title": s.title,
            "title_zh": s.title_zh,
            "population": pop,
            "population_zh": pop_zh,
            "pilot_population": pilot,
            "pilot_population_zh": pilot_zh,
            "base_files": req.base_files,
            "reform_files": reform_files,
            "reforms": reforms,
            "sets": req.sets,
            "reform_sets": req.reform_sets,
            "seed": s.seed,
            "paths": bo.paths.len(),
            "threads": info.threads,
            "generator": crate::rng::GENERATOR,
            "inputs": inputs,
            "claims_simulated": claims,
            "warnings": self.warnings,
            "elapsed_seconds": (info.elapsed_seconds * 1000.0).round() / 1000.0,
            "command": info.command,
        });
        serde_json::to_string_pretty(&v).expect("json") + "\n"
    }
}

/// The cost-effectiveness measures of `effectiveness.csv`, in column order of
/// [`Effectiveness::pilot`] and [`Effectiveness::all`].
pub const EFFECT_METRICS: [&str; 6] = [
    "released_net_avg",
    "released_net_peak",
    "days_to_cash_saved",
    "fiscal_cost_net",
    "released_per_fiscal_yuan",
    "exporter_net_benefit",
];

/// A measure with its paired 95% interval (all `NaN` when undefined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// The estimate.
    pub value: f64,
    /// Lower end of the 95% interval.
    pub ci_low: f64,
    /// Upper end of the 95% interval.
    pub ci_high: f64,
}

impl Measure {
    const NAN: Measure = Measure {
        value: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
    };

    /// The mean of per-path values (NaN left out) and its normal 95% interval.
    fn mean_of(v: impl IntoIterator<Item = f64>) -> Measure {
        let s = Summary::of(v);
        let (ci_low, ci_high) = mean_ci95(&s, false);
        Measure {
            value: s.mean,
            ci_low,
            ci_high,
        }
    }
}

/// One reform's cost-effectiveness against the base.
#[derive(Debug, Clone, PartialEq)]
pub struct Effectiveness {
    /// The reform's name ([`ReformSpec::label`]).
    pub reform: String,
    /// Its place among the `--reform`s given (0-based).
    pub order: usize,
    /// The measures of [`EFFECT_METRICS`] for the 1+7 group.
    pub pilot: [Measure; 6],
    /// The same for all exporters.
    pub all: [Measure; 6],
}

/// Ranks reforms by `released_net_avg` for the 1+7 group, then for all
/// exporters, largest first; ties (and undefined values) keep the order given.
pub fn rank(e: &mut [Effectiveness]) {
    let key = |x: f64| if x.is_nan() { f64::NEG_INFINITY } else { x };
    e.sort_by(|a, b| {
        key(b.pilot[0].value)
            .total_cmp(&key(a.pilot[0].value))
            .then(key(b.all[0].value).total_cmp(&key(a.all[0].value)))
            .then(a.order.cmp(&b.order))
    });
}

/// The measures of [`EFFECT_METRICS`] of `reform` against `base` for one metric
/// group, `g` = its index in the base and in the reform (0 for all exporters,
/// each arm's [`Model::pilot_group`] for 1+7: the indices differ when the reform
/// changes the platform list), from the per-path pairs (MODEL.md §7):
///
/// * `released_net_avg` = base − reform `tied_up_net_avg`; `released_net_peak`
///   the same for `tied_up_net_peak`; `days_to_cash_saved` = base − reform
///   `days_to_cash_avg` — working capital released, days saved.
/// * `fiscal_cost_net` = reform − base `fiscal_cost_net`: the reform's extra net
///   cost of public money per year.
/// * `released_per_fiscal_yuan` = mean `released_net_avg` / mean Δ
///   `fiscal_cost_net` ([`ratio_of_means`]; empty unless the cost is positive).
/// * `exporter_net_benefit` = (base − reform `carrying_cost`) − (reform − base
///   `financing_cost`): carrying cost saved less financing cost paid, CNY/yr.
pub fn effectiveness<C: Columns + ?Sized>(base: &C, reform: &C, g: [usize; 2]) -> [Measure; 6] {
    let [gb, gr] = g;
    assert_eq!(base.paths(), reform.paths(), "paired arms");
    let arms = |m: M| (base.metric(gb, m as usize), reform.metric(gr, m as usize));
    let saved = |m: M| -> Vec<f64> {
        let (b, r) = arms(m);
        b.iter().zip(&r).map(|(b, r)| b - r).collect()
    };
    let released = saved(M::TiedUpNetAvg);
    let (fb, fr) = arms(M::FiscalCostNet);
    let cost: Vec<f64> = fb.iter().zip(&fr).map(|(b, r)| r - b).collect();
    let ((cb, cr), (nb, nr)) = (arms(M::CarryingCost), arms(M::FinancingCost));
    let benefit: Vec<f64> = (0..base.paths())
        .map(|p| (cb[p] - cr[p]) - (nr[p] - nb[p]))
        .collect();
    [
        Measure::mean_of(released.iter().copied()),
        Measure::mean_of(saved(M::TiedUpNetPeak)),
        Measure::mean_of(saved(M::DaysToCashAvg)),
        Measure::mean_of(cost.iter().copied()),
        ratio_of_means(&released, &cost),
        Measure::mean_of(benefit),
    ]
}

/// `x̄ / ȳ` over the paths where both are defined, with a delta-method 95%
/// interval: `Var(x̄/ȳ) ≈ (s²ₓ − 2R·sₓᵧ + R²·s²ᵧ) / (n·ȳ²)` (sample variances and
/// covariance of the paired per-path values). Undefined (all `NaN`) when `ȳ` is
/// not positive; the interval is `NaN` when `ȳ`'s own 95% interval reaches 0
/// (the ratio is then unbounded; Fieller 1954).
pub fn ratio_of_means(x: &[f64], y: &[f64]) -> Measure {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pairs.len() as f64;
    if pairs.is_empty() {
        return Measure::NAN;
    }
    let (mut sx, mut sy) = (0.0, 0.0);
    for (a, b) in &pairs {
        sx += a;
        sy += b;
    }
    let (mx, my) = (sx / n, sy / n);
    if my.is_nan() || my <= 0.0 {
        return Measure::NAN;
    }
    let r = mx / my;
    if pairs.len() < 2 {
        return Measure {
            value: r,
            ci_low: r,
            ci_high: r,
        };
    }
    let (mut vx, mut vy, mut cxy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        vx += (a - mx) * (a - mx);
        vy += (b - my) * (b - my);
        cxy += (a - mx) * (b - my);
    }
    let d = n - 1.0;
    let (vx, vy, cxy) = (vx / d, vy / d, cxy / d);
    if my - Z95 * (vy / n).sqrt() <= 0.0 {
        return Measure {
            value: r,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    let half = Z95 * ((vx - 2.0 * r * cxy + r * r * vy).max(0.0) / (n * my * my)).sqrt();
    Measure {
        value: r,
        ci_low: r - half,
        ci_high: r + half,
    }
}

/// `effectiveness.csv`: `reform,metric,value,ci_low,ci_high` (MODEL.md §11),
/// then `group` (`1+7` or `all`) and `rank` (1 = most working capital released
/// for the 1+7 group); reforms in rank order, the 1+7 rows of each first.
pub fn effectiveness_csv(e: &[Effectiveness]) -> String {
    let mut csv = crate::output::CsvText::new();
    csv.row([
        "reform", "metric", "value", "ci_low", "ci_high", "group", "rank",
    ]);
    for (k, x) in e.iter().enumerate() {
        for (group, ms) in [(PILOT_GROUP, &x.pilot), (ALL_GROUP, &x.all)] {
            for (name, m) in EFFECT_METRICS.iter().zip(ms) {
                csv.row([
                    x.reform.clone(),
                    name.to_string(),
                    num(m.value),
                    num(m.ci_low),
                    num(m.ci_high),
                    group.to_string(),
                    (k + 1).to_string(),
                ]);
            }
        }
    }
    csv.finish()
}

/// The ranking printed after a comparison: one line per reform, best first,
/// for the 1+7 group (`who` names it), each measure `value ± half-width`.
pub fn ranking_table(e: &[Effectiveness], who: &str, paths: usize) -> String {
    use crate::report::cny_en;
    let mut s = format!(
        "Ranking by working capital released — {who}; paired 95% intervals over {paths} paths\n"
    );
    let pm = |m: &Measure, f: &dyn Fn(f64) -> String| {
        if m.value.is_nan() {
            "—".to_string()
        } else if m.ci_low.is_nan() {
            f(m.value)
        } else {
            format!("{} ± {}", f(m.value), f((m.ci_high - m.ci_low) / 2.0))
        }
    };
    let width = e
        .iter()
        .map(|x| x.reform.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        s,
        "{:<4} {:<width$} {:>24} {:>24} {:>16} {:>24} {:>18} {:>24}",
        "rank",
        "reform",
        "released, avg (CNY)",
        "released, peak (CNY)",
        "days to cash",
        "Δ net fiscal cost/yr",
        "released per ¥1/yr",
        "exporter benefit/yr",
    );
    let days = |v: f64| format!("{v:.1}");
    let ratio = |v: f64| format!("{v:.2}");
    for (k, x) in e.iter().enumerate() {
        let m = &x.pilot;
        let _ = writeln!(
            s,
            "{:<4} {:<width$} {:>24} {:>24} {:>16} {:>24} {:>18} {:>24}",
            k + 1,
            x.reform,
            pm(&m[0], &cny_en),
            pm(&m[1], &cny_en),
            pm(&m[2], &days),
            pm(&m[3], &cny_en),
            pm(&m[4], &ratio),
            pm(&m[5], &cny_en),
        );
    }
    s
}

/// The paired comparison of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delta {
    /// Mean over paths of the base arm.
    pub base_mean: f64,
    /// Mean over paths of the reform arm.
    pub reform_mean: f64,
    /// Summary of the per-path differences (reform − base).
    pub delta: Summary,
}

impl Delta {
    /// Lower end of the 95% confidence interval of the mean difference.
    pub fn ci_low(&self) -> f64 {
        self.delta.mean - self.delta.ci95()
    }

    /// Upper end of the 95% confidence interval of the mean difference.
    pub fn ci_high(&self) -> f64 {
        self.delta.mean + self.delta.ci95()
    }

    /// Relative change of the mean: delta / base mean (NaN when the base is 0).
    pub fn relative(&self) -> f64 {
        if self.base_mean == 0.0 || self.base_mean.is_nan() {
            f64::NAN
        } else {
            self.delta.mean / self.base_mean
        }
    }

    /// Whether the 95% interval excludes zero.
    pub fn significant(&self) -> bool {
        !self.delta.mean.is_nan() && (self.ci_low() > 0.0 || self.ci_high() < 0.0)
    }
}

/// Warnings when the reform changes what is measured rather than how refunds
/// are handled: the measurement window (start date, horizon, warm-up), the
/// population (number of exporters, population file, platform list) or a
/// platform's definition. Common random numbers pair path `p` of both arms only
/// through keys the arms share; with a different window or population the pairs
/// are different economies and the delta mixes the policy with that change.
pub fn pairing_warnings(base: &Scenario, reform: &Scenario) -> Vec<String> {
    let mut changed = Vec::new();
    if base.start_date != reform.start_date {
        changed.push(format!(
            "scenario.start_date ({} → {})",
            base.start_date, reform.start_date
        ));
    }
    if base.horizon_days != reform.horizon_days {
        changed.push(format!(
            "scenario.horizon_days ({} → {})",
            base.horizon_days, reform.horizon_days
        ));
    }
    if base.warmup_days != reform.warmup_days {
        changed.push(format!(
            "scenario.warmup_days ({} → {})",
            base.warmup_days, reform.warmup_days
        ));
    }
    if base.n_exporters() != reform.n_exporters() {
        changed.push(format!(
            "the number of exporters ({} → {})",
            base.n_exporters(),
            reform.n_exporters()
        ));
    }
    if base.population_file != reform.population_file {
        let f = |x: &Option<String>| x.clone().unwrap_or_else(|| "drawn".into());
        changed.push(format!(
            "population.file ({} → {})",
            f(&base.population_file),
            f(&reform.population_file)
        ));
    } else if base.population != reform.population {
        changed.push("the exporters of population.file".into());
    }
    let names = |s: &Scenario| {
        s.platforms
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    if names(base) != names(reform) {
        changed.push(format!(
            "the platform list ({} → {})",
            names(base).join(", "),
            names(reform).join(", ")
        ));
    } else {
        for (a, b) in base.platforms.iter().zip(&reform.platforms) {
            if a == b {
                continue;
            }
            let (va, vb) = (
                serde_json::to_value(a).unwrap_or_default(),
                serde_json::to_value(b).unwrap_or_default(),
            );
            let keys: Vec<String> = va
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, v)| vb.get(k.as_str()) != Some(*v))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            changed.push(format!(
                "platform {}'s definition ({})",
                a.name,
                keys.join(", ")
            ));
        }
    }
    changed
        .into_iter()
        .map(|c| {
            format!(
                "the reform changes {c}: the two arms measure different windows or populations, so the paired delta mixes the policy with that change — keep the window and the population in the base files and let the reform change policy and mechanisms only"
            )
        })
        .collect()
}

/// Paired deltas of every metric (all exporters, group 0); paths where either
/// arm is undefined are left out.
pub fn deltas<C: Columns + ?Sized>(base: &C, reform: &C) -> Vec<Delta> {
    assert_eq!(base.paths(), reform.paths(), "both arms run the same paths");
    (0..N_METRICS)
        .map(|m| paired(&base.metric(0, m), &reform.metric(0, m)))
        .collect()
}

/// One arm of a comparison as per-path columns: a finished run's paths, or
/// the merged shards of one arm.
pub struct ArmColumns<'a, C: Columns + ?Sized> {
    /// The reform's name (empty for the base).
    pub label: String,
    /// Its per-path results.
    pub columns: &'a C,
    /// Its 1+7 group ([`Model::pilot_group`]).
    pub pilot: usize,
}

/// Each reform's cost-effectiveness against `base`, ranked ([`rank`]).
pub fn effectiveness_of<C: Columns + ?Sized>(
    base: &ArmColumns<'_, C>,
    reforms: &[ArmColumns<'_, C>],
) -> Vec<Effectiveness> {
    let mut e: Vec<Effectiveness> = reforms
        .iter()
        .enumerate()
        .map(|(i, r)| Effectiveness {
            reform: r.label.clone(),
            order: i,
            pilot: effectiveness(base.columns, r.columns, [base.pilot, r.pilot]),
            all: effectiveness(base.columns, r.columns, [0, 0]),
        })
        .collect();
    rank(&mut e);
    e
}

/// `delta.csv` and `effectiveness.csv` of `reforms` against `base`.
pub fn tables<C: Columns + ?Sized>(
    base: &ArmColumns<'_, C>,
    reforms: &[ArmColumns<'_, C>],
) -> [(&'static str, String); 2] {
    let deltas: Vec<Vec<Delta>> = reforms
        .iter()
        .map(|r| deltas(base.columns, r.columns))
        .collect();
    let labelled: Vec<(&str, &[Delta])> = reforms
        .iter()
        .zip(&deltas)
        .map(|(r, d)| (r.label.as_str(), d.as_slice()))
        .collect();
    [
        ("delta.csv", delta_csv_of(&labelled)),
        (
            "effectiveness.csv",
            effectiveness_csv(&effectiveness_of(base, reforms)),
        ),
    ]
}

/// Merges the folders of `compare --shard I/N` into `staging`: each arm merged
/// as a run ([`crate::shard::write_run`]) into `base/` and its reform folder,
/// `delta.csv` and `effectiveness.csv` from the merged arms, and the
/// comparison's `manifest.json` (`claims_simulated` and `paths` of the whole
/// comparison, `elapsed_seconds` the shards' total, `command` the merge's).
/// Returns the paths per arm.
pub fn merge_shards(
    dirs: &[PathBuf],
    staging: &crate::output::Staging,
    threads: usize,
    command: &[String],
) -> Result<usize, crate::shard::MergeError> {
    use crate::shard::{MergeError, ShardSet};
    let parts =
        crate::shard::study_shards(dirs, "compare-shard", "compare", "compare_fingerprint")?;
    let first = &parts[0];
    let bad = |why: &str| MergeError::NotAShard(first.dir.clone(), why.into());
    let mut arms: Vec<(String, String)> = vec![(String::new(), "base".into())];
    for r in first
        .manifest
        .get("reforms")
        .and_then(|r| r.as_array())
        .ok_or_else(|| bad("its manifest.json lists no reforms"))?
    {
        let (Some(label), Some(dir)) = (r["label"].as_str(), r["dir"].as_str()) else {
            return Err(bad("a reform in its manifest.json has no label or dir"));
        };
        if dir
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(bad(
                "a reform dir in its manifest.json is not a folder name",
            ));
        }
        arms.push((label.to_string(), dir.to_string()));
    }
    let mut sets = Vec::with_capacity(arms.len());
    for (_, dir) in &arms {
        let set = ShardSet::open(&parts.iter().map(|p| p.dir.join(dir)).collect::<Vec<_>>())?;
        crate::shard::write_run(&set, staging, &format!("{dir}/"), threads, command)?;
        sets.push(set);
    }
    let arm = |i: usize| ArmColumns {
        label: arms[i].0.clone(),
        columns: &sets[i],
        pilot: sets[i].meta().pilot_group(),
    };
    let reforms: Vec<ArmColumns<'_, ShardSet>> = (1..arms.len()).map(arm).collect();
    for (name, text) in tables(&arm(0), &reforms) {
        staging.write(name, text.as_bytes())?;
    }
    if let Some(e) = sets.iter().find_map(|s| s.take_error()) {
        return Err(MergeError::Write(crate::output::OutputError::Io {
            path: first.dir.clone(),
            source: std::io::Error::other(format!("reading the shards failed: {e}")),
        }));
    }
    let mut m = first.manifest.clone();
    m.insert("kind".into(), "compare".into());
    let paths = sets[0].paths();
    m.insert("paths".into(), paths.into());
    let claims: u64 = sets.iter().map(|s| s.claims_simulated()).sum();
    m.insert("claims_simulated".into(), claims.into());
    let secs: f64 = parts
        .iter()
        .filter_map(|p| p.manifest.get("elapsed_seconds").and_then(|e| e.as_f64()))
        .sum();
    m.insert(
        "elapsed_seconds".into(),
        ((secs * 1000.0).round() / 1000.0).into(),
    );
    m.insert("command".into(), command.into());
    for k in ["shard", "compare_fingerprint"] {
        m.shift_remove(k);
    }
    let text = serde_json::to_string_pretty(&m).expect("serialisable") + "\n";
    staging.write("manifest.json", text.as_bytes())?;
    Ok(paths)
}

/// The paired comparison of one metric's per-path values in two arms run on the
/// same paths; paths where either arm is undefined (NaN) are left out of the delta.
pub fn paired(base: &[f64], reform: &[f64]) -> Delta {
    assert_eq!(base.len(), reform.len(), "both arms run the same paths");
    let pairs = base.iter().zip(reform).map(|(b, r)| (*b, *r));
    let diffs: Vec<f64> = pairs
        .clone()
        .filter(|(b, r)| !b.is_nan() && !r.is_nan())
        .map(|(b, r)| r - b)
        .collect();
    Delta {
        base_mean: Summary::of(pairs.clone().map(|p| p.0)).mean,
        reform_mean: Summary::of(pairs.map(|p| p.1)).mean,
        delta: Summary::of(diffs),
    }
}

/// `delta.csv` of a comparison with one reform named `reform` ([`delta_csv_of`]).
pub fn delta_csv(reform: &str, d: &[Delta]) -> String {
    delta_csv_of(&[(reform, d)])
}

/// `delta.csv`: reform, metric, unit, base mean, reform mean, paired delta with
/// its 95% confidence interval, relative change, significant yes/no; every metric
/// of each reform (all exporters), reforms in the order given. `reform` is the
/// first column (the key of a long table, as in `effectiveness.csv`); the others
/// keep their order, so readers by column name are unaffected.
pub fn delta_csv_of(reforms: &[(&str, &[Delta])]) -> String {
    let mut csv = crate::output::CsvText::new();
    csv.row([
        "reform",
        "metric",
        "unit",
        "base_mean",
        "reform_mean",
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "relative_change",
        "significant",
    ]);
    for (reform, d) in reforms {
        for (def, x) in METRICS.iter().zip(*d) {
            delta_row(&mut csv, reform, def.name, def.unit, x);
        }
    }
    csv.finish()
}

fn delta_row(csv: &mut crate::output::CsvText, reform: &str, name: &str, unit: &str, x: &Delta) {
    let sig = if x.delta.mean.is_nan() {
        ""
    } else if x.significant() {
        "yes"
    } else {
        "no"
    };
    csv.row([
        reform.to_string(),
        name.to_string(),
        unit.to_string(),
        num(x.base_mean),
        num(x.reform_mean),
        num(x.delta.mean),
        num(x.ci_low()),
        num(x.ci_high()),
        num(x.relative()),
        sig.to_string(),
    ]);
}

/// The short table printed after a comparison.
pub fn console_table(d: &[Delta]) -> String {
    use crate::metrics::M;
    use crate::report::cny_en;
    let mut s = format!(
        "{:<36} {:>12} {:>12} {:>26} {:>9} {:>5}\n",
        "metric", "base", "reform", "delta ± 95% CI", "change", "sig."
    );
    for (m, money) in [
        (M::TiedUpGrossAvg, true),
        (M::TiedUpNetAvg, true),
        (M::TiedUpNetPeak, true),
        (M::DaysToRefundAvg, false),
        (M::DaysToCashAvg, false),
        (M::CarryingCost, true),
        (M::FinancingCost, true),
        (M::FiscalCost, true),
    ] {
        let x = &d[m as usize];
        let f = |v: f64| if money { cny_en(v) } else { format!("{v:.1}") };
        let rel = x.relative();
        let _ = writeln!(
            s,
            "{:<36} {:>12} {:>12} {:>26} {:>9} {:>5}",
            METRICS[m as usize].name,
            f(x.base_mean),
            f(x.reform_mean),
            format!("{} ± {}", f(x.delta.mean), f(x.delta.ci95())),
            if rel.is_nan() {
                "—".into()
            } else {
                format!("{:+.1}%", 100.0 * rel)
            },
            if x.delta.mean.is_nan() {
                ""
            } else if x.significant() {
                "yes"
            } else {
                "no"
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_with_a_fixed_denominator_is_the_numerators_interval_scaled() {
        let x = [3.0, 5.0, 4.0, 8.0, 6.0];
        let y = [2.0; 5];
        let r = ratio_of_means(&x, &y);
        let s = Summary::of(x);
        assert!((r.value - s.mean / 2.0).abs() < 1e-12);
        assert!((r.ci_low - (s.mean - s.ci95()) / 2.0).abs() < 1e-12);
        assert!((r.ci_high - (s.mean + s.ci95()) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn ratio_is_empty_without_a_positive_cost_and_unbounded_near_zero() {
        assert!(ratio_of_means(&[1.0, 2.0], &[0.0, 0.0]).value.is_nan());
        assert!(ratio_of_means(&[1.0, 2.0], &[-1.0, -3.0]).value.is_nan());
        assert!(ratio_of_means(&[], &[]).value.is_nan());
        // Mean cost 0.5 but its interval reaches far below 0: no interval.
        let r = ratio_of_means(&[1.0, 1.0, 1.0, 1.0], &[-9.0, 10.0, -8.0, 9.0]);
        assert_eq!(r.value, 2.0);
        assert!(r.ci_low.is_nan() && r.ci_high.is_nan());
        // Paths undefined in either arm are left out of both.
        let r = ratio_of_means(&[2.0, f64::NAN, 4.0], &[1.0, 1.0, f64::NAN]);
        assert_eq!(r.value, 2.0);
    }

    #[test]
    fn a_plus_splits_a_reform_unless_the_whole_name_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, ab) = (
            dir.path().join("a.toml"),
            dir.path().join("b.toml"),
            dir.path().join("a+b.toml"),
        );
        for f in [&a, &b] {
            std::fs::write(f, "").unwrap();
        }
        let s = |p: &Path| p.display().to_string();
        let joined = format!("{}+{}", s(&a), s(&b));
        assert_eq!(parse_reform(&joined).unwrap(), vec![a.clone(), b.clone()]);
        std::fs::write(&ab, "").unwrap();
        assert_eq!(parse_reform(&s(&ab)).unwrap(), vec![ab.clone()]);
        let specs = reform_specs(&[vec![joined], vec![s(&ab)]]).unwrap();
        // Same stems, different files: named by their paths.
        assert_eq!(specs[0].label, format!("{}+{}", s(&a), s(&b)));
        assert_eq!(specs[1].label, s(&ab));
        let specs = reform_specs(&[vec![s(&a)], vec![s(&b)]]).unwrap();
        assert_eq!(
            (specs[0].label.as_str(), specs[1].label.as_str()),
            ("a", "b")
        );
        assert!(matches!(
            reform_specs(&[vec![s(&a)], vec![s(&a)]]),
            Err(ReformError::Duplicate { .. })
        ));
    }
}

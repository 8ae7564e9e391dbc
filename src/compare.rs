//! Policy comparisons on common random numbers (MODEL.md §10–11).
//!
//! Both arms run with the same seed, so every draw whose key exists in both is
//! shared, and the per-path differences `reform − base` cancel most of the Monte
//! Carlo noise: the paired confidence interval is much tighter than the one of two
//! independent runs of the same size.

use std::fmt::Write as _;

use crate::engine::RunOutput;
use crate::metrics::{METRICS, N_METRICS};
use crate::report::num;
use crate::scenario::Scenario;
use crate::stats::Summary;

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

/// Paired deltas of every metric; paths where either arm is undefined are left out.
pub fn deltas(base: &RunOutput, reform: &RunOutput) -> Vec<Delta> {
    assert_eq!(
        base.paths.len(),
        reform.paths.len(),
        "both arms run the same paths"
    );
    (0..N_METRICS)
        .map(|m| {
            let pairs = base
                .paths
                .iter()
                .zip(&reform.paths)
                .map(|(b, r)| (b.metrics[m], r.metrics[m]));
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
        })
        .collect()
}

/// `delta.csv`: metric, unit, base mean, reform mean, paired delta with its 95%
/// confidence interval, relative change, significant yes/no.
pub fn delta_csv(d: &[Delta]) -> String {
    let mut csv = crate::output::CsvText::new();
    csv.row([
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
    for (def, x) in METRICS.iter().zip(d) {
        let sig = if x.delta.mean.is_nan() {
            ""
        } else if x.significant() {
            "yes"
        } else {
            "no"
        };
        csv.row([
            def.name.to_string(),
            def.unit.to_string(),
            num(x.base_mean),
            num(x.reform_mean),
            num(x.delta.mean),
            num(x.ci_low()),
            num(x.ci_high()),
            num(x.relative()),
            sig.to_string(),
        ]);
    }
    csv.finish()
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

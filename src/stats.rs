//! Summaries over paths: mean, standard error, standard deviation and quantiles.
//!
//! Quantiles interpolate linearly between order statistics (Hyndman & Fan type 7,
//! the same as Excel's PERCENTILE.INC), so an analyst can reproduce them from
//! `paths.csv`. Sums run in path order. `NaN` values (undefined on a path) are
//! left out; a metric undefined on every path summarises to `NaN`.

/// The quantiles reported, as probabilities.
pub const QUANTILES: [f64; 4] = [0.05, 0.50, 0.95, 0.99];

/// One metric summarised over paths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Paths on which the value is defined.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Standard error of the mean: std / √n.
    pub std_err: f64,
    /// Sample standard deviation (n − 1).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises values given in path order.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Summary {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        let n = v.len();
        if n == 0 {
            let nan = f64::NAN;
            return Summary {
                n,
                mean: nan,
                std_err: nan,
                std: nan,
                min: nan,
                p5: nan,
                p50: nan,
                p95: nan,
                p99: nan,
                max: nan,
            };
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        v.sort_by(f64::total_cmp);
        let q = |p: f64| quantile_sorted(&v, p);
        Summary {
            n,
            mean,
            std_err: std / (n as f64).sqrt(),
            std,
            min: v[0],
            p5: q(0.05),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            max: v[n - 1],
        }
    }

    /// Half-width of the 95% confidence interval of the mean (normal approximation).
    pub fn ci95(&self) -> f64 {
        Z95 * self.std_err
    }
}

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for a proportion `p` observed on `n` trials, at `z`
/// (Wilson 1927). Unlike `p ± z·se` it stays within [0, 1] and is honest near
/// the bounds: 0 successes in 200 trials gives [0, 0.019], not [0, 0].
/// Returns `(NaN, NaN)` when `n` is not positive or `p` is `NaN`.
pub fn wilson(p: f64, n: f64, z: f64) -> (f64, f64) {
    if n.is_nan() || n <= 0.0 || p.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).max(0.0).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// 95% interval for the mean of a share or probability summarised over paths.
///
/// A share that varies within [0, 1] per path uses Wilson with the effective
/// number of trials `n_eff = n · p(1 − p) / s²` (`s²` the population variance over
/// paths), so the interval has about the width of the normal one away from the
/// bounds and never leaves [0, 1] near them. For a 0/1 value per path (a
/// probability such as `guarantee.ruined`) `n_eff = n`: the plain Wilson interval.
pub fn share_ci95(s: &Summary) -> (f64, f64) {
    if s.n == 0 || s.mean.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let p = s.mean.clamp(0.0, 1.0);
    let n = s.n as f64;
    let var_pop = s.std * s.std * (n - 1.0) / n;
    let inside = p > 0.0 && p < 1.0;
    if inside && var_pop == 0.0 {
        // The same share on every path: the mean over paths is known exactly.
        return (p, p);
    }
    let n_eff = if inside {
        n * p * (1.0 - p) / var_pop
    } else {
        n
    };
    wilson(p, n_eff, Z95)
}

/// 95% interval of the mean of a metric over paths: Wilson ([`share_ci95`]) for a
/// share or probability (`share`, from [`crate::metrics::MetricDef::share`]), the
/// normal `mean ± 1.96·se` otherwise. `(NaN, NaN)` when undefined on every path.
pub fn mean_ci95(s: &Summary, share: bool) -> (f64, f64) {
    if share {
        share_ci95(s)
    } else {
        (s.mean - s.ci95(), s.mean + s.ci95())
    }
}

/// Type-7 quantile of sorted values.
pub fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    let n = v.len();
    if n == 1 {
        return v[0];
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_excel_percentile_inc() {
        let s = Summary::of([1.0, 2.0, 3.0, 4.0, 10.0]);
        assert_eq!(s.mean, 4.0);
        assert_eq!(s.p50, 3.0);
        assert!((s.p95 - 8.8).abs() < 1e-12); // PERCENTILE.INC({1,2,3,4,10}, 0.95)
        assert_eq!((s.min, s.max), (1.0, 10.0));
        assert!((s.std - 12.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn wilson_matches_published_values_and_stays_in_bounds() {
        // Newcombe (1998), Table I: 81/263 gives 0.2553–0.3662 (score interval).
        let (lo, hi) = wilson(81.0 / 263.0, 263.0, Z95);
        assert!(
            (lo - 0.2553).abs() < 5e-5 && (hi - 0.3662).abs() < 5e-5,
            "{lo} {hi}"
        );
        // 0 of 10: 0–0.2775 (Newcombe, Table I).
        let (lo, hi) = wilson(0.0, 10.0, Z95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 5e-5, "{hi}");
        assert!(wilson(1.0, 5.0, Z95).1 <= 1.0);
        assert!(wilson(0.5, 0.0, Z95).0.is_nan());
    }

    #[test]
    fn share_interval_never_goes_below_zero() {
        // A rare share: most paths 0, one path 0.004 — the normal interval dips below 0.
        let mut v = vec![0.0; 199];
        v.push(0.004);
        let s = Summary::of(v);
        assert!(s.mean - s.ci95() < 0.0);
        let (lo, hi) = share_ci95(&s);
        assert!(lo >= 0.0 && hi > s.mean && hi <= 1.0, "{lo} {hi}");
        // Away from the bounds it is close to the normal interval.
        let s = Summary::of((0..200).map(|i| 0.3 + 0.1 * ((i % 7) as f64 - 3.0) / 3.0));
        let (lo, hi) = share_ci95(&s);
        assert!(
            ((hi - lo) / (2.0 * s.ci95()) - 1.0).abs() < 0.01,
            "{lo} {hi} {}",
            s.ci95()
        );
        // The same share on every path has no sampling error.
        let s = Summary::of([0.25; 50]);
        assert_eq!(share_ci95(&s), (0.25, 0.25));
        // A 0/1 probability is the plain Wilson interval on the paths.
        let s = Summary::of((0..100).map(|i| if i < 7 { 1.0 } else { 0.0 }));
        let (lo, hi) = share_ci95(&s);
        let (wl, wh) = wilson(0.07, 100.0, Z95);
        assert!(
            (lo - wl).abs() < 1e-12 && (hi - wh).abs() < 1e-12,
            "{lo} {hi} {wl} {wh}"
        );
    }

    #[test]
    fn nan_values_are_left_out() {
        let s = Summary::of([f64::NAN, 2.0, 4.0]);
        assert_eq!((s.n, s.mean), (2, 3.0));
        assert!(Summary::of([f64::NAN]).mean.is_nan());
    }
}

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
        1.959_963_984_540_054 * self.std_err
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
    fn nan_values_are_left_out() {
        let s = Summary::of([f64::NAN, 2.0, 4.0]);
        assert_eq!((s.n, s.mean), (2, 3.0));
        assert!(Summary::of([f64::NAN]).mean.is_nan());
    }
}

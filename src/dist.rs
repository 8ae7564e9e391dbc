//! Distributions of durations and factors (MODEL.md §5), drawn by inversion.
//!
//! Every draw is `quantile(u)` of one uniform `u` from the caller's stream, so a
//! policy that changes one distribution moves each draw monotonically and leaves all
//! other draws untouched. Durations are whole days: the drawn value rounded to the
//! nearest integer (halves up) and floored at 0. [`Durations`] turns that rule into a
//! table of thresholds `F(k − ½)`, so a duration costs a short binary search instead of
//! a quantile evaluation — the same result as `round(F⁻¹(u))`, exactly.

use statrs::distribution::{ContinuousCDF, Gamma, LogNormal};

/// A distribution of a duration (days) or a factor, as written in a scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dist {
    /// Always `x`.
    Fixed(f64),
    /// Uniform on `[a, b]`.
    Uniform(f64, f64),
    /// Triangular with `min`, `mode`, `max`.
    Triangular(f64, f64, f64),
    /// Lognormal with the given mean and coefficient of variation.
    Lognormal { mean: f64, cv: f64 },
    /// Gamma with the given mean and coefficient of variation.
    Gamma { mean: f64, cv: f64 },
    /// Equally likely observed values.
    Empirical(Vec<f64>),
}

/// Standard normal quantile Φ⁻¹(p) = −√2 · erfc⁻¹(2p) (statrs).
#[inline]
pub fn norm_inv(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}

/// Standard normal distribution function Φ(x).
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Coefficients of variation below this are treated as 0: the lognormal or gamma is
/// then the fixed value `mean`. Below it the spread is under a millionth of the mean
/// (invisible after rounding to whole days), and near 1e-8 it stops being
/// representable at all (`1 + cv²` rounds to 1, the gamma shape `1/cv²` overflows).
pub const MIN_CV: f64 = 1e-6;

/// Whether a lognormal or gamma with this mean and cv is, in effect, a fixed value:
/// a cv below [`MIN_CV`], or a mean that is not a positive finite number.
#[inline]
fn is_point(mean: f64, cv: f64) -> bool {
    !(cv >= MIN_CV && cv.is_finite() && mean > 0.0 && mean.is_finite())
}

/// `(mu, sigma)` of the lognormal with this mean and coefficient of variation.
pub fn lognormal_params(mean: f64, cv: f64) -> (f64, f64) {
    let s2 = (1.0 + cv * cv).ln();
    (mean.ln() - 0.5 * s2, s2.sqrt())
}

impl Dist {
    /// The mean of the distribution (before rounding to days).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(x) => *x,
            Dist::Uniform(a, b) => 0.5 * (a + b),
            Dist::Triangular(a, m, b) => (a + m + b) / 3.0,
            Dist::Lognormal { mean, .. } | Dist::Gamma { mean, .. } => *mean,
            Dist::Empirical(v) => v.iter().sum::<f64>() / v.len() as f64,
        }
    }

    /// The smallest value the distribution can take.
    pub fn min(&self) -> f64 {
        match self {
            Dist::Fixed(x) => *x,
            Dist::Uniform(a, _) | Dist::Triangular(a, _, _) => *a,
            Dist::Lognormal { cv, mean } | Dist::Gamma { cv, mean } => {
                if is_point(*mean, *cv) {
                    *mean
                } else {
                    0.0
                }
            }
            Dist::Empirical(v) => v.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }

    /// The quantile function `F⁻¹(u)`, `0 < u < 1`.
    pub fn quantile(&self, u: f64) -> f64 {
        match self {
            Dist::Fixed(x) => *x,
            Dist::Uniform(a, b) => a + (b - a) * u,
            Dist::Triangular(a, m, b) => triangular_quantile(*a, *m, *b, u),
            Dist::Lognormal { mean, cv } => {
                if is_point(*mean, *cv) {
                    return *mean;
                }
                let (mu, sigma) = lognormal_params(*mean, *cv);
                (mu + sigma * norm_inv(u)).exp()
            }
            // statrs inverts the gamma numerically; at extreme shapes and tails that
            // can fail (NaN), and the mean is then the honest fallback.
            Dist::Gamma { mean, cv } => match gamma(*mean, *cv).map(|g| g.inverse_cdf(u)) {
                Some(x) if !x.is_nan() => x,
                _ => *mean,
            },
            Dist::Empirical(v) => v[((u * v.len() as f64) as usize).min(v.len() - 1)],
        }
    }

    /// The distribution function `F(x)` of a continuous form (None for fixed or
    /// empirical values, which have jumps).
    fn cdf(&self, x: f64) -> Option<f64> {
        Some(match self {
            Dist::Fixed(_) | Dist::Empirical(_) => return None,
            Dist::Uniform(a, b) => {
                if b <= a {
                    return None;
                }
                ((x - a) / (b - a)).clamp(0.0, 1.0)
            }
            Dist::Triangular(a, m, b) => {
                if b <= a {
                    return None;
                }
                triangular_cdf(*a, *m, *b, x)
            }
            Dist::Lognormal { mean, cv } => {
                let (mu, sigma) = lognormal_params(*mean, *cv);
                let d = LogNormal::new(mu, sigma)
                    .ok()
                    .filter(|_| !is_point(*mean, *cv))?;
                if x <= 0.0 {
                    return Some(0.0);
                }
                d.cdf(x)
            }
            Dist::Gamma { mean, cv } => {
                let g = gamma(*mean, *cv)?;
                if x <= 0.0 {
                    return Some(0.0);
                }
                g.cdf(x)
            }
        })
    }
}

/// The gamma with this mean and cv, or None when it is in effect a fixed value
/// (see [`MIN_CV`]) or its rate overflows (a mean within a few ulps of 0).
fn gamma(mean: f64, cv: f64) -> Option<Gamma> {
    if is_point(mean, cv) {
        return None;
    }
    // shape k = 1/cv², scale θ = mean·cv²; statrs takes the rate 1/θ.
    let shape = 1.0 / (cv * cv);
    let rate = shape / mean;
    if !rate.is_finite() {
        return None;
    }
    Gamma::new(shape, rate).ok()
}

fn triangular_quantile(a: f64, m: f64, b: f64, u: f64) -> f64 {
    if b <= a {
        return a;
    }
    let fc = (m - a) / (b - a);
    if u < fc {
        a + (u * (b - a) * (m - a)).sqrt()
    } else {
        b - ((1.0 - u) * (b - a) * (b - m)).sqrt()
    }
}

fn triangular_cdf(a: f64, m: f64, b: f64, x: f64) -> f64 {
    if x <= a {
        0.0
    } else if x >= b {
        1.0
    } else if x <= m {
        (x - a) * (x - a) / ((b - a) * (m - a))
    } else {
        1.0 - (b - x) * (b - x) / ((b - a) * (b - m))
    }
}

/// Rounds a drawn value to whole days: nearest integer, halves up, floored at 0.
#[inline]
pub fn round_days(x: f64) -> i32 {
    let d = (x + 0.5).floor();
    if d <= 0.0 { 0 } else { d.min(1e6) as i32 }
}

/// A duration distribution compiled for fast inversion to whole days.
#[derive(Debug, Clone)]
pub enum Durations {
    /// Always this many days.
    Fixed(i32),
    /// `round(F⁻¹(u)) ≥ k` exactly when `u ≥ thresholds[k − 1] = F(k − ½)`.
    Thresholds(Vec<f64>),
    /// Equally likely values, already rounded.
    Empirical(Vec<i32>),
}

impl Durations {
    /// Compiles a distribution.
    pub fn new(d: &Dist) -> Self {
        match d {
            Dist::Fixed(x) => Durations::Fixed(round_days(*x)),
            Dist::Empirical(v) => {
                let days: Vec<i32> = v.iter().map(|x| round_days(*x)).collect();
                if days.iter().all(|x| *x == days[0]) {
                    Durations::Fixed(days[0])
                } else {
                    Durations::Empirical(days)
                }
            }
            _ => match d.cdf(0.0) {
                None => Durations::Fixed(round_days(d.quantile(0.5))),
                Some(_) => {
                    let mut t = Vec::new();
                    let mut k = 1;
                    loop {
                        let f = d.cdf(k as f64 - 0.5).expect("continuous");
                        if f >= 1.0 || f.is_nan() || k > 100_000 {
                            break;
                        }
                        t.push(f);
                        k += 1;
                    }
                    Durations::Thresholds(t)
                }
            },
        }
    }

    /// Whole days for the uniform `u`.
    #[inline]
    pub fn days(&self, u: f64) -> i32 {
        match self {
            Durations::Fixed(d) => *d,
            Durations::Thresholds(t) => t.partition_point(|&f| f <= u) as i32,
            Durations::Empirical(v) => v[((u * v.len() as f64) as usize).min(v.len() - 1)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Dist> {
        vec![
            Dist::Uniform(3.0, 5.0),
            Dist::Triangular(15.0, 30.0, 60.0),
            Dist::Lognormal {
                mean: 20.0,
                cv: 0.5,
            },
            Dist::Gamma {
                mean: 12.0,
                cv: 0.8,
            },
        ]
    }

    #[test]
    fn thresholds_equal_rounded_quantiles() {
        for d in all() {
            let c = Durations::new(&d);
            for i in 1..2000 {
                let u = (i as f64 - 0.37) / 2000.0;
                let direct = round_days(d.quantile(u));
                let fast = c.days(u);
                // Equal except where F⁻¹(u) sits within rounding error of a half day.
                if direct != fast {
                    let x = d.quantile(u);
                    assert!(
                        (x - x.floor() - 0.5).abs() < 1e-6,
                        "{d:?} u={u} {direct} {fast}"
                    );
                }
            }
        }
    }

    #[test]
    fn fixed_and_zero_cv_give_exact_days() {
        assert_eq!(Durations::new(&Dist::Fixed(7.0)).days(0.3), 7);
        assert_eq!(Durations::new(&Dist::Fixed(2.5)).days(0.3), 3);
        assert_eq!(Durations::new(&Dist::Fixed(-4.0)).days(0.3), 0);
        let ln = Dist::Lognormal { mean: 9.0, cv: 0.0 };
        assert_eq!(Durations::new(&ln).days(0.99), 9);
        assert_eq!(Durations::new(&Dist::Uniform(4.0, 4.0)).days(0.1), 4);
    }

    #[test]
    fn inversion_is_monotone_in_the_uniform() {
        for d in all() {
            let c = Durations::new(&d);
            let mut last = -1;
            for i in 1..500 {
                let v = c.days(i as f64 / 500.0);
                assert!(v >= last);
                last = v;
            }
        }
    }

    #[test]
    fn moments_match_within_five_standard_errors() {
        let mut s = crate::rng::Stream::new(99, crate::rng::Purpose::Demand, 0, 0, 0);
        for d in all() {
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| d.quantile(s.uniform())).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() < 5.0 * se,
                "{d:?}: {m} vs {}",
                d.mean()
            );
        }
    }

    #[test]
    fn extreme_but_valid_parameters_never_panic() {
        // Every form at the edges validation lets through: tiny and huge means,
        // cv from 0 through values too small to represent up to the cap of 10.
        // Means up to 3650 days, the largest any duration key allows.
        let means = [5e-324, 1e-300, 1e-9, 0.5, 5.0, 3650.0];
        let cvs = [0.0, 1e-300, 1e-200, 1e-9, MIN_CV, 1e-3, 1.0, 10.0];
        let mut all = Vec::new();
        for &mean in &means {
            for &cv in &cvs {
                all.push(Dist::Lognormal { mean, cv });
                all.push(Dist::Gamma { mean, cv });
            }
            all.push(Dist::Fixed(mean));
            all.push(Dist::Uniform(0.0, mean));
            all.push(Dist::Uniform(mean, mean));
            all.push(Dist::Triangular(0.0, 0.0, mean));
            all.push(Dist::Triangular(0.0, mean, mean));
            all.push(Dist::Triangular(mean, mean, mean));
            all.push(Dist::Empirical(vec![mean]));
            all.push(Dist::Empirical(vec![0.0, mean, 1e13]));
        }
        for d in &all {
            let c = Durations::new(d);
            for u in [1e-300, 1e-9, 0.3, 0.5, 0.999_999, 1.0 - 1e-16] {
                let days = c.days(u);
                assert!((0..=1_000_000).contains(&days), "{d:?} u={u}: {days}");
                let x = d.quantile(u);
                assert!(!x.is_nan(), "{d:?} u={u}");
            }
            assert!(!d.min().is_nan() && !d.mean().is_nan(), "{d:?}");
        }
    }

    #[test]
    fn a_cv_below_the_floor_is_the_fixed_mean() {
        for cv in [1e-9, 1e-200] {
            for d in [
                Dist::Lognormal { mean: 5.0, cv },
                Dist::Gamma { mean: 5.0, cv },
            ] {
                assert_eq!(d.quantile(0.01), 5.0);
                assert_eq!(d.min(), 5.0);
                assert_eq!(Durations::new(&d).days(0.99), 5);
            }
        }
    }

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!((norm_inv(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((norm_inv(0.5)).abs() < 1e-15);
        assert!((norm_cdf(norm_inv(0.01)) - 0.01).abs() < 1e-12);
    }
}

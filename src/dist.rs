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

/// Standard normal quantile Φ⁻¹(p), `0 < p < 1`, by Wichura's algorithm AS 241
/// (PPND16), the method of R's `qnorm`: a rational approximation in `p − ½` near
/// the centre and in `√(−ln min(p, 1 − p))` in the tails, accurate to about one
/// part in 10¹⁶ (relative error within a few ulps of statrs' `erfc_inv`, tested
/// below). Only the tails need a logarithm; the central 85% of `p` costs two
/// degree-7 polynomials. `p ≤ 0` gives −∞, `p ≥ 1` +∞, NaN gives NaN.
///
/// M. J. Wichura (1988), "Algorithm AS 241: The percentage points of the normal
/// distribution", *Applied Statistics* 37(3), 477–484. The coefficients are the
/// paper's; the code is ours.
#[inline]
pub fn norm_inv(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * as241::poly(&as241::A, r) / as241::poly1(&as241::B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    if tail.is_nan() {
        return f64::NAN;
    }
    if tail <= 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let r = (-tail.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        as241::poly(&as241::C, r) / as241::poly1(&as241::D, r)
    } else {
        let r = r - 5.0;
        as241::poly(&as241::E, r) / as241::poly1(&as241::F, r)
    };
    if q < 0.0 { -x } else { x }
}

/// Coefficients of AS 241 (PPND16), lowest degree first, with all the paper's
/// digits (so they can be checked against it; the compiler rounds them).
#[allow(clippy::excessive_precision)]
mod as241 {
    /// Numerator near the centre, `|p − ½| ≤ 0.425`.
    pub const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    /// Denominator near the centre (constant term 1).
    pub const B: [f64; 7] = [
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    /// Numerator in the near tail, `r = √(−ln min(p, 1 − p)) ≤ 5`.
    pub const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    /// Denominator in the near tail.
    pub const D: [f64; 7] = [
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    /// Numerator in the far tail, `r > 5` (`p < 1.4 × 10⁻¹¹`).
    pub const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    /// Denominator in the far tail.
    pub const F: [f64; 7] = [
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];

    /// `c[0] + c[1]·r + … + c[7]·r⁷` by Horner's rule.
    #[inline(always)]
    pub fn poly(c: &[f64; 8], r: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &k| acc * r + k)
    }

    /// `1 + c[0]·r + … + c[6]·r⁷` by Horner's rule.
    #[inline(always)]
    pub fn poly1(c: &[f64; 7], r: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &k| acc * r + k) * r + 1.0
    }
}

/// Φ⁻¹ as statrs computes it, `−√2 · erfc⁻¹(2p)`: the reference [`norm_inv`] is
/// tested and benchmarked against (the engine used it before version 0.2).
pub fn norm_inv_statrs(p: f64) -> f64 {
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
    Thresholds(Thresholds),
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
                    Durations::Thresholds(Thresholds::new(t))
                }
            },
        }
    }

    /// Whole days for the uniform `u`.
    #[inline]
    pub fn days(&self, u: f64) -> i32 {
        match self {
            Durations::Fixed(d) => *d,
            Durations::Thresholds(t) => t.days(u),
            Durations::Empirical(v) => v[((u * v.len() as f64) as usize).min(v.len() - 1)],
        }
    }
}

/// The thresholds `F(k − ½)` of a duration with a guide table (Chen & Asau 1974):
/// `guide[j]` is the number of thresholds `≤ j / G`, so a uniform in
/// `[j/G, (j+1)/G)` needs only the few thresholds between `guide[j]` and
/// `guide[j + 1]`. `G` is a power of two, so `j/G` and `u·G` are exact and the
/// result is the same as a search of the whole table.
#[derive(Debug, Clone)]
pub struct Thresholds {
    t: Vec<f64>,
    guide: Vec<u32>,
    /// `G` as a float.
    scale: f64,
}

impl Thresholds {
    fn new(t: Vec<f64>) -> Self {
        let g = (4 * t.len()).next_power_of_two().clamp(64, 1 << 16);
        let guide = (0..=g)
            .map(|j| t.partition_point(|&f| f <= j as f64 / g as f64) as u32)
            .collect();
        Thresholds {
            t,
            guide,
            scale: g as f64,
        }
    }

    /// `#{k : thresholds[k] ≤ u}`, `0 < u < 1`.
    #[inline]
    fn days(&self, u: f64) -> i32 {
        let j = ((u * self.scale) as u32 as usize).min(self.guide.len() - 2);
        let (lo, hi) = (self.guide[j] as usize, self.guide[j + 1] as usize);
        (lo + self.t[lo..hi].partition_point(|&f| f <= u)) as i32
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
    fn guided_thresholds_equal_a_search_of_the_whole_table() {
        for d in all() {
            let Durations::Thresholds(th) = Durations::new(&d) else {
                panic!("{d:?} should compile to thresholds");
            };
            let g = (th.guide.len() - 1) as f64;
            // Uniforms on a fine grid, at every threshold and at every guide boundary.
            let mut us: Vec<f64> = (1..20_000).map(|i| i as f64 / 20_000.0).collect();
            us.extend(th.t.iter().flat_map(|&f| [f, f.next_down(), f.next_up()]));
            us.extend((1..th.guide.len() - 1).flat_map(|j| {
                let b = j as f64 / g;
                [b, b.next_down(), b.next_up()]
            }));
            for u in us.into_iter().filter(|u| *u > 0.0 && *u < 1.0) {
                let full = th.t.partition_point(|&f| f <= u) as i32;
                assert_eq!(th.days(u), full, "{d:?} u={u}");
            }
        }
    }

    /// Largest relative difference between [`norm_inv`] (AS 241) and statrs, over
    /// a grid of the unit interval and both tails down to 10⁻³⁰⁰.
    fn max_relative_error_against_statrs() -> (f64, f64) {
        let mut ps: Vec<f64> = (1..200_000).map(|i| i as f64 / 200_000.0).collect();
        for k in 0..3000 {
            let p = 10f64.powf(-0.1 * k as f64 - 0.3);
            ps.extend([p, 1.0 - p]);
        }
        let mut worst = (0.0, 0.5);
        for p in ps.into_iter().filter(|p| *p > 0.0 && *p < 1.0 && *p != 0.5) {
            let (a, b) = (norm_inv(p), norm_inv_statrs(p));
            let rel = ((a - b) / b).abs();
            if rel > worst.0 {
                worst = (rel, p);
            }
        }
        worst
    }

    #[test]
    fn as241_agrees_with_statrs_to_double_precision() {
        let (rel, at) = max_relative_error_against_statrs();
        println!("max relative difference AS 241 vs statrs: {rel:.3e} at p = {at:e}");
        assert!(rel < 1e-14, "relative difference {rel:e} at p = {at}");
    }

    #[test]
    fn as241_is_odd_monotone_and_handles_the_ends() {
        assert_eq!(norm_inv(0.5), 0.0);
        // Exactly odd where 1 − p is exact (dyadic p).
        for i in 1..4096 {
            let p = i as f64 / 4096.0;
            assert_eq!(norm_inv(p), -norm_inv(1.0 - p), "p={p}");
        }
        let mut last = f64::NEG_INFINITY;
        for i in 1..100_000 {
            let x = norm_inv(i as f64 / 100_000.0);
            assert!(x > last);
            last = x;
        }
        // Continuous (to a few ulps) across each branch boundary: |p − ½| = 0.425
        // and r = 5 (p = e⁻²⁵; the upper tail mirrors it through 1 − p).
        for b in [0.075, 0.925, (-25.0f64).exp()] {
            let (l, r) = (norm_inv(b.next_down()), norm_inv(b.next_up()));
            assert!((r - l).abs() < 1e-14 * r.abs(), "{b}: {l} {r}");
        }
        assert_eq!(norm_inv(0.0), f64::NEG_INFINITY);
        assert_eq!(norm_inv(1.0), f64::INFINITY);
        assert!(norm_inv(f64::NAN).is_nan());
        // Round trip through Φ in the far tail (a sanity check: Φ's own error,
        // amplified by |x| ≈ 9–37 there, is far above AS 241's).
        for p in [1e-20, 1e-100, 1e-300] {
            let back = norm_cdf(norm_inv(p));
            assert!((back / p - 1.0).abs() < 1e-9, "p={p}: {back}");
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

//! Fitting one duration: lognormal and gamma by maximum likelihood on grouped,
//! interval-censored whole-day observations, the empirical distribution when the
//! days are observed exactly, selection by AIC, a Kolmogorov–Smirnov statistic
//! and Poisson-bootstrap 95% intervals.
//!
//! Every observation is a count of claims whose duration (whole days, as the
//! simulator rounds them: MODEL.md §2) lies in `a ..= b`. The underlying
//! continuous duration then lies in `[a − ½, b + ½)` (from 0 when `a = 0`), and
//! its likelihood is `F(b + ½) − F(a − ½)`. Exact observations are `a = b`.
//! Because every bound is a half-day, `F` is evaluated once per half-day on a
//! grid and each group is a lookup, so a million records cost no more than a
//! thousand.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use statrs::function::gamma::gamma_lr;

use crate::dist::norm_cdf;

/// Bootstrap replicates for every interval.
pub const BOOTSTRAP: usize = 200;

/// Claims observed in whole-day intervals: `(a, b) → count`, `a ≤ b`.
#[derive(Debug, Clone, Default)]
pub struct Obs {
    /// Counts by interval.
    pub groups: BTreeMap<(i32, i32), f64>,
}

impl Obs {
    /// Adds one claim whose duration lies in `a ..= b` whole days.
    pub fn add(&mut self, a: i32, b: i32) {
        *self
            .groups
            .entry((a.max(0), b.max(a.max(0))))
            .or_insert(0.0) += 1.0;
    }

    /// Adds every group of another set.
    pub fn extend(&mut self, other: &Obs) {
        for (k, n) in &other.groups {
            *self.groups.entry(*k).or_insert(0.0) += n;
        }
    }

    /// Number of claims.
    pub fn n(&self) -> f64 {
        self.groups.values().sum()
    }

    /// Whether every observation is exact (a single day).
    pub fn exact(&self) -> bool {
        self.groups.keys().all(|(a, b)| a == b)
    }

    fn max_day(&self) -> i32 {
        self.groups.keys().map(|k| k.1).max().unwrap_or(0)
    }

    /// Mean and variance of the interval midpoints (starting values).
    fn moments(&self) -> (f64, f64) {
        let n = self.n();
        let m = self
            .groups
            .iter()
            .map(|((a, b), c)| c * 0.5 * f64::from(a + b))
            .sum::<f64>()
            / n;
        let v = self
            .groups
            .iter()
            .map(|((a, b), c)| {
                let x = 0.5 * f64::from(a + b);
                // Within-interval spread of a uniform on [a − ½, b + ½].
                let w = f64::from(b - a + 1);
                c * ((x - m).powi(2) + w * w / 12.0)
            })
            .sum::<f64>()
            / n;
        (m.max(0.25), v.max(1e-3))
    }

    /// A Poisson-bootstrap replicate: every group's count redrawn as Poisson(count).
    fn resample(&self, rng: &mut Xoshiro256PlusPlus) -> Obs {
        Obs {
            groups: self
                .groups
                .iter()
                .map(|(k, &n)| (*k, poisson(n, rng)))
                .filter(|(_, n)| *n > 0.0)
                .collect(),
        }
    }
}

/// A Poisson draw (inversion for small means, the normal approximation above 50).
pub fn poisson(lambda: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda > 50.0 {
        let z = crate::dist::norm_inv(uniform(rng));
        return (lambda + lambda.sqrt() * z).round().max(0.0);
    }
    let mut k = 0.0;
    let mut p = (-lambda).exp();
    let mut cum = p;
    let u = uniform(rng);
    while u > cum && k < 1000.0 {
        k += 1.0;
        p *= lambda / k;
        cum += p;
    }
    k
}

fn uniform(rng: &mut Xoshiro256PlusPlus) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// A keyed bootstrap generator: the same key gives the same replicates.
pub fn bootstrap_rng(seed: u64, key: &str) -> Xoshiro256PlusPlus {
    let mut h = crate::rng::mix64(seed ^ 0xC0FF_EE00);
    for b in key.bytes() {
        h = crate::rng::mix64(h ^ u64::from(b));
    }
    Xoshiro256PlusPlus::seed_from_u64(h)
}

/// A fitted duration distribution (days, continuous).
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Lognormal with log-mean `mu` and log-sd `sigma`.
    Lognormal {
        /// Log-mean.
        mu: f64,
        /// Log-sd.
        sigma: f64,
    },
    /// Gamma with `shape` and `scale`.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ.
        scale: f64,
    },
    /// The observed whole-day distribution: `(day, probability)`.
    Empirical(Vec<(i32, f64)>),
}

impl Model {
    /// Name as in the scenario file.
    pub fn family(&self) -> &'static str {
        match self {
            Model::Lognormal { .. } => "lognormal",
            Model::Gamma { .. } => "gamma",
            Model::Empirical(_) => "empirical",
        }
    }

    /// Cumulative distribution function.
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        match self {
            Model::Lognormal { mu, sigma } => norm_cdf((x.ln() - mu) / sigma),
            Model::Gamma { shape, scale } => gamma_lr(*shape, x / scale),
            Model::Empirical(p) => p
                .iter()
                .take_while(|(d, _)| f64::from(*d) + 0.5 <= x)
                .map(|(_, q)| q)
                .sum(),
        }
    }

    /// Density (for charts; the empirical model has none).
    pub fn pdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        match self {
            Model::Lognormal { mu, sigma } => {
                let z = (x.ln() - mu) / sigma;
                (-0.5 * z * z).exp() / (x * sigma * (2.0 * std::f64::consts::PI).sqrt())
            }
            Model::Gamma { shape, scale } => {
                let lg = statrs::function::gamma::ln_gamma(*shape);
                ((shape - 1.0) * x.ln() - x / scale - lg - shape * scale.ln()).exp()
            }
            Model::Empirical(_) => f64::NAN,
        }
    }

    /// Quantile (bisection on the CDF; whole days for the empirical model).
    pub fn quantile(&self, p: f64) -> f64 {
        if let Model::Empirical(v) = self {
            let mut cum = 0.0;
            for (d, q) in v {
                cum += q;
                if cum >= p - 1e-12 {
                    return f64::from(*d);
                }
            }
            return v.last().map(|x| f64::from(x.0)).unwrap_or(0.0);
        }
        let (mut lo, mut hi) = (0.0, self.mean().max(1.0));
        while self.cdf(hi) < p && hi < 1e7 {
            hi *= 2.0;
        }
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.cdf(mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// Mean.
    pub fn mean(&self) -> f64 {
        match self {
            Model::Lognormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Model::Gamma { shape, scale } => shape * scale,
            Model::Empirical(p) => p.iter().map(|(d, q)| f64::from(*d) * q).sum(),
        }
    }

    /// Coefficient of variation.
    pub fn cv(&self) -> f64 {
        match self {
            Model::Lognormal { sigma, .. } => ((sigma * sigma).exp() - 1.0).sqrt(),
            Model::Gamma { shape, .. } => 1.0 / shape.sqrt(),
            Model::Empirical(p) => {
                let m = self.mean();
                let v: f64 = p.iter().map(|(d, q)| q * (f64::from(*d) - m).powi(2)).sum();
                if m > 0.0 { v.sqrt() / m } else { 0.0 }
            }
        }
    }

    /// Free parameters (for AIC).
    pub fn params(&self) -> usize {
        match self {
            Model::Empirical(p) => p.len().saturating_sub(1),
            _ => 2,
        }
    }

    /// The value for a scenario file: `{ lognormal = { mean = …, cv = … } }`, …
    pub fn toml(&self) -> String {
        match self {
            Model::Lognormal { .. } | Model::Gamma { .. } => format!(
                "{{ {} = {{ mean = {}, cv = {} }} }}",
                self.family(),
                round4(self.mean()),
                round4(self.cv())
            ),
            Model::Empirical(p) => {
                if p.len() == 1 {
                    return format!("{{ fixed = {} }}", p[0].0);
                }
                // 100 equally likely values: the quantiles at (j + ½)/100.
                let vals: Vec<String> = (0..100)
                    .map(|j| format!("{}", self.quantile((j as f64 + 0.5) / 100.0)))
                    .collect();
                format!("{{ empirical = [{}] }}", vals.join(", "))
            }
        }
    }
}

/// Rounds to 4 significant digits for display in TOML.
pub fn round4(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = 3 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(e);
    (x * f).round() / f
}

/// Log-likelihood of grouped observations under a CDF evaluated on the half-day grid.
fn loglik(obs: &Obs, grid: &[f64]) -> f64 {
    // grid[k] = F(k + ½); F(a − ½) = grid[a − 1], F(−½) = 0.
    let mut ll = 0.0;
    for ((a, b), n) in &obs.groups {
        let lo = if *a == 0 {
            0.0
        } else {
            grid[(*a - 1) as usize]
        };
        let hi = grid[*b as usize];
        ll += n * (hi - lo).max(1e-300).ln();
    }
    ll
}

fn grid_of(m: &Model, max_day: i32) -> Vec<f64> {
    (0..=max_day).map(|k| m.cdf(f64::from(k) + 0.5)).collect()
}

fn make(family: &str, p: [f64; 2]) -> Model {
    match family {
        "lognormal" => Model::Lognormal {
            mu: p[0],
            sigma: p[1].exp(),
        },
        _ => Model::Gamma {
            shape: p[0].exp(),
            scale: p[1].exp(),
        },
    }
}

/// Nelder–Mead minimisation in two dimensions (Lagarias et al. 1998 coefficients).
fn nelder_mead(f: &dyn Fn([f64; 2]) -> f64, x0: [f64; 2], step: f64) -> [f64; 2] {
    let mut s = [x0, [x0[0] + step, x0[1]], [x0[0], x0[1] + step]];
    let mut v = s.map(f);
    for _ in 0..400 {
        let mut idx = [0, 1, 2];
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let (b, m, w) = (idx[0], idx[1], idx[2]);
        if (v[w] - v[b]).abs() <= 1e-10 * (1.0 + v[b].abs())
            && (s[w][0] - s[b][0]).abs() + (s[w][1] - s[b][1]).abs() < 1e-9
        {
            break;
        }
        let c = [(s[b][0] + s[m][0]) / 2.0, (s[b][1] + s[m][1]) / 2.0];
        let at = |t: f64| [c[0] + t * (s[w][0] - c[0]), c[1] + t * (s[w][1] - c[1])];
        let r = at(-1.0);
        let fr = f(r);
        if fr < v[b] {
            let e = at(-2.0);
            let fe = f(e);
            if fe < fr {
                (s[w], v[w]) = (e, fe);
            } else {
                (s[w], v[w]) = (r, fr);
            }
        } else if fr < v[m] {
            (s[w], v[w]) = (r, fr);
        } else {
            let k = if fr < v[w] { at(-0.5) } else { at(0.5) };
            let fk = f(k);
            if fk < fr.min(v[w]) {
                (s[w], v[w]) = (k, fk);
            } else {
                for i in [m, w] {
                    s[i] = [(s[i][0] + s[b][0]) / 2.0, (s[i][1] + s[b][1]) / 2.0];
                    v[i] = f(s[i]);
                }
            }
        }
    }
    let best = (0..3).min_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap_or(0);
    s[best]
}

/// Maximum-likelihood fit of one parametric family, from a starting point.
fn fit_family(obs: &Obs, family: &str, start: Option<[f64; 2]>) -> (Model, f64) {
    let max_day = obs.max_day();
    let x0 = start.unwrap_or_else(|| {
        let (m, v) = obs.moments();
        let cv = v.sqrt() / m;
        match family {
            "lognormal" => {
                let (mu, s) = crate::dist::lognormal_params(m, cv.max(0.05));
                [mu, s.ln()]
            }
            _ => {
                let k = (1.0 / (cv * cv)).clamp(0.05, 1e4);
                [k.ln(), (m / k).ln()]
            }
        }
    });
    let f = |p: [f64; 2]| {
        if !p[0].is_finite() || !p[1].is_finite() || p[1].abs() > 30.0 || p[0].abs() > 30.0 {
            return f64::INFINITY;
        }
        -loglik(obs, &grid_of(&make(family, p), max_day))
    };
    let step = if start.is_some() { 0.05 } else { 0.2 };
    let p = nelder_mead(&f, x0, step);
    let p = nelder_mead(&f, p, step / 4.0); // restart: guards against a collapsed simplex
    let m = make(family, p);
    let ll = -f(p);
    (m, ll)
}

fn params_of(m: &Model) -> Option<[f64; 2]> {
    match m {
        Model::Lognormal { mu, sigma } => Some([*mu, sigma.ln()]),
        Model::Gamma { shape, scale } => Some([shape.ln(), scale.ln()]),
        Model::Empirical(_) => None,
    }
}

fn empirical(obs: &Obs) -> (Model, f64) {
    let n = obs.n();
    let p: Vec<(i32, f64)> = obs.groups.iter().map(|((a, _), c)| (*a, c / n)).collect();
    let ll = obs.groups.values().map(|c| c * (c / n).ln()).sum();
    (Model::Empirical(p), ll)
}

/// One candidate's fit statistics.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The fitted model.
    pub model: Model,
    /// Log-likelihood.
    pub loglik: f64,
    /// Akaike information criterion, `2k − 2 ln L`.
    pub aic: f64,
}

/// The fit of one duration.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Claims used.
    pub n: f64,
    /// Every candidate, best (lowest AIC) first.
    pub candidates: Vec<Candidate>,
    /// Kolmogorov–Smirnov distance of the chosen model: on whole days for exact
    /// observations; between the randomised probability integral transforms and
    /// the uniform for interval-censored ones.
    pub ks: f64,
    /// Whether the observations were interval-censored.
    pub censored: bool,
    /// Bootstrap 95% interval of the chosen model's mean.
    pub mean_ci: (f64, f64),
    /// The observations (for charts).
    pub obs: Obs,
}

impl Fit {
    /// The chosen model.
    pub fn model(&self) -> &Model {
        &self.candidates[0].model
    }
}

/// Fits lognormal, gamma and (for exact observations) the empirical distribution,
/// picks the lowest AIC and bootstraps the mean with the keyed generator.
pub fn fit(obs: &Obs, seed: u64, key: &str) -> Option<Fit> {
    let n = obs.n();
    if n < 1.0 {
        return None;
    }
    let mut candidates = Vec::new();
    // A single value observed: the fixed distribution, nothing to fit.
    if obs.exact() && obs.groups.len() == 1 {
        let (m, ll) = empirical(obs);
        let mean = m.mean();
        return Some(Fit {
            n,
            candidates: vec![Candidate {
                model: m,
                loglik: ll,
                aic: 0.0,
            }],
            ks: 0.0,
            censored: false,
            mean_ci: (mean, mean),
            obs: obs.clone(),
        });
    }
    for family in ["lognormal", "gamma"] {
        let (m, ll) = fit_family(obs, family, None);
        candidates.push(Candidate {
            aic: 2.0 * m.params() as f64 - 2.0 * ll,
            model: m,
            loglik: ll,
        });
    }
    if obs.exact() {
        let (m, ll) = empirical(obs);
        candidates.push(Candidate {
            aic: 2.0 * m.params() as f64 - 2.0 * ll,
            model: m,
            loglik: ll,
        });
    }
    candidates.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    let chosen = candidates[0].model.clone();
    let ks = ks(obs, &chosen);
    let mut rng = bootstrap_rng(seed, key);
    let mut means = Vec::with_capacity(BOOTSTRAP);
    for _ in 0..BOOTSTRAP {
        let r = obs.resample(&mut rng);
        if r.n() < 1.0 {
            continue;
        }
        let m = match params_of(&chosen) {
            Some(p) => fit_family(&r, chosen.family(), Some(p)).0.mean(),
            None => empirical(&r).0.mean(),
        };
        means.push(m);
    }
    let mean_ci = percentile_ci(&mut means);
    Some(Fit {
        n,
        candidates,
        ks,
        censored: !obs.exact(),
        mean_ci,
        obs: obs.clone(),
    })
}

/// The 2.5th and 97.5th percentiles of bootstrap replicates.
pub fn percentile_ci(v: &mut Vec<f64>) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    (
        crate::stats::quantile_sorted(v, 0.025),
        crate::stats::quantile_sorted(v, 0.975),
    )
}

/// Kolmogorov–Smirnov distance (see [`Fit::ks`]).
pub fn ks(obs: &Obs, m: &Model) -> f64 {
    let n = obs.n();
    if obs.exact() {
        let mut cum = 0.0;
        let mut d: f64 = 0.0;
        for ((a, _), c) in &obs.groups {
            cum += c / n;
            d = d.max((cum - m.cdf(f64::from(*a) + 0.5)).abs());
        }
        return d;
    }
    // Randomised probability integral transforms: a claim known to lie in
    // [a − ½, b + ½) has u uniform on [F(a − ½), F(b + ½)], which is exactly
    // uniform on (0, 1) under the model. Their CDF G is piecewise linear, so
    // sup |G(u) − u| is reached at a breakpoint: sweep them in order.
    let mut events: Vec<(f64, f64, f64)> = Vec::new(); // (u, jump in G, change of slope)
    for ((a, b), c) in &obs.groups {
        let lo = if *a == 0 {
            0.0
        } else {
            m.cdf(f64::from(*a) - 0.5)
        };
        let hi = m.cdf(f64::from(*b) + 0.5);
        let w = c / n;
        if hi - lo < 1e-12 {
            events.push((lo, w, 0.0));
        } else {
            events.push((lo, 0.0, w / (hi - lo)));
            events.push((hi, 0.0, -w / (hi - lo)));
        }
    }
    events.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut g, mut slope, mut at, mut d) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (u, jump, ds) in events {
        g += slope * (u - at);
        at = u;
        d = d.max((g - u).abs());
        g += jump;
        slope += ds;
        d = d.max((g - u).abs());
    }
    d
}

/// A probability with its bootstrap interval: `k` events among `n` claims.
#[derive(Debug, Clone, Copy)]
pub struct Prob {
    /// Events.
    pub k: f64,
    /// Claims.
    pub n: f64,
    /// Estimate `k / n`.
    pub p: f64,
    /// Bootstrap 95% interval.
    pub ci: (f64, f64),
}

/// Estimates `k / n` with a Poisson-bootstrap 95% interval.
pub fn prob(k: f64, n: f64, seed: u64, key: &str) -> Prob {
    let p = if n > 0.0 { k / n } else { f64::NAN };
    let mut rng = bootstrap_rng(seed, key);
    let mut reps: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let a = poisson(k, &mut rng);
            let b = poisson(n - k, &mut rng);
            if a + b > 0.0 { a / (a + b) } else { f64::NAN }
        })
        .collect();
    Prob {
        k,
        n,
        p,
        ci: percentile_ci(&mut reps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(m: &Model, n: usize, seed: u64) -> Vec<i32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| crate::dist::round_days(m.quantile(uniform(&mut rng))))
            .collect()
    }

    #[test]
    fn recovers_a_lognormal_and_prefers_it_by_aic() {
        let truth = Model::Lognormal {
            mu: crate::dist::lognormal_params(20.0, 0.5).0,
            sigma: crate::dist::lognormal_params(20.0, 0.5).1,
        };
        let mut obs = Obs::default();
        for d in draw(&truth, 4000, 1) {
            obs.add(d, d);
        }
        let f = fit(&obs, 7, "t").unwrap();
        assert_ne!(f.model().family(), "gamma");
        assert!(f.mean_ci.0 < 20.0 && 20.0 < f.mean_ci.1, "{:?}", f.mean_ci);
        assert!(f.ks < 0.03, "ks {}", f.ks);
    }

    #[test]
    fn recovers_a_gamma_from_interval_censored_data() {
        let truth = Model::Gamma {
            shape: 4.0,
            scale: 8.0,
        };
        let mut obs = Obs::default();
        for d in draw(&truth, 3000, 2) {
            // Known only to a 10-day bin.
            let a = d / 10 * 10;
            obs.add(a, a + 9);
        }
        let f = fit(&obs, 7, "t").unwrap();
        assert!(f.censored);
        let m = f
            .candidates
            .iter()
            .find(|c| c.model.family() == "gamma")
            .unwrap();
        assert!((m.model.mean() - 32.0).abs() < 1.5, "{:?}", m.model);
    }

    #[test]
    fn a_constant_is_fixed() {
        let mut obs = Obs::default();
        for _ in 0..50 {
            obs.add(30, 30);
        }
        let f = fit(&obs, 1, "c").unwrap();
        assert_eq!(f.model().toml(), "{ fixed = 30 }");
    }

    #[test]
    fn probability_interval_covers_the_estimate() {
        let p = prob(100.0, 1000.0, 3, "p");
        assert!(p.ci.0 < 0.1 && 0.1 < p.ci.1);
        assert!(p.ci.1 - p.ci.0 < 0.05);
    }
}

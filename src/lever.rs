//! Levers: one numeric scenario key, read as written and moved to a new value
//! through the `--set` machinery (MODEL.md §10).
//!
//! A lever is addressed like `--set`: `pools.turnover.capital`,
//! `platform.gui-an.exporters`, and array elements from 1 as classes and months are
//! numbered (`policy.review.2` is class II's review time). Its value is a number:
//! for a plain key the key's value, for a distribution its **mean** — a new value
//! scales every parameter of the distribution by `new / old mean`, which keeps its
//! coefficient of variation (and its shape). Values are kept within the key's
//! allowed range (shares within [0, 1]); whole-number keys are rounded. Every
//! candidate scenario is then loaded and validated as if the user had typed the
//! `--set`, so a lever cannot build a scenario the validator would reject.

use std::fmt::Write as _;

use crate::input::parse_amount;
use crate::scenario::keys::{self, KeyDef, Shape};
use crate::scenario::tree::{Node, Value};

/// Keys the builder reads as whole numbers.
const WHOLE: [&str; 6] = [
    "platform.exporters",
    "policy.filing.window_workdays",
    "pools.turnover.lag",
    "pools.turnover.max_wait_days",
    "pools.guarantee.lag",
    "pools.service.lag",
];

/// Keys that are never levers: identity, time frame, calendar, class lists.
const NOT_LEVERS: [&str; 5] = [
    "scenario.",
    "calendar.",
    "population.",
    "policy.class_treatment",
    "eligible_classes",
];

/// Keys left out of the default sensitivity set, with the reason: each must sum
/// with its siblings to 1 (moving one alone is not a valid scenario), or is a
/// bound rather than an estimate, or is per platform (name them with `--param`).
const NOT_DEFAULT: [&str; 6] = [
    "sector.share",
    "economy.season",
    "exporters.shipments_per_year.min",
    "exporters.shipments_per_year.max",
    "platform.",
    "max_per_exporter",
];

/// How the lever's value is written.
#[derive(Debug, Clone, PartialEq)]
enum Form {
    /// A plain number (or an amount such as "3亿").
    Number,
    /// A distribution as written (an inline table), scaled by its mean.
    Dist(Node),
}

/// One numeric key of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Lever {
    /// The key as the user addresses it (`policy.review.2`).
    pub key: String,
    /// Its current value (a distribution's mean).
    pub base: f64,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
    /// Whether the key takes whole numbers only.
    pub whole: bool,
    form: Form,
}

/// The documentation key of a user key: element names and indices dropped
/// (`platform.gui-an.class_mix.2` → `platform.class_mix`).
pub fn def_key(key: &str) -> String {
    let n = keys::normalise(key);
    n.split('.')
        .filter(|p| p.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join(".")
}

fn is_lever_def(d: &KeyDef) -> bool {
    matches!(
        d.shape(),
        Shape::Value | Shape::Dist | Shape::ValueOrSection
    ) && !NOT_LEVERS
        .iter()
        .any(|p| d.key.starts_with(p) || d.key.ends_with(p))
}

/// A node's numeric value, if it is a number or an amount.
fn number(n: &Node) -> Option<f64> {
    match &n.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => parse_amount(s),
        _ => None,
    }
}

/// The mean of a distribution as written (`{ uniform = [a, b] }`, …, or a number).
fn dist_mean(n: &Node) -> Option<f64> {
    if let Some(x) = number(n) {
        return Some(x);
    }
    let e = n.entries()?;
    let [(form, _, v)] = e.as_slice() else {
        return None;
    };
    let nums = |v: &Node| -> Option<Vec<f64>> {
        match &v.value {
            Value::Array(a) => a.iter().map(number).collect(),
            _ => None,
        }
    };
    match form.as_str() {
        "fixed" => number(v),
        "uniform" => nums(v)
            .filter(|x| x.len() == 2)
            .map(|x| (x[0] + x[1]) / 2.0),
        "triangular" => nums(v)
            .filter(|x| x.len() == 3)
            .map(|x| x.iter().sum::<f64>() / 3.0),
        "empirical" => nums(v)
            .filter(|x| !x.is_empty())
            .map(|x| x.iter().sum::<f64>() / x.len() as f64),
        "lognormal" | "gamma" => v.get("mean").and_then(number),
        _ => None,
    }
}

/// The node at a user key: tables by key, array tables by `name`, arrays by
/// 1-based index.
fn lookup<'a>(root: &'a Node, key: &str) -> Option<&'a Node> {
    let mut n = root;
    for part in key.split('.') {
        n = match &n.value {
            Value::Table(_) => n.get(part)?,
            Value::Array(items) => items
                .iter()
                .find(
                    |i| matches!(i.get("name").map(|x| &x.value), Some(Value::Str(s)) if s == part),
                )
                .or_else(|| {
                    part.parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i.checked_sub(1)?))
                })?,
            _ => return None,
        };
    }
    Some(n)
}

impl Lever {
    /// Resolves `key` in a merged scenario tree; a key not written there takes its
    /// documented default. The error says what is wrong and how to fix it.
    pub fn resolve(root: &Node, key: &str) -> Result<Lever, String> {
        let key = key.trim();
        let dk = def_key(key);
        let Some(def) = keys::find(&dk) else {
            let hint = keys::did_you_mean(&dk, keys::KEYS.iter().map(|d| d.key))
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "`{key}` is not a scenario key{hint}; `refundsim explain` lists them"
            ));
        };
        if !is_lever_def(def) {
            return Err(format!(
                "`{key}` is not a numeric lever; levers are numbers, amounts or distributions such as pools.turnover.capital or policy.review.2"
            ));
        }
        if let Some(pool) = dk.strip_prefix("pools.").and_then(|r| r.split('.').next())
            && !pool_enabled(root, pool)
        {
            let overlay = match pool {
                "credit" => " (e.g. scenarios/policies/credit-loans.toml)".to_string(),
                "turnover" | "guarantee" => format!(" (e.g. scenarios/policies/{pool}-pool.toml)"),
                _ => String::new(),
            };
            return Err(format!(
                "`{key}` belongs to pools.{pool}, which is not enabled in this scenario, so it would change nothing; add --set pools.{pool}.enabled=true or an overlay that enables it{overlay}"
            ));
        }
        let array_value = def.default.trim_start().starts_with('[')
            || matches!(lookup(root, &keys::normalise(key)), Some(n) if matches!(n.value, Value::Array(_)));
        let node = lookup(root, key);
        let (base, form) = match node {
            Some(n) if matches!(n.value, Value::Array(_)) => {
                let len = match &n.value {
                    Value::Array(a) => a.len(),
                    _ => 0,
                };
                return Err(format!(
                    "`{key}` is a list; address one element from 1, e.g. {key}.1 … {key}.{len}"
                ));
            }
            Some(n) => match (number(n), dist_mean(n)) {
                (Some(x), _) => (x, Form::Number),
                (None, Some(m)) => (m, Form::Dist(n.clone())),
                (None, None) => {
                    return Err(format!(
                        "`{key}` is {}, not a number or a distribution; a lever must be numeric",
                        n.show()
                    ));
                }
            },
            None => {
                let d = def.default.trim().trim_matches('"');
                match parse_amount(d).or_else(|| d.parse::<f64>().ok()) {
                    Some(x) if !array_value => (x, Form::Number),
                    None if !d.is_empty() && !array_value => {
                        return Err(format!(
                            "`{key}` is {} by default, not a number; a lever must be numeric",
                            def.default
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "`{key}` is not set in the scenario{}; set it with --set {key}=VALUE or address an element that exists",
                            if def.default.is_empty() {
                                " and has no default".to_string()
                            } else {
                                format!(" (default {})", def.default)
                            }
                        ));
                    }
                }
            }
        };
        Ok(Lever {
            key: key.to_string(),
            base,
            min: def.min,
            max: def.max,
            whole: WHOLE.contains(&dk.as_str()),
            form,
        })
    }

    /// `value` kept within the key's allowed range, rounded for whole-number keys.
    /// Twelve significant digits, so that `0.1 × 0.75` is written `0.075`.
    pub fn clamp(&self, value: f64) -> f64 {
        let v = value.clamp(self.min, self.max);
        if self.whole { v.round() } else { round_sig(v) }
    }

    /// The `--set` assignment that moves the lever to `value` (clamped).
    pub fn assignment(&self, value: f64) -> String {
        let v = self.clamp(value);
        match &self.form {
            Form::Number => format!("{}={}", self.key, fmt_num(v)),
            Form::Dist(node) => {
                let f = if self.base == 0.0 {
                    f64::NAN
                } else {
                    v / self.base
                };
                if f.is_nan() {
                    format!("{}={{ fixed = {} }}", self.key, fmt_num(v))
                } else {
                    format!("{}={}", self.key, self.scaled(node, f, false))
                }
            }
        }
    }

    /// A distribution's TOML text with every parameter but `cv` times `f`.
    fn scaled(&self, n: &Node, f: f64, keep: bool) -> String {
        match &n.value {
            Value::Table(t) => {
                let mut s = String::from("{ ");
                for (i, (k, _, c)) in t.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    let _ = write!(s, "{k} = {}", self.scaled(c, f, keep || k == "cv"));
                }
                s + " }"
            }
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(|c| self.scaled(c, f, keep)).collect();
                format!("[{}]", items.join(", "))
            }
            _ => match number(n) {
                Some(x) if keep => fmt_num(x),
                Some(x) => fmt_num(round_sig((x * f).clamp(self.min, self.max))),
                None => n.show(),
            },
        }
    }
}

/// `x` to twelve significant digits.
pub fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// A number as TOML: integers without a fraction, others in full precision.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Whether pool section `pools.<pool>` takes part, as the builder reads it: the
/// section is written and its `enabled` is `true` or absent (the default).
fn pool_enabled(root: &Node, pool: &str) -> bool {
    lookup(root, &format!("pools.{pool}")).is_some()
        && lookup(root, &format!("pools.{pool}.enabled"))
            .is_none_or(|n| n.value == Value::Bool(true))
}

/// Every numeric lever and calibration estimate the scenario uses, for the default
/// sensitivity set: keys written in the scenario (or its enabled pools) with a
/// non-zero value, array elements one by one. Left out: identity, calendar and
/// class lists; shares that must sum to 1 with their siblings; shipment-rate
/// clamps; per-platform keys (name them with `--param`); keys of disabled pools.
pub fn defaults(root: &Node) -> Vec<Lever> {
    let mut out = Vec::new();
    let enabled = |pool: &str| pool_enabled(root, pool);
    for d in keys::KEYS {
        if !is_lever_def(d)
            || NOT_DEFAULT
                .iter()
                .any(|p| d.key.starts_with(p) || d.key.ends_with(p))
        {
            continue;
        }
        if let Some(pool) = d
            .key
            .strip_prefix("pools.")
            .and_then(|r| r.split('.').next())
            && !enabled(pool)
        {
            continue;
        }
        // Sectors are addressed by name.
        let addresses: Vec<String> = match d.key.strip_prefix("sector.") {
            Some(leaf) => match lookup(root, "sector").map(|n| &n.value) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| match i.get("name").map(|x| &x.value) {
                        Some(Value::Str(s)) => Some(format!("sector.{s}.{leaf}")),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            None => vec![d.key.to_string()],
        };
        for a in addresses {
            let keys: Vec<String> = match lookup(root, &a).map(|n| &n.value) {
                None => continue,
                Some(Value::Array(items)) => {
                    (1..=items.len()).map(|i| format!("{a}.{i}")).collect()
                }
                Some(Value::Table(_)) if d.shape() == Shape::ValueOrSection => continue,
                Some(_) => vec![a],
            };
            for k in keys {
                if let Ok(l) = Lever::resolve(root, &k)
                    && l.base != 0.0
                    && l.base.is_finite()
                {
                    out.push(l);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn tree(text: &str, sets: &[&str]) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.toml");
        std::fs::write(&f, text).unwrap();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::tree(&[f], &sets).unwrap()
    }

    const S: &str = r#"
[policy]
review = [{ lognormal = { mean = 10, cv = 0.45 } }, 20, { uniform = [20, 30] }, { triangular = [10, 30, 50] }]
quota = { monthly = "9500万" }
verification = { prob = [0.01, 0.05, 0.1, 0.3], days = { uniform = [30, 90] } }
[[platform]]
name = "gui-an"
exporters = 60
trading_share = 0.25
"#;

    #[test]
    fn a_pool_section_without_an_enabled_line_is_on() {
        // The builder reads a written [pools.turnover] with no `enabled` as on
        // (the key's default), so its keys are levers and in the default set.
        let t = tree("[pools.turnover]\ncapital = 1e8\n", &[]);
        assert!(Lever::resolve(&t, "pools.turnover.capital").is_ok());
        assert!(
            defaults(&t)
                .iter()
                .any(|l| l.key == "pools.turnover.capital")
        );
        let t = tree("[pools.turnover]\nenabled = false\ncapital = 1e8\n", &[]);
        assert!(Lever::resolve(&t, "pools.turnover.capital").is_err());
        let t = tree(S, &[]);
        assert!(Lever::resolve(&t, "pools.turnover.capital").is_err());
    }

    #[test]
    fn distributions_scale_by_their_mean_keeping_the_cv() {
        let t = tree(S, &[]);
        let l = Lever::resolve(&t, "policy.review.1").unwrap();
        assert_eq!(l.base, 10.0);
        assert_eq!(
            l.assignment(15.0),
            "policy.review.1={ lognormal = { mean = 15, cv = 0.45 } }"
        );
        let u = Lever::resolve(&t, "policy.review.3").unwrap();
        assert_eq!(u.base, 25.0);
        assert_eq!(u.assignment(50.0), "policy.review.3={ uniform = [40, 60] }");
        let tri = Lever::resolve(&t, "policy.review.4").unwrap();
        assert_eq!(
            tri.assignment(15.0),
            "policy.review.4={ triangular = [5, 15, 25] }"
        );
        let fixed = Lever::resolve(&t, "policy.review.2").unwrap();
        assert_eq!(fixed.assignment(25.0), "policy.review.2=25");
    }

    #[test]
    fn amounts_shares_and_whole_numbers() {
        let t = tree(S, &[]);
        let q = Lever::resolve(&t, "policy.quota.monthly").unwrap();
        assert_eq!(q.base, 9.5e7);
        let p = Lever::resolve(&t, "policy.verification.prob.4").unwrap();
        assert_eq!(p.base, 0.3);
        assert_eq!(
            p.assignment(1.7),
            "policy.verification.prob.4=1",
            "a share stays ≤ 1"
        );
        let n = Lever::resolve(&t, "platform.gui-an.exporters").unwrap();
        assert_eq!(n.assignment(74.6), "platform.gui-an.exporters=75");
        // Not written: the documented default.
        let t2 = tree(S, &["pools.turnover.enabled=true"]);
        let ratio = Lever::resolve(&t2, "pools.turnover.advance_ratio").unwrap();
        assert!(ratio.base > 0.0);
        let e = Lever::resolve(&t, "pools.turnover.advance_ratio").unwrap_err();
        assert!(e.contains("pools.turnover.enabled=true"), "{e}");
    }

    #[test]
    fn bad_levers_say_why() {
        let t = tree(S, &[]);
        let e = Lever::resolve(&t, "pools.turnover.capitol").unwrap_err();
        assert!(e.contains("did you mean `pools.turnover.capital`"), "{e}");
        let e = Lever::resolve(&t, "policy.review").unwrap_err();
        assert!(e.contains("policy.review.1"), "{e}");
        let e = Lever::resolve(&t, "policy.quota.order").unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        let e = Lever::resolve(&t, "scenario.seed").unwrap_err();
        assert!(e.contains("not a numeric lever"), "{e}");
    }

    #[test]
    fn default_set_takes_array_elements_and_skips_platforms() {
        let t = tree(S, &[]);
        let keys: Vec<String> = defaults(&t).into_iter().map(|l| l.key).collect();
        assert!(keys.contains(&"policy.review.2".to_string()), "{keys:?}");
        assert!(keys.contains(&"policy.verification.prob.4".to_string()));
        assert!(keys.contains(&"policy.verification.days".to_string()));
        assert!(keys.contains(&"policy.quota.monthly".to_string()));
        assert!(!keys.iter().any(|k| k.starts_with("platform.")), "{keys:?}");
        assert!(!keys.iter().any(|k| k.starts_with("pools.")), "{keys:?}");
    }
}

//! From the merged tree to a validated [`Scenario`], collecting every problem.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::keys;
use super::keys::{self as k, Key, KeyDef, Shape, Ty, kind};
use super::tree::{self, Node, Origin, Source, Sources, Value};
use super::*;
use crate::calendar;
use crate::input::{amount, clip, printable, sha256_hex};

struct Ctx {
    src: Sources,
    dirs: Vec<PathBuf>,
    problems: Vec<Problem>,
    inputs: Vec<InputFile>,
    /// Validate only what is written: a missing required key is not a problem.
    /// Set for sections that are switched off (their values are still checked)
    /// and when a file could not be parsed (its keys may be the missing ones).
    lenient: bool,
    /// A scenario file could not be parsed: checks of missing sections and across
    /// sections are skipped, as the broken file may settle them.
    partial: bool,
    /// The keys whose values were read, in order (checked by a test: every
    /// declared value key is read by the builder).
    read: Vec<&'static str>,
}

/// Where a value sits: the node (if written) and the key path shown to the user.
struct At<'a> {
    node: Option<&'a Node>,
    /// Origin of the enclosing table, for "missing" messages.
    parent: Origin,
    shown: String,
    def: &'static KeyDef,
}

impl Ctx {
    /// Runs `f` validating only what is written (see [`Ctx::lenient`]).
    fn leniently<T>(&mut self, f: impl FnOnce(&mut Ctx) -> T) -> T {
        let was = std::mem::replace(&mut self.lenient, true);
        let out = f(self);
        self.lenient = was;
        out
    }

    fn err(&mut self, at: Origin, key: &str, msg: impl Into<String>) {
        let p = self.src.problem(at, key, msg);
        self.problems.push(p);
    }

    /// Where the key `key` sits in table `t`, whose shown path is `prefix`.
    fn at<'a, T>(&self, t: Option<&'a Node>, prefix: &str, key: &'static Key<T>) -> At<'a> {
        let def = &key.def;
        let leaf = keys::leaf(def.key);
        At {
            node: t.and_then(|t| t.get(leaf)),
            parent: t.map(|t| t.at).unwrap_or_default(),
            shown: if prefix.is_empty() {
                leaf.to_string()
            } else {
                format!("{prefix}.{leaf}")
            },
            def,
        }
    }

    /// The value of `key` in table `t` (shown as `prefix`), read as its declared
    /// kind; `None` after reporting a problem.
    fn get<T: Read>(
        &mut self,
        t: Option<&Node>,
        prefix: &str,
        key: &'static Key<T>,
    ) -> Option<T::Out> {
        let a = self.at(t, prefix, key);
        self.read.push(key.def.key);
        T::read(self, a)
    }

    /// The value of the choice `key` among `options`.
    fn pick<T: Copy>(
        &mut self,
        t: Option<&Node>,
        prefix: &str,
        key: &'static Key<kind::Choice>,
        options: &[(&str, T)],
    ) -> Option<T> {
        let a = self.at(t, prefix, key);
        self.read.push(key.def.key);
        self.choice(a, options)
    }

    /// The written node, or the default parsed from the key table, or a "missing" problem.
    fn node_or_default(&mut self, a: &At) -> Option<Node> {
        if let Some(n) = a.node {
            return Some(n.clone());
        }
        if a.def.default.is_empty() {
            if self.lenient {
                return None;
            }
            self.err(
                a.parent,
                &a.shown,
                format!(
                    "missing; this key is required here ({}). Allowed: {}",
                    a.def.doc, a.def.allowed
                ),
            );
            return None;
        }
        let srcs = Sources(vec![Source {
            name: "default".into(),
            text: format!("v = {}", a.def.default),
            is_set: false,
        }]);
        let mut n = tree::parse(&srcs, 0).ok()?.get("v").cloned()?;
        relocate(&mut n, a.parent);
        Some(n)
    }

    fn range_msg(def: &KeyDef) -> String {
        if def.shape() == Shape::Dist {
            format!(
                "allowed: {}; every value from {} to {}{}",
                def.allowed,
                show_bound(def.min),
                show_bound(def.max),
                unit_suffix(def)
            )
        } else {
            format!("allowed: {}", def.allowed)
        }
    }

    /// What is allowed, with the numeric bounds spelled out.
    fn bounds_msg(def: &KeyDef) -> String {
        if def.allowed == keys::AMOUNT {
            format!(
                "allowed: an amount from {} to {} yuan, written as a number or as \"3亿\", \"300万\", \"1,500万\"",
                show_bound(def.min),
                show_bound(def.max)
            )
        } else {
            Self::range_msg(def)
        }
    }

    fn number_of(&mut self, n: &Node, shown: &str, def: &KeyDef, amount: bool) -> Option<f64> {
        let v = match &n.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Str(s) if amount => match self::amount(s) {
                Ok(v) => v,
                Err(e) => {
                    self.err(n.at, shown, format!("{e}; {}", Self::bounds_msg(def)));
                    return None;
                }
            },
            _ => {
                self.err(
                    n.at,
                    shown,
                    format!(
                        "expected a number, found {}; {}",
                        n.show(),
                        Self::range_msg(def)
                    ),
                );
                return None;
            }
        };
        if !v.is_finite() || v < def.min || v > def.max {
            self.err(
                n.at,
                shown,
                format!("{} is out of range; {}", n.show(), Self::bounds_msg(def)),
            );
            return None;
        }
        Some(v)
    }

    fn num(&mut self, a: At) -> Option<f64> {
        let n = self.node_or_default(&a)?;
        self.number_of(&n, &a.shown, a.def, false)
    }

    fn amount(&mut self, a: At) -> Option<f64> {
        let n = self.node_or_default(&a)?;
        self.number_of(&n, &a.shown, a.def, true)
    }

    fn opt_amount(&mut self, a: At) -> Option<Option<f64>> {
        if a.node.is_none() {
            return Some(None);
        }
        self.amount(a).map(Some)
    }

    fn int(&mut self, a: At) -> Option<i64> {
        let n = self.node_or_default(&a)?;
        let v = self.number_of(&n, &a.shown, a.def, false)?;
        if v.fract() != 0.0 {
            self.err(
                n.at,
                &a.shown,
                format!(
                    "{} is not a whole number; {}",
                    n.show(),
                    Self::range_msg(a.def)
                ),
            );
            return None;
        }
        Some(v as i64)
    }

    fn boolean(&mut self, a: At) -> Option<bool> {
        let n = self.node_or_default(&a)?;
        match n.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.err(
                    n.at,
                    &a.shown,
                    format!("expected true or false, found {}", n.show()),
                );
                None
            }
        }
    }

    fn text(&mut self, a: At) -> Option<String> {
        let n = self.node_or_default(&a)?;
        match &n.value {
            Value::Str(s) => {
                let max = keys::max_text_chars(a.def.key);
                let len = s.chars().count();
                if len > max {
                    let head: String = s.chars().take(24).collect();
                    self.err(
                        n.at,
                        &a.shown,
                        format!(
                            "\"{head}…\" is {len} characters long; at most {max} are allowed here"
                        ),
                    );
                    return None;
                }
                // Names are identifiers (folders, CSV cells, --set paths): one line.
                // Titles and Chinese names are display text, which the writers
                // escape: line breaks and tabs pass, other control characters not.
                let display = keys::max_text_chars(a.def.key) == keys::MAX_TEXT_CHARS
                    && a.def.key != "policy.name";
                if let Some(ch) = s
                    .chars()
                    .find(|c| c.is_control() && !(display && matches!(c, '\n' | '\r' | '\t')))
                {
                    self.err(
                        n.at,
                        &a.shown,
                        format!(
                            "\"{}\" contains the control character {ch:?}; names are one line of printable text, and titles may hold line breaks and tabs but no other control characters",
                            s.escape_debug()
                        ),
                    );
                    return None;
                }
                Some(s.clone())
            }
            _ => {
                self.err(
                    n.at,
                    &a.shown,
                    format!(
                        "expected text in quotes, found {}; {}",
                        n.show(),
                        Self::range_msg(a.def)
                    ),
                );
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, a: At, options: &[(&str, T)]) -> Option<T> {
        let n = self.node_or_default(&a)?;
        if let Value::Str(s) = &n.value
            && let Some((_, v)) = options.iter().find(|(k, _)| k == s)
        {
            return Some(*v);
        }
        let hint = match &n.value {
            Value::Str(s) => keys::did_you_mean(s, options.iter().map(|(k, _)| *k))
                .map(|c| format!(" Did you mean \"{c}\"?"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        self.err(
            n.at,
            &a.shown,
            format!(
                "{} is not allowed; {}.{hint}",
                n.show(),
                Self::range_msg(a.def)
            ),
        );
        None
    }

    fn date_of(&mut self, n: &Node, shown: &str) -> Option<NaiveDate> {
        let s = match &n.value {
            Value::Str(s) | Value::Date(s) => s.clone(),
            _ => {
                self.err(
                    n.at,
                    shown,
                    format!("expected a date such as \"2017-01-01\", found {}", n.show()),
                );
                return None;
            }
        };
        match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Some(d),
            _ => {
                self.err(n.at, shown, format!("`{}` is not a valid date; write YYYY-MM-DD between 2000 and 2100, e.g. \"2017-01-01\"", clip(&s)));
                None
            }
        }
    }

    fn array<'n>(
        &mut self,
        n: &'n Node,
        shown: &str,
        len: Option<usize>,
        def: &KeyDef,
    ) -> Option<&'n Vec<Node>> {
        match &n.value {
            Value::Array(v) if len.is_none_or(|l| v.len() == l) => Some(v),
            _ => {
                let want = len
                    .map(|l| format!("a list of {l} values"))
                    .unwrap_or("a list".into());
                self.err(
                    n.at,
                    shown,
                    format!(
                        "expected {want}, found {}; {}",
                        n.show(),
                        Self::range_msg(def)
                    ),
                );
                None
            }
        }
    }

    fn numbers4(&mut self, a: At) -> Option<[f64; 4]> {
        let n = self.node_or_default(&a)?;
        let items = self.array(&n, &a.shown, Some(4), a.def)?.clone();
        let mut out = [0.0; 4];
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.number_of(item, &format!("{}[{}]", a.shown, i), a.def, false) {
                Some(v) => out[i] = v,
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn classes(&mut self, a: At) -> Option<[bool; 4]> {
        let n = self.node_or_default(&a)?;
        let items = self.array(&n, &a.shown, None, a.def)?.clone();
        let mut out = [false; 4];
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let shown = format!("{}[{}]", a.shown, i);
            match &item.value {
                Value::Int(c) if (1..=4).contains(c) => {
                    if out[*c as usize - 1] {
                        self.err(item.at, &shown, format!("class {c} is listed twice"));
                        ok = false;
                    }
                    out[*c as usize - 1] = true;
                }
                _ => {
                    self.err(
                        item.at,
                        &shown,
                        format!(
                            "{} is not a class; classes are whole numbers 1 to 4 (I–IV)",
                            item.show()
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn dist_of(&mut self, n: &Node, shown: &str, def: &KeyDef) -> Option<Dist> {
        // Messages state the bounds of every value (lists of distributions too).
        let def = &KeyDef {
            ty: Ty::Distribution,
            ..*def
        };
        let d = match &n.value {
            Value::Int(_) | Value::Float(_) => Dist::Fixed(self.number_of(n, shown, def, false)?),
            Value::Table(t) if t.len() == 1 => {
                let (form, kat, v) = &t[0];
                let shown_f = format!("{shown}.{form}");
                let nums = |c: &mut Ctx, v: &Node, len| c.dist_numbers(v, &shown_f, def, len);
                let mean_cv = |c: &mut Ctx, v: &Node| c.mean_cv(v, &shown_f, def);
                match form.as_str() {
                    "fixed" => Dist::Fixed(self.number_of(v, &shown_f, def, false)?),
                    "uniform" => {
                        let x = nums(self, v, Some(2))?;
                        if x[0] > x[1] {
                            self.err(
                                v.at,
                                &shown_f,
                                format!("{}: the lower bound exceeds the upper", v.show()),
                            );
                            return None;
                        }
                        Dist::Uniform(x[0], x[1])
                    }
                    "triangular" => {
                        let x = nums(self, v, Some(3))?;
                        if !(x[0] <= x[1] && x[1] <= x[2]) {
                            self.err(
                                v.at,
                                &shown_f,
                                format!("{}: need min ≤ mode ≤ max", v.show()),
                            );
                            return None;
                        }
                        Dist::Triangular(x[0], x[1], x[2])
                    }
                    "lognormal" => {
                        let (mean, cv) = mean_cv(self, v)?;
                        Dist::Lognormal { mean, cv }
                    }
                    "gamma" => {
                        let (mean, cv) = mean_cv(self, v)?;
                        Dist::Gamma { mean, cv }
                    }
                    "empirical" => Dist::Empirical(nums(self, v, None)?),
                    other => {
                        let forms = [
                            "fixed",
                            "uniform",
                            "triangular",
                            "lognormal",
                            "gamma",
                            "empirical",
                        ];
                        let hint = keys::did_you_mean(other, forms.iter().copied())
                            .map(|c| format!(" Did you mean `{c}`?"))
                            .unwrap_or_default();
                        self.err(
                            *kat,
                            &shown_f,
                            format!(
                                "unknown distribution `{other}`; allowed: {}.{hint}",
                                forms.join(", ")
                            ),
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.err(
                    n.at,
                    shown,
                    format!(
                        "expected a distribution, found {}; allowed: {}",
                        n.show(),
                        def.allowed
                    ),
                );
                return None;
            }
        };
        Some(d)
    }

    /// The numbers of a distribution's list (`len` of them, or at least one).
    fn dist_numbers(
        &mut self,
        v: &Node,
        shown_f: &str,
        def: &KeyDef,
        len: Option<usize>,
    ) -> Option<Vec<f64>> {
        let items = match &v.value {
            Value::Array(items) if len.is_none_or(|l| items.len() == l) && !items.is_empty() => {
                items.clone()
            }
            _ => {
                self.err(
                    v.at,
                    shown_f,
                    format!(
                        "expected {} numbers, found {}",
                        len.map(|l| l.to_string()).unwrap_or("a list of".into()),
                        v.show()
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for it in &items {
            out.push(self.number_of(it, shown_f, def, false)?);
        }
        Some(out)
    }

    /// `{ mean = m, cv = c }` of a lognormal or gamma distribution.
    fn mean_cv(&mut self, v: &Node, shown_f: &str, def: &KeyDef) -> Option<(f64, f64)> {
        let (Some(m), Some(cv)) = (v.get("mean"), v.get("cv")) else {
            self.err(
                v.at,
                shown_f,
                format!("expected {{ mean = m, cv = c }}, found {}", v.show()),
            );
            return None;
        };
        if let Some(extra) = v
            .entries()
            .and_then(|e| e.iter().find(|(k, _, _)| k != "mean" && k != "cv"))
        {
            self.err(
                extra.1,
                &format!("{shown_f}.{}", extra.0),
                "unknown key; allowed: mean, cv",
            );
            return None;
        }
        let mean = self.number_of(m, &format!("{shown_f}.mean"), def, false)?;
        let cvdef = KeyDef {
            min: 0.0,
            max: 10.0,
            allowed: "a coefficient of variation from 0 to 10",
            ..*def
        };
        let cv = self.number_of(cv, &format!("{shown_f}.cv"), &cvdef, false)?;
        if mean <= 0.0 && cv > 0.0 {
            self.err(
                m.at,
                &format!("{shown_f}.mean"),
                format!(
                    "the mean must be above 0 (and at most {}) when cv > 0; write {{ fixed = 0 }} for no time at all",
                    show_bound(def.max)
                ),
            );
            return None;
        }
        Some((mean, cv))
    }

    fn dist(&mut self, a: At) -> Option<Dist> {
        let n = self.node_or_default(&a)?;
        self.dist_of(&n, &a.shown, a.def)
    }

    fn dists4(&mut self, a: At) -> Option<[Dist; 4]> {
        let n = self.node_or_default(&a)?;
        let items = self.array(&n, &a.shown, Some(4), a.def)?.clone();
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            out.push(self.dist_of(it, &format!("{}[{}]", a.shown, i), a.def));
        }
        let out: Option<Vec<Dist>> = out.into_iter().collect();
        out.map(|v| v.try_into().expect("four"))
    }

    fn file(&mut self, n: &Node, shown: &str) -> Option<(String, PathBuf, String)> {
        let Value::Str(s) = &n.value else {
            self.err(
                n.at,
                shown,
                format!("expected a file path in quotes, found {}", n.show()),
            );
            return None;
        };
        let base = self
            .dirs
            .get(n.at.source)
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        // Relative to the scenario file that names it; failing that, to the
        // current directory (as MODEL.md's example `data/cn-public-holidays.csv`).
        let near = base.join(s);
        let path = if near.exists() || !Path::new(s).exists() {
            near
        } else {
            PathBuf::from(s)
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.inputs.push(InputFile {
                    path: path.display().to_string(),
                    sha256: sha256_hex(text.as_bytes()),
                });
                Some((s.clone(), path, text))
            }
            Err(e) => {
                self.err(n.at, shown, format!("cannot read `{}` ({e}); paths are relative to the scenario file that names them, or else to the current directory", clip(&base.join(s).display().to_string())));
                None
            }
        }
    }

    /// Reports keys that no definition knows, with a did-you-mean.
    fn unknown_keys(&mut self, n: &Node, shown: &str, defpath: &str) {
        let Some(entries) = n.entries() else { return };
        for (k, kat, child) in entries {
            let full_def = if defpath.is_empty() {
                k.clone()
            } else {
                format!("{defpath}.{k}")
            };
            let full_shown = if shown.is_empty() {
                k.clone()
            } else {
                format!("{shown}.{k}")
            };
            match keys::find(&full_def) {
                None => {
                    let hint =
                        keys::did_you_mean(k, keys::children(defpath).map(|d| keys::leaf(d.key)))
                            .map(|c| format!(" Did you mean `{c}`?"))
                            .unwrap_or_default();
                    let known: Vec<&str> =
                        keys::children(defpath).map(|d| keys::leaf(d.key)).collect();
                    self.err(
                        *kat,
                        &full_shown,
                        format!("unknown key.{hint} Keys allowed here: {}", known.join(", ")),
                    );
                }
                Some(def) => match def.shape() {
                    Shape::Section | Shape::ValueOrSection => {
                        if child.entries().is_some() {
                            self.unknown_keys(child, &full_shown, &full_def)
                        } else if def.shape() == Shape::Section {
                            self.err(
                                child.at,
                                &full_shown,
                                format!(
                                    "expected a table, found {}; {}",
                                    child.show(),
                                    def.allowed
                                ),
                            );
                        }
                    }
                    Shape::Tables => match &child.value {
                        Value::Array(items) if items.iter().all(|i| i.entries().is_some()) => {
                            for (i, item) in items.iter().enumerate() {
                                let name = match item.get("name").map(|n| &n.value) {
                                    Some(Value::Str(s)) => s.clone(),
                                    _ => i.to_string(),
                                };
                                self.unknown_keys(item, &format!("{full_shown}.{name}"), &full_def);
                            }
                        }
                        _ => self.err(
                            child.at,
                            &full_shown,
                            format!("expected [[{k}]] tables, found {}", child.show()),
                        ),
                    },
                    Shape::Value | Shape::Dist => {}
                },
            }
        }
    }
}

/// How a key of one kind ([`keys::kind`]) is read from the tree.
trait Read {
    /// The spec field's type.
    type Out;
    /// Reads it, or reports every problem and returns `None`.
    fn read(c: &mut Ctx, a: At) -> Option<Self::Out>;
}

macro_rules! read_with {
    ($($kind:ident => $out:ty, $method:ident;)*) => {$(
        impl Read for kind::$kind {
            type Out = $out;
            fn read(c: &mut Ctx, a: At) -> Option<$out> {
                c.$method(a)
            }
        }
    )*};
}

read_with! {
    Number => f64, num;
    Amount => f64, amount;
    OptAmount => Option<f64>, opt_amount;
    Integer => i64, int;
    Seed => u64, seed;
    Bool => bool, boolean;
    Text => String, text;
    Date => NaiveDate, date;
    DateRanges => Vec<(NaiveDate, NaiveDate)>, date_ranges;
    Dates => Vec<NaiveDate>, dates;
    Distribution => Dist, dist;
    Numbers4 => [f64; 4], numbers4;
    Dists4 => [Dist; 4], dists4;
    Season => [f64; 12], season;
    Classes => [bool; 4], classes;
    Mechanisms => Vec<Mechanism>, mechanisms;
    NumberOrTable => ShipmentRate, shipment_rate;
    OptFactor => Option<f64>, opt_factor;
    MonthlyAmounts => [f64; 12], monthly_amounts;
}

/// Readers of the kinds that are more than one value.
impl Ctx {
    fn date(&mut self, a: At) -> Option<NaiveDate> {
        let n = self.node_or_default(&a)?;
        self.date_of(&n, &a.shown)
    }

    /// Exactly as written: an integer seed never passes through a float.
    fn seed(&mut self, a: At) -> Option<u64> {
        let n = self.node_or_default(&a)?;
        match n.value {
            Value::Int(i) if i >= 0 => Some(i as u64),
            Value::Float(f) if f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f) => {
                Some(f as u64)
            }
            _ => {
                self.err(
                    n.at,
                    &a.shown,
                    format!("{} is not a seed; {}", n.show(), Ctx::range_msg(a.def)),
                );
                None
            }
        }
    }

    fn date_ranges(&mut self, a: At) -> Option<Vec<(NaiveDate, NaiveDate)>> {
        let n = self.node_or_default(&a);
        let mut out = Some(Vec::new());
        if let Some(n) = n
            && let Some(items) = self.array(&n, &a.shown, None, a.def).cloned()
        {
            for (i, it) in items.iter().enumerate() {
                let shown = format!("{}[{i}]", a.shown);
                let pair = match &it.value {
                    Value::Array(p) if p.len() == 2 => {
                        let a0 = self.date_of(&p[0], &shown);
                        let b0 = self.date_of(&p[1], &shown);
                        match (a0, b0) {
                            (Some(x), Some(y)) if x <= y => Some((x, y)),
                            (Some(_), Some(_)) => {
                                self.err(it.at, &shown, "the first date is after the last");
                                None
                            }
                            _ => None,
                        }
                    }
                    _ => {
                        self.err(
                            it.at,
                            &shown,
                            format!("expected [first, last] dates, found {}", it.show()),
                        );
                        None
                    }
                };
                match (pair, &mut out) {
                    (Some(p), Some(v)) => v.push(p),
                    _ => out = None,
                }
            }
        }
        out
    }

    fn dates(&mut self, a: At) -> Option<Vec<NaiveDate>> {
        let n = self.node_or_default(&a);
        let mut out = Some(Vec::new());
        if let Some(n) = n
            && let Some(items) = self.array(&n, &a.shown, None, a.def).cloned()
        {
            for (i, it) in items.iter().enumerate() {
                match (self.date_of(it, &format!("{}[{i}]", a.shown)), &mut out) {
                    (Some(d), Some(v)) => v.push(d),
                    _ => out = None,
                }
            }
        }
        out
    }

    /// Twelve monthly factors, normalised to mean 1.
    fn season(&mut self, a: At) -> Option<[f64; 12]> {
        let n = self.node_or_default(&a)?;
        let items = self.array(&n, &a.shown, Some(12), a.def)?.clone();
        let mut s = [0.0; 12];
        for (i, it) in items.iter().enumerate() {
            s[i] = self.number_of(it, &format!("{}[{i}]", a.shown), a.def, false)?;
        }
        let mean = s.iter().sum::<f64>() / 12.0;
        if mean <= 0.0 {
            self.err(
                n.at,
                &a.shown,
                "all twelve factors are 0; at least one month must ship",
            );
            return None;
        }
        Some(s.map(|x| x / mean))
    }

    fn mechanisms(&mut self, a: At) -> Option<Vec<Mechanism>> {
        let n = self.node_or_default(&a)?;
        let items = self.array(&n, &a.shown, None, a.def)?.clone();
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let m = match &it.value {
                Value::Str(s) if Mechanism::from_name(s).is_some() => {
                    Mechanism::from_name(s).expect("checked")
                }
                _ => {
                    let allowed: Vec<String> = Mechanism::ALL
                        .iter()
                        .map(|m| format!("\"{}\"", m.name()))
                        .collect();
                    self.err(
                        it.at,
                        &format!("finance.order[{i}]"),
                        format!(
                            "{} is not a mechanism; allowed: {}",
                            it.show(),
                            allowed.join(", ")
                        ),
                    );
                    return None;
                }
            };
            if out.contains(&m) {
                self.err(
                    it.at,
                    &format!("finance.order[{i}]"),
                    format!("{} is listed twice", it.show()),
                );
                return None;
            }
            out.push(m);
        }
        Some(out)
    }

    /// A number (a fixed rate) or `{ base, elasticity, min, max }`.
    fn shipment_rate(&mut self, a: At) -> Option<ShipmentRate> {
        let n = self.node_or_default(&a)?;
        match &n.value {
            Value::Table(_) => {
                let p = "exporters.shipments_per_year";
                let t = Some(&n);
                let base = self.get(t, p, &k::EXPORTERS_SHIPMENTS_PER_YEAR_BASE);
                let elasticity = self.get(t, p, &k::EXPORTERS_SHIPMENTS_PER_YEAR_ELASTICITY);
                let min = self.get(t, p, &k::EXPORTERS_SHIPMENTS_PER_YEAR_MIN);
                let max = self.get(t, p, &k::EXPORTERS_SHIPMENTS_PER_YEAR_MAX);
                let (base, elasticity, min, max) = (base?, elasticity?, min?, max?);
                if min > max || base <= 0.0 || max <= 0.0 {
                    self.err(n.at, p, format!("need base > 0 and 0 ≤ min ≤ max; found base {base}, min {min}, max {max}"));
                    return None;
                }
                Some(ShipmentRate {
                    base,
                    elasticity,
                    min,
                    max,
                })
            }
            _ => {
                let v = self.number_of(&n, &a.shown, a.def, false)?;
                if v <= 0.0 {
                    self.err(n.at, &a.shown, "must be positive");
                    return None;
                }
                Some(ShipmentRate {
                    base: v,
                    elasticity: 0.0,
                    min: v,
                    max: v,
                })
            }
        }
    }
}

/// ` days` after a bound, from the key's unit (empty for unitless keys).
fn unit_suffix(def: &KeyDef) -> String {
    if def.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", def.unit)
    }
}

fn show_bound(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn relocate(n: &mut Node, at: Origin) {
    n.at = at;
    match &mut n.value {
        Value::Table(t) => {
            for (_, kat, c) in t {
                *kat = at;
                relocate(c, at);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| relocate(c, at)),
        _ => {}
    }
}

/// The merged tree of scenario sources: files merged left to right, then `--set`
/// overrides applied (unvalidated; [`build`] validates it).
pub fn merged_tree(
    files: Vec<(String, String, PathBuf)>,
    sets: &[String],
) -> Result<Node, ScenarioError> {
    let m = merge_sources(files, sets);
    if m.problems.is_empty() {
        Ok(m.root)
    } else {
        Err(ScenarioError {
            problems: m.problems,
        })
    }
}

/// Scenario sources merged into one tree, with the problems met on the way.
struct Merged {
    src: Sources,
    dirs: Vec<PathBuf>,
    inputs: Vec<InputFile>,
    root: Node,
    problems: Vec<Problem>,
    /// A file was not TOML: its keys are unknown (see [`build`]).
    partial: bool,
}

fn merge_sources(files: Vec<(String, String, PathBuf)>, sets: &[String]) -> Merged {
    let mut src = Sources::default();
    let mut dirs = Vec::new();
    let mut inputs = Vec::new();
    for (name, text, dir) in files {
        inputs.push(InputFile {
            path: name.clone(),
            sha256: sha256_hex(text.as_bytes()),
        });
        src.0.push(Source {
            name,
            text,
            is_set: false,
        });
        dirs.push(dir);
    }
    let n_files = src.0.len();
    for (i, s) in sets.iter().enumerate() {
        src.0.push(Source {
            name: format!("--set #{} `{}`", i + 1, printable(s)),
            text: s.clone(),
            is_set: true,
        });
        dirs.push(PathBuf::from("."));
    }
    let mut problems = Vec::new();
    let mut root: Option<Node> = None;
    for i in 0..n_files {
        match tree::parse(&src, i) {
            Ok(n) => match &mut root {
                None => root = Some(n),
                Some(r) => tree::merge(r, n),
            },
            Err(p) => problems.push(p),
        }
    }
    // A file that is not TOML does not hide the problems of the others: they are
    // still checked, value by value, but nothing is reported missing (the broken
    // file may hold it) and checks across sections are left for the next try.
    let partial = !problems.is_empty();
    let mut root = root.unwrap_or(Node {
        value: Value::Table(vec![]),
        at: Origin::default(),
        inline: false,
    });
    for i in n_files..src.0.len() {
        if let Err(p) = tree::apply_set(&mut root, &src, i) {
            problems.push(p);
        }
    }
    Merged {
        src,
        dirs,
        inputs,
        root,
        problems,
        partial,
    }
}

/// Builds and validates a scenario.
pub fn build(
    files: Vec<(String, String, PathBuf)>,
    sets: &[String],
) -> Result<Scenario, ScenarioError> {
    let (mut c, root) = context(files, sets);
    c.unknown_keys(&root, "", "");
    let s = build_typed(&mut c, &root);
    if c.problems.is_empty() {
        Ok(s.expect("no problems means every field was built"))
    } else {
        Err(ScenarioError {
            problems: c.problems,
        })
    }
}

/// The merged tree and a context holding the problems met while merging.
fn context(files: Vec<(String, String, PathBuf)>, sets: &[String]) -> (Ctx, Node) {
    let Merged {
        src,
        dirs,
        inputs,
        root,
        problems,
        partial,
    } = merge_sources(files, sets);
    let c = Ctx {
        src,
        dirs,
        problems,
        inputs,
        lenient: partial,
        partial,
        read: Vec::new(),
    };
    (c, root)
}

/// `[scenario]`: the fields of [`Scenario`] that are not sections.
struct Head {
    name: String,
    title: String,
    title_zh: String,
    start_date: NaiveDate,
    warmup_days: i32,
    horizon_days: i32,
    paths: u32,
    seed: u64,
}

fn build_typed(c: &mut Ctx, root: &Node) -> Option<Scenario> {
    // Every section first (in this order, which is the order of the problems),
    // so that all problems are reported; `?` only when assembling.
    let head = head(c, root);
    let calendar = calendar_spec(c, root);
    let economy = economy(c, root);
    let sectors = sectors(c, root);
    let platforms = platforms(c, root);
    let exporters = exporters(c, root);
    let policy = policy(c, root);
    let (order, trigger) = finance(c, root);
    let pools = section(root, &k::POOLS);
    let turnover = pool(
        c,
        pools,
        &k::POOLS_TURNOVER,
        &k::POOLS_TURNOVER_ENABLED,
        turnover_spec,
    );
    let guarantee = pool(
        c,
        pools,
        &k::POOLS_GUARANTEE,
        &k::POOLS_GUARANTEE_ENABLED,
        guarantee_spec,
    );
    let credit = pool(
        c,
        pools,
        &k::POOLS_CREDIT,
        &k::POOLS_CREDIT_ENABLED,
        credit_spec,
    );
    let service = pool(
        c,
        pools,
        &k::POOLS_SERVICE,
        &k::POOLS_SERVICE_ENABLED,
        service_spec,
    );
    let credit_risk = credit_risk(c, root);
    let (population, population_file) = population(c, root, &platforms, &sectors);

    if c.partial {
        return None;
    }
    let on = Enabled {
        turnover: turnover
            .as_ref()
            .and_then(|t| t.as_ref())
            .map(|t| t.eligible),
        guarantee: guarantee
            .as_ref()
            .and_then(|g| g.as_ref())
            .map(|g| g.eligible),
        credit: credit.as_ref().and_then(|c| c.as_ref()).map(|c| c.eligible),
        service: service
            .as_ref()
            .and_then(|s| s.as_ref())
            .map(|s| s.eligible),
    };
    across_sections(c, root, &on, order.as_ref());
    let total_exporters = match (&population, &platforms) {
        (Some(Some(rows)), _) => rows.len(),
        (_, Some(pl)) => pl.iter().map(|p| p.exporters as usize).sum(),
        _ => 1,
    };
    if total_exporters == 0 {
        let at = root.get("platform").map(|n| n.at).unwrap_or(root.at);
        c.err(
            at,
            "platform.exporters",
            "no exporters at all; give at least one platform a positive `exporters`",
        );
    }

    let head = head?;
    Some(Scenario {
        name: head.name,
        title: head.title,
        title_zh: head.title_zh,
        start_date: head.start_date,
        warmup_days: head.warmup_days,
        horizon_days: head.horizon_days,
        paths: head.paths,
        seed: head.seed,
        calendar: calendar?,
        economy: economy?,
        sectors: sectors?,
        platforms: platforms?,
        exporters: exporters?,
        population: population?,
        population_file,
        policy: policy?,
        finance: Finance {
            order: order?,
            trigger: trigger?,
        },
        turnover: turnover?,
        guarantee: guarantee?,
        credit: credit?,
        credit_risk: credit_risk?,
        service: service?,
        inputs: c.inputs.clone(),
    })
}

/// The table of a top-level section, if written.
fn section<'a>(root: &'a Node, key: &'static Key<kind::Section>) -> Option<&'a Node> {
    root.get(key.def.key)
}

/// `[scenario]`.
fn head(c: &mut Ctx, root: &Node) -> Option<Head> {
    let sc = section(root, &k::SCENARIO);
    if sc.is_none() && !c.partial {
        c.err(
            root.at,
            "scenario",
            "missing [scenario] section; it needs at least name and start_date",
        );
    }
    let p = "scenario";
    let name = c.get(sc, p, &k::SCENARIO_NAME);
    if let Some(n) = &name
        && (n.is_empty()
            || !n
                .chars()
                .all(|ch| ch.is_alphanumeric() || "-_.".contains(ch))
            || n.starts_with('.'))
    {
        let at = c
            .at(sc, p, &k::SCENARIO_NAME)
            .node
            .map(|n| n.at)
            .unwrap_or_default();
        c.err(
            at,
            "scenario.name",
            format!("\"{n}\" cannot name an output folder; use letters, digits, '-', '_' and '.'"),
        );
    }
    let title = c.get(sc, p, &k::SCENARIO_TITLE);
    let title_zh = c.get(sc, p, &k::SCENARIO_TITLE_ZH);
    let start_date = c.get(sc, p, &k::SCENARIO_START_DATE);
    let warmup_days = c.get(sc, p, &k::SCENARIO_WARMUP_DAYS);
    let horizon_days = c.get(sc, p, &k::SCENARIO_HORIZON_DAYS);
    let paths = c.get(sc, p, &k::SCENARIO_PATHS);
    let seed = c.get(sc, p, &k::SCENARIO_SEED);
    Some(Head {
        name: name?,
        title: title?,
        title_zh: title_zh?,
        start_date: start_date?,
        warmup_days: warmup_days? as i32,
        horizon_days: horizon_days? as i32,
        paths: paths? as u32,
        seed: seed?,
    })
}

/// `[calendar]`.
fn calendar_spec(c: &mut Ctx, root: &Node) -> Option<CalendarSpec> {
    let cal = section(root, &k::CALENDAR);
    let p = "calendar";
    let working_days = c.pick(
        cal,
        p,
        &k::CALENDAR_WORKING_DAYS,
        &[("mon-fri", WorkingDays::MonFri), ("all", WorkingDays::All)],
    );
    let file_at = c.at(cal, p, &k::CALENDAR_FILE);
    let (file, official) = match file_at.node {
        Some(n) => match c.file(n, &file_at.shown) {
            Some((name, path, text)) => match calendar::parse_official(&text) {
                Ok(o) => (Some(name), Some(o)),
                Err(errs) => {
                    for e in errs {
                        c.problems.push(Problem {
                            location: format!("{}:{}", path.display(), e.line),
                            key: format!("calendar.file column `{}`", e.column),
                            message: e.message,
                        });
                    }
                    (None, None)
                }
            },
            None => (None, None),
        },
        None => (
            {
                c.inputs.push(InputFile {
                    path: "(built in) data/cn-public-holidays.csv".into(),
                    sha256: sha256_hex(calendar::OFFICIAL_CSV.as_bytes()),
                });
                Some("(built in) data/cn-public-holidays.csv".to_string())
            },
            Some(
                calendar::parse_official(calendar::OFFICIAL_CSV)
                    .expect("shipped calendar is valid"),
            ),
        ),
    };
    let holidays = c.get(cal, p, &k::CALENDAR_HOLIDAYS);
    let workdays = c.get(cal, p, &k::CALENDAR_WORKDAYS);
    Some(CalendarSpec {
        working_days: working_days?,
        file: file?,
        official: official?,
        holidays: holidays?,
        workdays: workdays?,
    })
}

/// `[economy]`.
fn economy(c: &mut Ctx, root: &Node) -> Option<Economy> {
    let ec = section(root, &k::ECONOMY);
    let p = "economy";
    let opportunity_rate = c.get(ec, p, &k::ECONOMY_OPPORTUNITY_RATE);
    let gov_rate = c.get(ec, p, &k::ECONOMY_GOV_RATE);
    let season = c.get(ec, p, &k::ECONOMY_SEASON);
    let demand_sigma = c.get(ec, p, &k::ECONOMY_DEMAND_SIGMA);
    let demand_factor = c.get(ec, p, &k::ECONOMY_DEMAND_FACTOR);
    Some(Economy {
        opportunity_rate: opportunity_rate?,
        gov_rate: gov_rate?,
        season: season?,
        demand_sigma: demand_sigma?,
        demand_factor: demand_factor?,
    })
}

/// `[[sector]]`, with shares summing to 1.
fn sectors(c: &mut Ctx, root: &Node) -> Option<Vec<Sector>> {
    let sectors = tables(c, root, &k::SECTOR, |c, t, shown| {
        // Every field first, so that all of a table's problems are reported.
        let t = Some(t);
        let name = c.get(t, shown, &k::SECTOR_NAME);
        let name_zh = c.get(t, shown, &k::SECTOR_NAME_ZH);
        let refund_rate = c.get(t, shown, &k::SECTOR_REFUND_RATE);
        let share = c.get(t, shown, &k::SECTOR_SHARE);
        Some(Sector {
            name: name?,
            name_zh: name_zh?,
            refund_rate: refund_rate?,
            share: share?,
        })
    });
    if let Some(ss) = &sectors {
        let total: f64 = ss.iter().map(|s| s.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            let at = root.get("sector").map(|n| n.at).unwrap_or_default();
            c.err(
                at,
                "sector.share",
                format!(
                    "the sector shares sum to {}; they must sum to 1",
                    (total * 1e9).round() / 1e9
                ),
            );
        }
    }
    sectors
}

/// `[[platform]]`, with class mixes summing to 1.
fn platforms(c: &mut Ctx, root: &Node) -> Option<Vec<Platform>> {
    let from_file = c
        .at(
            section(root, &k::POPULATION),
            "population",
            &k::POPULATION_FILE,
        )
        .node
        .is_some();
    tables(c, root, &k::PLATFORM, |c, t, shown| {
        let class_mix = c.get(Some(t), shown, &k::PLATFORM_CLASS_MIX);
        if let Some(m) = class_mix {
            let total: f64 = m.iter().sum();
            if (total - 1.0).abs() > 1e-6 {
                let at = t.get("class_mix").map(|n| n.at).unwrap_or(t.at);
                c.err(
                    at,
                    &format!("{shown}.class_mix"),
                    format!(
                        "the class shares sum to {}; they must sum to 1",
                        (total * 1e9).round() / 1e9
                    ),
                );
            }
        }
        let exporters = if from_file && t.get("exporters").is_none() {
            Some(0)
        } else {
            c.get(Some(t), shown, &k::PLATFORM_EXPORTERS)
        };
        // Every field first, so that all of a table's problems are reported.
        let t = Some(t);
        let name = c.get(t, shown, &k::PLATFORM_NAME);
        let name_zh = c.get(t, shown, &k::PLATFORM_NAME_ZH);
        let pilot = c.get(t, shown, &k::PLATFORM_PILOT);
        let export_median = c.get(t, shown, &k::PLATFORM_EXPORT_MEDIAN);
        let export_sigma = c.get(t, shown, &k::PLATFORM_EXPORT_SIGMA);
        let trading_share = c.get(t, shown, &k::PLATFORM_TRADING_SHARE);
        Some(Platform {
            name: name?,
            name_zh: name_zh?,
            pilot: pilot?,
            exporters: exporters? as u32,
            export_median: export_median?,
            export_sigma: export_sigma?,
            trading_share: trading_share?,
            class_mix: class_mix?,
        })
    })
}

/// `[exporters]`.
fn exporters(c: &mut Ctx, root: &Node) -> Option<ExporterSpec> {
    let ex = section(root, &k::EXPORTERS);
    let p = "exporters";
    let shipments_per_year = c.get(ex, p, &k::EXPORTERS_SHIPMENTS_PER_YEAR);
    let shipment_value_sigma = c.get(ex, p, &k::EXPORTERS_SHIPMENT_VALUE_SIGMA);
    let manufacturer_cash_share = c.get(ex, p, &k::EXPORTERS_MANUFACTURER_CASH_SHARE);
    if let Some(d) = &manufacturer_cash_share
        && matches!(d, Dist::Lognormal { .. } | Dist::Gamma { .. })
    {
        let at = c
            .at(ex, p, &k::EXPORTERS_MANUFACTURER_CASH_SHARE)
            .node
            .map(|n| n.at)
            .unwrap_or_default();
        c.err(
            at,
            "exporters.manufacturer_cash_share",
            "a share must stay within 0 and 1; use fixed, uniform, triangular or empirical",
        );
    }
    Some(ExporterSpec {
        shipments_per_year: shipments_per_year?,
        shipment_value_sigma: shipment_value_sigma?,
        manufacturer_cash_share: manufacturer_cash_share?,
    })
}

/// `[policy]`.
fn policy(c: &mut Ctx, root: &Node) -> Option<Policy> {
    let po = section(root, &k::POLICY);
    let p = "policy";
    let name = c.get(po, p, &k::POLICY_NAME);
    let class_treatment = c.get(po, p, &k::POLICY_CLASS_TREATMENT).and_then(|v| {
        if v.iter().any(|x| x.fract() != 0.0) {
            let at = c
                .at(po, p, &k::POLICY_CLASS_TREATMENT)
                .node
                .map(|n| n.at)
                .unwrap_or_default();
            c.err(
                at,
                "policy.class_treatment",
                "classes are whole numbers 1 to 4",
            );
            return None;
        }
        Some(v.map(|x| x as u8))
    });
    let docs = c.get(po, p, &k::POLICY_DOCS);
    let filing = filing(c, po);
    let review = c.get(po, p, &k::POLICY_REVIEW);
    let verification = c.at(po, p, &k::POLICY_VERIFICATION).node;
    let pv = "policy.verification";
    let verification_prob = c.get(verification, pv, &k::POLICY_VERIFICATION_PROB);
    let verification_days = c.get(verification, pv, &k::POLICY_VERIFICATION_DAYS);
    let denial_prob = c.get(po, p, &k::POLICY_DENIAL_PROB);
    let treasury = c.get(po, p, &k::POLICY_TREASURY);
    let quota = match c.at(po, p, &k::POLICY_QUOTA).node {
        None => Some(None),
        Some(q) => quota(c, q).map(Some),
    };
    Some(Policy {
        name: name?,
        class_treatment: class_treatment?,
        docs: docs?,
        filing: filing?,
        review: review?,
        verification_prob: verification_prob?,
        verification_days: verification_days?,
        denial_prob: denial_prob?,
        treasury: treasury?,
        quota: quota?,
    })
}

/// `[policy.filing]`.
fn filing(c: &mut Ctx, po: Option<&Node>) -> Option<Filing> {
    let a = c.at(po, "policy", &k::POLICY_FILING);
    let f = a.node.cloned().unwrap_or(Node {
        value: Value::Table(vec![]),
        at: a.parent,
        inline: false,
    });
    let p = "policy.filing";
    let mode = c.pick(
        Some(&f),
        p,
        &k::POLICY_FILING_MODE,
        &[("monthly", 0), ("continuous", 1)],
    );
    // The other mode's key is an error only when written together with `mode`
    // (same file or --set); a base file's key is simply left behind when an
    // overlay or --set switches the mode.
    let mode_source = f.get("mode").map_or(f.at.source, |n| n.at.source);
    let stray = |c: &mut Ctx, key: &str, needs: &str| {
        if let Some((_, kat, _)) = f
            .entries()
            .and_then(|e| e.iter().find(|(k, _, _)| k == key))
            && kat.source == mode_source
        {
            c.err(
                *kat,
                &format!("policy.filing.{key}"),
                format!(
                    "{key} applies to {needs} filing only; remove it or set mode = \"{needs}\""
                ),
            );
        }
    };
    match mode {
        Some(0) => {
            stray(c, "lag", "continuous");
            c.get(Some(&f), p, &k::POLICY_FILING_WINDOW_WORKDAYS)
                .map(|w| Filing::Monthly {
                    window_workdays: w as u32,
                })
        }
        Some(_) => {
            stray(c, "window_workdays", "monthly");
            c.get(Some(&f), p, &k::POLICY_FILING_LAG)
                .map(|lag| Filing::Continuous { lag })
        }
        None => None,
    }
}

/// `[policy.quota]`, written as the table `q`.
fn quota(c: &mut Ctx, q: &Node) -> Option<Quota> {
    let p = "policy.quota";
    let monthly = c.get(Some(q), p, &k::POLICY_QUOTA_MONTHLY);
    let order = c.pick(
        Some(q),
        p,
        &k::POLICY_QUOTA_ORDER,
        &[
            ("fifo", QuotaOrder::Fifo),
            ("pilot_first", QuotaOrder::PilotFirst),
            ("class", QuotaOrder::Class),
        ],
    );
    monthly
        .zip(order)
        .map(|(monthly, order)| Quota { monthly, order })
}

/// `[finance]`: the offer order and the trigger (each checked on its own: the
/// order is needed across sections even when the trigger is wrong).
fn finance(c: &mut Ctx, root: &Node) -> (Option<Vec<Mechanism>>, Option<Trigger>) {
    let fi = section(root, &k::FINANCE);
    let p = "finance";
    let order = c.get(fi, p, &k::FINANCE_ORDER);
    let trigger = c.pick(
        fi,
        p,
        &k::FINANCE_TRIGGER,
        &[
            ("declared", Trigger::Declared),
            ("filed", Trigger::Filed),
            ("approved", Trigger::Approved),
        ],
    );
    (order, trigger)
}

/// A pool section (`[pools.turnover]`): `Some(None)` when absent or switched off,
/// `None` when it has problems. A pool written with `enabled = false` is off, but
/// every value written in it is still checked (a typo there would bite the day it
/// is switched on).
fn pool<T>(
    c: &mut Ctx,
    pools: Option<&Node>,
    key: &'static Key<kind::Section>,
    enabled: &'static Key<kind::Bool>,
    spec: fn(&mut Ctx, &Node, &str) -> Option<T>,
) -> Option<Option<T>> {
    let Some(t) = c.at(pools, "pools", key).node.cloned() else {
        return Some(None);
    };
    let p = key.def.key;
    if c.get(Some(&t), p, enabled) == Some(true) {
        spec(c, &t, p).map(Some)
    } else {
        c.leniently(|c| spec(c, &t, p));
        Some(None)
    }
}

/// `[credit_risk]`: `Some(None)` when absent.
fn credit_risk(c: &mut Ctx, root: &Node) -> Option<Option<CreditRisk>> {
    let Some(t) = section(root, &k::CREDIT_RISK) else {
        return Some(None);
    };
    let p = "credit_risk";
    let t = Some(t);
    let pd = c.get(t, p, &k::CREDIT_RISK_PD_BY_CLASS);
    let rho = c.get(t, p, &k::CREDIT_RISK_RHO);
    let sector_rho = c.get(t, p, &k::CREDIT_RISK_SECTOR_RHO);
    if let (Some(r), Some(s)) = (rho, sector_rho)
        && r + s >= 1.0
    {
        let at = c.at(t, p, &k::CREDIT_RISK_RHO).node.map(|n| n.at);
        c.err(
            at.unwrap_or(t.map(|t| t.at).unwrap_or_default()),
            "credit_risk.rho",
            format!("rho + sector_rho = {} must stay below 1", r + s),
        );
    }
    Some(Some(CreditRisk {
        pd_by_class: pd?,
        rho: rho?,
        sector_rho: sector_rho?,
    }))
}

/// `population.file`, read once platforms and sectors are known (it names them):
/// the rows (`Some(None)` when not set) and the file as written.
fn population(
    c: &mut Ctx,
    root: &Node,
    platforms: &Option<Vec<Platform>>,
    sectors: &Option<Vec<Sector>>,
) -> (Option<Option<Vec<ExporterRow>>>, Option<String>) {
    let a = c.at(
        section(root, &k::POPULATION),
        "population",
        &k::POPULATION_FILE,
    );
    let Some(n) = a.node else {
        return (Some(None), None);
    };
    let (Some((name, path, text)), Some(pl), Some(se)) = (c.file(n, &a.shown), platforms, sectors)
    else {
        return (None, None);
    };
    let pl: Vec<&str> = pl.iter().map(|p| p.name.as_str()).collect();
    let se: Vec<&str> = se.iter().map(|s| s.name.as_str()).collect();
    match crate::input::population_csv::parse_csv(&text, &pl, &se) {
        Ok(rows) => (Some(Some(rows)), Some(name)),
        Err(errs) => {
            for e in errs {
                c.problems.push(Problem {
                    location: format!("{}:{}", path.display(), e.line),
                    key: format!("population.file column `{}`", e.column),
                    message: e.message,
                });
            }
            (None, None)
        }
    }
}

/// The classes each enabled pool serves (`None` when off or not built).
struct Enabled {
    turnover: Option<[bool; 4]>,
    guarantee: Option<[bool; 4]>,
    credit: Option<[bool; 4]>,
    service: Option<[bool; 4]>,
}

/// Contradictions across sections: an enabled mechanism no claim can reach.
fn across_sections(c: &mut Ctx, root: &Node, on: &Enabled, order: Option<&Vec<Mechanism>>) {
    let pools = section(root, &k::POOLS);
    let each = [
        ("turnover", on.turnover, Mechanism::Turnover),
        ("guarantee", on.guarantee, Mechanism::Guarantee),
        ("credit", on.credit, Mechanism::Credit),
        ("service", on.service, Mechanism::Service),
    ];
    for (name, classes, _) in each {
        if classes == Some([false; 4]) {
            let at = pools
                .and_then(|p| p.get(name))
                .and_then(|t| t.get("eligible_classes"))
                .map(|n| n.at)
                .unwrap_or(root.at);
            c.err(
                at,
                &format!("pools.{name}.eligible_classes"),
                "is empty, so the enabled pool can serve nobody; list the processing classes it serves, e.g. [1, 2, 3], or set enabled = false",
            );
        }
    }
    // An enabled mechanism that claims are never offered to.
    if let Some(order) = order {
        for (name, classes, m) in each {
            if classes.is_some() && !order.contains(&m) {
                let at = pools
                    .and_then(|p| p.get(name))
                    .map(|n| n.at)
                    .unwrap_or(root.at);
                c.err(
                    at,
                    &format!("pools.{name}"),
                    format!("is enabled but finance.order does not list \"{name}\", so no claim would ever reach it; add it to finance.order or set enabled = false"),
                );
            }
        }
    }
}

/// `[pools.turnover]` from its table `t` (shown as `p`).
fn turnover_spec(c: &mut Ctx, t: &Node, p: &str) -> Option<TurnoverSpec> {
    let t = Some(t);
    let capital = c.get(t, p, &k::POOLS_TURNOVER_CAPITAL);
    let advance_ratio = c.get(t, p, &k::POOLS_TURNOVER_ADVANCE_RATIO);
    let lag = c.get(t, p, &k::POOLS_TURNOVER_LAG);
    let eligible = c.get(t, p, &k::POOLS_TURNOVER_ELIGIBLE_CLASSES);
    let max_per_exporter = c.get(t, p, &k::POOLS_TURNOVER_MAX_PER_EXPORTER);
    let fee_flat = c.get(t, p, &k::POOLS_TURNOVER_FEE_FLAT);
    let fee_rate = c.get(t, p, &k::POOLS_TURNOVER_FEE_RATE);
    let fees_to_pool = c.get(t, p, &k::POOLS_TURNOVER_FEES_TO_POOL);
    let loss_given_denial = c.get(t, p, &k::POOLS_TURNOVER_LOSS_GIVEN_DENIAL);
    let queue_fifo = c.pick(
        t,
        p,
        &k::POOLS_TURNOVER_QUEUE,
        &[("none", false), ("fifo", true)],
    );
    let max_wait_days = c.get(t, p, &k::POOLS_TURNOVER_MAX_WAIT_DAYS);
    Some(TurnoverSpec {
        capital: capital?,
        advance_ratio: advance_ratio?,
        lag: lag? as i32,
        eligible: eligible?,
        max_per_exporter: max_per_exporter?,
        fee_flat: fee_flat?,
        fee_rate: fee_rate?,
        fees_to_pool: fees_to_pool?,
        loss_given_denial: loss_given_denial?,
        queue_fifo: queue_fifo?,
        max_wait_days: max_wait_days? as i32,
    })
}

/// `[pools.guarantee]` from its table `t` (shown as `p`).
fn guarantee_spec(c: &mut Ctx, t: &Node, p: &str) -> Option<GuaranteeSpec> {
    let t = Some(t);
    let capital = c.get(t, p, &k::POOLS_GUARANTEE_CAPITAL);
    let leverage = c.get(t, p, &k::POOLS_GUARANTEE_LEVERAGE);
    let loan_to_refund = c.get(t, p, &k::POOLS_GUARANTEE_LOAN_TO_REFUND);
    let lag = c.get(t, p, &k::POOLS_GUARANTEE_LAG);
    let rate = c.get(t, p, &k::POOLS_GUARANTEE_RATE);
    let guarantee_fee = c.get(t, p, &k::POOLS_GUARANTEE_GUARANTEE_FEE);
    let eligible = c.get(t, p, &k::POOLS_GUARANTEE_ELIGIBLE_CLASSES);
    let loss_given_denial = c.get(t, p, &k::POOLS_GUARANTEE_LOSS_GIVEN_DENIAL);
    let loss_share = c.get(t, p, &k::POOLS_GUARANTEE_LOSS_SHARE);
    Some(GuaranteeSpec {
        capital: capital?,
        leverage: leverage?,
        loan_to_refund: loan_to_refund?,
        lag: lag? as i32,
        rate: rate?,
        guarantee_fee: guarantee_fee?,
        eligible: eligible?,
        loss_given_denial: loss_given_denial?,
        loss_share: loss_share?,
    })
}

/// `[pools.credit]` from its table `t` (shown as `p`).
fn credit_spec(c: &mut Ctx, t: &Node, p: &str) -> Option<CreditSpec> {
    let t = Some(t);
    let line_share = c.get(t, p, &k::POOLS_CREDIT_LINE_SHARE);
    let line_cap = c.get(t, p, &k::POOLS_CREDIT_LINE_CAP);
    let rate = c.get(t, p, &k::POOLS_CREDIT_RATE);
    let risk_fund = c.get(t, p, &k::POOLS_CREDIT_RISK_FUND);
    let fund_leverage = c.get(t, p, &k::POOLS_CREDIT_FUND_LEVERAGE);
    let loss_share = c.get(t, p, &k::POOLS_CREDIT_LOSS_SHARE);
    let lgd = c.get(t, p, &k::POOLS_CREDIT_LGD);
    let eligible = c.get(t, p, &k::POOLS_CREDIT_ELIGIBLE_CLASSES);
    Some(CreditSpec {
        line_share: line_share?,
        line_cap: line_cap?,
        rate: rate?,
        risk_fund: risk_fund?,
        fund_leverage: fund_leverage?,
        loss_share: loss_share?,
        lgd: lgd?,
        eligible: eligible?,
    })
}

/// `[pools.service]` from its table `t` (shown as `p`).
fn service_spec(c: &mut Ctx, t: &Node, p: &str) -> Option<ServiceSpec> {
    let t = Some(t);
    let capital = c.get(t, p, &k::POOLS_SERVICE_CAPITAL);
    let advance_ratio = c.get(t, p, &k::POOLS_SERVICE_ADVANCE_RATIO);
    let lag = c.get(t, p, &k::POOLS_SERVICE_LAG);
    let fee_rate = c.get(t, p, &k::POOLS_SERVICE_FEE_RATE);
    let fee_flat = c.get(t, p, &k::POOLS_SERVICE_FEE_FLAT);
    let client_max_exports = c.get(t, p, &k::POOLS_SERVICE_CLIENT_MAX_EXPORTS);
    let client_share = c.get(t, p, &k::POOLS_SERVICE_CLIENT_SHARE);
    let eligible = c.get(t, p, &k::POOLS_SERVICE_ELIGIBLE_CLASSES);
    let loss_given_denial = c.get(t, p, &k::POOLS_SERVICE_LOSS_GIVEN_DENIAL);
    Some(ServiceSpec {
        capital: capital?,
        advance_ratio: advance_ratio?,
        lag: lag? as i32,
        fee_rate: fee_rate?,
        fee_flat: fee_flat?,
        client_max_exports: client_max_exports?,
        client_share: client_share?,
        eligible: eligible?,
        loss_given_denial: loss_given_denial?,
    })
}

/// Readers of the kinds added with the budget stress (issue 9).
impl Ctx {
    /// `economy.demand_factor`: absent, or a number greater than 0 (the key's
    /// range gives the upper bound).
    fn opt_factor(&mut self, a: At) -> Option<Option<f64>> {
        let Some(n) = a.node else {
            return Some(None);
        };
        let v = self.number_of(n, &a.shown, a.def, false)?;
        if v == 0.0 {
            self.err(
                n.at,
                &a.shown,
                format!(
                    "a demand factor of 0 ships nothing; allowed: {}",
                    a.def.allowed
                ),
            );
            return None;
        }
        Some(Some(v))
    }

    /// `policy.quota.monthly`: one amount for every month, or a list of 12
    /// amounts, January first. Every amount is checked (all problems reported); a
    /// budget that is 0 in every month never pays a refund and is refused.
    fn monthly_amounts(&mut self, a: At) -> Option<[f64; 12]> {
        let n = self.node_or_default(&a)?;
        let out = if matches!(n.value, Value::Array(_)) {
            let items = self.array(&n, &a.shown, Some(12), a.def)?.clone();
            let mut out = [0.0; 12];
            let mut ok = true;
            for (i, it) in items.iter().enumerate() {
                match self.number_of(it, &format!("{}[{i}]", a.shown), a.def, true) {
                    Some(v) => out[i] = v,
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            out
        } else {
            [self.number_of(&n, &a.shown, a.def, true)?; 12]
        };
        if out.iter().all(|x| *x == 0.0) {
            self.err(
                n.at,
                &a.shown,
                "a budget of 0 never pays a refund; omit [policy.quota] for no limit, or give at least one month a positive amount",
            );
            return None;
        }
        Some(out)
    }
}

/// Builds every element of an array of tables (`[[sector]]`, `[[platform]]`),
/// checking that names are unique.
fn tables<T>(
    c: &mut Ctx,
    root: &Node,
    key: &'static Key<kind::Tables>,
    mut one: impl FnMut(&mut Ctx, &Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let key = key.def.key;
    let Some(n) = root.get(key) else {
        if !c.partial {
            c.err(
                root.at,
                key,
                format!("missing; add at least one [[{key}]] table"),
            );
        }
        return None;
    };
    let Value::Array(items) = &n.value else {
        return None;
    };
    if items.is_empty() {
        c.err(
            n.at,
            key,
            format!("empty; add at least one [[{key}]] table"),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, t) in items.iter().enumerate() {
        let shown = match t.get("name").map(|x| &x.value) {
            Some(Value::Str(s)) => {
                if names.contains(s) {
                    c.err(
                        t.get("name").expect("name").at,
                        &format!("{key}.{s}.name"),
                        format!("the name \"{s}\" is used twice; names must be unique"),
                    );
                    ok = false;
                }
                names.push(s.clone());
                format!("{key}.{s}")
            }
            _ => format!("{key}[{i}]"),
        };
        match one(c, t, &shown) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::scenario::keys::KEYS;

    /// Every declared key with a default: its reader (chosen by its declared
    /// type) accepts the default as if it were written.
    #[test]
    fn every_default_is_accepted_by_the_reader_of_its_type() {
        let (mut c, _) = context(vec![], &[]);
        for d in KEYS.iter().filter(|d| !d.default.is_empty()) {
            let a = At {
                node: None,
                parent: Origin::default(),
                shown: d.key.to_string(),
                def: d,
            };
            macro_rules! reads {
                ($kind:ident) => {
                    <kind::$kind as Read>::read(&mut c, a).is_some()
                };
            }
            let ok = match d.ty {
                Ty::Number => reads!(Number),
                Ty::Amount => reads!(Amount),
                Ty::OptAmount => reads!(OptAmount),
                Ty::Integer => reads!(Integer),
                Ty::Seed => reads!(Seed),
                Ty::Bool => reads!(Bool),
                Ty::Text => reads!(Text),
                Ty::Date => reads!(Date),
                Ty::DateRanges => reads!(DateRanges),
                Ty::Dates => reads!(Dates),
                Ty::Distribution => reads!(Distribution),
                Ty::Numbers4 => reads!(Numbers4),
                Ty::Dists4 => reads!(Dists4),
                Ty::Season => reads!(Season),
                Ty::Classes => reads!(Classes),
                Ty::Mechanisms => reads!(Mechanisms),
                Ty::NumberOrTable => reads!(NumberOrTable),
                Ty::OptFactor => reads!(OptFactor),
                Ty::MonthlyAmounts => reads!(MonthlyAmounts),
                // A word: its options are the builder's (`Ctx::pick`).
                Ty::Choice => c
                    .node_or_default(&a)
                    .is_some_and(|n| matches!(n.value, Value::Str(_))),
                Ty::Section | Ty::Tables | Ty::Path => true,
            };
            assert!(
                ok && c.problems.is_empty(),
                "{}: default {} rejected: {:?}",
                d.key,
                d.default,
                c.problems
            );
        }
    }

    /// Every declared value key is read by the builder (a key in the table that
    /// fills no spec field would be accepted and silently ignored).
    #[test]
    fn the_builder_reads_every_declared_value_key() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let file = |p: &str| {
            let path = dir.join(p);
            let text = std::fs::read_to_string(&path).unwrap();
            (p.to_string(), text, path.parent().unwrap().to_path_buf())
        };
        let mut read = BTreeSet::new();
        for mode in ["monthly", "continuous"] {
            let extra = format!(
                "[exporters]\nshipments_per_year = {{ base = 24, elasticity = 0.3, min = 1, max = 100 }}\n\
                 [credit_risk]\npd_by_class = [0.01, 0.02, 0.03, 0.04]\n\
                 [policy.filing]\nmode = \"{mode}\"\n"
            );
            let files = vec![
                file("scenarios/guizhou-2020-target.toml"),
                file("scenarios/policies/full-package.toml"),
                file("scenarios/policies/budget-priority.toml"),
                file("scenarios/policies/service-company.toml"),
                ("extra".into(), extra, dir.clone()),
            ];
            let (mut c, root) = context(files, &[]);
            c.unknown_keys(&root, "", "");
            let s = build_typed(&mut c, &root);
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            assert!(s.is_some());
            read.extend(c.read);
        }
        let unread: Vec<&str> = KEYS
            .iter()
            .filter(|d| !matches!(d.ty, Ty::Section | Ty::Tables | Ty::Path))
            .map(|d| d.key)
            .filter(|k| !read.contains(k))
            .collect();
        assert!(unread.is_empty(), "declared but never read: {unread:?}");
    }
}

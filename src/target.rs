//! A target on one metric, `METRIC<=X` and its kin (MODEL.md §10–11): what
//! `size --target` searches for and what `sweep --exceed` counts. It stands
//! below both commands, which name it from here.

use serde::Serialize;

use crate::lever::fmt_num;

/// A comparison in a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `>`
    #[serde(rename = ">")]
    Gt,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

/// `METRIC<=X` and its kin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Metric name (MODEL.md §7).
    pub metric: String,
    /// Comparison.
    pub op: Op,
    /// Threshold.
    pub threshold: f64,
}

impl Target {
    /// Parses `METRIC<=X`, `>=`, `<` or `>`; `X` may be an amount such as `1亿`.
    pub fn parse(s: &str) -> Result<Target, String> {
        Target::parse_flag(s, "--target")
    }

    /// [`Target::parse`] for another flag (`--exceed`), named in the messages.
    pub fn parse_flag(s: &str, flag: &str) -> Result<Target, String> {
        let how = format!(
            "write it as METRIC<=X, METRIC>=X, METRIC<X or METRIC>X, e.g. {flag} 'turnover.blocked_share<=0.05'"
        );
        let (i, op, len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|o| s.find(o).map(|i| (i, *o, o.len())))
            .min_by_key(|(i, o, _)| (*i, std::cmp::Reverse(o.len())))
            .ok_or_else(|| format!("{flag} `{s}` has no comparison; {how}"))?;
        let metric = s[..i].trim().to_string();
        let rhs = s[i + len..].trim();
        let op = match op {
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            _ => Op::Gt,
        };
        if crate::metrics::index(&metric).is_none() {
            let hint = crate::scenario::keys::did_you_mean(
                &metric,
                crate::metrics::METRICS.iter().map(|m| m.name),
            )
            .map(|m| format!(" (did you mean `{m}`?)"))
            .unwrap_or_default();
            return Err(format!(
                "{flag} `{s}`: `{metric}` is not a metric{hint}; `refundsim explain` lists the metrics in summary.csv"
            ));
        }
        let threshold = crate::input::parse_amount(rhs)
            .ok_or_else(|| format!("{flag} `{s}`: `{rhs}` is not a number; {how}"))?;
        Ok(Target {
            metric,
            op,
            threshold,
        })
    }

    /// Whether `x` meets the target.
    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            Op::Le => x <= self.threshold,
            Op::Lt => x < self.threshold,
            Op::Ge => x >= self.threshold,
            Op::Gt => x > self.threshold,
        }
    }

    /// How far `x` is inside the target (negative outside).
    pub fn slack(&self, x: f64) -> f64 {
        match self.op {
            Op::Le | Op::Lt => self.threshold - x,
            Op::Ge | Op::Gt => x - self.threshold,
        }
    }

    /// As typed, canonically: `turnover.blocked_share<=0.05`.
    pub fn text(&self) -> String {
        format!(
            "{}{}{}",
            self.metric,
            self.op.text(),
            fmt_num(self.threshold)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_every_comparison_and_amounts() {
        let t = Target::parse("turnover.blocked_share<=0.05").unwrap();
        assert_eq!((t.op, t.threshold), (Op::Le, 0.05));
        assert_eq!(
            Target::parse("tied_up_net_avg < 1亿").unwrap().threshold,
            1e8
        );
        assert_eq!(Target::parse("fiscal_cost>=3").unwrap().op, Op::Ge);
        assert_eq!(Target::parse("fiscal_cost>3").unwrap().op, Op::Gt);
        assert!(
            Target::parse("fiscal_cost=3")
                .unwrap_err()
                .contains("METRIC<=X")
        );
        let e = Target::parse("turnover.blocked_shar<=0.05").unwrap_err();
        assert!(e.contains("did you mean `turnover.blocked_share`"), "{e}");
        assert!(
            Target::parse("fiscal_cost<=lots")
                .unwrap_err()
                .contains("not a number")
        );
    }
}

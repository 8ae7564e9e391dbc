//! `refundsim explain [KEY|METRIC]`: documentation of scenario keys and output
//! metrics, read from the same tables the code uses ([`crate::scenario::keys::KEYS`]
//! and [`crate::metrics::METRICS`]), so it cannot drift from what runs.

use crate::metrics::{Kind, METRICS, MetricDef, Source};
use crate::scenario::keys;

/// One metric: name, unit, what it measures, its exact definition.
pub fn explain_metric(m: &MetricDef) -> String {
    let mut s = format!("{} (output metric)\n  {}\n", m.name, m.doc);
    s += &format!("  label:     {} / {}\n", m.zh, m.en);
    s += &format!("  unit:      {}\n", m.unit);
    s += &format!("  kind:      {}\n", kind(m.kind));
    s += &format!("  mechanism: {}\n", m.source.label());
    if let Some(k) = m.source.mechanism() {
        s += &format!(
            "  empty:     in every run without [pools.{}] enabled\n",
            k.name()
        );
    } else if m.source == Source::Defaults {
        s += "  empty:     in every run without [credit_risk]\n";
    }
    s += &format!(
        "  grouped:   {}\n",
        if m.grouped {
            "yes: also in by_platform.csv and by_class.csv"
        } else {
            "no: whole population only (summary.csv)"
        }
    );
    s += &format!(
        "  interval:  {}\n",
        if m.share {
            "share or probability in [0, 1]: Wilson 95% interval"
        } else {
            "mean ± 1.96 standard errors"
        }
    );
    s
}

/// How `explain` names a metric's kind.
fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Flow => "flow per year (the window's total × 365 / horizon_days)",
        Kind::Stock => "daily stock (end-of-day values over the window)",
        Kind::Ratio => "ratio or average of other quantities",
        Kind::Share => "share in [0, 1]",
        Kind::Probability => "0/1 per path (its mean is a probability)",
        Kind::Count => "count (not per year)",
    }
}

/// The list of metrics: one line each (name, unit, share or not).
pub fn metric_list() -> String {
    let width = METRICS.iter().map(|m| m.name.len()).max().unwrap_or(0);
    let mut s = String::from(
        "Output metrics (columns of summary.csv and paths.csv; `refundsim explain METRIC` for one):\n",
    );
    for m in METRICS {
        s += &format!(
            "  {:<width$}  {:<8}  {}{}\n",
            m.name,
            m.unit,
            m.source.label(),
            if m.share { ", share" } else { "" }
        );
    }
    s
}

/// `refundsim explain [NAME]`: with no name every key and then the list of
/// metrics; with a name the keys and metrics it names (exactly or as a prefix:
/// `policy`, `turnover`); an unknown name gets a suggestion among both.
pub fn explain(name: Option<&str>) -> Result<String, String> {
    let Some(name) = name else {
        let keys = keys::explain(None)?;
        return Ok(format!("Scenario keys:\n\n{keys}\n{}", metric_list()));
    };
    let mut parts = Vec::new();
    if let Ok(k) = keys::explain(Some(name)) {
        parts.push(k);
    }
    let prefix = format!("{name}.");
    let metrics: Vec<String> = METRICS
        .iter()
        .filter(|m| m.name == name || m.name.starts_with(&prefix))
        .map(explain_metric)
        .collect();
    if !metrics.is_empty() {
        parts.push(metrics.join("\n"));
    }
    if !parts.is_empty() {
        return Ok(parts.join("\n"));
    }
    let candidates = keys::KEYS
        .iter()
        .map(|d| d.key)
        .chain(METRICS.iter().map(|m| m.name));
    let hint = keys::did_you_mean(&keys::normalise(name), candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    Err(format!(
        "unknown key or metric `{name}`{hint}; run `refundsim explain` for the full list"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_documented() {
        for m in METRICS {
            let t = explain(Some(m.name)).unwrap();
            assert!(t.contains(m.doc) && t.contains(m.unit), "{}", m.name);
            assert!(m.doc.ends_with('.'), "{}: a sentence", m.name);
        }
    }

    #[test]
    fn a_prefix_lists_a_mechanism_and_typos_get_a_suggestion() {
        let t = explain(Some("guarantee")).unwrap();
        assert!(t.contains("guarantee.loss_pool") && t.contains("guarantee.ruined"));
        let e = explain(Some("turnover.blocked_shre")).unwrap_err();
        assert!(e.contains("did you mean `turnover.blocked_share`?"), "{e}");
        let e = explain(Some("pools.turnover.capitl")).unwrap_err();
        assert!(e.contains("did you mean `pools.turnover.capital`?"), "{e}");
    }

    #[test]
    fn the_users_model_page_defines_every_metric() {
        // docs/model.md is the users' description of the model: keep it in step.
        let doc = include_str!("../docs/model.md");
        for m in METRICS {
            assert!(
                doc.contains(&format!("`{}` |", m.name))
                    || doc.contains(&format!("`{}`, ", m.name)),
                "docs/model.md does not define {}",
                m.name
            );
        }
    }

    #[test]
    fn no_argument_lists_keys_and_metrics() {
        let t = explain(None).unwrap();
        assert!(t.contains("pools.turnover.capital\n"));
        for m in METRICS {
            assert!(t.contains(&format!("  {} ", m.name)), "{}", m.name);
        }
    }
}

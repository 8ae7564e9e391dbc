//! Chinese and English names of metrics (MODEL.md §7), series, classes and
//! common scenario keys, as shown to decision makers.

use super::{L, Q};
use crate::scenario::Mechanism;

/// The bilingual label of a metric, by its contract name (declared once, in
/// [`crate::metrics::METRICS`]); the name itself when unknown.
pub fn metric(name: &str) -> L {
    match crate::metrics::def(name) {
        Some(d) => L::new(d.zh, d.en),
        None => L::same(name),
    }
}

/// How a metric's values are shown, from its unit in summary.csv.
pub fn quantity(unit: &str) -> Q {
    match unit {
        "CNY" | "CNY/yr" => Q::Cny,
        "days" => Q::Days,
        "count/yr" => Q::Count,
        "share" | "0/1" => Q::Pct,
        _ => Q::Plain,
    }
}

/// How a metric's values are shown, by name and unit: rates per year that are
/// shares of firms (the default rate) read better as percentages.
pub fn metric_quantity(name: &str, unit: &str) -> Q {
    match name {
        "credit.default_rate" => Q::Pct,
        _ if unit.is_empty() => quantity(unit_of(name)),
        _ => quantity(unit),
    }
}

/// The unit of a metric by name (for files that do not carry units).
pub fn unit_of(name: &str) -> &'static str {
    crate::metrics::def(name).map_or("", |m| m.unit)
}

/// A daily series of timeseries.csv.
pub fn series(name: &str) -> L {
    match name {
        "tied_up_gross" => L::new(
            "待退税款占用（融资前）",
            "Refunds tied up, before financing",
        ),
        "tied_up_net" => L::new("营运资金占用（扣除融资）", "Working capital tied up, net"),
        "budget_backlog" => L::new("等待退税计划指标的退税", "Refunds waiting for the budget"),
        // Each mechanism's series, as its module declares it.
        other => Mechanism::ALL
            .into_iter()
            .map(Mechanism::series)
            .find(|(n, _, _)| *n == other)
            .map_or_else(|| L::same(other), |(_, zh, en)| L::new(zh, en)),
    }
}

/// A mechanism by its scenario name.
pub fn mechanism(m: &str) -> L {
    match Mechanism::from_name(m) {
        Some(k) => {
            let (zh, en) = k.label();
            L::new(zh, en)
        }
        None => L::same(m),
    }
}

/// An exporter class, 1–4.
pub fn class(c: &str) -> L {
    match c {
        "1" => L::new("一类企业", "Class I"),
        "2" => L::new("二类企业", "Class II"),
        "3" => L::new("三类企业", "Class III"),
        "4" => L::new("四类企业", "Class IV"),
        other => L::same(other),
    }
}

/// A scenario key of a sweep grid or `--set`; the key itself when unknown.
pub fn key(k: &str) -> L {
    let (zh, en) = match k {
        "pools.turnover.capital" => ("周转池资本金", "Turnover pool capital"),
        "pools.turnover.advance_ratio" => ("周转池垫付比例", "Turnover advance ratio"),
        "pools.turnover.lag" => (
            "周转池放款时滞（工作日）",
            "Turnover pool lag, working days",
        ),
        "pools.turnover.fee_rate" => ("周转池年费率", "Turnover fee rate per year"),
        "pools.turnover.fee_flat" => ("周转池一次性费率", "Turnover flat fee"),
        "pools.turnover.max_wait_days" => {
            ("周转池最长等待天数", "Turnover pool longest wait, days")
        }
        "pools.guarantee.capital" => ("担保池资本金", "Guarantee pool capital"),
        "pools.guarantee.leverage" => ("担保放大倍数", "Guarantee leverage"),
        "pools.guarantee.loan_to_refund" => ("贷款与退税额比例", "Loan-to-refund ratio"),
        "pools.guarantee.rate" => ("担保贷款利率", "Guaranteed loan rate"),
        "pools.guarantee.guarantee_fee" => ("担保费率", "Guarantee fee"),
        "pools.guarantee.loss_share" => ("担保池损失分担比例", "Guarantee pool loss share"),
        "pools.credit.risk_fund" => ("风险补偿资金", "Credit risk fund"),
        "pools.credit.fund_leverage" => ("风险补偿资金放大倍数", "Risk fund leverage"),
        "pools.credit.line_share" => ("授信额度占出口额比例", "Credit line share of exports"),
        "pools.credit.line_cap" => ("单户授信上限", "Credit line cap"),
        "pools.credit.rate" => ("信用贷利率", "Credit rate"),
        "pools.credit.loss_share" => ("风险补偿资金损失分担比例", "Risk fund loss share"),
        "policy.quota.monthly" => ("每月退税计划指标", "Monthly refund budget"),
        "economy.opportunity_rate" => ("企业资金机会成本率", "Opportunity rate"),
        "economy.gov_rate" => ("财政资金成本率", "Government funding rate"),
        "finance.trigger" => ("融资申请时点", "Financing trigger"),
        "pools.turnover.queue" => ("周转池排队方式", "Turnover pool queue"),
        "pools.turnover.max_per_exporter" => ("单户垫付上限", "Turnover cap per exporter"),
        "policy.quota.order" => ("退税计划指标使用顺序", "Refund budget order"),
        "policy.filing.mode" => ("申报方式", "Filing mode"),
        _ => return L::same(k),
    };
    L::new(zh, en)
}

/// A text value of a scenario key (an enumeration), by the key's last segment;
/// `None` when unknown.
pub fn key_value(key: &str, v: &str) -> Option<L> {
    let last = key.rsplit('.').next().unwrap_or(key);
    let (zh, en) = match (last, v) {
        ("trigger", "declared") => ("报关出口时", "on export"),
        ("trigger", "filed") => ("正式申报时", "on filing"),
        ("trigger", "approved") => ("审核通过时", "on approval"),
        ("queue", "none") => ("不排队", "no queue"),
        ("queue", "fifo") => ("先到先得排队", "first come, first served"),
        ("order", "fifo") => ("先到先得", "first come, first served"),
        ("order", "pilot_first") => ("试点平台优先", "pilot platforms first"),
        ("mode", "monthly") => ("按月集中申报", "monthly"),
        ("mode", "continuous") => ("随时申报", "continuous"),
        (_, "true") => ("是", "yes"),
        (_, "false") => ("否", "no"),
        _ => return None,
    };
    Some(L::new(zh, en))
}

/// Yes / no.
pub fn yes_no(b: bool) -> L {
    if b {
        L::new("是", "yes")
    } else {
        L::new("否", "no")
    }
}

//! Chinese and English names of metrics (MODEL.md §7), series, classes and
//! common scenario keys, as shown to decision makers.

use super::{L, Q};

/// The bilingual label of a metric, by its contract name; the name itself when unknown.
pub fn metric(name: &str) -> L {
    let (zh, en) = match name {
        "exports" => ("出口额（每年）", "Exports per year"),
        "claims" => ("退税申报笔数（每年）", "Refund claims per year"),
        "refund_declared" => ("申报退税额（每年）", "Refunds declared per year"),
        "refund_paid" => ("已退税额（每年）", "Refunds paid per year"),
        "refund_denied" => ("不予退税额（每年）", "Refunds denied per year"),
        "tied_up_gross_avg" => (
            "待退税款占用（融资前，日均）",
            "Refunds tied up, before financing, daily average",
        ),
        "tied_up_gross_peak" => (
            "待退税款占用（融资前，峰值）",
            "Refunds tied up, before financing, peak day",
        ),
        "tied_up_net_avg" => (
            "营运资金占用（扣除融资，日均）",
            "Working capital tied up, net of financing, daily average",
        ),
        "tied_up_net_peak" => (
            "营运资金占用（扣除融资，峰值）",
            "Working capital tied up, net of financing, peak day",
        ),
        "days_to_refund_avg" => (
            "出口至退税到账天数（平均）",
            "Days from export to refund, average",
        ),
        "days_to_refund_p90" => (
            "出口至退税到账天数（90%分位）",
            "Days from export to refund, 90th percentile",
        ),
        "days_to_cash_avg" => (
            "出口至资金到手天数（平均）",
            "Days from export to cash in hand, average",
        ),
        "carrying_cost" => (
            "资金占用成本（每年）",
            "Carrying cost of tied-up capital per year",
        ),
        "financing_cost" => (
            "企业融资成本（每年）",
            "Financing cost to exporters per year",
        ),
        "fiscal_cost" => ("财政成本（每年）", "Fiscal cost per year"),
        "turnover.requests" => ("周转池申请笔数（每年）", "Turnover pool requests per year"),
        "turnover.advanced" => ("周转池垫付额（每年）", "Turnover pool advances per year"),
        "turnover.blocked_share" => (
            "周转池未即时满足申请占比",
            "Turnover pool requests not served at once",
        ),
        "turnover.wait_avg_days" => ("周转池平均等待天数", "Turnover pool wait, days"),
        "turnover.utilization_avg" => (
            "周转池资金使用率（日均）",
            "Turnover pool utilisation, daily average",
        ),
        "turnover.turnover_ratio" => ("周转池周转次数（每年）", "Turnover pool turns per year"),
        "turnover.empty_days_share" => (
            "周转池资金不足天数占比",
            "Share of days the turnover pool ran short",
        ),
        "turnover.loss" => ("周转池损失（每年）", "Turnover pool losses per year"),
        "turnover.fee_income" => (
            "周转池费用收入（每年）",
            "Turnover pool fee income per year",
        ),
        "guarantee.loans" => ("担保贷款发放额（每年）", "Guaranteed loans per year"),
        "guarantee.outstanding_avg" => (
            "担保贷款余额（日均）",
            "Guaranteed loans outstanding, daily average",
        ),
        "guarantee.leverage_avg" => ("担保放大倍数（日均）", "Guarantee leverage, daily average"),
        "guarantee.blocked_share" => (
            "担保额度不足被拒占比",
            "Guarantee requests refused for lack of room",
        ),
        "guarantee.loss_pool" => ("担保池代偿损失（每年）", "Guarantee pool losses per year"),
        "guarantee.loss_bank" => (
            "担保贷款银行损失（每年）",
            "Bank losses on guaranteed loans per year",
        ),
        "guarantee.ruined" => (
            "担保池资本耗尽概率",
            "Probability the guarantee pool is ruined",
        ),
        "guarantee.interest" => (
            "担保贷款利息（每年）",
            "Interest on guaranteed loans per year",
        ),
        "guarantee.fee_income" => ("担保费收入（每年）", "Guarantee fee income per year"),
        "credit.draws" => (
            "外贸信用贷提款额（每年）",
            "Foreign-trade credit drawn per year",
        ),
        "credit.drawn_avg" => (
            "外贸信用贷余额（日均）",
            "Foreign-trade credit outstanding, daily average",
        ),
        "credit.defaults" => ("违约企业数（每年）", "Exporters defaulting per year"),
        "credit.default_rate" => ("企业违约率（每年）", "Default rate per year"),
        "credit.loss_fund" => (
            "风险补偿资金损失（每年）",
            "Risk-fund losses on credit per year",
        ),
        "credit.loss_bank" => ("信用贷银行损失（每年）", "Bank losses on credit per year"),
        "credit.interest" => ("信用贷利息（每年）", "Credit interest per year"),
        "fiscal_cost_net" => (
            "财政净成本（扣除资金池收费，每年）",
            "Net fiscal cost, after the public pools' fees, per year",
        ),
        other => return L::same(other),
    };
    L::new(zh, en)
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
    crate::metrics::METRICS
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.unit)
        .unwrap_or("")
}

/// A daily series of timeseries.csv.
pub fn series(name: &str) -> L {
    match name {
        "tied_up_gross" => L::new(
            "待退税款占用（融资前）",
            "Refunds tied up, before financing",
        ),
        "tied_up_net" => L::new("营运资金占用（扣除融资）", "Working capital tied up, net"),
        "turnover.balance" => L::new("周转池可用余额", "Turnover pool balance"),
        "guarantee.outstanding" => L::new("担保贷款余额", "Guaranteed loans outstanding"),
        "credit.drawn" => L::new("外贸信用贷余额", "Credit outstanding"),
        other => L::same(other),
    }
}

/// A mechanism by its scenario name.
pub fn mechanism(m: &str) -> L {
    match m {
        "turnover" => L::new("退税资金周转池", "Refund turnover pool"),
        "guarantee" => L::new("退税融资担保池", "Refund financing guarantee pool"),
        "credit" => L::new("外贸信用贷", "Foreign-trade credit loans"),
        other => L::same(other),
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

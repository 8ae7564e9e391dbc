//! Metric names, units, kinds, owners, labels and meanings (MODEL.md §7 — the
//! names are a contract): one declaration per metric, in [`METRICS`], from which
//! `report` (units, grouping), `sweep` and `brief` (labels, shares), `explain
//! METRIC` and the engine (which rows are flows, which are empty where their
//! mechanism is off) all read.
//!
//! A path's metrics are a plain `Vec<f64>` in the order of [`METRICS`]; an
//! undefined value (a share of zero requests, days to refund with no refund paid,
//! every row of a mechanism that is off) is `NaN` and is written as an empty cell.

use crate::scenario::Mechanism;

/// Which part of the model produces a metric (its owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Exporters' shipments and their refund claims.
    Claims,
    /// The refund timeline (documents, filing, review, treasury, budget).
    Timeline,
    /// Every enabled liquidity mechanism together.
    Mechanisms,
    /// Correlated exporter defaults (`credit_risk`); defined without credit lines.
    Defaults,
    /// The refund budget (`policy.quota`): 0, not empty, without one.
    Budget,
    /// One liquidity mechanism: its rows are empty where it is off.
    Pool(Mechanism),
}

impl Source {
    /// How `explain` names it.
    pub fn label(self) -> String {
        match self {
            Source::Claims => "shipments and refund claims".into(),
            Source::Timeline => "refund timeline (policy)".into(),
            Source::Mechanisms => "all enabled mechanisms".into(),
            Source::Defaults => "exporter defaults (credit_risk)".into(),
            Source::Budget => "the refund budget (policy.quota)".into(),
            Source::Pool(m) => format!("{} (pools.{})", m.label().1.to_lowercase(), m.name()),
        }
    }

    /// The mechanism that owns the metric; `None` for the core metrics.
    pub fn mechanism(self) -> Option<Mechanism> {
        match self {
            Source::Pool(m) => Some(m),
            _ => None,
        }
    }
}

/// What kind of quantity a metric is (MODEL.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A flow: the window's total of events dated by their own day, × 365 /
    /// horizon_days (unit `…/yr`).
    Flow,
    /// A stock: end-of-day values averaged over the window (or their peak).
    Stock,
    /// A ratio or average of other quantities (days, times, per year).
    Ratio,
    /// A share in [0, 1] (Wilson intervals).
    Share,
    /// A 0/1 outcome per path: its mean over paths is a probability (Wilson intervals).
    Probability,
    /// A count that is not per year (the same on every path).
    Count,
}

impl Kind {
    /// Whether values lie in [0, 1] and get Wilson intervals
    /// ([`crate::stats::share_ci95`]), which never leave [0, 1].
    pub const fn is_share(self) -> bool {
        matches!(self, Kind::Share | Kind::Probability)
    }
}

/// One metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// The contract name.
    pub name: &'static str,
    /// Unit as written in `summary.csv`.
    pub unit: &'static str,
    /// Whether it is also reported by platform and by class.
    pub grouped: bool,
    /// What kind of quantity it is.
    pub kind: Kind,
    /// Whether it is a share or probability in [0, 1] (from `kind`).
    pub share: bool,
    /// The part of the model it measures; a mechanism's rows are empty where it is off.
    pub source: Source,
    /// Chinese label, as shown to decision makers.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
    /// Its exact definition, per path (then summarised over paths).
    pub doc: &'static str,
}

const CLAIMS: Source = Source::Claims;
const TIMELINE: Source = Source::Timeline;
const MECHANISMS: Source = Source::Mechanisms;
const DEFAULTS: Source = Source::Defaults;
const BUDGET: Source = Source::Budget;
const TURNOVER: Source = Source::Pool(Mechanism::Turnover);
const GUARANTEE: Source = Source::Pool(Mechanism::Guarantee);
const CREDIT: Source = Source::Pool(Mechanism::Credit);
const SERVICE: Source = Source::Pool(Mechanism::Service);

macro_rules! metrics {
    ($($id:ident = $name:expr, $unit:expr, $grouped:expr, $kind:ident, $source:expr,
        $zh:expr, $en:expr, $doc:expr;)*) => {
        /// Index of each metric in a path's metric vector.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum M { $($id),* }
        /// All metrics, in output order.
        pub static METRICS: &[MetricDef] = &[$(MetricDef {
            name: $name,
            unit: $unit,
            grouped: $grouped,
            kind: Kind::$kind,
            share: Kind::$kind.is_share(),
            source: $source,
            zh: $zh,
            en: $en,
            doc: $doc,
        }),*];
    };
}

// Flows (CNY/yr, count/yr) are the window's total, dated by each event's own day,
// × 365 / horizon_days; stocks (CNY) are averages of end-of-day values over the
// window. New metrics go at the END (the golden files allow appended rows only).
metrics! {
    Exports = "exports", "CNY/yr", true, Flow, CLAIMS,
        "出口额（每年）", "Exports per year",
        "FOB value of the shipments made in the window (dated by shipment day t0).";
    Claims = "claims", "count/yr", true, Flow, CLAIMS,
        "退税申报笔数（每年）", "Refund claims per year",
        "Refund claims declared in the window (shipments with a non-zero refund; dated t0).";
    RefundDeclared = "refund_declared", "CNY/yr", true, Flow, CLAIMS,
        "申报退税额（每年）", "Refunds declared per year",
        "Refunds claimed in the window: FOB × the sector's refund rate × the cash share (1 for trading firms), dated t0.";
    RefundPaid = "refund_paid", "CNY/yr", true, Flow, TIMELINE,
        "已退税额（每年）", "Refunds paid per year",
        "Refunds paid into exporters' accounts in the window (dated by the payment day t5).";
    RefundDenied = "refund_denied", "CNY/yr", true, Flow, TIMELINE,
        "不予退税额（每年）", "Refunds denied per year",
        "Refunds denied in the window (dated by the end of review t3).";
    TiedUpGrossAvg = "tied_up_gross_avg", "CNY", true, Stock, TIMELINE,
        "待退税款占用（融资前，日均）", "Refunds tied up, before financing, daily average",
        "Refunds declared and not yet paid or denied, before any financing, at the end of each day, averaged over the window's days (a claim is outstanding on days t0 … t5 − 1).";
    TiedUpGrossPeak = "tied_up_gross_peak", "CNY", true, Stock, TIMELINE,
        "待退税款占用（融资前，峰值）", "Refunds tied up, before financing, peak day",
        "The largest end-of-day value of tied_up_gross in the window.";
    TiedUpNetAvg = "tied_up_net_avg", "CNY", true, Stock, MECHANISMS,
        "营运资金占用（扣除融资，日均）", "Working capital tied up, net of financing, daily average",
        "The working capital tied up: tied_up_gross minus the financing cash (advances, loans, credit draws) exporters hold against those pending claims, end of day, averaged over the window. Equals gross when no mechanism is enabled.";
    TiedUpNetPeak = "tied_up_net_peak", "CNY", true, Stock, MECHANISMS,
        "营运资金占用（扣除融资，峰值）", "Working capital tied up, net of financing, peak day",
        "The largest end-of-day value of tied_up_net in the window.";
    DaysToRefundAvg = "days_to_refund_avg", "days", true, Ratio, TIMELINE,
        "出口至退税到账天数（平均）", "Days from export to refund, average",
        "Calendar days t5 − t0 from export to refund, averaged over the claims paid in the window, weighted by refund amount.";
    DaysToRefundP90 = "days_to_refund_p90", "days", true, Ratio, TIMELINE,
        "出口至退税到账天数（90%分位）", "Days from export to refund, 90th percentile",
        "The smallest d such that claims paid within d days of export carry 90% of the amount paid in the window.";
    DaysToCashAvg = "days_to_cash_avg", "days", true, Ratio, MECHANISMS,
        "出口至资金到手天数（平均）", "Days from export to cash in hand, average",
        "Amount-weighted calendar days from export until each part of a claim is cash in hand: financed parts at their cash day, the rest at t5; claims paid in the window.";
    CarryingCost = "carrying_cost", "CNY/yr", true, Flow, MECHANISMS,
        "资金占用成本（每年）", "Carrying cost of tied-up capital per year",
        "Σ over the window's days of tied_up_net × economy.opportunity_rate / 365, per year: what the tied-up capital costs exporters.";
    FinancingCost = "financing_cost", "CNY/yr", true, Flow, MECHANISMS,
        "企业融资成本（每年）", "Financing cost to exporters per year",
        "Interest and fees exporters pay for financing, dated by settlement: turnover fees + guarantee-loan interest and guarantee fees + credit interest.";
    FiscalCost = "fiscal_cost", "CNY/yr", false, Flow, MECHANISMS,
        "财政成本（每年）", "Fiscal cost per year",
        "(K + G + risk fund of the enabled public mechanisms) × economy.gov_rate + public losses (turnover.loss + guarantee.loss_pool + credit.loss_fund).";
    TurnoverRequests = "turnover.requests", "count/yr", true, Flow, TURNOVER,
        "周转池申请笔数（每年）", "Turnover pool requests per year",
        "Requests offered to the turnover pool in the window by eligible claims (dated by the request day).";
    TurnoverAdvanced = "turnover.advanced", "CNY/yr", true, Flow, TURNOVER,
        "周转池垫付额（每年）", "Turnover pool advances per year",
        "Advances delivered (cash reached the exporter; dated by the cash day). Cancelled advances are not counted.";
    TurnoverBlockedShare = "turnover.blocked_share", "share", false, Share, TURNOVER,
        "周转池未即时满足申请占比", "Turnover pool requests not served at once",
        "Requests in the window not served on their request day (balance short, queue in front, or no room under max_per_exporter) / requests, by count. Empty without requests.";
    TurnoverWaitAvgDays = "turnover.wait_avg_days", "days", false, Ratio, TURNOVER,
        "周转池平均等待天数", "Turnover pool wait, days",
        "Days from request to service, averaged over the window's served requests, by count (0 for requests served at once).";
    TurnoverUtilizationAvg = "turnover.utilization_avg", "share", false, Share, TURNOVER,
        "周转池资金使用率（日均）", "Turnover pool utilisation, daily average",
        "Capital reserved by outstanding advances at the end of each day / K, averaged over the window.";
    TurnoverTurnoverRatio = "turnover.turnover_ratio", "per year", false, Ratio, TURNOVER,
        "周转池周转次数（每年）", "Turnover pool turns per year",
        "turnover.advanced / K: how many times a year the capital revolves.";
    TurnoverEmptyDaysShare = "turnover.empty_days_share", "share", false, Share, TURNOVER,
        "周转池资金不足天数占比", "Share of days the turnover pool ran short",
        "Share of the window's days on which some request found the pool's balance short.";
    TurnoverLoss = "turnover.loss", "CNY/yr", true, Flow, TURNOVER,
        "周转池损失（每年）", "Turnover pool losses per year",
        "Advances lost on denied claims: advance × loss_given_denial, dated by the denial.";
    TurnoverFeeIncome = "turnover.fee_income", "CNY/yr", true, Flow, TURNOVER,
        "周转池费用收入（每年）", "Turnover pool fee income per year",
        "Fees paid to the pool: advance × (fee_flat + fee_rate × days from cash day to t5 / 365), dated t5.";
    GuaranteeLoans = "guarantee.loans", "CNY/yr", true, Flow, GUARANTEE,
        "担保贷款发放额（每年）", "Guaranteed loans per year",
        "Guaranteed refund-backed loans delivered (dated by the cash day).";
    GuaranteeOutstandingAvg = "guarantee.outstanding_avg", "CNY", false, Stock, GUARANTEE,
        "担保贷款余额（日均）", "Guaranteed loans outstanding, daily average",
        "Guaranteed principal outstanding (from the grant day to the claim's end) at the end of each day, averaged over the window.";
    GuaranteeLeverageAvg = "guarantee.leverage_avg", "times", false, Ratio, GUARANTEE,
        "担保放大倍数（日均）", "Guarantee leverage, daily average",
        "guarantee.outstanding_avg / G.";
    GuaranteeBlockedShare = "guarantee.blocked_share", "share", false, Share, GUARANTEE,
        "担保额度不足被拒占比", "Guarantee requests refused for lack of room",
        "Requests in the window refused (no room under L × (G − losses), or the pool ruined) / requests, by count.";
    GuaranteeLossPool = "guarantee.loss_pool", "CNY/yr", true, Flow, GUARANTEE,
        "担保池代偿损失（每年）", "Guarantee pool losses per year",
        "The pool's part of the losses on denied financed claims: principal × loss_given_denial × loss_share, limited so that the pool's cumulative losses never exceed G.";
    GuaranteeLossBank = "guarantee.loss_bank", "CNY/yr", true, Flow, GUARANTEE,
        "担保贷款银行损失（每年）", "Bank losses on guaranteed loans per year",
        "The banks' part: the rest of each loss, including what the pool could no longer cover (loss_pool + loss_bank = the total loss).";
    GuaranteeRuined = "guarantee.ruined", "0/1", false, Probability, GUARANTEE,
        "担保池资本耗尽概率", "Probability the guarantee pool is ruined",
        "1 if the pool's cumulative losses reached G by the end of the window (it then guarantees no new loans); its mean over paths is the probability of ruin.";
    GuaranteeInterest = "guarantee.interest", "CNY/yr", true, Flow, GUARANTEE,
        "担保贷款利息（每年）", "Interest on guaranteed loans per year",
        "Bank interest on guaranteed loans: principal × rate × days from cash day to t5 / 365, dated t5.";
    GuaranteeFeeIncome = "guarantee.fee_income", "CNY/yr", true, Flow, GUARANTEE,
        "担保费收入（每年）", "Guarantee fee income per year",
        "Guarantee fees: principal × guarantee_fee × days from cash day to t5 / 365, dated t5.";
    CreditDraws = "credit.draws", "CNY/yr", true, Flow, CREDIT,
        "外贸信用贷提款额（每年）", "Foreign-trade credit drawn per year",
        "Credit drawn against claims (dated by the draw day).";
    CreditDrawnAvg = "credit.drawn_avg", "CNY", false, Stock, CREDIT,
        "外贸信用贷余额（日均）", "Foreign-trade credit outstanding, daily average",
        "Credit outstanding at the end of each day, averaged over the window.";
    CreditDefaults = "credit.defaults", "count/yr", true, Flow, DEFAULTS,
        "违约企业数（每年）", "Exporters defaulting per year",
        "Exporters defaulting in the window (credit_risk; defaults happen even without credit lines).";
    CreditDefaultRate = "credit.default_rate", "per year", false, Ratio, DEFAULTS,
        "企业违约率（每年）", "Default rate per year",
        "credit.defaults / exporters: an annual rate (not bounded by 1 for windows shorter than a year).";
    CreditLossFund = "credit.loss_fund", "CNY/yr", true, Flow, CREDIT,
        "风险补偿资金损失（每年）", "Risk-fund losses on credit per year",
        "Default losses borne by the risk fund: drawn credit × lgd × loss_share, dated by the default.";
    CreditLossBank = "credit.loss_bank", "CNY/yr", true, Flow, CREDIT,
        "信用贷银行损失（每年）", "Bank losses on credit per year",
        "Default losses borne by the banks: drawn credit × lgd × (1 − loss_share).";
    CreditInterest = "credit.interest", "CNY/yr", true, Flow, CREDIT,
        "信用贷利息（每年）", "Credit interest per year",
        "Credit interest: draw × rate × days from draw to the claim's end / 365, dated by the claim's end.";
    ServiceClients = "service.clients", "count", false, Count, SERVICE,
        "外贸综合服务企业客户数", "Service company clients",
        "Exporters that are clients of the service company: annual exports at most client_max_exports and a draw below client_share, once per exporter (the same on every path).";
    ServiceRequests = "service.requests", "count/yr", true, Flow, SERVICE,
        "综合服务企业代垫申请笔数（每年）", "Service company requests per year",
        "Requests offered to the service company in the window by its clients' claims (dated by the request day).";
    ServiceAdvanced = "service.advanced", "CNY/yr", true, Flow, SERVICE,
        "综合服务企业代垫额（每年）", "Service company advances per year",
        "Advances delivered by the service company (cash reached the exporter; dated by the cash day). Cancelled advances are not counted.";
    ServiceBlockedShare = "service.blocked_share", "share", false, Share, SERVICE,
        "综合服务企业资金不足未垫付占比", "Service company requests not served",
        "Requests in the window the company's balance could not cover / requests, by count (they fall through at once). Empty without requests.";
    ServiceUtilizationAvg = "service.utilization_avg", "share", false, Share, SERVICE,
        "综合服务企业资金使用率（日均）", "Service company capital utilisation, daily average",
        "Capital reserved by outstanding advances at the end of each day / S, averaged over the window.";
    ServiceFeeIncome = "service.fee_income", "CNY/yr", true, Flow, SERVICE,
        "综合服务企业代垫费用收入（每年）", "Service company fee income per year",
        "Fees exporters pay the company: advance × (fee_flat + fee_rate × days from cash day to t5 / 365), dated t5; part of financing_cost, never of fiscal_cost.";
    ServiceLoss = "service.loss", "CNY/yr", true, Flow, SERVICE,
        "综合服务企业代垫损失（每年）", "Service company losses per year",
        "Advances lost on denied claims: advance × loss_given_denial, dated by the denial; private money, not in fiscal_cost.";
    BudgetBindingMonths = "budget.binding_months", "count/yr", false, Flow, BUDGET,
        "退税计划指标不足的月数（每年）", "Months the refund budget ran out, per year",
        "Months in the window in which the refund budget (policy.quota) ran out before all approved claims were paid: on some working day of the month the head of the queue was ready but the month's remaining budget did not cover it (a month counts once, if that happened on a window day). 0 without policy.quota.";
    BudgetBacklogAvg = "budget.backlog_avg", "CNY", true, Stock, BUDGET,
        "等待退税计划指标的已审核退税（日均）", "Approved refunds waiting for the budget, daily average",
        "Approved claims waiting for the refund budget (ready at t4, not yet paid at t5), end of day, averaged over the window; a claim waits on days t4 … t5 − 1. 0 without policy.quota (claims are paid at t4).";
    BudgetWaitDaysAvg = "budget.wait_days_avg", "days", true, Ratio, BUDGET,
        "等待退税计划指标天数（平均）", "Days waited for the refund budget, average",
        "Calendar days t5 − t4 that claims waited for the refund budget, averaged over the claims paid in the window, weighted by refund amount. 0 without policy.quota; empty when no refund was paid in the window.";
    FiscalCostNet = "fiscal_cost_net", "CNY/yr", false, Flow, MECHANISMS,
        "财政净成本（扣除资金池收费，每年）", "Net fiscal cost, after the public pools' fees, per year",
        "fiscal_cost − the fees the public pools earn (turnover.fee_income + guarantee.fee_income): the net cost of public money. Negative when the pools earn more than they cost.";
}

/// Number of metrics.
pub const N_METRICS: usize = M::FiscalCostNet as usize + 1;

/// Index of a metric by name.
pub fn index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
}

/// The declaration of the metric `name`.
pub fn def(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

/// Whether the metric `name` is a share or probability (Wilson intervals).
pub fn is_share(name: &str) -> bool {
    def(name).is_some_and(|m| m.kind.is_share())
}

impl M {
    /// Its declaration.
    pub fn def(self) -> &'static MetricDef {
        &METRICS[self as usize]
    }

    /// Its contract name.
    pub fn name(self) -> &'static str {
        self.def().name
    }
}

/// The key metrics, in the order of their columns in `sweep.csv` (a contract:
/// append only): what a sweep summarises at each point and `brief` tabulates.
pub const KEY: [M; 10] = [
    M::TiedUpNetAvg,
    M::TiedUpGrossAvg,
    M::DaysToRefundAvg,
    M::DaysToCashAvg,
    M::CarryingCost,
    M::FinancingCost,
    M::FiscalCost,
    M::TurnoverBlockedShare,
    M::GuaranteeRuined,
    M::CreditLossFund,
];

/// The names of the [`KEY`] metrics, in order.
pub fn key_names() -> [&'static str; KEY.len()] {
    KEY.map(M::name)
}

/// The metrics reported by platform and by class, as indices.
pub fn grouped() -> impl Iterator<Item = usize> {
    METRICS
        .iter()
        .enumerate()
        .filter(|(_, m)| m.grouped)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_metrics_keep_the_sweep_csv_column_order() {
        // sweep.csv's columns are a contract: these names, in this order.
        assert_eq!(
            key_names(),
            [
                "tied_up_net_avg",
                "tied_up_gross_avg",
                "days_to_refund_avg",
                "days_to_cash_avg",
                "carrying_cost",
                "financing_cost",
                "fiscal_cost",
                "turnover.blocked_share",
                "guarantee.ruined",
                "credit.loss_fund",
            ]
        );
    }

    #[test]
    fn names_are_unique_and_enum_matches_table() {
        assert_eq!(METRICS.len(), N_METRICS);
        assert_eq!(
            METRICS[M::TiedUpGrossAvg as usize].name,
            "tied_up_gross_avg"
        );
        assert_eq!(METRICS[M::CreditInterest as usize].name, "credit.interest");
        assert_eq!(METRICS[M::ServiceLoss as usize].name, "service.loss");
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), N_METRICS);
    }

    /// The kind and the unit say the same thing: flows (which the engine scales
    /// per year) are exactly the `…/yr` units, shares exactly `share` and `0/1`.
    #[test]
    fn kinds_agree_with_units() {
        for m in METRICS {
            assert_eq!(m.kind == Kind::Flow, m.unit.ends_with("/yr"), "{}", m.name);
            assert_eq!(m.share, m.unit == "share" || m.unit == "0/1", "{}", m.name);
            assert_eq!(m.kind.is_share(), m.share, "{}", m.name);
        }
    }

    /// Every metric of a mechanism carries its name as prefix, and every metric
    /// with a mechanism's prefix belongs to it: the owner is declared, not guessed.
    #[test]
    fn owners_match_name_prefixes() {
        for m in METRICS {
            let prefix = m.name.split_once('.').map(|(p, _)| p);
            match m.source {
                Source::Pool(k) => assert_eq!(prefix, Some(k.name()), "{}", m.name),
                Source::Defaults => assert_eq!(prefix, Some("credit"), "{}", m.name),
                Source::Budget => assert_eq!(prefix, Some("budget"), "{}", m.name),
                _ => assert_eq!(prefix, None, "{}", m.name),
            }
            assert!(!m.zh.is_empty() && !m.en.is_empty(), "{}", m.name);
        }
    }
}

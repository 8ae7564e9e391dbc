//! Metric names, units and meanings (MODEL.md §7 — the names are a contract).
//!
//! A path's metrics are a plain `Vec<f64>` in the order of [`METRICS`]; an
//! undefined value (a share of zero requests, days to refund with no refund paid)
//! is `NaN` and is written as an empty cell.

/// One metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// The contract name.
    pub name: &'static str,
    /// Unit as written in `summary.csv`.
    pub unit: &'static str,
    /// Whether it is also reported by platform and by class.
    pub grouped: bool,
    /// What it means.
    pub doc: &'static str,
}

macro_rules! metrics {
    ($($id:ident = $name:expr, $unit:expr, $grouped:expr, $doc:expr;)*) => {
        /// Index of each metric in a path's metric vector.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum M { $($id),* }
        /// All metrics, in output order.
        pub static METRICS: &[MetricDef] = &[$(MetricDef { name: $name, unit: $unit, grouped: $grouped, doc: $doc }),*];
    };
}

metrics! {
    Exports = "exports", "CNY/yr", true, "FOB exports";
    Claims = "claims", "count/yr", true, "refund claims declared";
    RefundDeclared = "refund_declared", "CNY/yr", true, "refunds declared";
    RefundPaid = "refund_paid", "CNY/yr", true, "refunds paid";
    RefundDenied = "refund_denied", "CNY/yr", true, "refunds denied";
    TiedUpGrossAvg = "tied_up_gross_avg", "CNY", true, "refunds declared and not yet paid or denied, daily average";
    TiedUpGrossPeak = "tied_up_gross_peak", "CNY", true, "the same, highest day";
    TiedUpNetAvg = "tied_up_net_avg", "CNY", true, "working capital tied up: gross minus financing cash held against pending claims, daily average";
    TiedUpNetPeak = "tied_up_net_peak", "CNY", true, "the same, highest day";
    DaysToRefundAvg = "days_to_refund_avg", "days", true, "days from export to refund, amount-weighted, claims paid in the window";
    DaysToRefundP90 = "days_to_refund_p90", "days", true, "90th percentile of the same";
    DaysToCashAvg = "days_to_cash_avg", "days", true, "days from export until each part of the claim is cash in hand";
    CarryingCost = "carrying_cost", "CNY/yr", true, "tied-up working capital priced at the opportunity rate";
    FinancingCost = "financing_cost", "CNY/yr", true, "interest and fees the exporters pay";
    FiscalCost = "fiscal_cost", "CNY/yr", false, "public capital committed × gov_rate + public losses";
    TurnoverRequests = "turnover.requests", "count/yr", true, "requests to the turnover pool";
    TurnoverAdvanced = "turnover.advanced", "CNY/yr", true, "advances delivered";
    TurnoverBlockedShare = "turnover.blocked_share", "share", false, "requests not served on their request day";
    TurnoverWaitAvgDays = "turnover.wait_avg_days", "days", false, "wait of served requests";
    TurnoverUtilizationAvg = "turnover.utilization_avg", "share", false, "reserved capital / K, daily average";
    TurnoverTurnoverRatio = "turnover.turnover_ratio", "per year", false, "advances per year / K";
    TurnoverEmptyDaysShare = "turnover.empty_days_share", "share", false, "days on which some request found the balance short";
    TurnoverLoss = "turnover.loss", "CNY/yr", true, "advances lost on denied claims";
    TurnoverFeeIncome = "turnover.fee_income", "CNY/yr", true, "fees paid to the pool";
    GuaranteeLoans = "guarantee.loans", "CNY/yr", true, "guaranteed loans delivered";
    GuaranteeOutstandingAvg = "guarantee.outstanding_avg", "CNY", false, "guaranteed principal outstanding, daily average";
    GuaranteeLeverageAvg = "guarantee.leverage_avg", "times", false, "outstanding_avg / G";
    GuaranteeBlockedShare = "guarantee.blocked_share", "share", false, "requests refused for lack of room";
    GuaranteeLossPool = "guarantee.loss_pool", "CNY/yr", true, "losses borne by the pool";
    GuaranteeLossBank = "guarantee.loss_bank", "CNY/yr", true, "losses borne by banks";
    GuaranteeRuined = "guarantee.ruined", "0/1", false, "1 if the pool's losses reached its capital (mean = probability)";
    GuaranteeInterest = "guarantee.interest", "CNY/yr", true, "bank interest paid";
    GuaranteeFeeIncome = "guarantee.fee_income", "CNY/yr", true, "guarantee fees paid";
    CreditDraws = "credit.draws", "CNY/yr", true, "credit drawn";
    CreditDrawnAvg = "credit.drawn_avg", "CNY", false, "credit outstanding, daily average";
    CreditDefaults = "credit.defaults", "count/yr", true, "exporters defaulting";
    CreditDefaultRate = "credit.default_rate", "per year", false, "defaults / exporters alive at the window's start";
    CreditLossFund = "credit.loss_fund", "CNY/yr", true, "default losses borne by the risk fund";
    CreditLossBank = "credit.loss_bank", "CNY/yr", true, "default losses borne by banks";
    CreditInterest = "credit.interest", "CNY/yr", true, "credit interest paid";
}

/// Number of metrics.
pub const N_METRICS: usize = M::CreditInterest as usize + 1;

/// Index of a metric by name.
pub fn index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
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
    fn names_are_unique_and_enum_matches_table() {
        assert_eq!(METRICS.len(), N_METRICS);
        assert_eq!(
            METRICS[M::TiedUpGrossAvg as usize].name,
            "tied_up_gross_avg"
        );
        assert_eq!(METRICS[M::CreditInterest as usize].name, "credit.interest");
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), N_METRICS);
    }
}

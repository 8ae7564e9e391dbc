//! Metric names, units and meanings (MODEL.md §7 — the names are a contract).
//!
//! A path's metrics are a plain `Vec<f64>` in the order of [`METRICS`]; an
//! undefined value (a share of zero requests, days to refund with no refund paid)
//! is `NaN` and is written as an empty cell.

/// Which part of the model produces a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Exporters' shipments and their refund claims.
    Claims,
    /// The refund timeline (documents, filing, review, treasury, budget).
    Timeline,
    /// Every enabled liquidity mechanism together.
    Mechanisms,
    /// The refund turnover pool (`pools.turnover`).
    Turnover,
    /// The guarantee pool and its refund-backed loans (`pools.guarantee`).
    Guarantee,
    /// Foreign-trade credit loans and exporter defaults (`pools.credit`, `credit_risk`).
    Credit,
}

impl Source {
    /// How `explain` names it.
    pub fn label(self) -> &'static str {
        match self {
            Source::Claims => "shipments and refund claims",
            Source::Timeline => "refund timeline (policy)",
            Source::Mechanisms => "all enabled mechanisms",
            Source::Turnover => "refund turnover pool (pools.turnover)",
            Source::Guarantee => "guarantee pool (pools.guarantee)",
            Source::Credit => "credit loans and defaults (pools.credit, credit_risk)",
        }
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
    /// Whether it is a share or probability in [0, 1]: its 95% interval is a
    /// Wilson interval ([`crate::stats::share_ci95`]), which never leaves [0, 1].
    pub share: bool,
    /// The part of the model it measures.
    pub source: Source,
    /// Its exact definition, per path (then summarised over paths).
    pub doc: &'static str,
}

macro_rules! metrics {
    ($($id:ident = $name:expr, $unit:expr, $grouped:expr, $share:expr, $source:ident, $doc:expr;)*) => {
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
            share: $share,
            source: Source::$source,
            doc: $doc,
        }),*];
    };
}

// Flows (CNY/yr, count/yr) are the window's total, dated by each event's own day,
// × 365 / horizon_days; stocks (CNY) are averages of end-of-day values over the
// window. `share` marks shares and probabilities (Wilson intervals).
metrics! {
    Exports = "exports", "CNY/yr", true, false, Claims,
        "FOB value of the shipments made in the window (dated by shipment day t0).";
    Claims = "claims", "count/yr", true, false, Claims,
        "Refund claims declared in the window (shipments with a non-zero refund; dated t0).";
    RefundDeclared = "refund_declared", "CNY/yr", true, false, Claims,
        "Refunds claimed in the window: FOB × the sector's refund rate × the cash share (1 for trading firms), dated t0.";
    RefundPaid = "refund_paid", "CNY/yr", true, false, Timeline,
        "Refunds paid into exporters' accounts in the window (dated by the payment day t5).";
    RefundDenied = "refund_denied", "CNY/yr", true, false, Timeline,
        "Refunds denied in the window (dated by the end of review t3).";
    TiedUpGrossAvg = "tied_up_gross_avg", "CNY", true, false, Timeline,
        "Refunds declared and not yet paid or denied, before any financing, at the end of each day, averaged over the window's days (a claim is outstanding on days t0 … t5 − 1).";
    TiedUpGrossPeak = "tied_up_gross_peak", "CNY", true, false, Timeline,
        "The largest end-of-day value of tied_up_gross in the window.";
    TiedUpNetAvg = "tied_up_net_avg", "CNY", true, false, Mechanisms,
        "The working capital tied up: tied_up_gross minus the financing cash (advances, loans, credit draws) exporters hold against those pending claims, end of day, averaged over the window. Equals gross when no mechanism is enabled.";
    TiedUpNetPeak = "tied_up_net_peak", "CNY", true, false, Mechanisms,
        "The largest end-of-day value of tied_up_net in the window.";
    DaysToRefundAvg = "days_to_refund_avg", "days", true, false, Timeline,
        "Calendar days t5 − t0 from export to refund, averaged over the claims paid in the window, weighted by refund amount.";
    DaysToRefundP90 = "days_to_refund_p90", "days", true, false, Timeline,
        "The smallest d such that claims paid within d days of export carry 90% of the amount paid in the window.";
    DaysToCashAvg = "days_to_cash_avg", "days", true, false, Mechanisms,
        "Amount-weighted calendar days from export until each part of a claim is cash in hand: financed parts at their cash day, the rest at t5; claims paid in the window.";
    CarryingCost = "carrying_cost", "CNY/yr", true, false, Mechanisms,
        "Σ over the window's days of tied_up_net × economy.opportunity_rate / 365, per year: what the tied-up capital costs exporters.";
    FinancingCost = "financing_cost", "CNY/yr", true, false, Mechanisms,
        "Interest and fees exporters pay for financing, dated by settlement: turnover fees + guarantee-loan interest and guarantee fees + credit interest.";
    FiscalCost = "fiscal_cost", "CNY/yr", false, false, Mechanisms,
        "(K + G + risk fund of the enabled public mechanisms) × economy.gov_rate + public losses (turnover.loss + guarantee.loss_pool + credit.loss_fund).";
    TurnoverRequests = "turnover.requests", "count/yr", true, false, Turnover,
        "Requests offered to the turnover pool in the window by eligible claims (dated by the request day).";
    TurnoverAdvanced = "turnover.advanced", "CNY/yr", true, false, Turnover,
        "Advances delivered (cash reached the exporter; dated by the cash day). Cancelled advances are not counted.";
    TurnoverBlockedShare = "turnover.blocked_share", "share", false, true, Turnover,
        "Requests in the window not served on their request day (balance short, queue in front, or no room under max_per_exporter) / requests, by count. Empty without requests.";
    TurnoverWaitAvgDays = "turnover.wait_avg_days", "days", false, false, Turnover,
        "Days from request to service, averaged over the window's served requests, by count (0 for requests served at once).";
    TurnoverUtilizationAvg = "turnover.utilization_avg", "share", false, true, Turnover,
        "Capital reserved by outstanding advances at the end of each day / K, averaged over the window.";
    TurnoverTurnoverRatio = "turnover.turnover_ratio", "per year", false, false, Turnover,
        "turnover.advanced / K: how many times a year the capital revolves.";
    TurnoverEmptyDaysShare = "turnover.empty_days_share", "share", false, true, Turnover,
        "Share of the window's days on which some request found the pool's balance short.";
    TurnoverLoss = "turnover.loss", "CNY/yr", true, false, Turnover,
        "Advances lost on denied claims: advance × loss_given_denial, dated by the denial.";
    TurnoverFeeIncome = "turnover.fee_income", "CNY/yr", true, false, Turnover,
        "Fees paid to the pool: advance × (fee_flat + fee_rate × days from cash day to t5 / 365), dated t5.";
    GuaranteeLoans = "guarantee.loans", "CNY/yr", true, false, Guarantee,
        "Guaranteed refund-backed loans delivered (dated by the cash day).";
    GuaranteeOutstandingAvg = "guarantee.outstanding_avg", "CNY", false, false, Guarantee,
        "Guaranteed principal outstanding (from the grant day to the claim's end) at the end of each day, averaged over the window.";
    GuaranteeLeverageAvg = "guarantee.leverage_avg", "times", false, false, Guarantee,
        "guarantee.outstanding_avg / G.";
    GuaranteeBlockedShare = "guarantee.blocked_share", "share", false, true, Guarantee,
        "Requests in the window refused (no room under L × (G − losses), or the pool ruined) / requests, by count.";
    GuaranteeLossPool = "guarantee.loss_pool", "CNY/yr", true, false, Guarantee,
        "The pool's part of the losses on denied financed claims: principal × loss_given_denial × loss_share, limited so that the pool's cumulative losses never exceed G.";
    GuaranteeLossBank = "guarantee.loss_bank", "CNY/yr", true, false, Guarantee,
        "The banks' part: the rest of each loss, including what the pool could no longer cover (loss_pool + loss_bank = the total loss).";
    GuaranteeRuined = "guarantee.ruined", "0/1", false, true, Guarantee,
        "1 if the pool's cumulative losses reached G by the end of the window (it then guarantees no new loans); its mean over paths is the probability of ruin.";
    GuaranteeInterest = "guarantee.interest", "CNY/yr", true, false, Guarantee,
        "Bank interest on guaranteed loans: principal × rate × days from cash day to t5 / 365, dated t5.";
    GuaranteeFeeIncome = "guarantee.fee_income", "CNY/yr", true, false, Guarantee,
        "Guarantee fees: principal × guarantee_fee × days from cash day to t5 / 365, dated t5.";
    CreditDraws = "credit.draws", "CNY/yr", true, false, Credit,
        "Credit drawn against claims (dated by the draw day).";
    CreditDrawnAvg = "credit.drawn_avg", "CNY", false, false, Credit,
        "Credit outstanding at the end of each day, averaged over the window.";
    CreditDefaults = "credit.defaults", "count/yr", true, false, Credit,
        "Exporters defaulting in the window (credit_risk; defaults happen even without credit lines).";
    CreditDefaultRate = "credit.default_rate", "per year", false, false, Credit,
        "credit.defaults / exporters: an annual rate (not bounded by 1 for windows shorter than a year).";
    CreditLossFund = "credit.loss_fund", "CNY/yr", true, false, Credit,
        "Default losses borne by the risk fund: drawn credit × lgd × loss_share, dated by the default.";
    CreditLossBank = "credit.loss_bank", "CNY/yr", true, false, Credit,
        "Default losses borne by the banks: drawn credit × lgd × (1 − loss_share).";
    CreditInterest = "credit.interest", "CNY/yr", true, false, Credit,
        "Credit interest: draw × rate × days from draw to the claim's end / 365, dated by the claim's end.";
    FiscalCostNet = "fiscal_cost_net", "CNY/yr", false, false, Mechanisms,
        "fiscal_cost − the fees the public pools earn (turnover.fee_income + guarantee.fee_income): the net cost of public money. Negative when the pools earn more than they cost.";
}

/// Number of metrics.
pub const N_METRICS: usize = M::FiscalCostNet as usize + 1;

/// Index of a metric by name.
pub fn index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
}

/// Whether the metric `name` is a share or probability (Wilson intervals).
pub fn is_share(name: &str) -> bool {
    index(name).is_some_and(|i| METRICS[i].share)
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

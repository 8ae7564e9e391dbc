//! Every scenario key: unit, default, allowed values and meaning (MODEL.md §9, the scenario file format).
//!
//! This one table drives the validator (unknown keys, ranges, defaults) and
//! `refundsim explain`, so the documentation cannot drift from what is accepted.

/// How a key's value is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A table of further keys (`[policy]`).
    Section,
    /// An array of tables addressed by `name` (`[[platform]]`).
    Tables,
    /// A single value or an array of values.
    Value,
    /// A distribution: a number or `{ fixed | uniform | triangular | lognormal | gamma | empirical }`.
    Dist,
    /// A number, or a table of further keys (`exporters.shipments_per_year`).
    ValueOrSection,
}

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// Dotted path; array tables appear without their element name (`platform.exporters`).
    pub key: &'static str,
    /// How the value is shaped.
    pub shape: Shape,
    /// Unit of the value.
    pub unit: &'static str,
    /// Default as a TOML value; empty when the key is required or has no default.
    pub default: &'static str,
    /// Smallest allowed number (for arrays and distributions: of each element / value).
    pub min: f64,
    /// Largest allowed number.
    pub max: f64,
    /// Allowed values, in words.
    pub allowed: &'static str,
    /// What it means.
    pub doc: &'static str,
}

macro_rules! k {
    ($key:expr, $shape:ident, $unit:expr, $default:expr, $min:expr, $max:expr, $allowed:expr, $doc:expr) => {
        KeyDef {
            key: $key,
            shape: Shape::$shape,
            unit: $unit,
            default: $default,
            min: $min,
            max: $max,
            allowed: $allowed,
            doc: $doc,
        }
    };
}

const DIST: &str = "a number, or { fixed = x }, { uniform = [a, b] }, { triangular = [min, mode, max] }, { lognormal = { mean = m, cv = c } }, { gamma = { mean = m, cv = c } }, { empirical = [v1, v2, …] }";
/// The `allowed` text of amount keys.
pub const AMOUNT: &str = "a number of yuan, or a string such as \"3亿\", \"300万\", \"3e8\"";
const CLASSES: &str = "a list of processing classes from 1 to 4, e.g. [1, 2, 3]";

/// All keys, in the order `explain` lists them.
pub static KEYS: &[KeyDef] = &[
    k!(
        "scenario",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Names the run and sets its time frame and Monte Carlo size."
    ),
    k!(
        "scenario.name",
        Value,
        "text",
        "",
        0.0,
        0.0,
        "letters, digits, '-', '_' and '.'; at most 64 characters",
        "Short name; the run is written to output/<name>/ unless --out is given."
    ),
    k!(
        "scenario.title",
        Value,
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "English title, shown in summaries and briefs."
    ),
    k!(
        "scenario.title_zh",
        Value,
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese title, shown in briefs."
    ),
    k!(
        "scenario.start_date",
        Value,
        "date",
        "",
        0.0,
        0.0,
        "a date YYYY-MM-DD within 2000–2100",
        "The first measured day (day 0); e.g. \"2017-01-01\" with horizon_days = 365 measures 2017."
    ),
    k!(
        "scenario.warmup_days",
        Value,
        "days",
        "240",
        0.0,
        3650.0,
        "a whole number from 0 to 3650",
        "Days simulated before start_date to fill the refund pipeline; not measured."
    ),
    k!(
        "scenario.horizon_days",
        Value,
        "days",
        "365",
        1.0,
        3650.0,
        "a whole number from 1 to 3650",
        "Length of the measurement window; flows are reported per year (× 365 / horizon_days)."
    ),
    k!(
        "scenario.paths",
        Value,
        "paths",
        "200",
        1.0,
        MAX_PATHS as f64,
        "a whole number from 1 to 10000000 (also the limit of --paths)",
        "Number of Monte Carlo paths (independent replications of the year)."
    ),
    k!(
        "scenario.seed",
        Value,
        "",
        "1",
        0.0,
        i64::MAX as f64,
        "a whole number from 0 to 9223372036854775807 (2^63 − 1, the largest TOML integer)",
        "Master seed of every random stream; same seed, same results."
    ),
    k!(
        "calendar",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Which days are working days for the tax bureau and the treasury."
    ),
    k!(
        "calendar.working_days",
        Value,
        "",
        "\"mon-fri\"",
        0.0,
        0.0,
        "\"mon-fri\" or \"all\"",
        "mon-fri: weekdays less official holidays plus make-up workdays (调休); all: every day works and holiday lists are ignored."
    ),
    k!(
        "calendar.file",
        Value,
        "path",
        "",
        0.0,
        0.0,
        "a CSV path, relative to the scenario file that names it (or else to the current directory)",
        "Official holidays and make-up workdays (columns date,kind,holiday; kind holiday or workday). Default: the shipped State Council calendar 2015–2026 (data/cn-public-holidays.csv)."
    ),
    k!(
        "calendar.holidays",
        Value,
        "dates",
        "[]",
        0.0,
        0.0,
        "a list of [first, last] date pairs",
        "Extra closed date ranges, e.g. [[\"2017-06-20\", \"2017-06-21\"]]."
    ),
    k!(
        "calendar.workdays",
        Value,
        "dates",
        "[]",
        0.0,
        0.0,
        "a list of dates",
        "Extra weekend dates that are worked."
    ),
    k!(
        "economy",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Costs of capital, seasonality and demand uncertainty."
    ),
    k!(
        "economy.opportunity_rate",
        Value,
        "per year",
        "0.08",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Exporters' cost of capital; prices the working capital tied up (carrying_cost)."
    ),
    k!(
        "economy.gov_rate",
        Value,
        "per year",
        "0.03",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Cost of public funds; prices capital committed to the pools (fiscal_cost)."
    ),
    k!(
        "economy.season",
        Value,
        "factor",
        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        0.0,
        100.0,
        "12 non-negative numbers, not all 0",
        "Monthly shipment intensity, January to December; normalised to mean 1."
    ),
    k!(
        "economy.demand_sigma",
        Value,
        "",
        "0",
        0.0,
        2.0,
        "a number from 0 to 2",
        "Sigma of a path-level lognormal demand factor (mean 1) that scales every shipment rate; 0 switches it off."
    ),
    k!(
        "economy.demand_factor",
        Value,
        "factor",
        "",
        0.0,
        100.0,
        "a number greater than 0, at most 100; omit to draw the factor (demand_sigma)",
        "Fixes every path's demand factor (a stress year: 1.25 ships 25% more, 0.8 a slump); economy.demand_sigma is then ignored (a warning in the run says so). Only the factor changes: every other draw is the same, so a stress year pairs with its base on common random numbers."
    ),
    k!(
        "sector",
        Tables,
        "",
        "",
        0.0,
        0.0,
        "one [[sector]] table per sector",
        "Export sectors; each sets the VAT refund rate of its exporters."
    ),
    k!(
        "sector.name",
        Value,
        "text",
        "",
        0.0,
        0.0,
        "a unique short name, one line, at most 64 characters",
        "Sector name, used in population files."
    ),
    k!(
        "sector.name_zh",
        Value,
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese name."
    ),
    k!(
        "sector.refund_rate",
        Value,
        "share of FOB",
        "",
        0.0,
        0.17,
        "a number from 0 to 0.17",
        "Export VAT refund rate (17/15/13/9/5/0 % in 2016; 13/9/6/0 % since 2019)."
    ),
    k!(
        "sector.share",
        Value,
        "share",
        "",
        0.0,
        1.0,
        "a number from 0 to 1; shares sum to 1",
        "Probability that a drawn exporter is in this sector."
    ),
    k!(
        "platform",
        Tables,
        "",
        "",
        0.0,
        0.0,
        "one [[platform]] table per platform",
        "The 1+7 platforms (and any comparison group); addressable as platform.<name>.<key>."
    ),
    k!(
        "platform.name",
        Value,
        "text",
        "",
        0.0,
        0.0,
        "a unique short name (letters, digits, '-', '_'), one line, at most 64 characters",
        "Platform name, used in --set paths and population files."
    ),
    k!(
        "platform.name_zh",
        Value,
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese name."
    ),
    k!(
        "platform.pilot",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "true: a 1+7 platform whose exporters may use the mechanisms and budget priority; false: a comparison group."
    ),
    k!(
        "platform.exporters",
        Value,
        "firms",
        "",
        0.0,
        1e6,
        "a whole number from 0 to 1,000,000",
        "Number of exporters drawn for this platform."
    ),
    k!(
        "platform.export_median",
        Value,
        "CNY per year",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Median annual exports of an exporter (the lognormal median)."
    ),
    k!(
        "platform.export_sigma",
        Value,
        "",
        "1.0",
        0.0,
        4.0,
        "a number from 0 to 4",
        "Lognormal sigma of annual exports; the mean is median × exp(sigma²/2)."
    ),
    k!(
        "platform.trading_share",
        Value,
        "share",
        "0.25",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Probability that an exporter is a trading firm (免退: the whole refund is cash)."
    ),
    k!(
        "platform.class_mix",
        Value,
        "shares",
        "[0.05, 0.45, 0.42, 0.08]",
        0.0,
        1.0,
        "4 numbers from 0 to 1 summing to 1",
        "Probabilities of export-refund management classes I–IV."
    ),
    k!(
        "exporters",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "How exporters ship and how much of their refund is cash."
    ),
    k!(
        "exporters.shipments_per_year",
        ValueOrSection,
        "shipments per year",
        "24",
        0.0,
        100000.0,
        "a number, or { base, elasticity, min, max }",
        "Shipments (declarations) a year: a number for every firm, or base × (annual_exports / export_median)^elasticity clamped to [min, max]."
    ),
    k!(
        "exporters.shipments_per_year.base",
        Value,
        "shipments per year",
        "24",
        0.0,
        100000.0,
        "a positive number",
        "Shipments a year of a firm at its platform's median exports."
    ),
    k!(
        "exporters.shipments_per_year.elasticity",
        Value,
        "",
        "0",
        -2.0,
        2.0,
        "a number from -2 to 2",
        "How shipments grow with firm size."
    ),
    k!(
        "exporters.shipments_per_year.min",
        Value,
        "shipments per year",
        "1",
        0.0,
        100000.0,
        "a positive number",
        "Smallest shipment rate."
    ),
    k!(
        "exporters.shipments_per_year.max",
        Value,
        "shipments per year",
        "1000",
        0.0,
        100000.0,
        "a number at least min",
        "Largest shipment rate."
    ),
    k!(
        "exporters.shipment_value_sigma",
        Value,
        "",
        "0.5",
        0.0,
        3.0,
        "a number from 0 to 3",
        "Sigma of the lognormal (mean 1) multiplier on each shipment's value; 0 gives equal shipments."
    ),
    k!(
        "exporters.manufacturer_cash_share",
        Dist,
        "share of the refund",
        "0.5",
        0.0,
        1.0,
        DIST,
        "Share of a manufacturer's (免抵退) refund paid as cash; the rest offsets domestic VAT. Drawn once per firm."
    ),
    k!(
        "population",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Optionally load exporters from a file instead of drawing them."
    ),
    k!(
        "population.file",
        Value,
        "path",
        "",
        0.0,
        0.0,
        "a CSV path, relative to the scenario file that names it (or else to the current directory)",
        "Exporters with columns id,platform,sector,kind,annual_exports,class and optional cash_share,pd,shipments_per_year; kind is trading or manufacturer."
    ),
    k!(
        "policy",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "The refund-speed policy: every stage of a claim's path through the tax bureau (docs/model.md §5)."
    ),
    k!(
        "policy.name",
        Value,
        "text",
        "\"\"",
        0.0,
        0.0,
        "one line of text, at most 200 characters",
        "Name of the policy, shown in summaries."
    ),
    k!(
        "policy.class_treatment",
        Value,
        "classes",
        "[1, 2, 3, 4]",
        1.0,
        4.0,
        "4 whole numbers from 1 to 4",
        "Processing class of each actual class I–IV; [1, 1, 1, 4] treats every clean firm as class I (the 2016 opinion)."
    ),
    k!(
        "policy.docs",
        Dist,
        "calendar days",
        "{ triangular = [15, 30, 60] }",
        0.0,
        3650.0,
        DIST,
        "Days from shipment to complete documents (customs declaration, VAT invoices)."
    ),
    k!(
        "policy.filing",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table { mode, window_workdays } or { mode, lag }",
        "When documents become a filed claim."
    ),
    k!(
        "policy.filing.mode",
        Value,
        "",
        "\"monthly\"",
        0.0,
        0.0,
        "\"monthly\" or \"continuous\"",
        "monthly: filed in the month after the documents are complete; continuous: filed lag days after."
    ),
    k!(
        "policy.filing.window_workdays",
        Value,
        "working days",
        "15",
        1.0,
        31.0,
        "a whole number from 1 to 31",
        "Monthly filing: the filing day is uniform among the month's first window_workdays working days."
    ),
    k!(
        "policy.filing.lag",
        Dist,
        "calendar days",
        "0",
        0.0,
        3650.0,
        DIST,
        "Continuous filing: days from complete documents to filing."
    ),
    k!(
        "policy.review",
        Value,
        "working days",
        "[5, 15, 20, 25]",
        0.0,
        3650.0,
        "4 distributions, one per processing class I–IV",
        "Tax-bureau review time by processing class."
    ),
    k!(
        "policy.verification",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table { prob, days }",
        "Verification holds (函调)."
    ),
    k!(
        "policy.verification.prob",
        Value,
        "probability",
        "[0, 0, 0, 0]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Probability of a verification hold by processing class."
    ),
    k!(
        "policy.verification.days",
        Dist,
        "calendar days",
        "{ uniform = [30, 120] }",
        0.0,
        3650.0,
        DIST,
        "Length of a verification hold."
    ),
    k!(
        "policy.denial_prob",
        Value,
        "probability",
        "[0, 0, 0, 0]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Probability that a claim is denied, by actual class (treatment does not change risk)."
    ),
    k!(
        "policy.treasury",
        Dist,
        "working days",
        "{ uniform = [3, 5] }",
        0.0,
        3650.0,
        DIST,
        "Days from approval to the treasury paying the refund."
    ),
    k!(
        "policy.quota",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table { monthly, order }; omit for no budget limit",
        "The monthly refund budget (退税计划指标)."
    ),
    k!(
        "policy.quota.monthly",
        Value,
        "CNY per month",
        "",
        0.0,
        1e13,
        "an amount from 0 to 1e13 yuan (a number, or a string such as \"1亿\", \"9500万\"), or a list of 12 such amounts, January first (e.g. [\"1亿\", \"6000万\", …]), not all 0",
        "Refunds the treasury can pay each month (one amount for every month, or 12 monthly amounts, January first); each working day the queue is paid from its head while the month's remaining budget covers it, and unpaid claims carry over. A claim larger than a positive month's whole budget is paid when it reaches the head in a month in which nothing has been paid yet, using up that month; a month of 0 pays nothing."
    ),
    k!(
        "policy.quota.order",
        Value,
        "",
        "\"fifo\"",
        0.0,
        0.0,
        "\"fifo\", \"pilot_first\" or \"class\"",
        "Queue order: first come first served; pilot-platform exporters first (budget priority); or by processing class."
    ),
    k!(
        "finance",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "How claims are offered to the liquidity mechanisms."
    ),
    k!(
        "finance.order",
        Value,
        "",
        "[\"turnover\", \"guarantee\", \"credit\"]",
        0.0,
        0.0,
        "a list of \"turnover\", \"guarantee\", \"credit\", \"service\", each at most once",
        "Order in which a claim is offered to the mechanisms."
    ),
    k!(
        "finance.trigger",
        Value,
        "",
        "\"filed\"",
        0.0,
        0.0,
        "\"declared\", \"filed\" or \"approved\"",
        "Day a claim asks for financing: declared (t0), filed (t2) or approved (t3)."
    ),
    k!(
        "pools",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "The three liquidity mechanisms of the 2016 opinion."
    ),
    k!(
        "pools.turnover",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Refund turnover pool (退税资金周转池): a public revolving fund advancing refunds."
    ),
    k!(
        "pools.turnover.enabled",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the pool operates."
    ),
    k!(
        "pools.turnover.capital",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The pool's capital K."
    ),
    k!(
        "pools.turnover.advance_ratio",
        Value,
        "share of the refund",
        "0.8",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Advance A = ratio × refund."
    ),
    k!(
        "pools.turnover.lag",
        Value,
        "working days",
        "3",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    ),
    k!(
        "pools.turnover.eligible_classes",
        Value,
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the pool serves."
    ),
    k!(
        "pools.turnover.max_per_exporter",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Most one exporter may have outstanding; omit for no limit."
    ),
    k!(
        "pools.turnover.fee_flat",
        Value,
        "share of the advance",
        "0",
        0.0,
        0.2,
        "a number from 0 to 0.2",
        "One-off fee on each advance."
    ),
    k!(
        "pools.turnover.fee_rate",
        Value,
        "per year",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Fee on the advance per year outstanding (calendar days from cash to refund)."
    ),
    k!(
        "pools.turnover.fees_to_pool",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether fees are added to the pool's balance."
    ),
    k!(
        "pools.turnover.loss_given_denial",
        Value,
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of an advance lost when its claim is denied."
    ),
    k!(
        "pools.turnover.queue",
        Value,
        "",
        "\"none\"",
        0.0,
        0.0,
        "\"none\" or \"fifo\"",
        "none: a request the balance cannot cover falls through at once; fifo: it waits up to max_wait_days."
    ),
    k!(
        "pools.turnover.max_wait_days",
        Value,
        "calendar days",
        "10",
        0.0,
        365.0,
        "a whole number from 0 to 365",
        "Longest wait in the fifo queue."
    ),
    k!(
        "pools.guarantee",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Refund financing guarantee pool (退税融资担保池) backing bank loans against pending refunds."
    ),
    k!(
        "pools.guarantee.enabled",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the pool operates."
    ),
    k!(
        "pools.guarantee.capital",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The guarantee fund G."
    ),
    k!(
        "pools.guarantee.leverage",
        Value,
        "times",
        "5",
        0.0,
        100.0,
        "a number from 0 to 100",
        "Guaranteed principal outstanding ≤ leverage × (G − losses)."
    ),
    k!(
        "pools.guarantee.loan_to_refund",
        Value,
        "share of the refund",
        "0.7",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Loan = ratio × refund (≤ 70% under the 2001 circular)."
    ),
    k!(
        "pools.guarantee.lag",
        Value,
        "working days",
        "5",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    ),
    k!(
        "pools.guarantee.rate",
        Value,
        "per year",
        "0.06",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Bank interest, paid from the refund."
    ),
    k!(
        "pools.guarantee.guarantee_fee",
        Value,
        "per year",
        "0.01",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Guarantee fee, paid from the refund."
    ),
    k!(
        "pools.guarantee.eligible_classes",
        Value,
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the pool serves."
    ),
    k!(
        "pools.guarantee.loss_given_denial",
        Value,
        "share",
        "0.6",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of a loan's principal lost when its claim is denied."
    ),
    k!(
        "pools.guarantee.loss_share",
        Value,
        "share",
        "0.8",
        0.0,
        1.0,
        "a number from 0 to 1",
        "The pool's share of a loss; the bank bears the rest."
    ),
    k!(
        "pools.credit",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Foreign-trade credit loans (外贸信用贷) with a risk-compensation fund."
    ),
    k!(
        "pools.credit.enabled",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the scheme operates."
    ),
    k!(
        "pools.credit.line_share",
        Value,
        "share of annual exports",
        "0.1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Credit line = min(line_share × annual exports, line_cap)."
    ),
    k!(
        "pools.credit.line_cap",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Largest credit line; omit for no cap."
    ),
    k!(
        "pools.credit.rate",
        Value,
        "per year",
        "0.06",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Interest on drawn credit."
    ),
    k!(
        "pools.credit.risk_fund",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The government risk-compensation fund C."
    ),
    k!(
        "pools.credit.fund_leverage",
        Value,
        "times",
        "10",
        0.0,
        1000.0,
        "a number from 0 to 1000",
        "Total drawn ≤ leverage × (C − the fund's losses)."
    ),
    k!(
        "pools.credit.loss_share",
        Value,
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "The fund's share of a default loss; the bank bears the rest."
    ),
    k!(
        "pools.credit.lgd",
        Value,
        "share",
        "0.6",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Loss given default on drawn credit."
    ),
    k!(
        "pools.credit.eligible_classes",
        Value,
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the scheme serves."
    ),
    k!(
        "credit_risk",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table; omit for no defaults",
        "Correlated exporter defaults (one-factor Gaussian copula)."
    ),
    k!(
        "credit_risk.pd_by_class",
        Value,
        "per year",
        "[0.01, 0.03, 0.05, 0.12]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Annual default probability by actual class."
    ),
    k!(
        "credit_risk.rho",
        Value,
        "",
        "0.12",
        0.0,
        1.0,
        "a number from 0 to 1; rho + sector_rho < 1",
        "Asset correlation with the systematic factor (Basel: 0.12–0.24)."
    ),
    k!(
        "credit_risk.sector_rho",
        Value,
        "",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1; rho + sector_rho < 1",
        "Extra correlation within a sector."
    ),
    k!(
        "pools.service",
        Section,
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Foreign-trade service company advances (外贸综合服务企业代垫退税): a private company advances part of its clients' refunds from its own capital for a fee; open to every platform, no fiscal cost (see docs/model.md)."
    ),
    k!(
        "pools.service.enabled",
        Value,
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the company advances refunds."
    ),
    k!(
        "pools.service.capital",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The company's own capital S for advances (private money: not in fiscal_cost)."
    ),
    k!(
        "pools.service.advance_ratio",
        Value,
        "share of the refund",
        "1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Advance = ratio × refund."
    ),
    k!(
        "pools.service.lag",
        Value,
        "working days",
        "3",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    ),
    k!(
        "pools.service.fee_rate",
        Value,
        "per year",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Fee on the advance per year outstanding (calendar days from cash to refund), paid on t5."
    ),
    k!(
        "pools.service.fee_flat",
        Value,
        "share of the advance",
        "0.04",
        0.0,
        0.2,
        "a number from 0 to 0.2",
        "One-off fee on each advance, paid on t5."
    ),
    k!(
        "pools.service.client_max_exports",
        Value,
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Only exporters with annual exports at most this are clients; omit for no limit."
    ),
    k!(
        "pools.service.client_share",
        Value,
        "share",
        "1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Probability that an exporter small enough is a client, drawn once per exporter (the same on every path)."
    ),
    k!(
        "pools.service.eligible_classes",
        Value,
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the company serves."
    ),
    k!(
        "pools.service.loss_given_denial",
        Value,
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of an advance lost when its claim is denied."
    ),
];

/// Most characters in a title (`scenario.title`, `title_zh`), `policy.name` or a
/// Chinese name (`name_zh`): enough for a sentence, short enough for a table cell.
pub const MAX_TEXT_CHARS: usize = 200;

/// Most characters in a short name (`scenario.name`, `platform.name`,
/// `sector.name`): these become folder names, CSV cells and `--set` paths.
pub const MAX_NAME_CHARS: usize = 64;

/// Most Monte Carlo paths of one run (`scenario.paths` and `--paths`).
pub const MAX_PATHS: u32 = 10_000_000;

/// The length limit of a text key.
pub fn max_text_chars(key: &str) -> usize {
    match key {
        "scenario.name" | "platform.name" | "sector.name" => MAX_NAME_CHARS,
        _ => MAX_TEXT_CHARS,
    }
}

/// The definition of a key, given as a normalised dotted path.
pub fn find(key: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|d| d.key == key)
}

/// Normalises a user's key: `platform.gui-an.exporters` → `platform.exporters`.
pub fn normalise(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() >= 3 && matches!(parts[0], "platform" | "sector") {
        let mut p = vec![parts[0]];
        p.extend(&parts[2..]);
        return p.join(".");
    }
    key.to_string()
}

/// The keys directly below `parent` (`""` for the top level).
pub fn children(parent: &str) -> impl Iterator<Item = &'static KeyDef> + '_ {
    KEYS.iter().filter(move |d| match d.key.rsplit_once('.') {
        Some((p, _)) => p == parent,
        None => parent.is_empty(),
    })
}

/// The last segment of a key.
pub fn leaf(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The closest name among `candidates`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn strsim_levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Keys with no default that may be left out, and what leaving them out means.
const OPTIONAL: [(&str, &str); 6] = [
    (
        "calendar.file",
        "(optional: the shipped official calendar 2015–2026)",
    ),
    (
        "population.file",
        "(optional: exporters are drawn from [[platform]])",
    ),
    (
        "pools.turnover.max_per_exporter",
        "(optional: no limit per exporter)",
    ),
    ("pools.credit.line_cap", "(optional: no cap)"),
    (
        "economy.demand_factor",
        "(optional: the factor is drawn, lognormal with economy.demand_sigma)",
    ),
    (
        "pools.service.client_max_exports",
        "(optional: no size limit)",
    ),
];

/// The text `refundsim explain KEY` prints for one key.
pub fn explain_one(d: &KeyDef) -> String {
    let mut s = format!("{}\n  {}\n", d.key, d.doc);
    if !d.unit.is_empty() {
        s += &format!("  unit:    {}\n", d.unit);
    }
    s += &format!(
        "  default: {}\n",
        if let Some((_, meaning)) = OPTIONAL.iter().find(|(k, _)| *k == d.key) {
            meaning
        } else if d.default.is_empty() {
            match d.shape {
                Shape::Section | Shape::Tables => "(optional section)",
                _ => "(none: required where its section is used)",
            }
        } else {
            d.default
        }
    );
    s += &format!("  allowed: {}\n", d.allowed);
    s
}

/// `refundsim explain [KEY]`: one key, a section and its keys, or everything.
pub fn explain(key: Option<&str>) -> Result<String, String> {
    match key {
        None => Ok(KEYS.iter().map(explain_one).collect::<Vec<_>>().join("\n")),
        Some(k) => {
            let k = normalise(k);
            let matched: Vec<&KeyDef> = KEYS
                .iter()
                .filter(|d| d.key == k || d.key.starts_with(&format!("{k}.")))
                .collect();
            if matched.is_empty() {
                let hint = did_you_mean(&k, KEYS.iter().map(|d| d.key))
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                Err(format!(
                    "unknown key `{k}`{hint}; run `refundsim explain` for the full list"
                ))
            } else {
                Ok(matched
                    .into_iter()
                    .map(explain_one)
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_parent_section_and_a_doc() {
        for d in KEYS {
            assert!(!d.doc.is_empty(), "{}", d.key);
            if let Some((parent, _)) = d.key.rsplit_once('.') {
                let p = find(parent).unwrap_or_else(|| panic!("no parent for {}", d.key));
                assert!(matches!(
                    p.shape,
                    Shape::Section | Shape::Tables | Shape::ValueOrSection
                ));
            }
        }
    }

    #[test]
    fn defaults_parse_as_toml_values() {
        for d in KEYS.iter().filter(|d| !d.default.is_empty()) {
            let doc = format!("v = {}", d.default);
            assert!(toml_edit::Document::parse(doc).is_ok(), "{}", d.key);
        }
    }

    #[test]
    fn typos_get_a_suggestion() {
        let names = children("policy").map(|d| leaf(d.key));
        assert_eq!(did_you_mean("reveiw", names), Some("review"));
        assert_eq!(
            did_you_mean("zzzzzz", children("policy").map(|d| leaf(d.key))),
            None
        );
        assert_eq!(normalise("platform.gui-an.exporters"), "platform.exporters");
    }
}

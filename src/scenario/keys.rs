//! Every scenario key, declared once: name, type, unit, default, range, allowed
//! values and meaning (MODEL.md §9, the scenario file format).
//!
//! Each entry of the `keys!` table below becomes a typed constant
//! (`POOLS_TURNOVER_CAPITAL: Key<kind::Amount>`) and a row of [`KEYS`]. The
//! validator (unknown keys, ranges, defaults, did-you-mean) and `refundsim
//! explain` walk [`KEYS`]; the builder (`build.rs`) fills each spec field from its
//! constant, and the constant's kind picks the reader, so a key read as the wrong
//! type, or a key the table does not declare, does not compile — there is no
//! string lookup left to fail at run time.
//!
//! Why a declarative macro over the origin tree ([`super::tree`]) rather than
//! typed structs deserialised with spans (as Cargo does): the tree already gives
//! every value its file:line:col across merged files and `--set` overrides, the
//! checks run key by key so that *every* problem is reported at once (serde stops
//! at the first error of a struct), and the messages users and tests rely on
//! (ranges, did-you-mean, leniency in switched-off pools) stay byte-identical. A
//! serde mirror would have needed a second, span-carrying value type and custom
//! deserialisers for amounts and distributions to keep any of that.

use std::marker::PhantomData;

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

/// Declares [`Ty`] and, in [`kind`], one marker type per variant, from one list.
macro_rules! types {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// The type of a key's value, as declared. Each has a marker type in [`kind`]
        /// that the builder reads it with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Ty {
            $($(#[$doc])* $name,)*
        }

        /// Marker types of [`Ty`], one per variant: `Key<kind::Amount>` is read as an
        /// amount and nothing else.
        pub mod kind {
            $(
                #[doc = concat!("Marker of [`super::Ty::", stringify!($name), "`].")]
                #[derive(Debug, Clone, Copy)]
                pub struct $name;
            )*
        }
    };
}

types! {
    /// A table of further keys.
    Section,
    /// An array of tables addressed by `name`.
    Tables,
    /// A number within `min..=max`.
    Number,
    /// An amount of yuan: a number or `"3亿"`, `"300万"`.
    Amount,
    /// An amount that may be left out (no limit).
    OptAmount,
    /// A whole number within `min..=max`.
    Integer,
    /// The master seed: a whole number read without passing through a float.
    Seed,
    /// `true` or `false`.
    Bool,
    /// Text in quotes.
    Text,
    /// A date `YYYY-MM-DD`.
    Date,
    /// A list of `[first, last]` date pairs.
    DateRanges,
    /// A list of dates.
    Dates,
    /// A file path, relative to the scenario file naming it.
    Path,
    /// One word among a fixed list.
    Choice,
    /// A distribution (see [`Shape::Dist`]).
    Distribution,
    /// Four numbers, one per class.
    Numbers4,
    /// Four distributions, one per processing class.
    Dists4,
    /// Twelve monthly factors.
    Season,
    /// A list of processing classes 1–4.
    Classes,
    /// A list of mechanism names.
    Mechanisms,
    /// A number, or a table of further keys.
    NumberOrTable,
    /// A number above 0 that may be left out.
    OptFactor,
    /// One amount for every month, or a list of 12 amounts.
    MonthlyAmounts,
}

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// Dotted path; array tables appear without their element name (`platform.exporters`).
    pub key: &'static str,
    /// The type of its value.
    pub ty: Ty,
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

impl KeyDef {
    /// How the value is shaped (from its type).
    pub const fn shape(&self) -> Shape {
        match self.ty {
            Ty::Section => Shape::Section,
            Ty::Tables => Shape::Tables,
            Ty::Distribution => Shape::Dist,
            Ty::NumberOrTable => Shape::ValueOrSection,
            _ => Shape::Value,
        }
    }
}

/// A declared key whose value has the type `T` (a marker of [`kind`]).
#[derive(Debug)]
pub struct Key<T> {
    /// Its declaration.
    pub def: KeyDef,
    kind: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    const fn new(def: KeyDef) -> Self {
        Key {
            def,
            kind: PhantomData,
        }
    }
}

/// Declares every key once: `IDENT: Kind = (key, unit, default, min, max,
/// allowed, doc);` makes the constant `IDENT: Key<kind::Kind>` and its row of
/// [`KEYS`], in the order `explain` lists them.
macro_rules! keys {
    ($($id:ident: $ty:ident = ($key:literal, $unit:expr, $default:expr, $min:expr, $max:expr, $allowed:expr, $doc:expr $(,)?);)*) => {
        $(
            #[doc = concat!("`", $key, "`")]
            pub static $id: Key<kind::$ty> = Key::new(KeyDef {
                key: $key,
                ty: Ty::$ty,
                unit: $unit,
                default: $default,
                min: $min,
                max: $max,
                allowed: $allowed,
                doc: $doc,
            });
        )*
        /// All keys, in the order `explain` lists them.
        pub static KEYS: &[&KeyDef] = &[$(&$id.def),*];
    };
}

const DIST: &str = "a number, or { fixed = x }, { uniform = [a, b] }, { triangular = [min, mode, max] }, { lognormal = { mean = m, cv = c } }, { gamma = { mean = m, cv = c } }, { empirical = [v1, v2, …] }";
/// The `allowed` text of amount keys.
pub const AMOUNT: &str = "a number of yuan, or a string such as \"3亿\", \"300万\", \"3e8\"";
const CLASSES: &str = "a list of processing classes from 1 to 4, e.g. [1, 2, 3]";

keys! {
    SCENARIO: Section = (
        "scenario",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Names the run and sets its time frame and Monte Carlo size."
    );
    SCENARIO_NAME: Text = (
        "scenario.name",
        "text",
        "",
        0.0,
        0.0,
        "letters, digits, '-', '_' and '.'; at most 64 characters",
        "Short name; the run is written to output/<name>/ unless --out is given."
    );
    SCENARIO_TITLE: Text = (
        "scenario.title",
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "English title, shown in summaries and briefs."
    );
    SCENARIO_TITLE_ZH: Text = (
        "scenario.title_zh",
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese title, shown in briefs."
    );
    SCENARIO_START_DATE: Date = (
        "scenario.start_date",
        "date",
        "",
        0.0,
        0.0,
        "a date YYYY-MM-DD within 2000–2100",
        "The first measured day (day 0); e.g. \"2017-01-01\" with horizon_days = 365 measures 2017."
    );
    SCENARIO_WARMUP_DAYS: Integer = (
        "scenario.warmup_days",
        "days",
        "240",
        0.0,
        3650.0,
        "a whole number from 0 to 3650",
        "Days simulated before start_date to fill the refund pipeline; not measured."
    );
    SCENARIO_HORIZON_DAYS: Integer = (
        "scenario.horizon_days",
        "days",
        "365",
        1.0,
        3650.0,
        "a whole number from 1 to 3650",
        "Length of the measurement window; flows are reported per year (× 365 / horizon_days)."
    );
    SCENARIO_PATHS: Integer = (
        "scenario.paths",
        "paths",
        "200",
        1.0,
        MAX_PATHS as f64,
        "a whole number from 1 to 10000000 (also the limit of --paths)",
        "Number of Monte Carlo paths (independent replications of the year)."
    );
    SCENARIO_SEED: Seed = (
        "scenario.seed",
        "",
        "1",
        0.0,
        i64::MAX as f64,
        "a whole number from 0 to 9223372036854775807 (2^63 − 1, the largest TOML integer)",
        "Master seed of every random stream; same seed, same results."
    );
    CALENDAR: Section = (
        "calendar",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Which days are working days for the tax bureau and the treasury."
    );
    CALENDAR_WORKING_DAYS: Choice = (
        "calendar.working_days",
        "",
        "\"mon-fri\"",
        0.0,
        0.0,
        "\"mon-fri\" or \"all\"",
        "mon-fri: weekdays less official holidays plus make-up workdays (调休); all: every day works and holiday lists are ignored."
    );
    CALENDAR_FILE: Path = (
        "calendar.file",
        "path",
        "",
        0.0,
        0.0,
        "a CSV path, relative to the scenario file that names it (or else to the current directory)",
        "Official holidays and make-up workdays (columns date,kind,holiday; kind holiday or workday). Default: the shipped State Council calendar 2015–2026 (data/cn-public-holidays.csv)."
    );
    CALENDAR_HOLIDAYS: DateRanges = (
        "calendar.holidays",
        "dates",
        "[]",
        0.0,
        0.0,
        "a list of [first, last] date pairs",
        "Extra closed date ranges, e.g. [[\"2017-06-20\", \"2017-06-21\"]]."
    );
    CALENDAR_WORKDAYS: Dates = (
        "calendar.workdays",
        "dates",
        "[]",
        0.0,
        0.0,
        "a list of dates",
        "Extra weekend dates that are worked."
    );
    ECONOMY: Section = (
        "economy",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Costs of capital, seasonality and demand uncertainty."
    );
    ECONOMY_OPPORTUNITY_RATE: Number = (
        "economy.opportunity_rate",
        "per year",
        "0.08",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Exporters' cost of capital; prices the working capital tied up (carrying_cost)."
    );
    ECONOMY_GOV_RATE: Number = (
        "economy.gov_rate",
        "per year",
        "0.03",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Cost of public funds; prices capital committed to the pools (fiscal_cost)."
    );
    ECONOMY_SEASON: Season = (
        "economy.season",
        "factor",
        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        0.0,
        100.0,
        "12 non-negative numbers, not all 0",
        "Monthly shipment intensity, January to December; normalised to mean 1."
    );
    ECONOMY_DEMAND_SIGMA: Number = (
        "economy.demand_sigma",
        "",
        "0",
        0.0,
        2.0,
        "a number from 0 to 2",
        "Sigma of a path-level lognormal demand factor (mean 1) that scales every shipment rate; 0 switches it off."
    );
    ECONOMY_DEMAND_FACTOR: OptFactor = (
        "economy.demand_factor",
        "factor",
        "",
        0.0,
        100.0,
        "a number greater than 0, at most 100; omit to draw the factor (demand_sigma)",
        "Fixes every path's demand factor (a stress year: 1.25 ships 25% more, 0.8 a slump); economy.demand_sigma is then ignored (a warning in the run says so). Only the factor changes: every other draw is the same, so a stress year pairs with its base on common random numbers."
    );
    SECTOR: Tables = (
        "sector",
        "",
        "",
        0.0,
        0.0,
        "one [[sector]] table per sector",
        "Export sectors; each sets the VAT refund rate of its exporters."
    );
    SECTOR_NAME: Text = (
        "sector.name",
        "text",
        "",
        0.0,
        0.0,
        "a unique short name, one line, at most 64 characters",
        "Sector name, used in population files."
    );
    SECTOR_NAME_ZH: Text = (
        "sector.name_zh",
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese name."
    );
    SECTOR_REFUND_RATE: Number = (
        "sector.refund_rate",
        "share of FOB",
        "",
        0.0,
        0.17,
        "a number from 0 to 0.17",
        "Export VAT refund rate (17/15/13/9/5/0 % in 2016; 13/9/6/0 % since 2019)."
    );
    SECTOR_SHARE: Number = (
        "sector.share",
        "share",
        "",
        0.0,
        1.0,
        "a number from 0 to 1; shares sum to 1",
        "Probability that a drawn exporter is in this sector."
    );
    PLATFORM: Tables = (
        "platform",
        "",
        "",
        0.0,
        0.0,
        "one [[platform]] table per platform",
        "The 1+7 platforms (and any comparison group); addressable as platform.<name>.<key>."
    );
    PLATFORM_NAME: Text = (
        "platform.name",
        "text",
        "",
        0.0,
        0.0,
        "a unique short name (letters, digits, '-', '_'), one line, at most 64 characters",
        "Platform name, used in --set paths and population files."
    );
    PLATFORM_NAME_ZH: Text = (
        "platform.name_zh",
        "text",
        "\"\"",
        0.0,
        0.0,
        "text of at most 200 characters (no control characters but line breaks and tabs)",
        "Chinese name."
    );
    PLATFORM_PILOT: Bool = (
        "platform.pilot",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "true: a 1+7 platform whose exporters may use the mechanisms and budget priority; false: a comparison group."
    );
    PLATFORM_EXPORTERS: Integer = (
        "platform.exporters",
        "firms",
        "",
        0.0,
        1e6,
        "a whole number from 0 to 1,000,000",
        "Number of exporters drawn for this platform."
    );
    PLATFORM_EXPORT_MEDIAN: Amount = (
        "platform.export_median",
        "CNY per year",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Median annual exports of an exporter (the lognormal median)."
    );
    PLATFORM_EXPORT_SIGMA: Number = (
        "platform.export_sigma",
        "",
        "1.0",
        0.0,
        4.0,
        "a number from 0 to 4",
        "Lognormal sigma of annual exports; the mean is median × exp(sigma²/2)."
    );
    PLATFORM_TRADING_SHARE: Number = (
        "platform.trading_share",
        "share",
        "0.25",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Probability that an exporter is a trading firm (免退: the whole refund is cash)."
    );
    PLATFORM_CLASS_MIX: Numbers4 = (
        "platform.class_mix",
        "shares",
        "[0.05, 0.45, 0.42, 0.08]",
        0.0,
        1.0,
        "4 numbers from 0 to 1 summing to 1",
        "Probabilities of export-refund management classes I–IV."
    );
    EXPORTERS: Section = (
        "exporters",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "How exporters ship and how much of their refund is cash."
    );
    EXPORTERS_SHIPMENTS_PER_YEAR: NumberOrTable = (
        "exporters.shipments_per_year",
        "shipments per year",
        "24",
        0.0,
        100000.0,
        "a number, or { base, elasticity, min, max }",
        "Shipments (declarations) a year: a number for every firm, or base × (annual_exports / export_median)^elasticity clamped to [min, max]."
    );
    EXPORTERS_SHIPMENTS_PER_YEAR_BASE: Number = (
        "exporters.shipments_per_year.base",
        "shipments per year",
        "24",
        0.0,
        100000.0,
        "a positive number",
        "Shipments a year of a firm at its platform's median exports."
    );
    EXPORTERS_SHIPMENTS_PER_YEAR_ELASTICITY: Number = (
        "exporters.shipments_per_year.elasticity",
        "",
        "0",
        -2.0,
        2.0,
        "a number from -2 to 2",
        "How shipments grow with firm size."
    );
    EXPORTERS_SHIPMENTS_PER_YEAR_MIN: Number = (
        "exporters.shipments_per_year.min",
        "shipments per year",
        "1",
        0.0,
        100000.0,
        "a positive number",
        "Smallest shipment rate."
    );
    EXPORTERS_SHIPMENTS_PER_YEAR_MAX: Number = (
        "exporters.shipments_per_year.max",
        "shipments per year",
        "1000",
        0.0,
        100000.0,
        "a number at least min",
        "Largest shipment rate."
    );
    EXPORTERS_SHIPMENT_VALUE_SIGMA: Number = (
        "exporters.shipment_value_sigma",
        "",
        "0.5",
        0.0,
        3.0,
        "a number from 0 to 3",
        "Sigma of the lognormal (mean 1) multiplier on each shipment's value; 0 gives equal shipments."
    );
    EXPORTERS_MANUFACTURER_CASH_SHARE: Distribution = (
        "exporters.manufacturer_cash_share",
        "share of the refund",
        "0.5",
        0.0,
        1.0,
        DIST,
        "Share of a manufacturer's (免抵退) refund paid as cash; the rest offsets domestic VAT. Drawn once per firm."
    );
    POPULATION: Section = (
        "population",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Optionally load exporters from a file instead of drawing them."
    );
    POPULATION_FILE: Path = (
        "population.file",
        "path",
        "",
        0.0,
        0.0,
        "a CSV path, relative to the scenario file that names it (or else to the current directory)",
        "Exporters with columns id,platform,sector,kind,annual_exports,class and optional cash_share,pd,shipments_per_year; kind is trading or manufacturer."
    );
    POLICY: Section = (
        "policy",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "The refund-speed policy: every stage of a claim's path through the tax bureau (docs/model.md §5)."
    );
    POLICY_NAME: Text = (
        "policy.name",
        "text",
        "\"\"",
        0.0,
        0.0,
        "one line of text, at most 200 characters",
        "Name of the policy, shown in summaries."
    );
    POLICY_CLASS_TREATMENT: Numbers4 = (
        "policy.class_treatment",
        "classes",
        "[1, 2, 3, 4]",
        1.0,
        4.0,
        "4 whole numbers from 1 to 4",
        "Processing class of each actual class I–IV; [1, 1, 1, 4] treats every clean firm as class I (the 2016 opinion)."
    );
    POLICY_DOCS: Distribution = (
        "policy.docs",
        "calendar days",
        "{ triangular = [15, 30, 60] }",
        0.0,
        3650.0,
        DIST,
        "Days from shipment to complete documents (customs declaration, VAT invoices)."
    );
    POLICY_FILING: Section = (
        "policy.filing",
        "",
        "",
        0.0,
        0.0,
        "a table { mode, window_workdays } or { mode, lag }",
        "When documents become a filed claim."
    );
    POLICY_FILING_MODE: Choice = (
        "policy.filing.mode",
        "",
        "\"monthly\"",
        0.0,
        0.0,
        "\"monthly\" or \"continuous\"",
        "monthly: filed in the month after the documents are complete; continuous: filed lag days after."
    );
    POLICY_FILING_WINDOW_WORKDAYS: Integer = (
        "policy.filing.window_workdays",
        "working days",
        "15",
        1.0,
        31.0,
        "a whole number from 1 to 31",
        "Monthly filing: the filing day is uniform among the month's first window_workdays working days."
    );
    POLICY_FILING_LAG: Distribution = (
        "policy.filing.lag",
        "calendar days",
        "0",
        0.0,
        3650.0,
        DIST,
        "Continuous filing: days from complete documents to filing."
    );
    POLICY_REVIEW: Dists4 = (
        "policy.review",
        "working days",
        "[5, 15, 20, 25]",
        0.0,
        3650.0,
        "4 distributions, one per processing class I–IV",
        "Tax-bureau review time by processing class."
    );
    POLICY_VERIFICATION: Section = (
        "policy.verification",
        "",
        "",
        0.0,
        0.0,
        "a table { prob, days }",
        "Verification holds (函调)."
    );
    POLICY_VERIFICATION_PROB: Numbers4 = (
        "policy.verification.prob",
        "probability",
        "[0, 0, 0, 0]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Probability of a verification hold by processing class."
    );
    POLICY_VERIFICATION_DAYS: Distribution = (
        "policy.verification.days",
        "calendar days",
        "{ uniform = [30, 120] }",
        0.0,
        3650.0,
        DIST,
        "Length of a verification hold."
    );
    POLICY_DENIAL_PROB: Numbers4 = (
        "policy.denial_prob",
        "probability",
        "[0, 0, 0, 0]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Probability that a claim is denied, by actual class (treatment does not change risk)."
    );
    POLICY_TREASURY: Distribution = (
        "policy.treasury",
        "working days",
        "{ uniform = [3, 5] }",
        0.0,
        3650.0,
        DIST,
        "Days from approval to the treasury paying the refund."
    );
    POLICY_QUOTA: Section = (
        "policy.quota",
        "",
        "",
        0.0,
        0.0,
        "a table { monthly, order }; omit for no budget limit",
        "The monthly refund budget (退税计划指标)."
    );
    POLICY_QUOTA_MONTHLY: MonthlyAmounts = (
        "policy.quota.monthly",
        "CNY per month",
        "",
        0.0,
        1e13,
        "an amount from 0 to 1e13 yuan (a number, or a string such as \"1亿\", \"9500万\"), or a list of 12 such amounts, January first (e.g. [\"1亿\", \"6000万\", …]), not all 0",
        "Refunds the treasury can pay each month (one amount for every month, or 12 monthly amounts, January first); each working day the queue is paid from its head while the month's remaining budget covers it, and unpaid claims carry over. A claim larger than a positive month's whole budget is paid when it reaches the head in a month in which nothing has been paid yet, using up that month; a month of 0 pays nothing."
    );
    POLICY_QUOTA_ORDER: Choice = (
        "policy.quota.order",
        "",
        "\"fifo\"",
        0.0,
        0.0,
        "\"fifo\", \"pilot_first\" or \"class\"",
        "Queue order: first come first served; pilot-platform exporters first (budget priority); or by processing class."
    );
    FINANCE: Section = (
        "finance",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "How claims are offered to the liquidity mechanisms."
    );
    FINANCE_ORDER: Mechanisms = (
        "finance.order",
        "",
        "[\"turnover\", \"guarantee\", \"credit\"]",
        0.0,
        0.0,
        "a list of \"turnover\", \"guarantee\", \"credit\", \"service\", each at most once",
        "Order in which a claim is offered to the mechanisms."
    );
    FINANCE_TRIGGER: Choice = (
        "finance.trigger",
        "",
        "\"filed\"",
        0.0,
        0.0,
        "\"declared\", \"filed\" or \"approved\"",
        "Day a claim asks for financing: declared (t0), filed (t2) or approved (t3)."
    );
    POOLS: Section = (
        "pools",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "The three liquidity mechanisms of the 2016 opinion."
    );
    POOLS_TURNOVER: Section = (
        "pools.turnover",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Refund turnover pool (退税资金周转池): a public revolving fund advancing refunds."
    );
    POOLS_TURNOVER_ENABLED: Bool = (
        "pools.turnover.enabled",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the pool operates."
    );
    POOLS_TURNOVER_CAPITAL: Amount = (
        "pools.turnover.capital",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The pool's capital K."
    );
    POOLS_TURNOVER_ADVANCE_RATIO: Number = (
        "pools.turnover.advance_ratio",
        "share of the refund",
        "0.8",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Advance A = ratio × refund."
    );
    POOLS_TURNOVER_LAG: Integer = (
        "pools.turnover.lag",
        "working days",
        "3",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    );
    POOLS_TURNOVER_ELIGIBLE_CLASSES: Classes = (
        "pools.turnover.eligible_classes",
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the pool serves."
    );
    POOLS_TURNOVER_MAX_PER_EXPORTER: OptAmount = (
        "pools.turnover.max_per_exporter",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Most one exporter may have outstanding; omit for no limit."
    );
    POOLS_TURNOVER_FEE_FLAT: Number = (
        "pools.turnover.fee_flat",
        "share of the advance",
        "0",
        0.0,
        0.2,
        "a number from 0 to 0.2",
        "One-off fee on each advance."
    );
    POOLS_TURNOVER_FEE_RATE: Number = (
        "pools.turnover.fee_rate",
        "per year",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Fee on the advance per year outstanding (calendar days from cash to refund)."
    );
    POOLS_TURNOVER_FEES_TO_POOL: Bool = (
        "pools.turnover.fees_to_pool",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether fees are added to the pool's balance."
    );
    POOLS_TURNOVER_LOSS_GIVEN_DENIAL: Number = (
        "pools.turnover.loss_given_denial",
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of an advance lost when its claim is denied."
    );
    POOLS_TURNOVER_QUEUE: Choice = (
        "pools.turnover.queue",
        "",
        "\"none\"",
        0.0,
        0.0,
        "\"none\" or \"fifo\"",
        "none: a request the balance cannot cover falls through at once; fifo: it waits up to max_wait_days."
    );
    POOLS_TURNOVER_MAX_WAIT_DAYS: Integer = (
        "pools.turnover.max_wait_days",
        "calendar days",
        "10",
        0.0,
        365.0,
        "a whole number from 0 to 365",
        "Longest wait in the fifo queue."
    );
    POOLS_GUARANTEE: Section = (
        "pools.guarantee",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Refund financing guarantee pool (退税融资担保池) backing bank loans against pending refunds."
    );
    POOLS_GUARANTEE_ENABLED: Bool = (
        "pools.guarantee.enabled",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the pool operates."
    );
    POOLS_GUARANTEE_CAPITAL: Amount = (
        "pools.guarantee.capital",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The guarantee fund G."
    );
    POOLS_GUARANTEE_LEVERAGE: Number = (
        "pools.guarantee.leverage",
        "times",
        "5",
        0.0,
        100.0,
        "a number from 0 to 100",
        "Guaranteed principal outstanding ≤ leverage × (G − losses)."
    );
    POOLS_GUARANTEE_LOAN_TO_REFUND: Number = (
        "pools.guarantee.loan_to_refund",
        "share of the refund",
        "0.7",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Loan = ratio × refund (≤ 70% under the 2001 circular)."
    );
    POOLS_GUARANTEE_LAG: Integer = (
        "pools.guarantee.lag",
        "working days",
        "5",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    );
    POOLS_GUARANTEE_RATE: Number = (
        "pools.guarantee.rate",
        "per year",
        "0.06",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Bank interest, paid from the refund."
    );
    POOLS_GUARANTEE_GUARANTEE_FEE: Number = (
        "pools.guarantee.guarantee_fee",
        "per year",
        "0.01",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Guarantee fee, paid from the refund."
    );
    POOLS_GUARANTEE_ELIGIBLE_CLASSES: Classes = (
        "pools.guarantee.eligible_classes",
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the pool serves."
    );
    POOLS_GUARANTEE_LOSS_GIVEN_DENIAL: Number = (
        "pools.guarantee.loss_given_denial",
        "share",
        "0.6",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of a loan's principal lost when its claim is denied."
    );
    POOLS_GUARANTEE_LOSS_SHARE: Number = (
        "pools.guarantee.loss_share",
        "share",
        "0.8",
        0.0,
        1.0,
        "a number from 0 to 1",
        "The pool's share of a loss; the bank bears the rest."
    );
    POOLS_CREDIT: Section = (
        "pools.credit",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Foreign-trade credit loans (外贸信用贷) with a risk-compensation fund."
    );
    POOLS_CREDIT_ENABLED: Bool = (
        "pools.credit.enabled",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the scheme operates."
    );
    POOLS_CREDIT_LINE_SHARE: Number = (
        "pools.credit.line_share",
        "share of annual exports",
        "0.1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Credit line = min(line_share × annual exports, line_cap)."
    );
    POOLS_CREDIT_LINE_CAP: OptAmount = (
        "pools.credit.line_cap",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Largest credit line; omit for no cap."
    );
    POOLS_CREDIT_RATE: Number = (
        "pools.credit.rate",
        "per year",
        "0.06",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Interest on drawn credit."
    );
    POOLS_CREDIT_RISK_FUND: Amount = (
        "pools.credit.risk_fund",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The government risk-compensation fund C."
    );
    POOLS_CREDIT_FUND_LEVERAGE: Number = (
        "pools.credit.fund_leverage",
        "times",
        "10",
        0.0,
        1000.0,
        "a number from 0 to 1000",
        "Total drawn ≤ leverage × (C − the fund's losses)."
    );
    POOLS_CREDIT_LOSS_SHARE: Number = (
        "pools.credit.loss_share",
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "The fund's share of a default loss; the bank bears the rest."
    );
    POOLS_CREDIT_LGD: Number = (
        "pools.credit.lgd",
        "share",
        "0.6",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Loss given default on drawn credit."
    );
    POOLS_CREDIT_ELIGIBLE_CLASSES: Classes = (
        "pools.credit.eligible_classes",
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the scheme serves."
    );
    CREDIT_RISK: Section = (
        "credit_risk",
        "",
        "",
        0.0,
        0.0,
        "a table; omit for no defaults",
        "Correlated exporter defaults (one-factor Gaussian copula)."
    );
    CREDIT_RISK_PD_BY_CLASS: Numbers4 = (
        "credit_risk.pd_by_class",
        "per year",
        "[0.01, 0.03, 0.05, 0.12]",
        0.0,
        1.0,
        "4 numbers from 0 to 1",
        "Annual default probability by actual class."
    );
    CREDIT_RISK_RHO: Number = (
        "credit_risk.rho",
        "",
        "0.12",
        0.0,
        1.0,
        "a number from 0 to 1; rho + sector_rho < 1",
        "Asset correlation with the systematic factor (Basel: 0.12–0.24)."
    );
    CREDIT_RISK_SECTOR_RHO: Number = (
        "credit_risk.sector_rho",
        "",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1; rho + sector_rho < 1",
        "Extra correlation within a sector."
    );
    POOLS_SERVICE: Section = (
        "pools.service",
        "",
        "",
        0.0,
        0.0,
        "a table",
        "Foreign-trade service company advances (外贸综合服务企业代垫退税): a private company advances part of its clients' refunds from its own capital for a fee; open to every platform, no fiscal cost (see docs/model.md)."
    );
    POOLS_SERVICE_ENABLED: Bool = (
        "pools.service.enabled",
        "",
        "true",
        0.0,
        0.0,
        "true or false",
        "Whether the company advances refunds."
    );
    POOLS_SERVICE_CAPITAL: Amount = (
        "pools.service.capital",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "The company's own capital S for advances (private money: not in fiscal_cost)."
    );
    POOLS_SERVICE_ADVANCE_RATIO: Number = (
        "pools.service.advance_ratio",
        "share of the refund",
        "1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Advance = ratio × refund."
    );
    POOLS_SERVICE_LAG: Integer = (
        "pools.service.lag",
        "working days",
        "3",
        0.0,
        60.0,
        "a whole number from 0 to 60",
        "Working days from request to cash."
    );
    POOLS_SERVICE_FEE_RATE: Number = (
        "pools.service.fee_rate",
        "per year",
        "0",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Fee on the advance per year outstanding (calendar days from cash to refund), paid on t5."
    );
    POOLS_SERVICE_FEE_FLAT: Number = (
        "pools.service.fee_flat",
        "share of the advance",
        "0.04",
        0.0,
        0.2,
        "a number from 0 to 0.2",
        "One-off fee on each advance, paid on t5."
    );
    POOLS_SERVICE_CLIENT_MAX_EXPORTS: OptAmount = (
        "pools.service.client_max_exports",
        "CNY",
        "",
        0.0,
        1e13,
        AMOUNT,
        "Only exporters with annual exports at most this are clients; omit for no limit."
    );
    POOLS_SERVICE_CLIENT_SHARE: Number = (
        "pools.service.client_share",
        "share",
        "1",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Probability that an exporter small enough is a client, drawn once per exporter (the same on every path)."
    );
    POOLS_SERVICE_ELIGIBLE_CLASSES: Classes = (
        "pools.service.eligible_classes",
        "classes",
        "[1, 2, 3]",
        1.0,
        4.0,
        CLASSES,
        "Processing classes the company serves."
    );
    POOLS_SERVICE_LOSS_GIVEN_DENIAL: Number = (
        "pools.service.loss_given_denial",
        "share",
        "0.5",
        0.0,
        1.0,
        "a number from 0 to 1",
        "Share of an advance lost when its claim is denied."
    );
}

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
    KEYS.iter().find(|d| d.key == key).copied()
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
    KEYS.iter()
        .copied()
        .filter(move |d| match d.key.rsplit_once('.') {
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
            match d.shape() {
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
        None => Ok(KEYS
            .iter()
            .map(|d| explain_one(d))
            .collect::<Vec<_>>()
            .join("\n")),
        Some(k) => {
            let k = normalise(k);
            let matched: Vec<&KeyDef> = KEYS
                .iter()
                .copied()
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
                    p.shape(),
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

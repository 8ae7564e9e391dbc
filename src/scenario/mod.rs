//! Scenarios: loading, merging, validating (MODEL.md §9).
//!
//! Two stages, as in the house style: [`tree`] holds the merged TOML with origins,
//! and [`build`] turns it into a [`Scenario`] whose fields cannot hold invalid
//! values, collecting *every* problem with its file, line, column and key.

pub mod build;
pub mod keys;
pub mod tree;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::{DayKind, WorkingDays};
use crate::dist::Dist;
pub use crate::input::population_csv::{ExporterRow, Kind};

/// One problem in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `file:line:column`, or the file alone.
    pub location: String,
    /// The key path (`pools.turnover.capital`), or empty.
    pub key: String,
    /// What is wrong, the bad value and what is allowed.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.key, self.message)
        }
    }
}

/// All problems found in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// Every problem, in the order found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "the scenario has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        write!(f, "(`refundsim explain KEY` describes every key)")
    }
}

impl std::error::Error for ScenarioError {}

/// How monthly or continuous filing works.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Filing {
    /// Filed on a working day among the first `window_workdays` of the next month.
    Monthly {
        /// Width of the filing window.
        window_workdays: u32,
    },
    /// Filed `lag` calendar days after the documents are complete.
    Continuous {
        /// Days from complete documents to filing.
        lag: Dist,
    },
}

/// Order of the refund-budget queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaOrder {
    /// First come, first served.
    Fifo,
    /// Exporters on pilot platforms first.
    PilotFirst,
    /// By processing class, I first.
    Class,
}

/// The monthly refund budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quota {
    /// CNY for each calendar month, January first (one amount written in the
    /// scenario is repeated twelve times). A month of 0 pays nothing.
    pub monthly: [f64; 12],
    /// Queue order.
    pub order: QuotaOrder,
}

impl Quota {
    /// The average monthly amount (CNY).
    pub fn mean_monthly(&self) -> f64 {
        self.monthly.iter().sum::<f64>() / 12.0
    }
}

/// The refund-speed policy (MODEL.md §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Display name.
    pub name: String,
    /// Processing class (1–4) of each actual class.
    pub class_treatment: [u8; 4],
    /// Days to complete documents.
    pub docs: Dist,
    /// Filing rule.
    pub filing: Filing,
    /// Review working days by processing class.
    pub review: [Dist; 4],
    /// Verification-hold probability by processing class.
    pub verification_prob: [f64; 4],
    /// Verification-hold length, calendar days.
    pub verification_days: Dist,
    /// Denial probability by actual class.
    pub denial_prob: [f64; 4],
    /// Treasury working days.
    pub treasury: Dist,
    /// The refund budget, if any.
    pub quota: Option<Quota>,
}

/// Calendar settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalendarSpec {
    /// Which weekdays work.
    pub working_days: WorkingDays,
    /// The official calendar file, or the shipped one.
    pub file: String,
    /// Official holidays and make-up workdays.
    #[serde(skip)]
    pub official: Vec<(NaiveDate, DayKind)>,
    /// Extra closures.
    pub holidays: Vec<(NaiveDate, NaiveDate)>,
    /// Extra make-up workdays.
    pub workdays: Vec<NaiveDate>,
}

/// Rates, seasonality and demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Economy {
    /// Exporters' cost of capital, per year.
    pub opportunity_rate: f64,
    /// Cost of public funds, per year.
    pub gov_rate: f64,
    /// Monthly factors, normalised to mean 1.
    pub season: [f64; 12],
    /// Sigma of the path-level lognormal demand factor.
    pub demand_sigma: f64,
    /// A fixed demand factor for every path (a stress year); `demand_sigma` is
    /// then ignored. `None`: drawn from the lognormal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand_factor: Option<f64>,
}

/// An export sector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sector {
    /// Short name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// VAT refund rate.
    pub refund_rate: f64,
    /// Probability of a drawn exporter being in it.
    pub share: f64,
}

/// A platform (or comparison group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Platform {
    /// Short name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// Whether it is a 1+7 pilot platform.
    pub pilot: bool,
    /// Exporters drawn.
    pub exporters: u32,
    /// Median annual exports, CNY.
    pub export_median: f64,
    /// Lognormal sigma of annual exports.
    pub export_sigma: f64,
    /// Share of trading firms.
    pub trading_share: f64,
    /// Class probabilities I–IV.
    pub class_mix: [f64; 4],
}

/// Shipment frequency rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentRate {
    /// At the platform median.
    pub base: f64,
    /// Size elasticity.
    pub elasticity: f64,
    /// Lower clamp.
    pub min: f64,
    /// Upper clamp.
    pub max: f64,
}

/// Exporter behaviour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExporterSpec {
    /// Shipments per year.
    pub shipments_per_year: ShipmentRate,
    /// Sigma of the per-shipment value multiplier.
    pub shipment_value_sigma: f64,
    /// Manufacturers' cash share of the refund.
    pub manufacturer_cash_share: Dist,
}

/// A mechanism, as named in `finance.order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Refund turnover pool.
    Turnover,
    /// Guarantee pool.
    Guarantee,
    /// Credit loans.
    Credit,
    /// Foreign-trade service company advances.
    Service,
}

/// When claims ask for financing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// On `t0`.
    Declared,
    /// On `t2`.
    Filed,
    /// On `t3`, if not denied.
    Approved,
}

/// `[finance]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finance {
    /// Offer order.
    pub order: Vec<Mechanism>,
    /// Request day.
    pub trigger: Trigger,
}

/// `[pools.turnover]` (MODEL.md §6.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnoverSpec {
    /// Capital K.
    pub capital: f64,
    /// Advance share of the refund.
    pub advance_ratio: f64,
    /// Working days from request to cash.
    pub lag: i32,
    /// Processing classes served (index 0 = class I).
    pub eligible: [bool; 4],
    /// Outstanding cap per exporter.
    pub max_per_exporter: Option<f64>,
    /// One-off fee share.
    pub fee_flat: f64,
    /// Annual fee rate.
    pub fee_rate: f64,
    /// Whether fees revolve into the pool.
    pub fees_to_pool: bool,
    /// Loss share on denial.
    pub loss_given_denial: f64,
    /// Whether requests wait (fifo) or fall through (none).
    pub queue_fifo: bool,
    /// Longest wait, calendar days.
    pub max_wait_days: i32,
}

/// `[pools.guarantee]` (MODEL.md §6.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GuaranteeSpec {
    /// Fund G.
    pub capital: f64,
    /// Leverage L.
    pub leverage: f64,
    /// Loan share of the refund.
    pub loan_to_refund: f64,
    /// Working days from request to cash.
    pub lag: i32,
    /// Bank interest, per year.
    pub rate: f64,
    /// Guarantee fee, per year.
    pub guarantee_fee: f64,
    /// Processing classes served.
    pub eligible: [bool; 4],
    /// Loss share on denial.
    pub loss_given_denial: f64,
    /// The pool's share of a loss.
    pub loss_share: f64,
}

/// `[pools.credit]` (MODEL.md §6.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreditSpec {
    /// Line as a share of annual exports.
    pub line_share: f64,
    /// Line cap.
    pub line_cap: Option<f64>,
    /// Interest, per year.
    pub rate: f64,
    /// Risk-compensation fund C.
    pub risk_fund: f64,
    /// Fund leverage.
    pub fund_leverage: f64,
    /// The fund's share of a loss.
    pub loss_share: f64,
    /// Loss given default.
    pub lgd: f64,
    /// Processing classes served.
    pub eligible: [bool; 4],
}

/// `[pools.service]` (MODEL.md §6.4): a private foreign-trade service company.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceSpec {
    /// The company's own capital S for advances.
    pub capital: f64,
    /// Advance share of the refund.
    pub advance_ratio: f64,
    /// Working days from request to cash.
    pub lag: i32,
    /// Fee per year outstanding (calendar days from cash to refund).
    pub fee_rate: f64,
    /// One-off fee share of the advance.
    pub fee_flat: f64,
    /// Only exporters with annual exports at most this are clients (`None`: no limit).
    pub client_max_exports: Option<f64>,
    /// Probability that such an exporter is a client.
    pub client_share: f64,
    /// Processing classes served (index 0 = class I).
    pub eligible: [bool; 4],
    /// Loss share on denial.
    pub loss_given_denial: f64,
}

/// `[credit_risk]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditRisk {
    /// Annual PD by actual class.
    pub pd_by_class: [f64; 4],
    /// Systematic correlation.
    pub rho: f64,
    /// Sector correlation.
    pub sector_rho: f64,
}

/// An input file and its sha256, for the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// Hex sha256 of the contents.
    pub sha256: String,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// English title.
    pub title: String,
    /// Chinese title.
    pub title_zh: String,
    /// First measured day.
    pub start_date: NaiveDate,
    /// Unmeasured warm-up days.
    pub warmup_days: i32,
    /// Measured days.
    pub horizon_days: i32,
    /// Monte Carlo paths.
    pub paths: u32,
    /// Master seed.
    pub seed: u64,
    /// Calendar.
    pub calendar: CalendarSpec,
    /// Economy.
    pub economy: Economy,
    /// Sectors.
    pub sectors: Vec<Sector>,
    /// Platforms.
    pub platforms: Vec<Platform>,
    /// Exporter behaviour.
    pub exporters: ExporterSpec,
    /// Exporters loaded from a file, if `population.file` is set.
    #[serde(skip)]
    pub population: Option<Vec<ExporterRow>>,
    /// The population file, if any.
    pub population_file: Option<String>,
    /// Refund-speed policy.
    pub policy: Policy,
    /// Mechanism order and trigger.
    pub finance: Finance,
    /// Turnover pool, if enabled.
    pub turnover: Option<TurnoverSpec>,
    /// Guarantee pool, if enabled.
    pub guarantee: Option<GuaranteeSpec>,
    /// Credit loans, if enabled.
    pub credit: Option<CreditSpec>,
    /// Default model, if any.
    pub credit_risk: Option<CreditRisk>,
    /// Service company advances, if enabled.
    pub service: Option<ServiceSpec>,
    /// Files read, with their sha256.
    pub inputs: Vec<InputFile>,
}

impl Scenario {
    /// Loads scenario files merged left to right, then `--set` overrides.
    pub fn load(files: &[PathBuf], sets: &[String]) -> Result<Scenario, ScenarioError> {
        Self::from_texts(read_files(files)?, sets)
    }

    /// The merged, unvalidated tree of scenario files and `--set` overrides (for
    /// reading a value as written, e.g. a lever's current setting).
    pub fn tree(files: &[PathBuf], sets: &[String]) -> Result<tree::Node, ScenarioError> {
        build::merged_tree(read_files(files)?, sets)
    }

    /// Builds a scenario from `(name, text, directory for relative paths)` sources.
    pub fn from_texts(
        files: Vec<(String, String, PathBuf)>,
        sets: &[String],
    ) -> Result<Scenario, ScenarioError> {
        build::build(files, sets)
    }

    /// Parses one TOML text (no files, no `--set`), resolving paths against `.`.
    pub fn parse_str(text: &str) -> Result<Scenario, ScenarioError> {
        build::build(
            vec![("<text>".into(), text.into(), PathBuf::from("."))],
            &[],
        )
    }

    /// Total number of exporters.
    pub fn n_exporters(&self) -> usize {
        match &self.population {
            Some(rows) => rows.len(),
            None => self.platforms.iter().map(|p| p.exporters as usize).sum(),
        }
    }

    /// Processing class (0-based) of an actual class (0-based).
    #[inline]
    pub fn processing_class(&self, class0: usize) -> usize {
        self.policy.class_treatment[class0] as usize - 1
    }
}

/// Reads scenario files as `(name, text, directory for relative paths)`.
fn read_files(files: &[PathBuf]) -> Result<Vec<(String, String, PathBuf)>, ScenarioError> {
    let mut texts = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(t) => texts.push((f.display().to_string(), t, base_dir(f))),
            Err(e) => problems.push(Problem {
                location: f.display().to_string(),
                key: String::new(),
                message: if e.kind() == std::io::ErrorKind::InvalidData {
                    "is not UTF-8 text; save it as UTF-8 (TOML files must be UTF-8)".to_string()
                } else {
                    format!("cannot read the scenario file ({e}); check the path")
                },
            }),
        }
    }
    if problems.is_empty() {
        Ok(texts)
    } else {
        Err(ScenarioError { problems })
    }
}

fn base_dir(f: &Path) -> PathBuf {
    f.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

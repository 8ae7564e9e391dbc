//! refundsim — a Monte Carlo simulator of export VAT-refund liquidity.
//!
//! The design of record is MODEL.md (shared with the team); module by module:
//! [`scenario`] loads and validates scenario files, [`calendar`] does working-day
//! arithmetic, [`population`] draws exporters, [`timeline`] draws each claim's path
//! through the tax bureau, [`engine`] runs paths in parallel ([`finance`] offers
//! claims to the liquidity mechanisms of [`mechanism`], which book into
//! [`ledger`]; [`defaults`] draws exporter defaults), [`stats`] summarises
//! over paths and [`report`] builds the output files, which [`output`] writes
//! (atomically, formula-safe CSV, `--force` only over refundsim's own files);
//! [`compare`], [`sweep`], [`size`] and [`sensitivity`] answer questions with many runs
//! ([`lever`] moves one numeric key, [`study`] keeps their resumable directories);
//! [`footprint`] estimates the memory a run needs before it starts. Nothing here
//! prints or exits:
//! the binary (`src/main.rs`) does that.

pub mod brief;
pub mod budget;
pub mod calendar;
pub mod calibrate;
pub mod compare;
pub mod defaults;
pub mod dist;
pub mod engine;
pub mod explain;
pub mod finance;
pub mod footprint;
pub mod ledger;
pub mod lever;
pub mod manifest;
pub mod mechanism;
pub mod metrics;
pub mod naming;
pub mod output;
pub mod population;
pub mod records;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
pub mod shard;
pub mod size;
pub mod stats;
pub mod study;
pub mod sweep;
pub mod timeline;

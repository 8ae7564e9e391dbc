//! `manifest.json` of a run (MODEL.md §11) as one typed struct, written by
//! [`crate::report`] and read back by `merge` ([`crate::shard`]).
//!
//! The fields are declared in the order they have always been written, and
//! serde_json writes a struct's fields in declaration order, so the bytes are the
//! same as the earlier hand-built JSON. A field is added at the end of its group
//! and, when it is not always present, with `skip_serializing_if` so that older
//! manifests keep their exact bytes. The resolved scenario stays a JSON value: the
//! [`Scenario`] is written, never read back (a scenario is only ever built from
//! TOML, through validation); a reader that needs a scenario key reads it from
//! the value.

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

/// An input file and its sha256, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Path as given.
    pub path: String,
    /// Hex sha256 of the contents.
    pub sha256: String,
}

/// `manifest.json` of a run folder (`kind: "run"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Always `run`.
    pub kind: String,
    /// The refundsim version that wrote it.
    pub refundsim_version: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// Title (English).
    pub title: String,
    /// Title (Chinese).
    pub title_zh: String,
    /// Which exporters the totals cover (English).
    pub population: String,
    /// Which exporters the totals cover (Chinese).
    pub population_zh: String,
    /// Input files and their sha256.
    pub inputs: Vec<Input>,
    /// Master seed.
    pub seed: u64,
    /// Paths summarised.
    pub paths: u64,
    /// Worker threads used (does not change results).
    pub threads: u64,
    /// The generator's name (MODEL.md §8).
    pub generator: String,
    /// Claims simulated, warm-up included, over all paths.
    pub claims_simulated: u64,
    /// The model's warnings.
    pub warnings: Vec<String>,
    /// Wall-clock seconds of the simulation (to the millisecond).
    pub elapsed_seconds: f64,
    /// The command line.
    pub command: Vec<String>,
    /// The fully resolved scenario.
    pub scenario: serde_json::Value,
}

impl RunManifest {
    /// The manifest of a run of `s` over `paths` paths.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        s: &Scenario,
        warnings: &[String],
        paths: u64,
        claims_simulated: u64,
        threads: usize,
        elapsed_seconds: f64,
        command: &[String],
    ) -> Self {
        let (population, population_zh) = crate::naming::population(s);
        RunManifest {
            kind: "run".into(),
            refundsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: s.name.clone(),
            title: s.title.clone(),
            title_zh: s.title_zh.clone(),
            population,
            population_zh,
            inputs: s
                .inputs
                .iter()
                .map(|i| Input {
                    path: i.path.clone(),
                    sha256: i.sha256.clone(),
                })
                .collect(),
            seed: s.seed,
            paths,
            threads: threads as u64,
            generator: crate::rng::GENERATOR.into(),
            claims_simulated,
            warnings: warnings.to_vec(),
            elapsed_seconds: (elapsed_seconds * 1000.0).round() / 1000.0,
            command: command.to_vec(),
            scenario: serde_json::to_value(s).expect("a scenario serialises"),
        }
    }

    /// The file's text (pretty JSON and a final newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serialisable") + "\n"
    }

    /// Reads a manifest's text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

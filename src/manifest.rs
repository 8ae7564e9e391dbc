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
/// Shard `index` of `count`, numbered from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, 1 ..= count.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One axis of the grid: a key and its values (TOML text).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// Dotted scenario key.
    pub key: String,
    /// Values, as TOML text.
    pub values: Vec<String>,
}

/// The two fields every study manifest (`sweep`, `sweep-shard`, `size`,
/// `sensitivity`, ...) has, read to decide whether a folder is resumed; other
/// fields are ignored, so it reads any of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct StudyHeader {
    /// The manifest's kind; `None` when it has none.
    #[serde(default)]
    pub kind: Option<String>,
    /// The study's fingerprint (empty when it has none, as in a run's).
    #[serde(default)]
    pub fingerprint: String,
}

impl StudyHeader {
    /// Reads the header of `text`; `None` when it is not a JSON object.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// `manifest.json` of a sweep folder (`kind: "sweep"`) or of one shard of a
/// sweep (`kind: "sweep-shard"`, with `shard` and `sweep_fingerprint` appended,
/// which `merge` removes again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// `sweep` or `sweep-shard`.
    pub kind: String,
    /// The refundsim version that wrote it.
    pub refundsim_version: String,
    /// The scenario's name (of the first point).
    pub scenario_name: String,
    /// Title (English).
    pub title: String,
    /// Title (Chinese).
    pub title_zh: String,
    /// Which exporters the totals cover (English).
    pub population: String,
    /// Which exporters the totals cover (Chinese).
    pub population_zh: String,
    /// The scenario files.
    pub files: Vec<std::path::PathBuf>,
    /// The `--set` overrides.
    pub sets: Vec<String>,
    /// The grid's axes.
    pub grid: Vec<Axis>,
    /// Number of grid points.
    pub points: u64,
    /// Master seed.
    pub seed: u64,
    /// Paths per point.
    pub paths: u64,
    /// Input files and their sha256.
    pub inputs: Vec<Input>,
    /// The generator's name (MODEL.md §8).
    pub generator: String,
    /// The study's fingerprint (for a shard, the sweep's plus `/shard-I-of-N`).
    pub fingerprint: String,
    /// The `--exceed` thresholds, as given (absent in manifests older than it).
    #[serde(default)]
    pub exceed: Vec<String>,
    /// Whether every point (of the shard) is done.
    pub complete: bool,
    /// Which shard (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The whole sweep's fingerprint (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_fingerprint: Option<String>,
}

impl SweepManifest {
    /// The file's text (pretty JSON and a final newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serialisable") + "\n"
    }

    /// Reads a manifest's text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep_manifest(shard: Option<Shard>) -> SweepManifest {
        SweepManifest {
            kind: if shard.is_some() {
                "sweep-shard"
            } else {
                "sweep"
            }
            .into(),
            refundsim_version: "0.1.0".into(),
            scenario_name: "s".into(),
            title: "T".into(),
            title_zh: "标题".into(),
            population: "all".into(),
            population_zh: "全部".into(),
            files: vec!["a.toml".into()],
            sets: vec!["x=1".into()],
            grid: vec![Axis {
                key: "k".into(),
                values: vec!["1".into(), "2".into()],
            }],
            points: 2,
            seed: 7,
            paths: 4,
            inputs: vec![Input {
                path: "a.toml".into(),
                sha256: "ab".into(),
            }],
            generator: "g".into(),
            fingerprint: "f".into(),
            exceed: vec!["m<=1".into()],
            complete: true,
            shard,
            sweep_fingerprint: shard.map(|_| "sf".into()),
        }
    }

    #[test]
    fn a_written_sweep_manifest_reads_back_equal_in_key_order() {
        for shard in [None, Some(Shard { index: 2, count: 3 })] {
            let m = sweep_manifest(shard);
            let text = m.to_json();
            assert_eq!(SweepManifest::from_json(&text).unwrap(), m);
            let keys: Vec<String> = serde_json::from_str::<serde_json::Map<_, _>>(&text)
                .unwrap()
                .keys()
                .cloned()
                .collect();
            let mut want = vec![
                "kind",
                "refundsim_version",
                "scenario_name",
                "title",
                "title_zh",
                "population",
                "population_zh",
                "files",
                "sets",
                "grid",
                "points",
                "seed",
                "paths",
                "inputs",
                "generator",
                "fingerprint",
                "exceed",
                "complete",
            ];
            if shard.is_some() {
                want.extend(["shard", "sweep_fingerprint"]);
            }
            assert_eq!(keys, want);
        }
    }

    #[test]
    fn a_sweep_manifest_older_than_exceed_still_reads() {
        let mut v = serde_json::to_value(sweep_manifest(None)).unwrap();
        v.as_object_mut().unwrap().remove("exceed");
        let m: SweepManifest = serde_json::from_value(v).unwrap();
        assert!(m.exceed.is_empty());
        assert_eq!(m.shard, None);
    }

    #[test]
    fn a_study_header_reads_any_manifest_and_nothing_else() {
        let h = StudyHeader::from_json(r#"{"kind":"size","x":1,"fingerprint":"f"}"#).unwrap();
        assert_eq!(
            (h.kind.as_deref(), h.fingerprint.as_str()),
            (Some("size"), "f")
        );
        let run = StudyHeader::from_json(r#"{"kind":"run","seed":1}"#).unwrap();
        assert_eq!(
            (run.kind.as_deref(), run.fingerprint.as_str()),
            (Some("run"), "")
        );
        assert_eq!(StudyHeader::from_json("[1]"), None);
        assert_eq!(StudyHeader::from_json("{\"kind\":"), None);
    }
}

//! What a run is called and whom its numbers cover: the default output folder and
//! the title of a stack of scenario files, and the population a run measures.
//!
//! **Stacks.** `run BASE.toml OVERLAY.toml…` merges the files left to right. The
//! *base* is the last file that sets `scenario.name` (the first file if none
//! does); every file after it is an overlay. With overlays, the run's name — and
//! so its default folder — is the base's name followed by `+` and each overlay's
//! file stem (`guizhou-2016+full-package`): stems are what the user typed, safe in
//! a path and stable when an overlay's text changes. Its title is the base's title
//! followed by `, with ` and each overlay's `policy.name` (or its file stem when it
//! sets none), joined by ` and ` (Chinese: `＋` between them): names are what a
//! reader of the brief understands. A `--set scenario.name=…`, `scenario.title=…`
//! or `scenario.title_zh=…` wins over the derived value.
//!
//! **Population.** Every number of a run covers every exporter of the scenario,
//! pilot platforms and comparison groups alike (MODEL.md §6: non-pilot platforms
//! are comparison groups). [`population`] says so in words for headlines;
//! [`pilot_population`] names the 1+7 group (the pilot platforms together), which
//! headlines lead with.

use std::path::{Path, PathBuf};

use crate::scenario::Scenario;

/// The value of `section.key` as a string in a TOML text, if set.
fn toml_str(text: &str, section: &str, key: &str) -> Option<String> {
    let doc = toml_edit::Document::parse(text).ok()?;
    doc.get(section)?
        .get(key)?
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
}

/// Whether `--set` overrides `key`.
fn set_by_user(sets: &[String], key: &str) -> bool {
    sets.iter()
        .any(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == key))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// The overlays of a stack: the files after the last one that sets
/// `scenario.name`, with `(file stem, label)` — label = its `policy.name`, else
/// its stem. Unreadable files count as overlays named by their stem (loading has
/// already checked them).
pub fn overlays(files: &[PathBuf]) -> Vec<(String, String)> {
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let base = texts
        .iter()
        .rposition(|t| toml_str(t, "scenario", "name").is_some())
        .unwrap_or(0);
    files
        .iter()
        .zip(&texts)
        .skip(base + 1)
        .map(|(f, t)| {
            let st = stem(f);
            let label = toml_str(t, "policy", "name").unwrap_or_else(|| st.clone());
            (st, label)
        })
        .collect()
}

/// Names and titles `s` (loaded from `files` with `sets`) after its whole stack.
pub fn name_stack(s: &mut Scenario, files: &[PathBuf], sets: &[String]) {
    let over = overlays(files);
    if over.is_empty() {
        return;
    }
    let base_name = s.name.clone();
    if !set_by_user(sets, "scenario.name") {
        for (st, _) in &over {
            s.name = format!("{}+{st}", s.name);
        }
    }
    let labels: Vec<&str> = over.iter().map(|o| o.1.as_str()).collect();
    if !set_by_user(sets, "scenario.title") {
        let base = if s.title.is_empty() {
            base_name
        } else {
            s.title.clone()
        };
        s.title = format!("{base}, with {}", labels.join(" and "));
    }
    if !set_by_user(sets, "scenario.title_zh") && !s.title_zh.is_empty() {
        s.title_zh = format!("{}＋{}", s.title_zh, labels.join("＋"));
    }
}

/// The population a run's numbers cover, in English and Chinese, e.g. "all
/// exporters: 8 pilot platforms + comparison group (rest-of-guizhou)".
pub fn population(s: &Scenario) -> (String, String) {
    let pilots = s.platforms.iter().filter(|p| p.pilot).count();
    let others: Vec<&str> = s
        .platforms
        .iter()
        .filter(|p| !p.pilot)
        .map(|p| p.name.as_str())
        .collect();
    let others_zh: Vec<&str> = s
        .platforms
        .iter()
        .filter(|p| !p.pilot)
        .map(|p| {
            if p.name_zh.is_empty() {
                p.name.as_str()
            } else {
                p.name_zh.as_str()
            }
        })
        .collect();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (pilots, others.len()) {
        (_, 0) => (
            format!("exporters on {}", plural(pilots, "pilot platform")),
            format!("{pilots}个试点平台的出口企业"),
        ),
        (0, n) => (
            format!(
                "{} only, no pilot platform ({})",
                plural(n, "comparison group"),
                others.join(", ")
            ),
            format!("仅对照组，无试点平台（{}）", others_zh.join("、")),
        ),
        (_, n) => (
            format!(
                "all exporters: {} + {} ({})",
                plural(pilots, "pilot platform"),
                if n == 1 {
                    "comparison group".to_string()
                } else {
                    plural(n, "comparison group")
                },
                others.join(", ")
            ),
            format!(
                "全部出口企业：{pilots}个试点平台＋对照组（{}）",
                others_zh.join("、")
            ),
        ),
    }
}

/// The population of the 1+7 group, in English and Chinese, e.g. "1+7: exporters
/// on the 8 pilot platforms" — the group headlines lead with (MODEL.md §7).
pub fn pilot_population(s: &Scenario) -> (String, String) {
    let pilots = s.platforms.iter().filter(|p| p.pilot).count();
    (
        format!(
            "1+7: exporters on the {pilots} pilot platform{}",
            if pilots == 1 { "" } else { "s" }
        ),
        format!("1+7：{pilots}个试点平台的出口企业"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok/tiny.toml")
    }

    fn load(files: &[PathBuf], sets: &[&str]) -> Scenario {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let mut s = Scenario::load(files, &sets).unwrap();
        name_stack(&mut s, files, &sets);
        s
    }

    #[test]
    fn population_names_pilots_and_comparison_groups() {
        let s = load(&[tiny()], &[]);
        assert_eq!(
            population(&s).0,
            "all exporters: 1 pilot platform + comparison group (rest)"
        );
        assert_eq!(
            population(&s).1,
            "全部出口企业：1个试点平台＋对照组（其他地区）"
        );
        let s = load(&[tiny()], &["platform.rest.pilot=true"]);
        assert_eq!(population(&s).0, "exporters on 2 pilot platforms");
        let s = load(&[tiny()], &["platform.gui-an.pilot=false"]);
        assert!(population(&s).0.starts_with("2 comparison groups only"));
    }

    #[test]
    fn an_untitled_base_is_titled_by_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(tiny()).unwrap();
        let untitled: String = text
            .lines()
            .filter(|l| !l.starts_with("title"))
            .map(|l| format!("{l}\n"))
            .collect();
        let (base, over) = (dir.path().join("base.toml"), dir.path().join("fast.toml"));
        std::fs::write(&base, untitled).unwrap();
        std::fs::write(&over, "[policy]\nreview = [1, 1, 1, 1]\n").unwrap();
        let s = load(&[base.clone(), over.clone()], &[]);
        assert_eq!(s.name, "tiny+fast");
        assert_eq!(s.title, "tiny, with fast");
        // Without overlays nothing changes.
        let s = load(&[base], &[]);
        assert_eq!((s.name.as_str(), s.title.as_str()), ("tiny", ""));
    }
}

//! `refundsim::brief`: briefs of run, comparison and sweep directories as
//! Markdown, self-contained HTML and an xlsx workbook read back with calamine.
//!
//! Run directories come from the real binary (a few paths, well under a second);
//! the comparison and sweep fixtures in tests/fixtures/brief/ are small hand-made
//! directories in the exact output formats, with known numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use refundsim::brief::{BriefError, Lang, brief};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the real binary in the repository root.
fn refundsim(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_refundsim"))
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .expect("the refundsim binary runs");
    assert!(
        out.status.success(),
        "refundsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real run of the 2016 scenario with `paths` paths, optionally with all three
/// mechanisms enabled.
fn real_run(tmp: &Path, name: &str, pools: bool) -> PathBuf {
    let out = tmp.join(name);
    let mut args = vec![
        "run",
        "scenarios/guizhou-2016.toml",
        "--paths",
        "6",
        "--threads",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    if pools {
        args.extend([
            "--set",
            "pools.turnover.capital=1e8",
            "--set",
            "pools.guarantee.capital=5e7",
            "--set",
            "pools.credit.risk_fund=3e7",
        ]);
    }
    refundsim(&args);
    out
}

/// Copies a fixture directory into a temporary directory (briefs are written
/// into the directory they describe; the fixtures stay clean).
fn fixture(tmp: &Path, name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dest = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &dest);
            } else {
                std::fs::copy(e.path(), dest).unwrap();
            }
        }
    }
    let dest = tmp.join(name);
    copy(
        &manifest_dir().join("tests/fixtures/brief").join(name),
        &dest,
    );
    dest
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// The mean of `metric` in a summary.csv.
fn summary_mean(dir: &Path, metric: &str) -> f64 {
    let text = read(&dir.join("summary.csv"));
    let line = text
        .lines()
        .find(|l| l.split(',').next() == Some(metric))
        .unwrap();
    line.split(',').nth(2).unwrap().parse().unwrap()
}

/// All cells of a sheet.
fn sheet(path: &Path, name: &str) -> calamine::Range<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn sheet_names(path: &Path) -> Vec<String> {
    let wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.sheet_names()
}

/// The row of a sheet whose cell in some column is the text `key`.
fn row_with<'a>(r: &'a calamine::Range<Data>, key: &str) -> &'a [Data] {
    r.rows()
        .find(|row| row.iter().any(|c| matches!(c, Data::String(s) if s == key)))
        .unwrap_or_else(|| panic!("no row with {key:?}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

/// Header cells of the briefing tables in Markdown (the first row of each table),
/// up to the provenance footer (a record of file names, hashes and commands).
fn md_headers(md: &str) -> Vec<String> {
    let body = md.split("\n---\n").next().unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with('|') && i > 0 && !lines[i - 1].starts_with('|') {
            out.extend(
                l.trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
        }
    }
    out
}

fn has_cjk(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3000}'..='\u{303F}').contains(&c))
}

#[test]
fn run_brief_writes_three_files_and_the_workbook_holds_summary_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = real_run(tmp.path(), "pools", true);
    let files = brief(&dir, Lang::Both).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    // The three briefs, then one SVG file per chart of brief.html.
    assert_eq!(names[..3], ["brief.md", "brief.html", "brief.xlsx"]);
    let html = read(&dir.join("brief.html"));
    assert_eq!(names.len() - 3, html.matches("<svg").count(), "{names:?}");
    for (i, n) in names[3..].iter().enumerate() {
        assert_eq!(n, &format!("brief-fig{}.svg", i + 1));
    }
    for f in &files {
        assert_eq!(f.parent().unwrap(), dir);
        assert!(std::fs::metadata(f).unwrap().len() > 1000, "{f:?} is empty");
    }
    // No temporary file is left behind.
    for e in std::fs::read_dir(&dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.contains("partial"), "left over: {n}");
    }

    let xlsx = dir.join("brief.xlsx");
    assert_eq!(
        sheet_names(&xlsx),
        [
            "要点 Key findings",
            "资金占用 Tied up",
            "融资机制 Mechanisms",
            "风险 Risk",
            "分平台 By platform",
            "分类别 By class",
            "数据来源 provenance",
        ]
    );
    // The tied-up table: the mean is stored as a number equal to summary.csv's.
    let t = sheet(&xlsx, "资金占用 Tied up");
    for metric in ["tied_up_net_avg", "days_to_refund_avg", "carrying_cost"] {
        let row = row_with(&t, metric);
        let expected = summary_mean(&dir, metric);
        match &row[1] {
            Data::Float(v) => assert!(close(*v, expected), "{metric}: {v} vs {expected}"),
            other => panic!("{metric}: mean is not a number: {other:?}"),
        }
    }
    // Header rows in both languages.
    let header: Vec<String> = t
        .rows()
        .nth(2)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let header_en: Vec<String> = t
        .rows()
        .nth(3)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[0], "指标");
    assert_eq!(header_en[0], "Indicator");
    // Released capital = gross − net, per path, summarised.
    let m = sheet(&xlsx, "融资机制 Mechanisms");
    let released = row_with(&m, "tied_up_gross_avg - tied_up_net_avg");
    let expected = summary_mean(&dir, "tied_up_gross_avg") - summary_mean(&dir, "tied_up_net_avg");
    match &released[1] {
        Data::Float(v) => assert!((v - expected).abs() <= 1e-6 * expected.abs()),
        other => panic!("released is not a number: {other:?}"),
    }
    // Provenance: the scenario file and its sha256 from the manifest.
    let p = sheet(&xlsx, "数据来源 provenance");
    let sha_row = row_with(&p, "scenarios/guizhou-2016.toml");
    assert_eq!(sha_row[2].to_string().len(), 64);

    let md = read(&dir.join("brief.md"));
    for needle in [
        "表1 营运资金占用与到账天数 Table 1. Working capital tied up and days to cash",
        "周转池垫付额（每年） Turnover pool advances per year",
        "担保贷款发放额（每年） Guaranteed loans per year",
        "外贸信用贷提款额（每年） Foreign-trade credit drawn per year",
        "周转池出现资金不足的概率",
        "99%分位（百年一遇） P99 (1 year in 100)",
        "贵安新区 gui-an",
        "数据来源 Provenance",
        "Xoshiro256PlusPlus",
        " ± ",
        " 亿元 / CNY ",
    ] {
        assert!(md.contains(needle), "brief.md lacks {needle:?}");
    }
}

#[test]
fn html_is_self_contained_with_inline_svg_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = real_run(tmp.path(), "pools", true);
    brief(&dir, Lang::Both).unwrap();
    let html = read(&dir.join("brief.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Fan chart of tied-up capital and one chart per pool series.
    assert_eq!(html.matches("<svg").count(), 4, "charts");
    assert!(html.contains("亿元 (CNY 100 mn)"), "y axis in 亿元");
    assert!(html.contains("Noto Sans CJK SC"));
    let lower = html.to_lowercase();
    for bad in [
        "http://", "https://", "<link", "<script", "src=", "@import", "url(", "href=",
    ] {
        assert!(
            !lower.contains(bad),
            "brief.html has an external reference: {bad}"
        );
    }
}

#[test]
fn run_without_mechanisms_says_so_and_draws_one_band() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = real_run(tmp.path(), "plain", false);
    brief(&dir, Lang::En).unwrap();
    let md = read(&dir.join("brief.md"));
    assert!(md.contains("No financing mechanism"));
    assert!(!md.contains("Turnover pool advances"));
    assert!(!md.contains("Risk: losses"));
    let html = read(&dir.join("brief.html"));
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("gross = net"));
    let names = sheet_names(&dir.join("brief.xlsx"));
    assert_eq!(
        names,
        [
            "Key findings",
            "Tied up",
            "By platform",
            "By class",
            "provenance"
        ]
    );
}

#[test]
fn zh_and_en_briefs_do_not_show_each_others_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let run = real_run(tmp.path(), "pools", true);
    let mut outputs = Vec::new();
    for dir in [
        run,
        fixture(tmp.path(), "compare"),
        fixture(tmp.path(), "sweep"),
    ] {
        brief(&dir, Lang::Zh).unwrap();
        let zh_md = read(&dir.join("brief.md"));
        let zh_html = read(&dir.join("brief.html"));
        let zh_sheets = sheet_names(&dir.join("brief.xlsx"));
        brief(&dir, Lang::En).unwrap();
        let en_md = read(&dir.join("brief.md"));
        let en_html = read(&dir.join("brief.html"));
        let en_sheets = sheet_names(&dir.join("brief.xlsx"));
        outputs.push((dir, zh_md, zh_html, zh_sheets, en_md, en_html, en_sheets));
    }
    for (dir, zh_md, zh_html, zh_sheets, en_md, en_html, en_sheets) in &outputs {
        let (zh_heads, en_heads) = (md_headers(zh_md), md_headers(en_md));
        assert!(!zh_heads.is_empty() && !en_heads.is_empty());
        for h in en_heads
            .iter()
            .filter(|h| h.chars().any(|c| c.is_ascii_alphabetic()))
        {
            assert!(
                !zh_md.contains(h.as_str()),
                "{dir:?}: zh brief.md shows {h:?}"
            );
            assert!(
                !zh_html.contains(h.as_str()),
                "{dir:?}: zh brief.html shows {h:?}"
            );
        }
        for h in zh_heads.iter().filter(|h| has_cjk(h)) {
            assert!(
                !en_md.contains(h.as_str()),
                "{dir:?}: en brief.md shows {h:?}"
            );
        }
        // Chinese headers carry no English words; English pages no Chinese at all.
        for h in &zh_heads {
            assert!(
                !h.chars().any(|c| c.is_ascii_alphabetic()),
                "{dir:?}: zh header {h:?}"
            );
        }
        assert!(!has_cjk(en_md), "{dir:?}: en brief.md has Chinese text");
        assert!(!has_cjk(en_html), "{dir:?}: en brief.html has Chinese text");
        assert!(!zh_md.contains("CNY") && en_md.contains("CNY"));
        assert!(zh_md.contains("亿元") && !en_md.contains("亿元"));
        assert!(zh_sheets.iter().all(|s| has_cjk(s)), "{zh_sheets:?}");
        assert!(en_sheets.iter().all(|s| !has_cjk(s)), "{en_sheets:?}");
    }
}

#[test]
fn compare_brief_shows_baseline_reform_delta_interval_and_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "compare");
    brief(&dir, Lang::Both).unwrap();
    let md = read(&dir.join("brief.md"));
    assert!(md.contains(
        "| 基准 Baseline | 改革后 Reform | 变化（95%置信区间） Change (95% CI) | 相对变化 Relative change | 是否显著 Significant |"
    ));
    // −1亿 with its interval, relative change and verdict, in bold (a key metric).
    assert!(md.contains(
        "| **营运资金占用（扣除融资，日均） Working capital tied up, net of financing, daily average** | **3.00 亿元 / CNY 300 mn** | **2.00 亿元 / CNY 200 mn** | **−1.00 亿元 (−1.10 ~ −0.90) / CNY −100 mn (−110 ~ −90)** | **−33.3%** | **是 yes** |"
    ), "{md}");
    assert!(md.contains(
        "| 不予退税额（每年） Refunds denied per year | 1,000 万元 / CNY 10.0 mn | 1,010 万元 / CNY 10.1 mn | +10.0 万元 (−20.0 ~ 40.0) / CNY +0.100 mn (−0.200 ~ 0.400) | +1.0% | 否 no |"
    ), "{md}");
    // Zero and undefined under both: left out. Mechanism only in the reform: shown.
    assert!(!md.contains("担保贷款发放额（每年）"));
    assert!(!md.contains("担保池资本耗尽概率"));
    assert!(md.contains(
        "| 周转池损失（每年） Turnover pool losses per year | 0 元 / CNY 0 | 200 万元 / CNY 2.00 mn |"
    ));
    assert!(md.contains("改革方案：融资机制释放的营运资金及成本"));
    assert!(md.contains("营运资金占用（扣除融资，日均）：从 3.00 亿元 降至 2.00 亿元"));
    assert!(md.contains("甲平台 alpha"));

    let xlsx = dir.join("brief.xlsx");
    let names = sheet_names(&xlsx);
    assert!(names.contains(&"改革对比 Delta".to_string()), "{names:?}");
    let d = sheet(&xlsx, "改革对比 Delta");
    let row = row_with(&d, "tied_up_net_avg");
    let nums: Vec<f64> = row
        .iter()
        .filter_map(|c| match c {
            Data::Float(v) => Some(*v),
            _ => None,
        })
        .collect();
    // base, reform, delta, ci low, ci high, relative change.
    assert_eq!(nums.len(), 6, "{row:?}");
    for (got, want) in nums
        .iter()
        .zip([3e8, 2e8, -1e8, -1.1e8, -0.9e8, -1.0 / 3.0])
    {
        assert!(close(*got, want), "{got} vs {want}");
    }
    assert!(
        row.iter()
            .any(|c| matches!(c, Data::String(s) if s == "是 yes"))
    );

    let html = read(&dir.join("brief.html"));
    assert!(html.contains("<svg"));
    assert!(html.contains("基准与改革后"));
}

#[test]
fn sweep_brief_pivots_the_grid_and_lists_every_point() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "sweep");
    brief(&dir, Lang::Zh).unwrap();
    let md = read(&dir.join("brief.md"));
    // Rows: capital; columns: advance ratio; cells: tied-up net mean ± half CI.
    let pivot = [
        "| 周转池资本金 ＼ 周转池垫付比例 | 0.5 | 0.8 |",
        "|---|---:|---:|",
        "| 1 亿元 | 2.80 ± 0.10 亿元 | 2.50 ± 0.10 亿元 |",
        "| 2 亿元 | 2.60 ± 0.10 亿元 | 2.30 ± 0.10 亿元 |",
        "| 4 亿元 | 2.40 ± 0.10 亿元 | 2.10 ± 0.10 亿元 |",
    ]
    .join("\n");
    assert!(md.contains(&pivot), "{md}");
    // The long table: every point, key metrics; columns of zeros or blanks left out.
    assert!(
        md.contains("| 组合 | 周转池资本金 | 周转池垫付比例 | 营运资金占用（扣除融资，日均） |")
    );
    assert!(md.contains("| 5 | 4 亿元 | 0.8 | 2.10 ± 0.10 亿元 |"));
    assert!(!md.contains("企业融资成本"));
    assert!(!md.contains("担保池资本耗尽概率"));
    assert!(md.contains("最低的组合是 周转池资本金 = 4 亿元，周转池垫付比例 = 0.8"));

    let xlsx = dir.join("brief.xlsx");
    assert_eq!(
        sheet_names(&xlsx),
        ["要点", "透视表", "全部结果", "数据来源"]
    );
    let p = sheet(&xlsx, "透视表");
    let row = row_with(&p, "2 亿元");
    match (&row[1], &row[3]) {
        (Data::Float(a), Data::Float(b)) => {
            assert!(close(*a, 2.6e8));
            assert!(close(*b, 2.3e8));
        }
        other => panic!("pivot cells are not numbers: {other:?}"),
    }
    let html = read(&dir.join("brief.html"));
    // Curves of tied-up capital, days to cash and fiscal cost against capital.
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains("周转池垫付比例 = 0.8"));
}

#[test]
fn real_compare_and_sweep_directories_brief() {
    let tmp = tempfile::tempdir().unwrap();
    let cmp = tmp.path().join("cmp");
    refundsim(&[
        "compare",
        "scenarios/guizhou-2016.toml",
        "--reform",
        "scenarios/policies/fast-review-2023.toml",
        "--paths",
        "4",
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    brief(&cmp, Lang::Both).unwrap();
    let md = read(&cmp.join("brief.md"));
    assert!(md.contains("营运资金占用（扣除融资，日均）：从"));
    assert!(md.contains("是 yes"));

    let sw = tmp.path().join("sweep");
    refundsim(&[
        "sweep",
        "scenarios/guizhou-2016.toml",
        "--grid",
        "pools.turnover.capital=5e7,2e8",
        "--grid",
        "pools.turnover.advance_ratio=0.5,0.8",
        "--paths",
        "3",
        "--quiet",
        "--out",
        sw.to_str().unwrap(),
    ]);
    brief(&sw, Lang::En).unwrap();
    let md = read(&sw.join("brief.md"));
    assert!(
        md.contains("| Turnover pool capital \\ Turnover advance ratio | 0.5 | 0.8 |"),
        "{md}"
    );
    assert!(md.contains("| CNY 50 mn |"));
}

#[test]
fn a_directory_without_manifest_is_rejected_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not-a-run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("summary.csv"), "metric,unit\n").unwrap();
    let err = brief(&dir, Lang::Both).unwrap_err();
    assert!(matches!(err, BriefError::NoManifest(_)));
    let msg = err.to_string();
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(msg.contains("no manifest.json"), "{msg}");
    assert!(msg.contains("refundsim run"), "the fix: {msg}");
    assert!(!dir.join("brief.md").exists());

    let missing = tmp.path().join("missing");
    let msg = brief(&missing, Lang::Both).unwrap_err().to_string();
    assert!(msg.contains(&missing.display().to_string()) && msg.contains("does not exist"));
}

#[test]
fn bad_manifests_and_files_are_named_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("odd");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("manifest.json"), r#"{"kind": "bench"}"#).unwrap();
    let msg = brief(&dir, Lang::Both).unwrap_err().to_string();
    assert!(
        msg.contains("manifest.json") && msg.contains("\"bench\""),
        "{msg}"
    );

    std::fs::write(dir.join("manifest.json"), r#"{"kind": "run"}"#).unwrap();
    let msg = brief(&dir, Lang::Both).unwrap_err().to_string();
    assert!(msg.contains("summary.csv is missing"), "{msg}");

    std::fs::write(
        dir.join("summary.csv"),
        "metric,unit,mean,std_err,std,min,p5,p50,p95,p99,max\nexports,CNY/yr,lots,,,,,,,,\n",
    )
    .unwrap();
    let msg = brief(&dir, Lang::Both).unwrap_err().to_string();
    assert!(
        msg.contains("summary.csv, line 2") && msg.contains("\"lots\""),
        "{msg}"
    );

    let cmp = fixture(tmp.path(), "compare");
    std::fs::remove_file(cmp.join("delta.csv")).unwrap();
    let msg = brief(&cmp, Lang::Both).unwrap_err().to_string();
    assert!(
        msg.contains("delta.csv is missing") && msg.contains("refundsim compare"),
        "{msg}"
    );
}

#[test]
fn briefs_are_reproducible_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "compare");
    let first: Vec<Vec<u8>> = brief(&dir, Lang::Both)
        .unwrap()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let again: Vec<Vec<u8>> = brief(&dir, Lang::Both)
        .unwrap()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(
        first == again,
        "brief.md, brief.html and brief.xlsx change between runs"
    );
}

#[test]
fn lang_parses_the_cli_values() {
    assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
    assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
    assert_eq!("both".parse::<Lang>(), Ok(Lang::Both));
    assert!("fr".parse::<Lang>().unwrap_err().contains("zh"));
    assert_eq!(Lang::default(), Lang::Both);
}

/// Runs the real binary and returns (exit code, stdout, stderr).
fn refundsim_status(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_refundsim"))
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .expect("the refundsim binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The Markdown table rows (lines starting with `|`) following the caption that contains `caption`.
fn md_table<'a>(md: &'a str, caption: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = md.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("**") && l.contains(caption))
        .unwrap_or_else(|| panic!("no table {caption:?} in\n{md}"));
    lines[at + 1..]
        .iter()
        .skip_while(|l| l.is_empty())
        .take_while(|l| l.starts_with('|'))
        .copied()
        .collect()
}

#[test]
fn comparison_brief_leads_with_the_ranking_from_effectiveness_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "compare3");
    brief(&dir, Lang::En).unwrap();
    let md = read(&dir.join("brief.md"));
    // The first section is the ranking, reforms ordered by working capital
    // released (the file lists them fast-review, pool, big-pool).
    let first = md
        .find("## 1\\. Cost-effectiveness ranking")
        .expect("ranking section");
    assert!(first < md.find("## 2\\. Baseline vs reform").unwrap());
    let rows = md_table(&md, "Cost-effectiveness of the reforms");
    let order: Vec<&str> = rows[2..]
        .iter()
        .map(|r| {
            r.trim_matches('|')
                .split(" | ")
                .next()
                .unwrap()
                .trim()
                .trim_matches('*')
        })
        .collect();
    assert_eq!(order, ["big-pool", "pool", "fast-review"], "{rows:#?}");
    // Numbers from effectiveness.csv with their intervals, 3 significant digits.
    assert!(rows[2].contains("CNY 150 mn (140 ~ 160)"), "{}", rows[2]);
    assert!(rows[3].contains("66.7 (50.0 ~ 80.0)"), "{}", rows[3]);
    // A ratio the file leaves empty is shown as —.
    assert!(rows[4].contains("| — |"), "{}", rows[4]);
    // Said plainly for the one reform whose net fiscal cost (CNY 25 mn) exceeds
    // the carrying cost it saves (CNY 10.5 mn), and for no other.
    let sentence = "costs more than it saves the exporters";
    assert_eq!(
        md.matches(&format!("big-pool {sentence}")).count(),
        2,
        "key finding and section 1"
    );
    assert_eq!(md.matches(sentence).count(), 2, "{md}");
    assert!(md.contains(
        "CNY 25.0 mn a year in net fiscal cost against CNY 10.5 mn a year of carrying cost saved"
    ));
    // One delta table per reform; rows undefined in every arm are left out.
    for r in ["big-pool", "pool", "fast-review"] {
        assert!(md.contains(&format!("Baseline vs reform: {r}")), "{r}");
    }
    assert!(
        !md.contains("guarantee outstanding")
            && !md.contains("Guaranteed loans outstanding, daily")
    );
    // Charts: the ranking, the paired difference over the year (the one reform
    // with a run folder), the reform's pool: each written beside brief.md and linked.
    let html = read(&dir.join("brief.html"));
    let n = html.matches("<svg").count();
    assert!(n >= 2, "{n}");
    for i in 1..=n {
        let f = format!("brief-fig{i}.svg");
        assert!(
            md.contains(&format!("]({f})")),
            "brief.md does not link {f}"
        );
        let svg = read(&dir.join(&f));
        assert!(svg.starts_with("<?xml") && svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    }
    assert!(!dir.join(format!("brief-fig{}.svg", n + 1)).exists());
    assert!(md.contains("Paired difference over the year"));
    assert!(
        read(&dir.join("brief-fig1.svg")).contains("Working capital released and net fiscal cost")
    );
}

#[test]
fn a_two_arm_comparison_without_effectiveness_csv_derives_the_ranking_from_delta_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "compare");
    brief(&dir, Lang::En).unwrap();
    let md = read(&dir.join("brief.md"));
    let rows = md_table(&md, "Cost-effectiveness of the reforms");
    // Released = −Δ tied_up_net_avg with its paired interval; net fiscal cost =
    // Δ fiscal_cost − Δ fee income = 3.0 − 1.5 = CNY 1.5 mn; ratio 100 mn / 1.5 mn.
    assert!(rows[2].contains("CNY 100 mn (90 ~ 110)"), "{}", rows[2]);
    assert!(rows[2].contains("CNY +1.50 mn"), "{}", rows[2]);
    assert!(rows[2].contains("| **66.7** |"), "{}", rows[2]);
    assert!(md.contains("Derived from delta.csv"));
    // Saves CNY 7 mn of carrying cost for CNY 1.5 mn: no warning.
    assert!(!md.contains("costs more than it saves"), "{md}");

    // The same comparison with a carrying-cost saving below the fiscal cost.
    let delta = read(&dir.join("delta.csv")).replace(
        "carrying_cost,CNY/yr,21000000,14000000,-7000000,-7500000,-6500000",
        "carrying_cost,CNY/yr,21000000,20000000,-1000000,-1500000,-500000",
    );
    std::fs::write(dir.join("delta.csv"), delta).unwrap();
    brief(&dir, Lang::En).unwrap();
    let md = read(&dir.join("brief.md"));
    assert!(md.contains("costs more than it saves the exporters: CNY 1.50 mn a year in net fiscal cost against CNY 1.00 mn a year"), "{md}");
}

#[test]
fn a_brief_with_fewer_charts_removes_the_earlier_extra_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path(), "compare");
    let n = brief(&dir, Lang::En).unwrap().len() - 3;
    std::fs::write(dir.join(format!("brief-fig{}.svg", n + 1)), "<svg/>").unwrap();
    // `--force` still recognises the folder as refundsim's own.
    assert_eq!(refundsim::output::foreign_entry(&dir), None);
    brief(&dir, Lang::En).unwrap();
    assert!(!dir.join(format!("brief-fig{}.svg", n + 1)).exists());
    assert!(dir.join(format!("brief-fig{n}.svg")).exists());
}

#[test]
fn sweep_reports_percentiles_and_threshold_shares_matching_the_points_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let sw = tmp.path().join("sweep");
    refundsim(&[
        "sweep",
        "scenarios/guizhou-2016.toml",
        "--grid",
        "pools.turnover.capital=2e7,2e8",
        "--exceed",
        "turnover.blocked_share<=0.05",
        "--exceed",
        "tied_up_net_avg>1e8",
        "--paths",
        "8",
        "--quiet",
        "--out",
        sw.to_str().unwrap(),
    ]);
    let text = read(&sw.join("sweep.csv"));
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {head:?}"))
    };
    // Appended after the means and intervals.
    assert!(col("tied_up_net_avg_p5") > col("credit.loss_fund_ci_high"));
    let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    for (i, rec) in recs.iter().enumerate() {
        let paths = read(&sw.join("points").join(i.to_string()).join("paths.csv"));
        let cols = refundsim::sweep::parse_paths_csv(&paths).unwrap();
        let values = |m: &str| cols.iter().find(|c| c.0 == m).unwrap().1.clone();
        for (target, metric, holds) in [
            (
                "turnover.blocked_share<=0.05",
                "turnover.blocked_share",
                (|x: f64| x <= 0.05) as fn(f64) -> bool,
            ),
            ("tied_up_net_avg>100000000", "tied_up_net_avg", |x: f64| {
                x > 1e8
            }),
        ] {
            let v: Vec<f64> = values(metric).into_iter().filter(|x| !x.is_nan()).collect();
            let k = v.iter().filter(|x| holds(**x)).count();
            let p = k as f64 / v.len() as f64;
            let got: f64 = rec[col(&format!("{target}_share"))].parse().unwrap();
            assert!(
                (got - p).abs() < 1e-12,
                "{target} at point {i}: {got} vs {k}/{}",
                v.len()
            );
            let (lo, hi) = refundsim::stats::wilson(p, v.len() as f64, refundsim::stats::Z95);
            let glo: f64 = rec[col(&format!("{target}_ci_low"))].parse().unwrap();
            let ghi: f64 = rec[col(&format!("{target}_ci_high"))].parse().unwrap();
            assert!((glo - lo).abs() < 1e-12 && (ghi - hi).abs() < 1e-12);
        }
        // The median of the point's tied-up capital, from its own paths.
        let s = refundsim::stats::Summary::of(values("tied_up_net_avg"));
        let p50: f64 = rec[col("tied_up_net_avg_p50")].parse().unwrap();
        assert!((p50 - s.p50).abs() <= 1e-9 * s.p50.abs());
    }
    brief(&sw, Lang::En).unwrap();
    let md = read(&sw.join("brief.md"));
    assert!(
        md.contains("Share of simulated years meeting each threshold"),
        "{md}"
    );
    assert!(md.contains("5th \\~ 95th percentile"), "{md}");
}

#[test]
fn a_bad_exceed_expression_exits_2_naming_the_fix() {
    for (expr, says) in [
        (
            "turnover.blocked_shar<=0.05",
            "did you mean `turnover.blocked_share`",
        ),
        ("turnover.blocked_share=0.05", "has no comparison"),
        ("turnover.blocked_share<=lots", "`lots` is not a number"),
    ] {
        let (code, _, err) = refundsim_status(&[
            "sweep",
            "scenarios/guizhou-2016.toml",
            "--grid",
            "pools.turnover.capital=2e7,2e8",
            "--exceed",
            expr,
            "--paths",
            "2",
            "--quiet",
            "--out",
            "/nonexistent/never-written",
        ]);
        assert_eq!(code, 2, "{expr}: {err}");
        assert!(
            err.contains("--exceed") && err.contains(says),
            "{expr}: {err}"
        );
    }
}

#[test]
fn sweep_charts_leave_out_zero_when_it_would_flatten_the_curve() {
    use refundsim::brief::y_range;
    // Means from 2.5 to 3.3 (a spread under a third of the largest): zero left
    // out, even though the intervals reach down to 2.2.
    let means = [3.3e8, 3.0e8, 2.9e8, 2.5e8];
    let (lo, hi) = y_range(&means, &[2.2e8, 3.8e8], 1e8);
    assert!(lo > 2.0 && lo < 2.2 && hi > 3.8 && hi < 4.0, "{lo} {hi}");
    // Means from 0.5 to 2.8: zero kept.
    let (lo, _) = y_range(&[0.5e8, 2.8e8], &[], 1e8);
    assert_eq!(lo, 0.0);
}

/// A comparison with three reforms names each reform (its label and files) in
/// the meta lines, not every overlay run together as one reform, and the
/// best-reform finding says it ranks the 1+7 group (effectiveness.csv).
#[test]
fn a_brief_of_three_reforms_names_each_reform_and_the_ranked_population() {
    let tmp = tempfile::tempdir().unwrap();
    let cmp = tmp.path().join("cmp3");
    refundsim(&[
        "compare",
        "scenarios/guizhou-2016.toml",
        "--reform",
        "scenarios/policies/turnover-pool.toml",
        "--reform",
        "scenarios/policies/service-company.toml",
        "--reform",
        "scenarios/policies/guarantee-pool.toml+scenarios/policies/credit-loans.toml",
        "--paths",
        "2",
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    brief(&cmp, Lang::En).unwrap();
    let md = read(&cmp.join("brief.md"));
    assert!(
        md.contains(
            "3 reforms: 1. turnover-pool (scenarios/policies/turnover-pool.toml); \
             2. service-company (scenarios/policies/service-company.toml); \
             3. guarantee-pool+credit-loans (scenarios/policies/guarantee-pool.toml + \
             scenarios/policies/credit-loans.toml)"
        ),
        "{md}"
    );
    assert!(!md.contains("Reform: scenarios/"), "{md}");
    assert!(
        md.contains("releases the most working capital (1+7: exporters on the 8 pilot platforms):"),
        "{md}"
    );
}

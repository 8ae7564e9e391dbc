//! Briefs of the decision commands: `size` (the target statistic against the
//! lever with its 95% interval, the target line and the chosen value marked, and
//! one sentence of answer) and `sensitivity` (a tornado chart per metric with its
//! table, or for Morris the μ*–σ plot and table).

use std::path::Path;

use serde_json::Value;

use super::chart::{self, Line, TornadoBar};
use super::labels;
use super::load::{Kind, read};
use super::run::{self, text};
use super::{Block, BriefError, Cell, Doc, L, Lang, Num, Q, Section, Table, fmt};

fn q(metric: &str) -> Q {
    labels::metric_quantity(metric, "")
}

/// Provenance rows shared by both kinds.
fn provenance(m: &Value, extra: &[(&str, &str, &str)]) -> Vec<(L, String)> {
    let keys = [
        ("seed", "随机种子", "Seed"),
        ("paths", "每次评估的模拟路径数", "Paths per evaluation"),
        ("evaluations", "评估次数", "Evaluations"),
        ("refundsim_version", "refundsim 版本", "refundsim version"),
        ("generator", "随机数生成器", "Generator"),
    ];
    run::manifest_rows(m, keys.iter().chain(extra))
}

fn json(dir: &Path, name: &str, what: &'static str, kind: Kind) -> Result<Value, BriefError> {
    let file = dir.join(name);
    if !file.exists() {
        return Err(BriefError::MissingFile {
            file,
            what,
            command: kind.command(),
        });
    }
    serde_json::from_str(&read(&file, kind.command())?).map_err(|e| BriefError::Malformed {
        file,
        line: Some(e.line() as u64),
        problem: format!("not valid JSON ({e})"),
        command: kind.command(),
    })
}

/// A lever value in both languages (amounts in their units).
fn lever_value(key: &str, v: f64) -> L {
    if fmt::is_amount_key(key) {
        L::new(fmt::cny(v, true), fmt::cny(v, false))
    } else {
        L::same(fmt::trimmed(v))
    }
}

/// A statistic: a share of paths as a percentage, or the metric's own quantity.
fn stat_num(v: f64, qq: Q) -> String {
    fmt::one(&Num::new(v, qq), false)
}

/// The brief of a `size` directory.
pub fn size(dir: &Path, m: &Value, lang: Lang) -> Result<Doc, BriefError> {
    let a = json(dir, "answer.json", "the answer of the search", Kind::Size)?;
    let bad = |problem: &str| BriefError::Malformed {
        file: dir.join("answer.json"),
        line: None,
        problem: problem.to_string(),
        command: "size",
    };
    let lever = a["lever"]
        .as_str()
        .ok_or_else(|| bad("no \"lever\""))?
        .to_string();
    let target = a["target"]
        .as_str()
        .ok_or_else(|| bad("no \"target\""))?
        .to_string();
    let share = a["confidence"].as_f64();
    let metric = target
        .split(['<', '>'])
        .next()
        .unwrap_or_default()
        .to_string();
    let threshold: f64 = target
        .trim_start_matches(&metric)
        .trim_start_matches(['<', '>', '='])
        .parse()
        .map_err(|_| bad("the target has no number"))?;
    let qq = if share.is_some() { Q::Pct } else { q(&metric) };
    let points: Vec<(f64, f64, f64, f64, bool)> = a["points"]
        .as_array()
        .ok_or_else(|| bad("no \"points\""))?
        .iter()
        .map(|p| {
            let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
            (
                f("value"),
                f("statistic"),
                f("ci_low"),
                f("ci_high"),
                p["meets"] == true,
            )
        })
        .collect();
    let key = labels::key(&lever);
    let mname = labels::metric(&metric);
    let level = share.unwrap_or(threshold);
    let headline = size_headline(&a, &lever, &target, &metric, threshold, qq);
    let mut headlines = vec![headline];
    if let Some(Value::Array(w)) = a.get("warnings") {
        for x in w.iter().filter_map(Value::as_str) {
            headlines.push(L::new(
                format!("注意（英文原文）：{x}"),
                format!("Note: {x}"),
            ));
        }
    }
    let stat_label = if share.is_some() {
        L::new("达标年份占比", "share of years meeting the target")
    } else {
        L::new(format!("{}均值", mname.zh), format!("mean {}", mname.en))
    };
    let chart = size_chart(&a, &lever, &points, &stat_label, level, qq, lang);
    let mut s1 = Vec::new();
    s1.extend(run::chart_block(Some(chart), dir)?);
    let mut t = Table::new(
        L::new("评估点", "Points"),
        L::new("每次评估", "Every evaluation"),
        vec![
            key.clone(),
            stat_label.clone(),
            L::new("95%置信区间", "95% interval"),
            L::new("达标", "Meets the target"),
        ],
    );
    for p in &points {
        t.rows.push(vec![
            Cell::Text(lever_value(&lever, p.0)),
            Cell::Num(Num::new(p.1, qq)),
            Cell::Text(L::new(
                format!(
                    "{} – {}",
                    fmt::one(&Num::new(p.2, qq), true),
                    fmt::one(&Num::new(p.3, qq), true)
                ),
                format!("{} – {}", stat_num(p.2, qq), stat_num(p.3, qq)),
            )),
            Cell::Text(labels::yes_no(p.4)),
        ]);
    }
    t.note = Some(L::new(
        "所有评估使用同一组随机数（相同种子与路径）。",
        "Every evaluation runs on the same random numbers (same seed and paths).",
    ));
    s1.push(Block::Table(t));
    let mut prov = provenance(m, &[]);
    prov.insert(0, (L::new("目标", "Target"), target.clone()));
    prov.insert(0, (L::new("杠杆", "Lever"), lever.clone()));
    Ok(Doc {
        title: run::title(m),
        meta: vec![L::new(
            format!("规模测算：{}", key.zh),
            format!("Sizing: {}", key.en),
        )],
        headlines,
        sections: vec![Section {
            title: L::new("规模测算", "How big must it be"),
            blocks: s1,
        }],
        provenance: prov,
        inputs: run::inputs(m, &L::new("输入文件", "Input")),
    })
}

/// The one-sentence answer of a size study.
fn size_headline(a: &Value, lever: &str, target: &str, metric: &str, threshold: f64, qq: Q) -> L {
    let key = labels::key(lever);
    let mname = labels::metric(metric);
    let (value, share) = (a["value"].as_f64(), a["confidence"].as_f64());
    let op_zh = if target.contains('<') {
        "不超过"
    } else {
        "不低于"
    };
    let op_en = if target.contains('<') {
        "at most"
    } else {
        "at least"
    };
    match (value, share) {
        (Some(v), Some(p)) => {
            let (s, lo, hi) = (
                a["statistic"].as_f64().unwrap_or(f64::NAN),
                a["ci_low"].as_f64().unwrap_or(f64::NAN),
                a["ci_high"].as_f64().unwrap_or(f64::NAN),
            );
            L::new(
                format!(
                    "{}为 {} 时，在 {:.0}%（{:.0}–{:.0}%）的年份中{}{} {}（目标：至少 {:.0}% 的年份）。",
                    key.zh,
                    lever_value(lever, v).zh,
                    100.0 * s,
                    100.0 * lo,
                    100.0 * hi,
                    mname.zh,
                    op_zh,
                    fmt::one(&Num::new(threshold, q(metric)), true),
                    100.0 * p
                ),
                format!(
                    "{} of {} keeps {} {} {} in {:.0}% ({:.0}–{:.0}%) of years (target: {:.0}% of years).",
                    key.en,
                    lever_value(lever, v).en,
                    mname.en.to_lowercase(),
                    op_en,
                    fmt::one(&Num::new(threshold, q(metric)), false),
                    100.0 * s,
                    100.0 * lo,
                    100.0 * hi,
                    100.0 * p
                ),
            )
        }
        (Some(v), None) => L::new(
            format!(
                "{}为 {} 时，{}的均值{} {}。",
                key.zh,
                lever_value(lever, v).zh,
                mname.zh,
                op_zh,
                fmt::one(&Num::new(threshold, qq), true)
            ),
            format!(
                "{} of {} keeps the mean of {} {} {}.",
                key.en,
                lever_value(lever, v).en,
                mname.en.to_lowercase(),
                op_en,
                fmt::one(&Num::new(threshold, qq), false)
            ),
        ),
        (None, _) => L::new(
            format!("在所给范围内，{}的任何取值都达不到目标 {target}。", key.zh),
            format!(
                "No value of {} in the range meets {target}.",
                key.en.to_lowercase()
            ),
        ),
    }
}

/// The chart of a size study: the statistic against the lever with its
/// intervals, the target line and the chosen value.
fn size_chart(
    a: &Value,
    lever: &str,
    points: &[(f64, f64, f64, f64, bool)],
    stat_label: &L,
    level: f64,
    qq: Q,
    lang: Lang,
) -> Result<super::Chart, String> {
    let key = labels::key(lever);
    let (x0, x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let div = if fmt::is_amount_key(lever) && x1 >= 1e4 {
        if x1 >= 1e8 { 1e8 } else { 1e4 }
    } else {
        1.0
    };
    let unit = match div {
        1e8 => L::new("亿元", "CNY 100 mn"),
        1e4 => L::new("万元", "CNY 10,000"),
        _ => L::same(""),
    };
    let ticks: Vec<(f64, String)> = {
        let n = 6;
        (0..=n)
            .map(|i| {
                let x = x0 + (x1 - x0) * i as f64 / n as f64;
                (x / div, fmt::trimmed(x / div))
            })
            .collect()
    };
    let mut lines = vec![
        Line {
            label: stat_label.clone(),
            points: points.iter().map(|p| (p.0 / div, p.1, p.2, p.3)).collect(),
        },
        Line {
            label: L::new("目标", "target"),
            points: vec![
                (x0 / div, level, f64::NAN, f64::NAN),
                (x1 / div, level, f64::NAN, f64::NAN),
            ],
        },
    ];
    if let (Some(v), Some(s)) = (a["value"].as_f64(), a["statistic"].as_f64()) {
        lines.push(Line {
            label: L::new("所选取值", "chosen value"),
            points: vec![(v / div, s, f64::NAN, f64::NAN)],
        });
    }
    let title = L::new(
        format!("{} 与 {}（{}）", stat_label.zh, key.zh, unit.zh),
        format!(
            "{} against {} ({})",
            stat_label.en,
            key.en.to_lowercase(),
            unit.en
        ),
    );
    chart::curves(title, ticks, &lines, qq, stat_label.clone(), lang)
}

/// Rows of a CSV file as maps from column to text.
fn csv_rows(
    dir: &Path,
    name: &str,
) -> Result<Vec<std::collections::HashMap<String, String>>, BriefError> {
    let file = dir.join(name);
    if !file.exists() {
        return Err(BriefError::MissingFile {
            file,
            what: "the result table",
            command: "sensitivity",
        });
    }
    let text = read(&file, "sensitivity")?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let bad = |e: csv::Error| BriefError::Malformed {
        file: file.clone(),
        line: e.position().map(|p| p.line()),
        problem: e.to_string(),
        command: "sensitivity",
    };
    let header: Vec<String> = rdr
        .headers()
        .map_err(bad)?
        .iter()
        .map(String::from)
        .collect();
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(bad)?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect(),
        );
    }
    Ok(out)
}

/// A row of a study CSV, by column name.
type Row = std::collections::HashMap<String, String>;

fn f(r: &Row, k: &str) -> f64 {
    r.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// The brief of a `sensitivity` directory.
pub fn sensitivity(dir: &Path, m: &Value, lang: Lang) -> Result<Doc, BriefError> {
    let morris = text(m, "method") == "morris";
    let rows = csv_rows(dir, if morris { "morris.csv" } else { "tornado.csv" })?;
    let mut metrics: Vec<String> = Vec::new();
    for r in &rows {
        let mm = r.get("metric").cloned().unwrap_or_default();
        if !metrics.contains(&mm) {
            metrics.push(mm);
        }
    }
    let mut sections = Vec::new();
    let mut headlines = Vec::new();
    for metric in &metrics {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.get("metric") == Some(metric))
            .collect();
        let mname = labels::metric(metric);
        let qq = q(metric);
        let mut blocks = Vec::new();
        headlines.push(sensitivity_headline(&mine, &mname, qq, morris));
        if morris {
            blocks.extend(morris_blocks(dir, &mine, &mname, qq, lang)?);
        } else {
            blocks.extend(tornado_blocks(
                dir,
                &mine,
                &mname,
                qq,
                lang,
                sections.len() + 1,
            )?);
        }
        sections.push(Section {
            title: mname.clone(),
            blocks,
        });
    }
    Ok(Doc {
        title: run::title(m),
        meta: vec![if morris {
            L::new(
                "敏感性分析：Morris 基本效应筛选",
                "Sensitivity: Morris elementary-effects screening",
            )
        } else {
            L::new(
                "敏感性分析：单因素（龙卷风图）",
                "Sensitivity: one at a time (tornado)",
            )
        }],
        headlines,
        sections,
        provenance: provenance(
            m,
            &[
                ("method", "方法", "Method"),
                ("trajectories", "轨迹数", "Trajectories"),
            ],
        ),
        inputs: run::inputs(m, &L::new("输入文件", "Input")),
    })
}

/// The headline for one metric of a sensitivity study: the assumption that
/// moves it most, or that none does.
fn sensitivity_headline(mine: &[&Row], mname: &L, qq: Q, morris: bool) -> L {
    let moves = |r: &&&Row| {
        let v = f(r, if morris { "mu_star" } else { "swing" });
        !v.is_nan() && v > 0.0
    };
    let Some(top) = mine.first().filter(moves) else {
        return L::new(
            format!("没有参数改变{}。", mname.zh),
            format!("No parameter moves {}.", mname.en.to_lowercase()),
        );
    };
    let p = top.get("param").cloned().unwrap_or_default();
    let (zh_v, en_v) = if morris {
        let v = Num::new(f(top, "mu_star"), qq);
        (fmt::one(&v, true), fmt::one(&v, false))
    } else {
        let v = Num::new(f(top, "swing"), qq);
        (fmt::one(&v, true), fmt::one(&v, false))
    };
    L::new(
        format!(
            "对{}影响最大的假设是 {p}（{}{}）。",
            mname.zh,
            if morris {
                "μ* "
            } else {
                "低值到高值相差 "
            },
            zh_v
        ),
        format!(
            "The assumption that matters most for {} is {p} ({}{}).",
            mname.en.to_lowercase(),
            if morris { "μ* " } else { "a swing of " },
            en_v
        ),
    )
}

/// A Morris study's chart and table for one metric.
fn morris_blocks(
    dir: &Path,
    mine: &[&Row],
    mname: &L,
    qq: Q,
    lang: Lang,
) -> Result<Vec<Block>, BriefError> {
    let mut blocks = Vec::new();
    let pts: Vec<(String, f64, f64)> = mine
        .iter()
        .map(|r| {
            (
                r.get("param").cloned().unwrap_or_default(),
                f(r, "mu_star"),
                f(r, "sigma"),
            )
        })
        .collect();
    let c = chart::scatter(
        L::new(
            format!("{}：μ* 与 σ", mname.zh),
            format!("{}: μ* against σ", mname.en),
        ),
        &pts,
        L::new("μ*", "μ*"),
        L::new("σ", "σ"),
        lang,
    );
    blocks.extend(run::chart_block(Some(c), dir)?);
    let mut t = Table::new(
        L::same(format!("Morris {}", blocks.len())),
        L::new(
            format!("{}：Morris 基本效应", mname.zh),
            format!("{}: Morris elementary effects", mname.en),
        ),
        vec![
            L::new("参数", "Parameter"),
            L::same("μ*"),
            L::new("μ* 95%区间", "μ* 95% interval"),
            L::same("σ"),
        ],
    );
    for r in mine {
        t.rows.push(vec![
            Cell::Text(L::same(r.get("param").cloned().unwrap_or_default())),
            Cell::Num(Num::new(f(r, "mu_star"), qq)),
            Cell::Text(L::new(
                format!(
                    "{} – {}",
                    fmt::one(&Num::new(f(r, "mu_star_ci_low"), qq), true),
                    fmt::one(&Num::new(f(r, "mu_star_ci_high"), qq), true)
                ),
                format!(
                    "{} – {}",
                    fmt::one(&Num::new(f(r, "mu_star_ci_low"), qq), false),
                    fmt::one(&Num::new(f(r, "mu_star_ci_high"), qq), false)
                ),
            )),
            Cell::Num(Num::new(f(r, "sigma"), qq)),
        ]);
    }
    blocks.push(Block::Table(t));
    Ok(blocks)
}

/// A one-at-a-time study's tornado chart and table for one metric, the
/// `number`th section.
fn tornado_blocks(
    dir: &Path,
    mine: &[&Row],
    mname: &L,
    qq: Q,
    lang: Lang,
    number: usize,
) -> Result<Vec<Block>, BriefError> {
    let mut blocks = Vec::new();
    let bars: Vec<TornadoBar> = mine
        .iter()
        .take(15)
        .map(|r| TornadoBar {
            label: r.get("param").cloned().unwrap_or_default(),
            low: (f(r, "delta_low"), f(r, "delta_low_ci")),
            high: (f(r, "delta_high"), f(r, "delta_high_ci")),
        })
        .collect();
    let c = chart::tornado(
        L::new(
            format!("{}：龙卷风图", mname.zh),
            format!("{}: tornado", mname.en),
        ),
        &bars,
        qq,
        lang,
    );
    blocks.extend(run::chart_block(Some(c), dir)?);
    let mut t = Table::new(
        L::same(format!("Tornado {number}")),
        L::new(
            format!("{}：单因素敏感性", mname.zh),
            format!("{}: one at a time", mname.en),
        ),
        vec![
            L::new("参数", "Parameter"),
            L::new("低值", "Low"),
            L::new("高值", "High"),
            L::new("低值时变化", "Change at low"),
            L::new("高值时变化", "Change at high"),
            L::new("摆幅", "Swing"),
        ],
    );
    for r in mine {
        let p = r.get("param").cloned().unwrap_or_default();
        t.rows.push(vec![
            Cell::Text(L::same(p.clone())),
            Cell::Text(lever_value(&p, f(r, "low"))),
            Cell::Text(lever_value(&p, f(r, "high"))),
            Cell::Num(Num {
                signed: true,
                ..Num::ci(f(r, "delta_low"), qq, f(r, "delta_low_ci"))
            }),
            Cell::Num(Num {
                signed: true,
                ..Num::ci(f(r, "delta_high"), qq, f(r, "delta_high_ci"))
            }),
            Cell::Num(Num::new(f(r, "swing"), qq)),
        ]);
    }
    t.note = Some(L::new(
        format!(
            "基准情景均值 {}；变化为同一组随机数下的配对差 ± 95%置信区间。",
            fmt::one(
                &Num::new(mine.first().map(|r| f(r, "base")).unwrap_or(f64::NAN), qq),
                true
            )
        ),
        format!(
            "Base case mean {}; changes are paired differences on the same random numbers ± 95% interval.",
            fmt::one(
                &Num::new(mine.first().map(|r| f(r, "base")).unwrap_or(f64::NAN), qq),
                false
            )
        ),
    ));
    blocks.push(Block::Table(t));
    Ok(blocks)
}

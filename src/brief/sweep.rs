//! The brief of a sweep: the grid as a pivot of working capital tied up (rows:
//! the first key's values; columns: the second key's values), a long table of
//! every key metric at every grid point, and curves of key metrics against the
//! first key, one line per value of the others.

use serde_json::Value;

use super::chart::{self, Line};
use super::labels;
use super::load::{Point, Sweep};
use super::run::{self, text};
use super::{Block, BriefError, Cell, Doc, L, Lang, Num, Q, Section, Table, fmt};

/// The key metrics of sweep.csv, in order (MODEL.md §11).
use crate::metrics::key_names;

fn q(metric: &str) -> Q {
    labels::metric_quantity(metric, "")
}

/// A metric at a point as mean ± half the interval; a share or probability, whose
/// Wilson interval is not symmetric, as mean (low ~ high).
fn cell(p: &Point, metric: &str) -> Cell {
    match p.metrics.get(metric) {
        Some(&(m, lo, hi)) if m.is_finite() && crate::metrics::is_share(metric) => Cell::Num(Num {
            range: Some((lo, hi)),
            ..Num::new(m, q(metric))
        }),
        Some(&(m, lo, hi)) if m.is_finite() => Cell::Num(Num::ci(m, q(metric), (hi - lo) / 2.0)),
        _ => Cell::Empty,
    }
}

/// A grid value (TOML text) in both languages: amounts in their units, known
/// enumerations translated, other text without its quotes.
fn value(v: &str, key: &str) -> L {
    let bare = v.trim().trim_matches(['"', '\'']);
    labels::key_value(key, bare).unwrap_or_else(|| {
        L::new(
            fmt::grid_value(v, key, true),
            fmt::grid_value(v, key, false),
        )
    })
}

/// Distinct values in order of first appearance.
fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in it {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Indices of the keys other than the second (the pivot's row keys).
fn row_keys(s: &Sweep) -> Vec<usize> {
    (0..s.keys.len()).filter(|&k| k != 1).collect()
}

fn pivot(s: &Sweep) -> Table {
    let k0 = labels::key(&s.keys[0]);
    let name = labels::metric("tied_up_net_avg");
    let rk = row_keys(s);
    let mut cols: Vec<L> = rk.iter().map(|&k| labels::key(&s.keys[k])).collect();
    let col_values: Vec<&str> = if s.keys.len() > 1 {
        distinct(s.points.iter().map(|p| p.values[1].as_str()))
    } else {
        Vec::new()
    };
    let title = if s.keys.len() > 1 {
        let k1 = labels::key(&s.keys[1]);
        if let Some(first) = cols.first_mut() {
            *first = L::new(
                format!("{} ＼ {}", k0.zh, k1.zh),
                format!("{} \\ {}", k0.en, k1.en),
            );
        }
        cols.extend(col_values.iter().map(|v| value(v, &s.keys[1])));
        L::new(
            format!("{}：{} × {}", name.zh, k0.zh, k1.zh),
            format!("{}: {} × {}", name.en, k0.en, k1.en),
        )
    } else {
        cols.push(name.clone());
        L::new(
            format!("{}：按{}", name.zh, k0.zh),
            format!("{} by {}", name.en, k0.en.to_lowercase()),
        )
    };
    let mut t = Table::new(L::new("透视表", "Pivot"), title, cols);
    // A row is identified by the values of its row keys, in order of appearance.
    let mut seen: Vec<Vec<&str>> = Vec::new();
    for p in &s.points {
        let id: Vec<&str> = rk.iter().map(|&k| p.values[k].as_str()).collect();
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    for id in &seen {
        let mut row: Vec<Cell> = rk
            .iter()
            .zip(id)
            .map(|(&k, v)| Cell::Text(value(v, &s.keys[k])))
            .collect();
        let at = |col: Option<&str>| {
            s.points.iter().find(|p| {
                rk.iter().zip(id).all(|(&k, v)| p.values[k] == *v)
                    && col.is_none_or(|c| p.values[1] == c)
            })
        };
        if s.keys.len() > 1 {
            for c in &col_values {
                row.push(
                    at(Some(c))
                        .map(|p| cell(p, "tied_up_net_avg"))
                        .unwrap_or(Cell::Empty),
                );
            }
        } else {
            row.push(
                at(None)
                    .map(|p| cell(p, "tied_up_net_avg"))
                    .unwrap_or(Cell::Empty),
            );
        }
        t.rows.push(row);
    }
    t.note = Some(L::new(
        "单元格为营运资金日均占用（扣除融资）的均值 ± 95%置信区间。",
        "Cells: working capital tied up, net of financing, daily average: mean ± 95% confidence interval.",
    ));
    t
}

/// Metrics with a non-zero value at some point (a mechanism that is off, or
/// fees that are nil, would only add columns of zeros).
fn present(s: &Sweep) -> Vec<&'static str> {
    key_names()
        .into_iter()
        .filter(|m| {
            s.points.iter().any(|p| {
                p.metrics
                    .get(*m)
                    .is_some_and(|v| v.0.is_finite() && v.0 != 0.0)
            })
        })
        .collect()
}

fn long_table(s: &Sweep) -> Table {
    let ms = present(s);
    let mut t = Table::new(
        L::new("全部结果", "All points"),
        L::new("各参数组合的主要指标", "Key metrics at every grid point"),
        point_cols(s, ms.iter().map(|m| labels::metric(m))),
    );
    for p in &s.points {
        let mut row = point_cells(s, p);
        row.extend(ms.iter().map(|m| cell(p, m)));
        t.rows.push(row);
    }
    t.note = Some(L::new(
        "均值 ± 95%置信区间；各组合共用随机数，组合间的差异主要来自参数而非抽样。在所有组合中均为0或无定义的指标未列出。",
        "Mean ± 95% confidence interval; all points share their random numbers, so differences between points come from the parameters rather than sampling. Metrics zero or undefined at every point are not listed.",
    ));
    t
}

/// The point's label: its grid values, `key = value` joined.
fn point_label(s: &Sweep, p: &Point) -> L {
    assignments(&s.keys, &p.values)
}

/// Grid keys with their values, `key = value` joined, in both languages.
fn assignments<V: AsRef<str>>(keys: &[String], values: &[V]) -> L {
    let parts: Vec<(L, L)> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| (labels::key(k), value(v.as_ref(), k)))
        .collect();
    L::new(
        parts
            .iter()
            .map(|(k, v)| format!("{} = {}", k.zh, v.zh))
            .collect::<Vec<_>>()
            .join("，"),
        parts
            .iter()
            .map(|(k, v)| format!("{} = {}", k.en, v.en))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The first columns of a per-point table: the point and its grid values.
fn point_cells(s: &Sweep, p: &Point) -> Vec<Cell> {
    let mut row = vec![Cell::Text(L::same(p.point.clone()))];
    row.extend(
        s.keys
            .iter()
            .zip(&p.values)
            .map(|(k, v)| Cell::Text(value(v, k))),
    );
    row
}

/// Headers of a per-point table: point, grid keys, then `more`.
fn point_cols(s: &Sweep, more: impl IntoIterator<Item = L>) -> Vec<L> {
    let mut cols = vec![L::new("组合", "Point")];
    cols.extend(s.keys.iter().map(|k| labels::key(k)));
    cols.extend(more);
    cols
}

/// The spread over paths of each key metric at every point: the median with the
/// 5th–95th percentile range (None for a sweep.csv written before percentiles).
fn percentile_table(s: &Sweep) -> Option<Table> {
    let ms: Vec<&str> = present(s)
        .into_iter()
        .filter(|m| s.points.iter().any(|p| p.percentiles.contains_key(*m)))
        .collect();
    if ms.is_empty() {
        return None;
    }
    let mut t = Table::new(
        L::new("分位数", "Percentiles"),
        L::new(
            "各参数组合主要指标的年度分布：中位数（5%分位 ~ 95%分位）",
            "The spread of key metrics over simulated years: median (5th ~ 95th percentile)",
        ),
        point_cols(s, ms.iter().map(|m| labels::metric(m))),
    );
    for p in &s.points {
        let mut row = point_cells(s, p);
        row.extend(ms.iter().map(|m| match p.percentiles.get(*m) {
            Some(&(p5, p50, p95)) if p50.is_finite() => Cell::Num(Num {
                range: Some((p5, p95)).filter(|(a, b)| a.is_finite() && b.is_finite()),
                ..Num::new(p50, q(m))
            }),
            _ => Cell::Empty,
        }));
        t.rows.push(row);
    }
    t.note = Some(L::new(
        "中位数及括号内的5%–95%分位：一年中可能出现的结果范围（不是均值的置信区间）。",
        "Median with the 5th–95th percentile in brackets: the range of outcomes a year may bring (not a confidence interval of the mean).",
    ));
    Some(t)
}

/// A `--exceed` target for people: `周转池排队占比 ≤ 5%` / `Share of requests … ≤ 5%`.
fn target_label(t: &str) -> L {
    let Ok(target) = crate::target::Target::parse_flag(t, "--exceed") else {
        return L::same(t);
    };
    let name = labels::metric(&target.metric);
    let op = match t.find(['<', '>']).map(|i| &t[i..]) {
        Some(r) if r.starts_with("<=") => "≤",
        Some(r) if r.starts_with(">=") => "≥",
        Some(r) if r.starts_with('<') => "<",
        _ => ">",
    };
    let n = Num::new(target.threshold, q(&target.metric));
    L::new(
        format!("{} {op} {}", name.zh, fmt::one(&n, true)),
        format!("{} {op} {}", name.en, fmt::one(&n, false)),
    )
}

/// The share of paths meeting each `--exceed` target at every point, with its
/// Wilson 95% interval (None without targets).
fn exceed_table(s: &Sweep) -> Option<Table> {
    if s.exceed.is_empty() {
        return None;
    }
    let mut t = Table::new(
        L::new("达标概率", "Thresholds"),
        L::new(
            "达到阈值的年份占比（95%置信区间）",
            "Share of simulated years meeting each threshold (95% CI)",
        ),
        point_cols(s, s.exceed.iter().map(|t| target_label(t))),
    );
    for p in &s.points {
        let mut row = point_cells(s, p);
        row.extend(p.exceed.iter().map(|&(v, lo, hi)| {
            if v.is_finite() {
                Cell::Num(Num {
                    range: Some((lo, hi)).filter(|(a, b)| a.is_finite() && b.is_finite()),
                    ..Num::new(v, Q::Pct)
                })
            } else {
                Cell::Empty
            }
        }));
        t.rows.push(row);
    }
    t.note = Some(L::new(
        "在该指标有定义的模拟路径（年份）中达到阈值的占比；括号内为 Wilson 95%置信区间。",
        "Share of the simulated paths (years) on which the metric is defined that meet the threshold; Wilson 95% confidence interval in brackets.",
    ));
    Some(t)
}

/// Curves of `metric` against the first key.
fn curves(s: &Sweep, metric: &str, lang: Lang) -> Option<Result<super::Chart, String>> {
    let vals: Vec<f64> = s
        .points
        .iter()
        .filter_map(|p| p.metrics.get(metric).map(|v| v.0))
        .filter(|v| v.is_finite())
        .collect();
    if vals.is_empty() || vals.iter().all(|v| *v == 0.0) {
        return None;
    }
    let k0 = &s.keys[0];
    let xs = distinct(s.points.iter().map(|p| p.values[0].as_str()));
    let numeric: Option<Vec<f64>> = xs.iter().map(|v| fmt::parse_grid(v)).collect();
    let pos = |v: &str| -> f64 {
        let i = xs.iter().position(|x| *x == v).unwrap_or(0);
        match &numeric {
            Some(n) => n[i],
            None => i as f64,
        }
    };
    let ticks: Vec<(f64, String)> = xs
        .iter()
        .map(|v| {
            let l = value(v, k0);
            (pos(v), if lang == Lang::En { l.en } else { l.zh })
        })
        .collect();
    // One line per combination of the other keys.
    let mut others: Vec<Vec<&str>> = Vec::new();
    for p in &s.points {
        let id: Vec<&str> = p.values[1..].iter().map(String::as_str).collect();
        if !others.contains(&id) {
            others.push(id);
        }
    }
    let lines: Vec<Line> = others
        .iter()
        .map(|id| {
            let label = if id.is_empty() {
                labels::metric(metric)
            } else {
                assignments(&s.keys[1..], id)
            };
            let points = s
                .points
                .iter()
                .filter(|p| {
                    p.values[1..]
                        .iter()
                        .map(String::as_str)
                        .eq(id.iter().copied())
                })
                .filter_map(|p| {
                    p.metrics
                        .get(metric)
                        .map(|&(m, lo, hi)| (pos(&p.values[0]), m, lo, hi))
                })
                .collect();
            Line { label, points }
        })
        .collect();
    let name = labels::metric(metric);
    let k0l = labels::key(k0);
    Some(chart::curves(
        L::new(
            format!("{}与{}", name.zh, k0l.zh),
            format!("{} against {}", name.en, k0l.en.to_lowercase()),
        ),
        ticks,
        &lines,
        q(metric),
        name,
        lang,
    ))
}

/// The sweep's title: from its manifest, or the first point's run manifest.
fn title(s: &Sweep) -> L {
    let has = |m: &Value| !text(m, "title").is_empty() || !text(m, "scenario_name").is_empty();
    if has(&s.manifest) {
        return run::title(&s.manifest);
    }
    let first = s
        .dir
        .join("points")
        .join(&s.points[0].point)
        .join("manifest.json");
    if let Ok(t) = std::fs::read_to_string(first)
        && let Ok(m) = serde_json::from_str::<Value>(&t)
        && has(&m)
    {
        return run::title(&m);
    }
    let files = s
        .manifest
        .get("files")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .unwrap_or_default();
    L::same(files)
}

fn headlines(s: &Sweep) -> Vec<L> {
    let mut out: Vec<L> = run::population_headline(&s.manifest).into_iter().collect();
    let best = s
        .points
        .iter()
        .filter_map(|p| p.metrics.get("tied_up_net_avg").map(|v| (p, *v)))
        .filter(|(_, v)| v.0.is_finite())
        .min_by(|a, b| a.1.0.total_cmp(&b.1.0));
    let worst = s
        .points
        .iter()
        .filter_map(|p| p.metrics.get("tied_up_net_avg").map(|v| v.0))
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if let Some((p, (m, lo, hi))) = best {
        let at = point_label(s, p);
        let n = Num::ci(m, Q::Cny, (hi - lo) / 2.0);
        out.push(L::new(
            format!(
                "营运资金日均占用在 {} 至 {} 之间；最低的组合是 {}：{}。",
                fmt::cny(m, true),
                fmt::cny(worst, true),
                at.zh,
                fmt::one(&n, true)
            ),
            format!(
                "Working capital tied up ranges from {} to {} across the grid; lowest at {}: {}.",
                fmt::cny(m, false),
                fmt::cny(worst, false),
                at.en,
                fmt::one(&n, false)
            ),
        ));
    }
    out.extend(exceed_headlines(s));
    out
}

/// For each `--exceed` target: the share of years meeting it at the best point.
fn exceed_headlines(s: &Sweep) -> Vec<L> {
    let mut out = Vec::new();
    for (i, t) in s.exceed.iter().enumerate() {
        let best = s
            .points
            .iter()
            .filter_map(|p| p.exceed.get(i).map(|v| (p, *v)))
            .filter(|(_, v)| v.0.is_finite())
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0));
        let Some((p, (v, lo, hi))) = best else {
            continue;
        };
        let n = Num {
            range: Some((lo, hi)),
            ..Num::new(v, Q::Pct)
        };
        let (tl, at) = (target_label(t), point_label(s, p));
        out.push(L::new(
            format!(
                "“{}”成立的年份占比最高的组合是 {}：{}。",
                tl.zh,
                at.zh,
                fmt::one(&n, true)
            ),
            format!(
                "\"{}\" holds in the largest share of simulated years at {}: {}.",
                tl.en,
                at.en,
                fmt::one(&n, false)
            ),
        ));
    }
    out
}

/// Lines under the title: the grid, the paths and the seed.
fn meta(s: &Sweep) -> Vec<L> {
    let m = &s.manifest;
    let dims: Vec<(L, usize)> = s
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                labels::key(k),
                distinct(s.points.iter().map(|p| p.values[i].as_str())).len(),
            )
        })
        .collect();
    let (paths, seed) = (text(m, "paths"), text(m, "seed"));
    vec![
        L::new(
            format!(
                "扫描参数：{}，共 {} 个组合",
                dims.iter()
                    .map(|(k, n)| format!("{}（{n} 个取值）", k.zh))
                    .collect::<Vec<_>>()
                    .join(" × "),
                s.points.len()
            ),
            format!(
                "Grid: {}, {} points",
                dims.iter()
                    .map(|(k, n)| format!("{} ({n} values)", k.en))
                    .collect::<Vec<_>>()
                    .join(" × "),
                s.points.len()
            ),
        ),
        L::new(
            format!("每个组合模拟路径 {paths} 条 · 随机种子 {seed} · 各组合共用随机数"),
            format!(
                "{paths} simulated paths per point · seed {seed} · all points share their random numbers"
            ),
        ),
        L::new(
            "简报由 refundsim 根据本目录的模拟结果生成；金额为均值 ± 95%置信区间。",
            "Generated by refundsim from the simulation results in this directory; amounts are mean ± 95% confidence interval.",
        ),
    ]
}

/// Provenance rows: the grid, then the manifest's seed, paths and versions.
fn provenance(m: &Value) -> Vec<(L, String)> {
    let mut provenance = Vec::new();
    let grid: Vec<String> = m
        .get("grid")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .map(|e| {
                    let vals = e
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|v| {
                            v.iter()
                                .map(|x| {
                                    x.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| x.to_string())
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    format!("{}={vals}", text(e, "key"))
                })
                .collect()
        })
        .unwrap_or_default();
    if !grid.is_empty() {
        provenance.push((L::new("扫描网格 --grid", "Grid --grid"), grid.join("  ")));
    }
    provenance.extend(run::manifest_rows(
        m,
        &[
            ("seed", "随机种子", "Seed"),
            ("paths", "每个组合的模拟路径数", "Paths per point"),
            ("refundsim_version", "refundsim 版本", "refundsim version"),
            ("generator", "随机数生成器", "Generator"),
        ],
    ));
    provenance
}

/// Builds the brief of a sweep.
pub fn build(s: &Sweep, lang: Lang) -> Result<Doc, BriefError> {
    let m = &s.manifest;
    let base = title(s);
    let title = L::new(
        format!("{} — 参数扫描", base.zh),
        format!("{} — parameter sweep", base.en),
    );
    let mut s1 = vec![Block::Table(pivot(s))];
    for metric in ["tied_up_net_avg", "days_to_cash_avg", "fiscal_cost"] {
        s1.extend(run::chart_block(curves(s, metric, lang), &s.dir)?);
    }
    let mut sections = vec![Section {
        title: L::new(
            "一、营运资金占用随参数的变化",
            "1. Working capital tied up across the grid",
        ),
        blocks: s1,
    }];
    if let Some(t) = exceed_table(s) {
        sections.push(Section {
            title: L::new("二、达到阈值的概率", "2. How often thresholds are met"),
            blocks: vec![Block::Table(t)],
        });
    }
    let mut all = vec![Block::Table(long_table(s))];
    all.extend(percentile_table(s).map(Block::Table));
    sections.push(Section {
        title: L::new(
            "三、全部组合的主要指标",
            "3. Key metrics at every grid point",
        ),
        blocks: all,
    });
    run::renumber(&mut sections);
    Ok(Doc {
        title,
        meta: meta(s),
        headlines: headlines(s),
        sections,
        provenance: provenance(m),
        inputs: run::inputs(m, &L::new("输入文件", "Input")),
    })
}

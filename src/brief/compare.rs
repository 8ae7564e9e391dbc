//! The brief of a comparison: baseline against reform with the paired
//! differences of delta.csv (95% interval, relative change, significance),
//! the reform's mechanisms and risk, the change by platform, and tied-up
//! capital over the year under both.

use serde_json::Value;

use super::chart::{self, Band};
use super::labels;
use super::load::{Compare, Delta};
use super::run::{self, text};
use super::{Block, BriefError, Cell, Doc, L, Lang, Num, Q, Section, Table, fmt};

/// Metrics whose rows are shown in bold: what the decision turns on.
const KEY: [&str; 3] = ["tied_up_net_avg", "days_to_cash_avg", "fiscal_cost"];

/// Whether a delta row says nothing: undefined or zero on both sides.
fn idle(d: &Delta) -> bool {
    let none = |x: f64| x.is_nan() || x == 0.0;
    none(d.base) && none(d.reform) && none(d.delta)
}

fn delta_table(c: &Compare) -> Table {
    let mut t = Table::new(
        L::new("改革对比", "Delta"),
        L::new("改革前后对比", "Baseline vs reform"),
        vec![
            L::new("指标", "Indicator"),
            L::new("基准", "Baseline"),
            L::new("改革后", "Reform"),
            L::new("变化（95%置信区间）", "Change (95% CI)"),
            L::new("相对变化", "Relative change"),
            L::new("是否显著", "Significant"),
        ],
    );
    for d in c.delta.iter().filter(|d| !idle(d)) {
        let q = labels::metric_quantity(&d.metric, &d.unit);
        let num = |v: f64| {
            if v.is_nan() {
                Cell::Empty
            } else {
                Cell::Num(Num::new(v, q))
            }
        };
        let change = if d.delta.is_nan() {
            Cell::Empty
        } else {
            Cell::Num(Num {
                // No interval to show when the change is exactly nil on every path.
                range: Some((d.lo, d.hi))
                    .filter(|(a, b)| a.is_finite() && b.is_finite() && (*a != 0.0 || *b != 0.0)),
                signed: true,
                ..Num::new(d.delta, q)
            })
        };
        let rel = if d.rel.is_nan() {
            Cell::Empty
        } else {
            Cell::Num(Num {
                signed: true,
                ..Num::new(d.rel, Q::Pct)
            })
        };
        if KEY.contains(&d.metric.as_str()) {
            t.bold_rows.push(t.rows.len());
        }
        t.rows.push(vec![
            Cell::Text(labels::metric(&d.metric)),
            num(d.base),
            num(d.reform),
            change,
            rel,
            d.significant
                .map(|s| Cell::Text(labels::yes_no(s)))
                .unwrap_or(Cell::Empty),
        ]);
        t.codes.push(d.metric.clone());
    }
    t.note = Some(L::new(
        "基准与改革使用相同的随机数（配对比较）；变化 = 改革后 − 基准，括号内为95%置信区间；区间不含0即为显著。相对变化 = 变化 ÷ 基准。未列出的指标在两种情形下均为0或无定义。",
        "Baseline and reform share their random numbers (a paired comparison); change = reform − baseline with its 95% confidence interval in brackets; significant when the interval excludes 0. Relative change = change ÷ baseline. Metrics zero or undefined under both are not listed.",
    ));
    t
}

fn platform_table(c: &Compare) -> Option<Table> {
    let (bp, rp) = (c.base.platforms.as_ref()?, c.reform.platforms.as_ref()?);
    let mut t = Table::new(
        L::new("分平台对比", "By platform"),
        L::new("分平台对比", "Baseline vs reform by platform"),
        vec![
            L::new("平台", "Platform"),
            L::new("试点平台", "Pilot"),
            L::new("营运资金占用：基准", "Tied up, net: baseline"),
            L::new("营运资金占用：改革后", "Tied up, net: reform"),
            L::new("营运资金占用：变化", "Tied up, net: change"),
            L::new("到账天数：基准", "Days to refund: baseline"),
            L::new("到账天数：改革后", "Days to refund: reform"),
        ],
    );
    for b in bp {
        let Some(r) = rp.iter().find(|r| r.name == b.name) else {
            continue;
        };
        let (nb, nr) = (
            b.metrics.get("tied_up_net_avg").mean,
            r.metrics.get("tied_up_net_avg").mean,
        );
        let zh = if b.name_zh.is_empty() {
            b.name.clone()
        } else {
            b.name_zh.clone()
        };
        t.rows.push(vec![
            Cell::Text(L::new(zh, b.name.clone())),
            b.pilot
                .map(|p| Cell::Text(labels::yes_no(p)))
                .unwrap_or(Cell::Empty),
            run::plain(nb, Q::Cny),
            run::plain(nr, Q::Cny),
            Cell::Num(Num {
                signed: true,
                ..Num::new(nr - nb, Q::Cny)
            }),
            run::plain(b.metrics.get("days_to_refund_avg").mean, Q::Days),
            run::plain(r.metrics.get("days_to_refund_avg").mean, Q::Days),
        ]);
    }
    t.note = Some(L::new(
        "分平台数值为各路径均值，未给出置信区间。",
        "Means over paths; no confidence intervals by platform.",
    ));
    Some(t)
}

/// Prefixes a table's title with "改革方案：" / "Reform: ".
fn reform_titled(mut t: Table) -> Table {
    t.title = L::new(
        format!("改革方案：{}", t.title.zh),
        format!("Reform: {}", t.title.en),
    );
    t.sheet = L::new(
        format!("改革{}", t.sheet.zh),
        format!("Reform {}", t.sheet.en.to_lowercase()),
    );
    t
}

/// "a.toml + b.toml" from a manifest's list of files.
fn files(m: &Value, key: &str) -> String {
    m.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| f.to_string())
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .unwrap_or_default()
}

/// The policy name of a run's resolved scenario, if any.
fn policy_name(m: &Value) -> String {
    m.get("scenario")
        .and_then(|s| s.get("policy"))
        .map(|p| text(p, "name"))
        .unwrap_or_default()
}

fn headline(d: &Delta) -> Option<L> {
    if d.delta.is_nan() || d.base.is_nan() || d.reform.is_nan() {
        return None;
    }
    let q = labels::metric_quantity(&d.metric, &d.unit);
    let v = |x: f64, zh: bool| fmt::one(&Num::new(x, q), zh);
    let ci = |zh: bool| {
        fmt::one(
            &Num {
                range: Some((d.lo, d.hi)),
                signed: true,
                ..Num::new(d.delta, q)
            },
            zh,
        )
    };
    let name = labels::metric(&d.metric);
    let (vzh, ven) = if d.delta < 0.0 {
        ("降至", "falls")
    } else if d.delta > 0.0 {
        ("升至", "rises")
    } else {
        ("保持", "stays at")
    };
    let (szh, sen) = match d.significant {
        Some(true) => ("，统计上显著", ", statistically significant"),
        Some(false) => ("，统计上不显著", ", not statistically significant"),
        None => ("", ""),
    };
    Some(L::new(
        format!(
            "{}：从 {} {vzh} {}，变化 {}{szh}。",
            name.zh,
            v(d.base, true),
            v(d.reform, true),
            ci(true)
        ),
        format!(
            "{}: {ven} from {} to {}, change {}{sen}.",
            name.en,
            v(d.base, false),
            v(d.reform, false),
            ci(false)
        ),
    ))
}

/// Builds the brief of a comparison.
pub fn build(c: &Compare, lang: Lang) -> Result<Doc, BriefError> {
    let (bm, rm) = (&c.base.manifest, &c.reform.manifest);
    let bt = run::title(bm);
    let title = L::new(
        format!("{} — 改革前后对比", bt.zh),
        format!("{} — baseline vs reform", bt.en),
    );
    let mut meta = Vec::new();
    let (bf, rf) = (
        files(&c.manifest, "base_files"),
        files(&c.manifest, "reform_files"),
    );
    let (bp, rp) = (policy_name(bm), policy_name(rm));
    let with_policy = |f: &str, p: &str| {
        if p.is_empty() {
            f.to_string()
        } else if f.is_empty() {
            p.to_string()
        } else {
            format!("{f}（{p}）")
        }
    };
    let with_policy_en = |f: &str, p: &str| {
        if p.is_empty() {
            f.to_string()
        } else if f.is_empty() {
            p.to_string()
        } else {
            format!("{f} ({p})")
        }
    };
    meta.push(L::new(
        format!("基准：{}", with_policy(&bf, &bp)),
        format!("Baseline: {}", with_policy_en(&bf, &bp)),
    ));
    meta.push(L::new(
        format!("改革：{}", with_policy(&rf, &rp)),
        format!("Reform: {}", with_policy_en(&rf, &rp)),
    ));
    let paths = Some(text(&c.manifest, "paths"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| text(bm, "paths"));
    let seed = Some(text(&c.manifest, "seed"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| text(bm, "seed"));
    meta.push(L::new(
        format!("模拟路径 {paths} 条 · 随机种子 {seed} · 两种情形共用随机数（配对比较）"),
        format!("{paths} simulated paths · seed {seed} · both cases share their random numbers (paired comparison)"),
    ));

    let mut sections = Vec::new();
    let mut s1 = vec![Block::Table(delta_table(c))];
    if let (Some(bt), Some(rt)) = (&c.base.timeseries, &c.reform.timeseries)
        && let (Some(b), Some(r)) = (bt.get("tied_up_net"), rt.get("tied_up_net"))
    {
        let bands = [
            Band {
                series: b,
                label: L::new("基准", "Baseline"),
                color: 1,
            },
            Band {
                series: r,
                label: L::new("改革后", "Reform"),
                color: 0,
            },
        ];
        let ch = chart::fan(
            L::new(
                "营运资金占用（扣除融资）：基准与改革后",
                "Working capital tied up, net: baseline and reform",
            ),
            &bt.dates,
            &bands,
            lang,
        );
        s1.extend(run::chart_block(Some(ch), &c.dir)?);
    }
    sections.push(Section {
        title: L::new("一、改革前后对比", "1. Baseline vs reform"),
        blocks: s1,
    });

    let mut s2 = Vec::new();
    s2.extend(
        run::mechanism_table(&c.reform)
            .map(reform_titled)
            .map(Block::Table),
    );
    s2.extend(
        run::risk_table(&c.reform)
            .map(reform_titled)
            .map(Block::Table),
    );
    if let Some(ts) = &c.reform.timeseries {
        for ch in run::pool_charts(ts, lang) {
            let ch = ch.map(|mut ch| {
                ch.title = L::new(
                    format!("改革方案：{}", ch.title.zh),
                    format!("Reform: {}", ch.title.en),
                );
                ch
            });
            s2.extend(run::chart_block(Some(ch), &c.dir)?);
        }
    }
    if !s2.is_empty() {
        sections.push(Section {
            title: L::new(
                "二、改革方案的融资机制与风险",
                "2. The reform's mechanisms and risk",
            ),
            blocks: s2,
        });
    }
    if let Some(t) = platform_table(c) {
        sections.push(Section {
            title: L::new("三、分平台", "3. By platform"),
            blocks: vec![Block::Table(t)],
        });
    }
    run::renumber(&mut sections);

    let headlines = run::population_headline(bm)
        .into_iter()
        .chain(
            KEY.iter()
                .filter_map(|k| c.delta.iter().find(|d| d.metric == *k))
                .filter(|d| !idle(d))
                .filter_map(headline),
        )
        .collect();

    let mut provenance = run::provenance(&c.manifest, None);
    if !bf.is_empty() {
        provenance.push((L::new("基准情景文件", "Baseline files"), bf));
    }
    if !rf.is_empty() {
        provenance.push((L::new("改革方案文件", "Reform files"), rf));
    }
    let sets = files(&c.manifest, "sets");
    if !sets.is_empty() {
        provenance.push((L::new("参数覆盖 --set", "Overrides --set"), sets));
    }
    let (rb, rr) = (L::new("基准", "Baseline"), L::new("改革", "Reform"));
    provenance.extend(run::provenance(bm, Some((&rb, &c.manifest))));
    provenance.extend(run::provenance(rm, Some((&rr, &c.manifest))));
    let mut inputs = run::inputs(&c.manifest, &L::new("输入文件", "Input"));
    if inputs.is_empty() {
        inputs.extend(run::inputs(bm, &rb));
        inputs.extend(run::inputs(rm, &rr));
    }

    meta.push(L::new(
        "简报由 refundsim 根据本目录的模拟结果生成；金额为各路径均值。",
        "Generated by refundsim from the simulation results in this directory; amounts are means over paths.",
    ));
    Ok(Doc {
        title,
        meta,
        headlines,
        sections,
        provenance,
        inputs,
    })
}

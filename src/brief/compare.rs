//! The brief of a comparison: first the cost-effectiveness ranking of the
//! reforms (effectiveness.csv, or the same measures derived from delta.csv for a
//! comparison written without it) with a chart of the working capital each
//! releases beside its net fiscal cost, and a plain sentence for every reform
//! that costs the public more than it saves the exporters; then baseline
//! against each reform with the paired differences of delta.csv (95% interval,
//! relative change, significance), the paired difference over the year, the
//! reforms' mechanisms and risk, and the change by platform.

use serde_json::Value;

use super::chart::{self, Band};
use super::labels;
use super::load::{Compare, Delta, Run};
use super::run::{self, text};
use super::{Block, BriefError, Cell, Doc, L, Lang, Num, Q, Section, Table, fmt};
use crate::compare::EFFECT_METRICS;

/// Metrics whose rows are shown in bold: what the decision turns on.
const KEY: [&str; 3] = ["tied_up_net_avg", "days_to_cash_avg", "fiscal_cost"];

/// Whether a delta row says nothing: undefined or zero on both sides.
fn idle(d: &Delta) -> bool {
    let none = |x: f64| x.is_nan() || x == 0.0;
    none(d.base) && none(d.reform) && none(d.delta)
}

fn delta_table(c: &Compare, arm: &str, name: &L, several: bool) -> Table {
    let (title, sheet) = if several {
        (
            L::new(
                format!("改革前后对比：{}", name.zh),
                format!("Baseline vs reform: {}", name.en),
            ),
            L::new(format!("对比 {}", name.zh), format!("Delta {}", name.en)),
        )
    } else {
        (
            L::new("改革前后对比", "Baseline vs reform"),
            L::new("改革对比", "Delta"),
        )
    };
    let mut t = Table::new(
        sheet,
        title,
        vec![
            L::new("指标", "Indicator"),
            L::new("基准", "Baseline"),
            L::new("改革后", "Reform"),
            L::new("变化（95%置信区间）", "Change (95% CI)"),
            L::new("相对变化", "Relative change"),
            L::new("是否显著", "Significant"),
        ],
    );
    for d in c.delta.iter().filter(|d| d.arm == arm && !idle(d)) {
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

/// A measure with its 95% interval: (value, low, high); NaN bounds: no interval.
type Tri = (f64, f64, f64);

const NAN3: Tri = (f64::NAN, f64::NAN, f64::NAN);

/// One reform's cost-effectiveness (MODEL.md §7 derived comparison measures).
struct Effect {
    /// The reform's name as delta.csv / effectiveness.csv write it (may be empty).
    arm: String,
    /// How it is shown.
    name: L,
    released: Tri,
    peak: Tri,
    days: Tri,
    fiscal: Tri,
    per_yuan: Tri,
    benefit: Tri,
    /// Carrying cost saved a year (base − reform `carrying_cost`), NaN if unknown.
    carrying_saved: f64,
}

/// The delta.csv row of `metric` for reform `arm`.
fn delta_of<'a>(c: &'a Compare, arm: &str, metric: &str) -> Option<&'a Delta> {
    c.delta.iter().find(|d| d.arm == arm && d.metric == metric)
}

/// A delta row as (delta, low, high), negated with `neg` (a saving).
fn tri(d: Option<&Delta>, neg: bool) -> Tri {
    match d {
        None => NAN3,
        Some(d) if neg => (-d.delta, -d.hi, -d.lo),
        Some(d) => (d.delta, d.lo, d.hi),
    }
}

/// The measures of reform `arm` derived from delta.csv (a comparison written
/// without effectiveness.csv): released capital and days saved with their paired
/// intervals; the net fiscal cost from `fiscal_cost_net`, or `fiscal_cost` less
/// the pools' fee income (no interval then); the ratio and the exporters' net
/// benefit without interval (they need the per-path values).
fn derived(c: &Compare, arm: &str) -> [Tri; 6] {
    let d = |m: &str| delta_of(c, arm, m);
    let released = tri(d("tied_up_net_avg"), true);
    let fiscal = match d("fiscal_cost_net") {
        Some(f) => tri(Some(f), false),
        None => {
            let fee = |m: &str| d(m).map(|x| x.delta).filter(|x| !x.is_nan()).unwrap_or(0.0);
            let f = tri(d("fiscal_cost"), false);
            let net = f.0 - fee("turnover.fee_income") - fee("guarantee.fee_income");
            if net == f.0 {
                f
            } else {
                (net, f64::NAN, f64::NAN)
            }
        }
    };
    let per_yuan = if fiscal.0 > 0.0 {
        (released.0 / fiscal.0, f64::NAN, f64::NAN)
    } else {
        NAN3
    };
    let cc = tri(d("carrying_cost"), true).0;
    let fc = tri(d("financing_cost"), false).0;
    [
        released,
        tri(d("tied_up_net_peak"), true),
        tri(d("days_to_cash_avg"), true),
        fiscal,
        per_yuan,
        (cc - fc, f64::NAN, f64::NAN),
    ]
}

/// The measures of `EFFECT_METRICS` for reform `arm` from effectiveness.csv, if it
/// has rows for it (a two-arm delta.csv without names matches a file of one reform).
fn from_file(c: &Compare, arm: &str) -> Option<[Tri; 6]> {
    let rows = c.effectiveness.as_ref()?;
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.reform.as_str()) {
            names.push(&r.reform);
        }
    }
    let key = if names.contains(&arm) {
        arm
    } else if arm.is_empty() && names.len() == 1 {
        names[0]
    } else {
        return None;
    };
    Some(EFFECT_METRICS.map(|m| {
        rows.iter()
            .find(|r| r.reform == key && r.metric == m)
            .map(|r| (r.value, r.lo, r.hi))
            .unwrap_or(NAN3)
    }))
}

/// How a reform is named: its name in delta.csv, else its files and policy name.
fn reform_name(c: &Compare, arm: &str) -> L {
    if !arm.is_empty() {
        return L::same(arm);
    }
    let (rf, rp) = (
        files(&c.manifest, "reform_files"),
        policy_name(&c.reform.manifest),
    );
    match (rf.is_empty(), rp.is_empty()) {
        (_, false) => L::same(rp),
        (false, true) => L::same(rf),
        (true, true) => L::new("改革方案", "Reform"),
    }
}

/// Every reform's measures, best first (most working capital released).
fn effects(c: &Compare) -> Vec<Effect> {
    let mut out: Vec<Effect> = c
        .reform_names()
        .into_iter()
        .map(|arm| {
            let [released, peak, days, fiscal, per_yuan, benefit] =
                from_file(c, &arm).unwrap_or_else(|| derived(c, &arm));
            Effect {
                name: reform_name(c, &arm),
                carrying_saved: tri(delta_of(c, &arm, "carrying_cost"), true).0,
                arm,
                released,
                peak,
                days,
                fiscal,
                per_yuan,
                benefit,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |e: &Effect| {
            if e.released.0.is_nan() {
                f64::NEG_INFINITY
            } else {
                e.released.0
            }
        };
        key(b).total_cmp(&key(a))
    });
    out
}

/// A measure as a table cell: the value with its interval in brackets.
fn tri_cell(t: Tri, q: Q, signed: bool) -> Cell {
    if t.0.is_nan() {
        return Cell::Empty;
    }
    Cell::Num(Num {
        range: Some((t.1, t.2)).filter(|(a, b)| a.is_finite() && b.is_finite() && a != b),
        signed,
        ..Num::new(t.0, q)
    })
}

/// Whether the reform costs the public more a year than it saves the exporters
/// in carrying cost: net fiscal cost > carrying cost saved.
fn costs_more(e: &Effect) -> bool {
    e.fiscal.0 > 0.0 && e.carrying_saved.is_finite() && e.fiscal.0 > e.carrying_saved
}

/// The plain sentence for a reform that costs more than it saves.
fn costs_more_sentence(e: &Effect) -> L {
    let (f, s) = (e.fiscal.0, e.carrying_saved.max(0.0));
    L::new(
        format!(
            "{}花的钱比企业省的多：财政每年净成本 {}，而企业每年节省的资金占用成本只有 {}。",
            e.name.zh,
            fmt::cny(f, true),
            fmt::cny(s, true)
        ),
        format!(
            "{} costs more than it saves the exporters: {} a year in net fiscal cost against {} a year of carrying cost saved.",
            e.name.en,
            fmt::cny(f, false),
            fmt::cny(s, false)
        ),
    )
}

/// The ranking table: one row per reform, best first.
fn ranking_table(es: &[Effect], from_file: bool) -> Table {
    let mut t = Table::new(
        L::new("成本效益", "Effectiveness"),
        L::new(
            "改革方案的成本效益排序（相对基准，95%置信区间）",
            "Cost-effectiveness of the reforms against the baseline (95% CI)",
        ),
        vec![
            L::new("改革方案", "Reform"),
            L::new("日均释放营运资金", "Working capital released, average day"),
            L::new("峰值日释放营运资金", "Released on the peak day"),
            L::new("资金到手提前天数", "Days to cash saved"),
            L::new("财政净成本（每年）", "Net fiscal cost a year"),
            L::new(
                "每元财政净成本释放的资金",
                "Released per yuan of net fiscal cost",
            ),
            L::new("企业净收益（每年）", "Exporters' net benefit a year"),
        ],
    );
    for e in es {
        t.rows.push(vec![
            Cell::Text(e.name.clone()),
            tri_cell(e.released, Q::Cny, false),
            tri_cell(e.peak, Q::Cny, false),
            tri_cell(e.days, Q::Days, false),
            tri_cell(e.fiscal, Q::Cny, true),
            tri_cell(e.per_yuan, Q::Plain, false),
            tri_cell(e.benefit, Q::Cny, true),
        ]);
        t.codes.push(e.arm.clone());
    }
    if let Some(first) = es.first().filter(|e| e.released.0.is_finite()) {
        let _ = first;
        t.bold_rows.push(0);
    }
    let source = if from_file {
        L::new("数据取自 effectiveness.csv。", "From effectiveness.csv.")
    } else {
        L::new(
            "由 delta.csv 推算：比值与企业净收益未给出区间。",
            "Derived from delta.csv: the ratio and the exporters' net benefit carry no interval.",
        )
    };
    t.note = Some(L::new(
        format!(
            "按日均释放的营运资金从多到少排列。释放 = 基准 − 改革后的营运资金占用（扣除融资）；财政净成本 = 财政成本 − 公共资金池收取的费用，相对基准的增加；每元财政净成本释放的资金 = 日均释放 ÷ 财政净成本（成本不为正时不计算）；企业净收益 = 节省的资金占用成本 − 增加的融资成本。{}",
            source.zh
        ),
        format!(
            "Ordered by working capital released on an average day, most first. Released = baseline − reform working capital tied up, net; net fiscal cost = fiscal cost − fees earned by the public pools, the increase over the baseline; released per yuan = released on an average day ÷ net fiscal cost a year (empty when the cost is not positive); exporters' net benefit = carrying cost saved − extra financing cost. {}",
            source.en
        ),
    ));
    t
}

/// Section 1: the ranking, its chart and the cost-versus-saving sentences.
fn ranking_section(c: &Compare, es: &[Effect], lang: Lang) -> Result<Section, BriefError> {
    let from_file = c.effectiveness.is_some();
    let mut blocks = vec![Block::Table(ranking_table(es, from_file))];
    let bars: Vec<chart::EffectBar> = es
        .iter()
        .map(|e| chart::EffectBar {
            label: e.name.get(lang),
            released: e.released,
            fiscal: e.fiscal,
        })
        .collect();
    let ch = chart::effectiveness(
        L::new(
            "各改革方案释放的营运资金与财政净成本",
            "Working capital released and net fiscal cost, by reform",
        ),
        &bars,
        lang,
    );
    blocks.extend(run::chart_block(Some(ch), &c.dir)?);
    blocks.extend(
        es.iter()
            .filter(|e| costs_more(e))
            .map(|e| Block::Para(costs_more_sentence(e))),
    );
    Ok(Section {
        title: L::new("一、成本效益排序", "1. Cost-effectiveness ranking"),
        blocks,
    })
}

/// The reform runs to show, with their names: every reform found on disk.
fn reform_runs(c: &Compare) -> Vec<(L, &Run)> {
    if c.reforms.is_empty() {
        return vec![(reform_name(c, ""), &c.reform)];
    }
    c.reforms
        .iter()
        .map(|(arm, r)| (reform_name(c, arm), r))
        .collect()
}

/// Section 2: baseline against each reform, the fan chart of both and the paired
/// difference over the year.
fn delta_section(c: &Compare, es: &[Effect], lang: Lang) -> Result<Section, BriefError> {
    let several = es.len() > 1;
    let mut blocks: Vec<Block> = es
        .iter()
        .map(|e| Block::Table(delta_table(c, &e.arm, &e.name, several)))
        .collect();
    let runs = reform_runs(c);
    if let Some(bt) = &c.base.timeseries
        && let Some(b) = bt.get("tied_up_net")
    {
        // One unit for tied-up capital and its change: the baseline's level.
        let family = b
            .p95
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let family = Some(family).filter(|f| *f > 0.0);
        if let Some((_, r)) = runs.first()
            && !several
            && let Some(rt) = &r.timeseries
            && let Some(rs) = rt.get("tied_up_net")
        {
            let bands = [
                Band {
                    series: b,
                    label: L::new("基准", "Baseline"),
                    color: 1,
                },
                Band {
                    series: rs,
                    label: L::new("改革后", "Reform"),
                    color: 0,
                },
            ];
            let ch = chart::fan_ext(
                L::new(
                    "营运资金占用（扣除融资）：基准与改革后",
                    "Working capital tied up, net: baseline and reform",
                ),
                &bt.dates,
                &bands,
                &[],
                family,
                lang,
            );
            blocks.extend(run::chart_block(Some(ch), &c.dir)?);
        }
        let lines: Vec<(L, Vec<f64>)> = runs
            .iter()
            .filter_map(|(name, r)| {
                let rs = r.timeseries.as_ref()?.get("tied_up_net")?;
                (rs.mean.len() == b.mean.len()).then(|| {
                    let d = rs.mean.iter().zip(&b.mean).map(|(r, b)| r - b).collect();
                    (name.clone(), d)
                })
            })
            .collect();
        if !lines.is_empty() {
            let ch = chart::difference(
                L::new(
                    "全年配对差：营运资金占用（扣除融资），改革后 − 基准",
                    "Paired difference over the year: working capital tied up, net, reform − baseline",
                ),
                &bt.dates,
                &lines,
                family,
                lang,
            );
            blocks.extend(run::chart_block(Some(ch), &c.dir)?);
        }
    }
    Ok(Section {
        title: L::new("二、改革前后对比", "2. Baseline vs reform"),
        blocks,
    })
}

/// Section 3: each reform's mechanisms, risk and pool balances.
fn mechanism_section(c: &Compare, lang: Lang) -> Result<Option<Section>, BriefError> {
    let runs = reform_runs(c);
    let several = runs.len() > 1;
    let named = |t: L, name: &L| {
        if several {
            L::new(
                format!("{}：{}", name.zh, t.zh),
                format!("{}: {}", name.en, t.en),
            )
        } else {
            L::new(format!("改革方案：{}", t.zh), format!("Reform: {}", t.en))
        }
    };
    let mut blocks = Vec::new();
    for (name, r) in &runs {
        for t in [run::mechanism_table(r), run::risk_table(r)]
            .into_iter()
            .flatten()
        {
            let mut t = reform_titled(t);
            if several {
                t.title = named(
                    L::new(
                        t.title.zh.trim_start_matches("改革方案："),
                        t.title.en.trim_start_matches("Reform: "),
                    ),
                    name,
                );
            }
            blocks.push(Block::Table(t));
        }
        if let Some(ts) = &r.timeseries {
            for ch in run::pool_charts(ts, r, lang) {
                let ch = ch.map(|mut ch| {
                    ch.title = named(ch.title.clone(), name);
                    ch
                });
                blocks.extend(run::chart_block(Some(ch), &c.dir)?);
            }
        }
    }
    Ok((!blocks.is_empty()).then(|| Section {
        title: L::new(
            "三、改革方案的融资机制与风险",
            "3. The reforms' mechanisms and risk",
        ),
        blocks,
    }))
}

/// Meta lines: baseline and reform files with their policies, paths and seed.
fn meta(c: &Compare) -> Vec<L> {
    let (bm, rm) = (&c.base.manifest, &c.reform.manifest);
    let (bf, rf) = (
        files(&c.manifest, "base_files"),
        files(&c.manifest, "reform_files"),
    );
    let (bp, rp) = (policy_name(bm), policy_name(rm));
    let with = |f: &str, p: &str, open: &str, close: &str| match (f.is_empty(), p.is_empty()) {
        (_, true) => f.to_string(),
        (true, false) => p.to_string(),
        (false, false) => format!("{f}{open}{p}{close}"),
    };
    let paths = Some(text(&c.manifest, "paths"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| text(bm, "paths"));
    let seed = Some(text(&c.manifest, "seed"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| text(bm, "seed"));
    vec![
        L::new(
            format!("基准：{}", with(&bf, &bp, "（", "）")),
            format!("Baseline: {}", with(&bf, &bp, " (", ")")),
        ),
        reform_line(c, &rf, &rp, &with),
        L::new(
            format!("模拟路径 {paths} 条 · 随机种子 {seed} · 各情形共用随机数（配对比较）"),
            format!(
                "{paths} simulated paths · seed {seed} · all cases share their random numbers (paired comparison)"
            ),
        ),
        L::new(
            "简报由 refundsim 根据本目录的模拟结果生成；金额为各路径均值。",
            "Generated by refundsim from the simulation results in this directory; amounts are means over paths.",
        ),
    ]
}

/// The meta line naming the reform, or each reform of a comparison with several
/// (manifest `reforms`: their labels and files; `reform_files` runs them together).
fn reform_line(
    c: &Compare,
    rf: &str,
    rp: &str,
    with: &dyn Fn(&str, &str, &str, &str) -> String,
) -> L {
    let arms: Vec<(String, String)> = c
        .manifest
        .get("reforms")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| (text(r, "label"), files(r, "files")))
                .collect()
        })
        .unwrap_or_default();
    if arms.len() < 2 {
        return L::new(
            format!("改革：{}", with(rf, rp, "（", "）")),
            format!("Reform: {}", with(rf, rp, " (", ")")),
        );
    }
    let list = |sep: &str, open: &str, close: &str| {
        arms.iter()
            .enumerate()
            .map(|(i, (label, f))| format!("{}. {}", i + 1, with(label, f, open, close)))
            .collect::<Vec<_>>()
            .join(sep)
    };
    L::new(
        format!("改革方案 {} 个：{}", arms.len(), list("；", "（", "）")),
        format!("{} reforms: {}", arms.len(), list("; ", " (", ")")),
    )
}

/// Provenance rows and input files of a comparison and its arms.
/// Provenance rows (label, value) and input files (role, path, sha256) of a brief.
type Sources = (Vec<(L, String)>, Vec<(L, String, String)>);

fn sources(c: &Compare) -> Sources {
    let (bm, rm) = (&c.base.manifest, &c.reform.manifest);
    let mut provenance = run::provenance(&c.manifest, None);
    for (key, label) in [
        ("base_files", L::new("基准情景文件", "Baseline files")),
        ("reform_files", L::new("改革方案文件", "Reform files")),
        ("sets", L::new("参数覆盖 --set", "Overrides --set")),
    ] {
        let v = files(&c.manifest, key);
        if !v.is_empty() {
            provenance.push((label, v));
        }
    }
    let (rb, rr) = (L::new("基准", "Baseline"), L::new("改革", "Reform"));
    provenance.extend(run::provenance(bm, Some((&rb, &c.manifest))));
    provenance.extend(run::provenance(rm, Some((&rr, &c.manifest))));
    let mut inputs = run::inputs(&c.manifest, &L::new("输入文件", "Input"));
    if inputs.is_empty() {
        inputs.extend(run::inputs(bm, &rb));
        inputs.extend(run::inputs(rm, &rr));
    }
    (provenance, inputs)
}

/// Key findings: the population, the best reform, every reform that costs more
/// than it saves, then the key metrics of a single reform.
fn headlines(c: &Compare, es: &[Effect]) -> Vec<L> {
    let mut out: Vec<L> = run::population_headline(&c.base.manifest)
        .into_iter()
        .collect();
    if es.len() > 1
        && let Some(best) = es.first().filter(|e| e.released.0.is_finite())
    {
        let n = |zh| fmt::one(&Num::new(best.released.0, Q::Cny), zh);
        // effectiveness.csv ranks the 1+7 group: say so (MODEL.md §7).
        let (pz, pe) = (
            text(&c.manifest, "pilot_population_zh"),
            text(&c.manifest, "pilot_population"),
        );
        let (pz, pe) = if c.effectiveness.is_some() && !pe.is_empty() {
            (
                format!("（{}）", if pz.is_empty() { &pe } else { &pz }),
                format!(" ({pe})"),
            )
        } else {
            (String::new(), String::new())
        };
        out.push(L::new(
            format!(
                "{} 个改革方案中，{}释放的营运资金最多{pz}：日均 {}。",
                es.len(),
                best.name.zh,
                n(true)
            ),
            format!(
                "Of {} reforms, {} releases the most working capital{pe}: {} on an average day.",
                es.len(),
                best.name.en,
                n(false)
            ),
        ));
    }
    out.extend(es.iter().filter(|e| costs_more(e)).map(costs_more_sentence));
    if es.len() == 1 {
        out.extend(
            KEY.iter()
                .filter_map(|k| delta_of(c, &es[0].arm, k))
                .filter(|d| !idle(d))
                .filter_map(headline),
        );
    }
    out
}

/// Builds the brief of a comparison.
pub fn build(c: &Compare, lang: Lang) -> Result<Doc, BriefError> {
    let bt = run::title(&c.base.manifest);
    let title = L::new(
        format!("{} — 改革前后对比", bt.zh),
        format!("{} — baseline vs reform", bt.en),
    );
    let es = effects(c);
    let mut sections = vec![ranking_section(c, &es, lang)?, delta_section(c, &es, lang)?];
    sections.extend(mechanism_section(c, lang)?);
    if let Some(t) = platform_table(c) {
        sections.push(Section {
            title: L::new("四、分平台", "4. By platform"),
            blocks: vec![Block::Table(t)],
        });
    }
    run::renumber(&mut sections);
    let (provenance, inputs) = sources(c);
    Ok(Doc {
        title,
        meta: meta(c),
        headlines: headlines(c, &es),
        sections,
        provenance,
        inputs,
    })
}

//! The brief of one run: (1) working capital tied up and days to cash, (2) what
//! each financing mechanism releases and costs, (3) risk, (4) by platform and by
//! class, with the fan chart of tied-up capital and the pools' balances over the
//! year, and the provenance of the numbers.

use serde_json::Value;

use super::chart::{self, Band};
use super::fmt;
use super::labels;
use super::load::{Run, Stats, TimeSeries};
use super::{Block, BriefError, Cell, Chart, Doc, L, Lang, Num, Q, Section, Table};
use crate::metrics::M;
use crate::scenario::Mechanism;

/// The mechanisms the run enabled, in MODEL.md order.
fn mechanisms_on(r: &Run) -> Vec<Mechanism> {
    Mechanism::ALL
        .into_iter()
        .filter(|&m| r.mechanism_on(m))
        .collect()
}

/// A string field of a manifest.
pub fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Provenance rows from a manifest: each `(key, 中文, English)` whose value is
/// set, then the scenario files and `--set` overrides.
pub fn manifest_rows<'a>(
    m: &Value,
    keys: impl IntoIterator<Item = &'a (&'a str, &'a str, &'a str)>,
) -> Vec<(L, String)> {
    let mut out = Vec::new();
    for (k, zh, en) in keys {
        let v = text(m, k);
        if !v.is_empty() {
            out.push((L::new(*zh, *en), v));
        }
    }
    for (k, zh, en) in [
        ("files", "情景文件", "Scenario files"),
        ("sets", "参数覆盖 --set", "Overrides --set"),
    ] {
        if let Some(Value::Array(a)) = m.get(k)
            && !a.is_empty()
        {
            let v: Vec<String> = a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect();
            out.push((L::new(zh, en), v.join(" + ")));
        }
    }
    out
}

/// A run's title in both languages (the scenario name when untitled).
pub fn title(m: &Value) -> L {
    let name = text(m, "scenario_name");
    let en = Some(text(m, "title"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| name.clone());
    let zh = Some(text(m, "title_zh"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| en.clone());
    L::new(zh, en)
}

/// A run's title naming its policy stack: the title (which names the overlays
/// of a stack, see [`crate::naming`]), followed by the resolved policy's name
/// when the title does not already say it.
pub fn stack_title(m: &Value) -> L {
    let t = title(m);
    let policy = m
        .get("scenario")
        .and_then(|s| s.get("policy"))
        .map(|p| text(p, "name"))
        .unwrap_or_default();
    if policy.is_empty() || t.en.contains(&policy) || t.zh.contains(&policy) {
        return t;
    }
    L::new(
        format!("{}（政策：{policy}）", t.zh),
        format!("{} — policy: {policy}", t.en),
    )
}

/// "Mean ± 95% CI" of a row of summary.csv as a number.
pub fn mean_ci(s: &Stats, q: Q) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Num(Num::ci(s.mean, q, s.ci95()))
    }
}

/// A share or probability with its Wilson 95% interval, shown as `p (lo ~ hi)`:
/// from `paths.csv` when present, else from summary.csv's standard error and the
/// manifest's path count (the same interval up to rounding).
pub fn share_ci(r: &Run, metric: &str) -> Cell {
    let s = r.summary.get(metric);
    if s.is_empty() {
        return Cell::Empty;
    }
    let sm = r
        .paths
        .as_ref()
        .and_then(|p| p.col(metric))
        .map(crate::stats::Summary::of)
        .unwrap_or_else(|| {
            let n = r.manifest["paths"].as_u64().unwrap_or(0) as usize;
            crate::stats::Summary {
                n,
                mean: s.mean,
                std_err: s.std_err,
                std: s.std_err * (n as f64).sqrt(),
                ..crate::stats::Summary::of([])
            }
        });
    let (lo, hi) = crate::stats::share_ci95(&sm);
    Cell::Num(Num {
        range: Some((lo, hi)),
        ..Num::new(s.mean, Q::Pct)
    })
}

/// A metric's mean with its 95% interval: Wilson for shares and probabilities
/// (marked in the metric table), `± 1.96·se` otherwise.
fn metric_ci(r: &Run, metric: &str, q: Q) -> Cell {
    if crate::metrics::is_share(metric) {
        share_ci(r, metric)
    } else {
        mean_ci(&r.summary.get(metric), q)
    }
}

/// A single number (a percentile), or empty.
pub fn plain(v: f64, q: Q) -> Cell {
    if v.is_nan() {
        Cell::Empty
    } else {
        Cell::Num(Num::new(v, q))
    }
}

/// The quantity of a metric by its unit in the summary (or the metric table).
fn q_of(r: &Run, metric: &str) -> Q {
    let unit = r
        .summary
        .rows
        .iter()
        .find(|row| row.0 == metric)
        .map(|row| row.1.as_str())
        .unwrap_or("");
    labels::metric_quantity(metric, unit)
}

/// Headers shared by the metric tables.
fn head(more: &[(&str, &str)]) -> Vec<L> {
    let mut v = vec![
        L::new("指标", "Indicator"),
        L::new("均值 ± 95%置信区间", "Mean ± 95% CI"),
    ];
    v.extend(more.iter().map(|(z, e)| L::new(*z, *e)));
    v
}

/// Working capital released per path: gross − net tied up, daily average.
fn released(r: &Run) -> Stats {
    let from_paths = r.paths.as_ref().and_then(|p| {
        let g = p.col(M::TiedUpGrossAvg.name())?;
        let n = p.col(M::TiedUpNetAvg.name())?;
        let s = crate::stats::Summary::of(g.iter().zip(&n).map(|(g, n)| g - n));
        Some(Stats {
            mean: s.mean,
            std_err: s.std_err,
            p5: s.p5,
            p50: s.p50,
            p95: s.p95,
            p99: s.p99,
        })
    });
    from_paths.unwrap_or_else(|| {
        let (g, n) = (
            r.summary.get(M::TiedUpGrossAvg.name()),
            r.summary.get(M::TiedUpNetAvg.name()),
        );
        Stats {
            mean: g.mean - n.mean,
            ..Stats::NAN
        }
    })
}

/// Share of paths on which some request found the turnover pool short, with its
/// Wilson 95% interval.
fn exhaustion(r: &Run) -> Option<(f64, (f64, f64))> {
    let v = r.paths.as_ref()?.col(M::TurnoverEmptyDaysShare.name())?;
    let v: Vec<f64> = v.into_iter().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let p = v.iter().filter(|x| **x > 0.0).count() as f64 / n as f64;
    Some((p, crate::stats::wilson(p, n as f64, crate::stats::Z95)))
}

/// Table 1: working capital tied up and days to cash.
fn tied_up_table(r: &Run) -> Table {
    let mut t = Table::new(
        L::new("资金占用", "Tied up"),
        L::new(
            "营运资金占用与到账天数",
            "Working capital tied up and days to cash",
        ),
        head(&[("5%分位", "P5"), ("中位数", "Median"), ("95%分位", "P95")]),
    );
    for m in [
        M::RefundDeclared.name(),
        M::TiedUpGrossAvg.name(),
        M::TiedUpGrossPeak.name(),
        M::TiedUpNetAvg.name(),
        M::TiedUpNetPeak.name(),
        M::DaysToRefundAvg.name(),
        M::DaysToRefundP90.name(),
        M::DaysToCashAvg.name(),
        M::CarryingCost.name(),
    ] {
        let s = r.summary.get(m);
        if s.is_empty() {
            continue;
        }
        let q = q_of(r, m);
        t.rows.push(vec![
            Cell::Text(labels::metric(m)),
            metric_ci(r, m, q),
            plain(s.p5, q),
            plain(s.p50, q),
            plain(s.p95, q),
        ]);
        t.codes.push(m.to_string());
    }
    t.note = Some(L::new(
        "均值 ± 95%置信区间：各模拟路径的平均及其模拟误差；5%–95%分位：一年中可能出现的结果范围。天数按退税金额加权。",
        "Mean ± 95% CI: average over simulated paths and its simulation error; P5–P95: the range of outcomes a year may bring. Days are weighted by refund amount.",
    ));
    t
}

/// Table 2: what each mechanism releases and costs (None when none is enabled).
pub fn mechanism_table(r: &Run) -> Option<Table> {
    let on = mechanisms_on(r);
    if on.is_empty() {
        return None;
    }
    let mut t = Table::new(
        L::new("融资机制", "Mechanisms"),
        L::new(
            "融资机制释放的营运资金及成本",
            "What the financing mechanisms release and what they cost",
        ),
        head(&[("5%分位", "P5"), ("95%分位", "P95")]),
    );
    let rel = released(r);
    t.rows.push(vec![
        Cell::Text(L::new(
            "释放的营运资金（日均）",
            "Working capital released, daily average",
        )),
        mean_ci(&rel, Q::Cny),
        plain(rel.p5, Q::Cny),
        plain(rel.p95, Q::Cny),
    ]);
    t.codes
        .push("tied_up_gross_avg - tied_up_net_avg".to_string());
    t.bold_rows.push(0);
    for &mech in &on {
        let (m, activity) = (mech.name(), mech.delivered().name());
        if let Some((key, k)) = r.capital(mech) {
            let name = labels::mechanism(m);
            let what = if key == "risk_fund" {
                L::new("风险补偿资金", "risk fund")
            } else {
                L::new("资本金", "capital")
            };
            t.rows.push(vec![
                Cell::Text(L::new(
                    format!("{}{}（财政投入）", name.zh, what.zh),
                    format!("{} {} (public money)", name.en, what.en),
                )),
                Cell::Num(Num::new(k, Q::Cny)),
                Cell::Empty,
                Cell::Empty,
            ]);
            t.codes.push(format!("pools.{m}.{key}"));
        }
        let s = r.summary.get(activity);
        if !s.is_empty() {
            t.rows.push(vec![
                Cell::Text(labels::metric(activity)),
                mean_ci(&s, Q::Cny),
                plain(s.p5, Q::Cny),
                plain(s.p95, Q::Cny),
            ]);
            t.codes.push(activity.to_string());
        }
    }
    for m in [M::FinancingCost.name(), M::FiscalCost.name()] {
        let s = r.summary.get(m);
        if s.is_empty() {
            continue;
        }
        t.rows.push(vec![
            Cell::Text(labels::metric(m)),
            mean_ci(&s, Q::Cny),
            plain(s.p5, Q::Cny),
            plain(s.p95, Q::Cny),
        ]);
        t.codes.push(m.to_string());
    }
    t.note = Some(L::new(
        "释放的营运资金 = 融资前占用 − 扣除融资后占用（日均）。财政成本 = 财政投入 × 财政资金成本率 + 财政承担的损失。",
        "Released = tied up before financing − tied up net of financing (daily average). Fiscal cost = public money committed × government funding rate + losses borne by public funds.",
    ));
    Some(t)
}

/// Table 3: losses at p95 / p99 and the probabilities of pool exhaustion and ruin.
pub fn risk_table(r: &Run) -> Option<Table> {
    let mut t = Table::new(
        L::new("风险", "Risk"),
        L::new("风险：损失与资金池耗尽", "Risk: losses and pool exhaustion"),
        head(&[
            ("95%分位（20年一遇）", "P95 (1 year in 20)"),
            ("99%分位（百年一遇）", "P99 (1 year in 100)"),
        ]),
    );
    for m in mechanisms_on(r) {
        for metric in m.losses().iter().map(|k| k.name()) {
            let s = r.summary.get(metric);
            if s.is_empty() {
                continue;
            }
            t.rows.push(vec![
                Cell::Text(labels::metric(metric)),
                mean_ci(&s, Q::Cny),
                plain(s.p95, Q::Cny),
                plain(s.p99, Q::Cny),
            ]);
            t.codes.push(metric.to_string());
        }
    }
    if r.mechanism_on(Mechanism::Turnover) {
        if let Some((p, range)) = exhaustion(r) {
            t.rows.push(vec![
                Cell::Text(L::new(
                    "周转池出现资金不足的概率（某日余额不够垫付）",
                    "Probability the turnover pool runs short on some day",
                )),
                Cell::Num(Num {
                    range: Some(range),
                    ..Num::new(p, Q::Pct)
                }),
                Cell::Empty,
                Cell::Empty,
            ]);
            t.codes.push("turnover.empty_days_share > 0".to_string());
        }
        let s = r.summary.get(M::TurnoverBlockedShare.name());
        if !s.is_empty() {
            t.rows.push(vec![
                Cell::Text(labels::metric(M::TurnoverBlockedShare.name())),
                metric_ci(r, M::TurnoverBlockedShare.name(), Q::Pct),
                plain(s.p95, Q::Pct),
                plain(s.p99, Q::Pct),
            ]);
            t.codes.push(M::TurnoverBlockedShare.name().to_string());
        }
    }
    for (m, metric) in [
        (Mechanism::Guarantee, M::GuaranteeRuined.name()),
        (Mechanism::Credit, M::CreditDefaultRate.name()),
    ] {
        let s = r.summary.get(metric);
        if r.mechanism_on(m) && !s.is_empty() {
            let last = if metric == M::GuaranteeRuined.name() {
                [Cell::Empty, Cell::Empty]
            } else {
                [plain(s.p95, Q::Pct), plain(s.p99, Q::Pct)]
            };
            let [a, b] = last;
            t.rows.push(vec![
                Cell::Text(labels::metric(metric)),
                metric_ci(r, metric, Q::Pct),
                a,
                b,
            ]);
            t.codes.push(metric.to_string());
        }
    }
    if t.rows.is_empty() {
        return None;
    }
    t.note = Some(L::new(
        "损失为每年金额；95%/99%分位即平均每20年/100年才会超过一次的年度损失。概率为出现该情形的模拟路径占比。",
        "Losses are per year; P95 / P99 are the yearly losses exceeded once in 20 / 100 years on average. Probabilities are shares of simulated paths.",
    ));
    Some(t)
}

/// Table 4: by platform (with a total row).
fn platform_table(r: &Run) -> Option<Table> {
    let groups = r.platforms.as_ref()?;
    let mut t = Table::new(
        L::new("分平台", "By platform"),
        L::new("分平台结果", "By platform"),
        vec![
            L::new("平台", "Platform"),
            L::new("试点平台", "Pilot"),
            labels::metric(M::Exports.name()),
            labels::metric(M::Claims.name()),
            L::new(
                "营运资金占用（日均）",
                "Working capital tied up, daily average",
            ),
            L::new(
                "出口至退税到账天数（平均）",
                "Days from export to refund, average",
            ),
        ],
    );
    let row = |name: L, pilot: Cell, s: &super::load::Summary| {
        vec![
            Cell::Text(name),
            pilot,
            plain(s.get(M::Exports.name()).mean, Q::Cny),
            plain(s.get(M::Claims.name()).mean, Q::Count),
            mean_ci(&s.get(M::TiedUpNetAvg.name()), Q::Cny),
            mean_ci(&s.get(M::DaysToRefundAvg.name()), Q::Days),
        ]
    };
    for g in groups {
        let zh = if g.name_zh.is_empty() {
            g.name.clone()
        } else {
            g.name_zh.clone()
        };
        let pilot = g
            .pilot
            .map(|p| Cell::Text(labels::yes_no(p)))
            .unwrap_or(Cell::Empty);
        t.rows
            .push(row(L::new(zh, g.name.clone()), pilot, &g.metrics));
    }
    t.rows
        .push(row(L::new("合计", "Total"), Cell::Empty, &r.summary));
    t.bold_rows.push(t.rows.len() - 1);
    t.note = Some(L::new(
        "试点平台的企业可使用融资机制；非试点平台为对照组。",
        "Exporters on pilot platforms may use the financing mechanisms; the others are a comparison group.",
    ));
    Some(t)
}

/// Table 5: by exporter class.
fn class_table(r: &Run) -> Option<Table> {
    let groups = r.classes.as_ref()?;
    let mut t = Table::new(
        L::new("分类别", "By class"),
        L::new("按出口企业分类管理类别", "By exporter class"),
        vec![
            L::new("企业类别", "Class"),
            labels::metric(M::Exports.name()),
            L::new(
                "营运资金占用（日均）",
                "Working capital tied up, daily average",
            ),
            L::new(
                "出口至退税到账天数（平均）",
                "Days from export to refund, average",
            ),
            L::new(
                "出口至退税到账天数（90%分位）",
                "Days from export to refund, 90th percentile",
            ),
            L::new(
                "出口至资金到手天数（平均）",
                "Days from export to cash, average",
            ),
        ],
    );
    for g in groups {
        let s = &g.metrics;
        t.rows.push(vec![
            Cell::Text(labels::class(&g.name)),
            plain(s.get(M::Exports.name()).mean, Q::Cny),
            mean_ci(&s.get(M::TiedUpNetAvg.name()), Q::Cny),
            mean_ci(&s.get(M::DaysToRefundAvg.name()), Q::Days),
            plain(s.get(M::DaysToRefundP90.name()).mean, Q::Days),
            plain(s.get(M::DaysToCashAvg.name()).mean, Q::Days),
        ]);
    }
    Some(t)
}

/// Whether two series are the same (no financing: net = gross).
fn same_series(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) || (x.is_nan() && y.is_nan())
        })
}

/// The fan chart of tied-up capital (gross and net, or one band when equal).
pub fn tied_up_chart(ts: &TimeSeries, lang: Lang) -> Option<Result<Chart, String>> {
    let gross = ts.get("tied_up_gross");
    let net = ts.get("tied_up_net")?;
    let mut bands = Vec::new();
    match gross {
        Some(g) if !same_series(&g.mean, &net.mean) => {
            bands.push(Band {
                series: g,
                label: labels::series("tied_up_gross"),
                color: 1,
            });
            bands.push(Band {
                series: net,
                label: labels::series("tied_up_net"),
                color: 0,
            });
        }
        _ => bands.push(Band {
            series: net,
            label: L::new(
                "营运资金占用（未使用融资，融资前后相同）",
                "Working capital tied up (no financing used: gross = net)",
            ),
            color: 0,
        }),
    }
    Some(chart::fan(
        L::new("全年营运资金占用", "Working capital tied up over the year"),
        &ts.dates,
        &bands,
        lang,
    ))
}

/// The size of the pool behind a pool series, as a reference line: the turnover
/// pool's capital K; the guarantee pool's loan capacity G × leverage; the credit
/// risk fund's capacity, risk fund × fund leverage.
fn pool_level(r: &Run, series: &str) -> Option<chart::Level> {
    let sc = r.manifest.get("scenario")?;
    let f = |m: &str, k: &str| sc.get(m)?.get(k)?.as_f64();
    let (value, label) = match series {
        "turnover.balance" => (
            f("turnover", "capital")?,
            L::new("周转池资本金 K", "Turnover pool capital K"),
        ),
        "guarantee.outstanding" => (
            f("guarantee", "capital")? * f("guarantee", "leverage").unwrap_or(1.0),
            L::new(
                "担保贷款容量（资本金 × 放大倍数）",
                "Loan capacity (capital × leverage)",
            ),
        ),
        "credit.drawn" => (
            f("credit", "risk_fund")? * f("credit", "fund_leverage").unwrap_or(1.0),
            L::new(
                "信用贷容量（风险补偿资金 × 放大倍数）",
                "Credit capacity (risk fund × leverage)",
            ),
        ),
        _ => return None,
    };
    Some(chart::Level { value, label })
}

/// The pools' balance and loans outstanding over the year: one chart per series
/// present (their scales differ too much to share an axis), each with the pool's
/// size as a line, all in one unit (chosen from the largest of them).
pub fn pool_charts(ts: &TimeSeries, r: &Run, lang: Lang) -> Vec<Result<Chart, String>> {
    let pools = [
        (
            "turnover.balance",
            L::new("全年周转池可用余额", "Turnover pool balance over the year"),
        ),
        (
            "guarantee.outstanding",
            L::new(
                "全年担保贷款余额",
                "Guaranteed loans outstanding over the year",
            ),
        ),
        (
            "credit.drawn",
            L::new(
                "全年外贸信用贷余额",
                "Foreign-trade credit outstanding over the year",
            ),
        ),
    ];
    // One unit for the family: the largest balance, capital or capacity shown.
    let family = pools
        .iter()
        .filter_map(|(name, _)| ts.get(name).map(|s| (name, s)))
        .flat_map(|(name, s)| {
            s.p95
                .iter()
                .copied()
                .chain(pool_level(r, name).map(|l| l.value))
                .collect::<Vec<_>>()
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, |a, v| a.max(v.abs()));
    pools
        .into_iter()
        .enumerate()
        .filter_map(|(i, (name, title))| {
            let s = ts.get(name)?;
            let band = Band {
                series: s,
                label: labels::series(name),
                color: 2 + i,
            };
            let levels: Vec<chart::Level> = pool_level(r, name).into_iter().collect();
            Some(chart::fan_ext(
                title,
                &ts.dates,
                &[band],
                &levels,
                Some(family).filter(|f| *f > 0.0),
                lang,
            ))
        })
        .collect()
}

/// Converts a chart failure into an error naming the directory.
pub fn chart_block(
    r: Option<Result<Chart, String>>,
    dir: &std::path::Path,
) -> Result<Option<Block>, BriefError> {
    match r {
        None => Ok(None),
        Some(Ok(c)) => Ok(Some(Block::Chart(c))),
        Some(Err(problem)) => Err(BriefError::Render {
            dir: dir.to_path_buf(),
            what: "a chart".into(),
            problem,
        }),
    }
}

/// "情景 … · 2017-01-01 起 365 天 · 200 条路径 · 种子 …" for a run manifest.
pub fn meta(m: &Value) -> L {
    let sc = m.get("scenario");
    let get = |k: &str| sc.map(|s| text(s, k)).unwrap_or_default();
    let (start, days) = (get("start_date"), get("horizon_days"));
    let name = text(m, "scenario_name");
    let paths = text(m, "paths");
    let seed = text(m, "seed");
    let mut zh = vec![format!("情景 {name}")];
    let mut en = vec![format!("Scenario {name}")];
    if !start.is_empty() {
        zh.push(format!("测算期自 {start} 起 {days} 天"));
        en.push(format!("{days} days from {start}"));
    }
    zh.push(format!("模拟路径 {paths} 条"));
    en.push(format!("{paths} simulated paths"));
    zh.push(format!("随机种子 {seed}"));
    en.push(format!("seed {seed}"));
    L::new(zh.join(" · "), en.join(" · "))
}

/// Provenance rows of a run manifest. With a `role` (one arm of a comparison),
/// labels are prefixed with it and rows equal to the `parent` manifest's are left out.
pub fn provenance(m: &Value, role: Option<(&L, &Value)>) -> Vec<(L, String)> {
    let rows = [
        ("scenario_name", "情景", "Scenario"),
        ("seed", "随机种子", "Seed"),
        ("paths", "模拟路径数", "Paths"),
        ("threads", "线程数", "Threads"),
        ("generator", "随机数生成器", "Generator"),
        ("refundsim_version", "refundsim 版本", "refundsim version"),
        (
            "claims_simulated",
            "模拟申报笔数（含预热期）",
            "Claims simulated (warm-up included)",
        ),
        ("elapsed_seconds", "运行耗时（秒）", "Elapsed seconds"),
    ];
    let mut out = Vec::new();
    for (k, zh, en) in rows {
        let v = text(m, k);
        if v.is_empty() || role.is_some_and(|(_, parent)| text(parent, k) == v) {
            continue;
        }
        let label = match role {
            Some((r, _)) => L::new(format!("{}：{zh}", r.zh), format!("{}: {en}", r.en)),
            None => L::new(zh, en),
        };
        out.push((label, v));
    }
    if let Some(Value::Array(cmd)) = m.get("command")
        && !role.is_some_and(|(_, parent)| parent.get("command") == m.get("command"))
    {
        let c: Vec<String> = cmd
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.to_string())
            })
            .collect();
        let label = match role {
            Some((r, _)) => L::new(format!("{}：命令", r.zh), format!("{}: command", r.en)),
            None => L::new("命令", "Command"),
        };
        out.push((label, c.join(" ")));
    }
    out
}

/// Input files (path, sha256) of a manifest.
pub fn inputs(m: &Value, role: &L) -> Vec<(L, String, String)> {
    m.get("inputs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| (role.clone(), text(i, "path"), text(i, "sha256")))
                .collect()
        })
        .unwrap_or_default()
}

/// The population a run's numbers cover (manifest `population`, written since
/// refundsim names it), as the first finding: every headline number is about it.
pub fn population_headline(m: &Value) -> Option<L> {
    let en = text(m, "population");
    if en.is_empty() {
        return None;
    }
    let zh = Some(text(m, "population_zh"))
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| en.clone());
    Some(L::new(
        format!("以下数字的测算范围：{zh}。"),
        format!("The figures below cover {en}."),
    ))
}

/// One-sentence findings of a run.
fn headlines(r: &Run) -> Vec<L> {
    let s = &r.summary;
    let mut out: Vec<L> = population_headline(&r.manifest).into_iter().collect();
    let (net, peak) = (
        s.get(M::TiedUpNetAvg.name()),
        s.get(M::TiedUpNetPeak.name()),
    );
    let (d, p90) = (
        s.get(M::DaysToRefundAvg.name()),
        s.get(M::DaysToRefundP90.name()),
    );
    let amt = |st: &Stats, zh: bool| fmt::one(&Num::ci(st.mean, Q::Cny, st.ci95()), zh);
    if !net.is_empty() {
        out.push(L::new(
            format!(
                "企业营运资金日均被占用 {}，峰值 {}；出口至退税到账平均 {} 天，90% 的退税在约 {} 天内到账。",
                amt(&net, true),
                fmt::cny(peak.mean, true),
                fmt::sig3(d.mean),
                fmt::sig3(p90.mean)
            ),
            format!(
                "Exporters' working capital tied up averages {} (peak day {}); refunds arrive {} days after export on average, 90% within about {} days.",
                amt(&net, false),
                fmt::cny(peak.mean, false),
                fmt::sig3(d.mean),
                fmt::sig3(p90.mean)
            ),
        ));
    }
    let cc = s.get(M::CarryingCost.name());
    if !cc.is_empty() {
        out.push(L::new(
            format!(
                "按企业资金机会成本计，占用的代价约为每年 {}。",
                fmt::cny(cc.mean, true)
            ),
            format!(
                "At the exporters' opportunity rate this costs them about {} a year.",
                fmt::cny(cc.mean, false)
            ),
        ));
    }
    let on = mechanisms_on(r);
    if on.is_empty() {
        out.push(L::new(
            "本情景未启用退税资金周转池、担保池或外贸信用贷。",
            "No financing mechanism (turnover pool, guarantee pool, credit loans) is enabled in this scenario.",
        ));
    } else {
        let rel = released(r);
        let names_zh: Vec<String> = on.iter().map(|m| labels::mechanism(m.name()).zh).collect();
        let names_en: Vec<String> = on.iter().map(|m| labels::mechanism(m.name()).en).collect();
        let (fc, fiscal) = (s.get(M::FinancingCost.name()), s.get(M::FiscalCost.name()));
        out.push(L::new(
            format!(
                "{}日均释放营运资金 {}；企业融资成本每年 {}，财政成本每年 {}。",
                names_zh.join("、"),
                amt(&rel, true),
                fmt::cny(fc.mean, true),
                fmt::cny(fiscal.mean, true)
            ),
            format!(
                "The {} {} {} of working capital on an average day, for {} a year in financing costs to exporters and {} a year in fiscal cost.",
                english_list(&names_en).to_lowercase(),
                if on.len() == 1 { "releases" } else { "release" },
                amt(&rel, false),
                fmt::cny(fc.mean, false),
                fmt::cny(fiscal.mean, false)
            ),
        ));
        if r.mechanism_on(Mechanism::Turnover)
            && let Some((p, _)) = exhaustion(r)
        {
            let pct = fmt::one(&Num::new(p, Q::Pct), false);
            out.push(L::new(
                format!("周转池在 {pct} 的模拟年份中至少有一天资金不足。"),
                format!(
                    "The turnover pool runs short on at least one day in {pct} of simulated years."
                ),
            ));
        }
        let ruin = s.get(M::GuaranteeRuined.name());
        if r.mechanism_on(Mechanism::Guarantee) && !ruin.is_empty() {
            let pct = fmt::one(&Num::new(ruin.mean, Q::Pct), false);
            out.push(L::new(
                format!("担保池资本耗尽的概率为 {pct}。"),
                format!("The guarantee pool is ruined in {pct} of simulated years."),
            ));
        }
    }
    out
}

/// "a", "a and b", "a, b and c".
fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Builds the brief of a run.
pub fn build(r: &Run, lang: Lang) -> Result<Doc, BriefError> {
    let m = &r.manifest;
    let mut sections = Vec::new();

    let mut s1 = vec![Block::Table(tied_up_table(r))];
    if let Some(ts) = &r.timeseries {
        s1.extend(chart_block(tied_up_chart(ts, lang), &r.dir)?);
    }
    sections.push(Section {
        title: L::new(
            "一、营运资金占用与到账天数",
            "1. Working capital tied up and days to cash",
        ),
        blocks: s1,
    });

    let mut s2 = Vec::new();
    match mechanism_table(r) {
        Some(t) => s2.push(Block::Table(t)),
        None => s2.push(Block::Para(L::new(
            "本情景未启用退税资金周转池、担保池或外贸信用贷，融资前后的资金占用相同。",
            "No financing mechanism (turnover pool, guarantee pool, credit loans) is enabled in this scenario: tied-up capital is the same before and after financing.",
        ))),
    }
    if let Some(ts) = &r.timeseries {
        for c in pool_charts(ts, r, lang) {
            s2.extend(chart_block(Some(c), &r.dir)?);
        }
    }
    sections.push(Section {
        title: L::new(
            "二、融资机制：释放的资金与成本",
            "2. Financing mechanisms: what they release and cost",
        ),
        blocks: s2,
    });

    if let Some(t) = risk_table(r) {
        sections.push(Section {
            title: L::new("三、风险", "3. Risk"),
            blocks: vec![Block::Table(t)],
        });
    }

    let mut s4 = Vec::new();
    s4.extend(platform_table(r).map(Block::Table));
    s4.extend(class_table(r).map(Block::Table));
    if !s4.is_empty() {
        sections.push(Section {
            title: L::new("四、分平台与分类别", "4. By platform and by class"),
            blocks: s4,
        });
    }
    renumber(&mut sections);

    Ok(Doc {
        title: stack_title(m),
        meta: vec![
            meta(m),
            L::new(
                "简报由 refundsim 根据本目录的模拟结果生成；金额为均值 ± 95%置信区间（1.96 × 标准误）。",
                "Generated by refundsim from the simulation results in this directory; amounts are mean ± 95% confidence interval (1.96 × standard error).",
            ),
        ],
        headlines: headlines(r),
        sections,
        provenance: provenance(m, None),
        inputs: inputs(m, &L::new("情景文件", "Scenario input")),
    })
}

/// Numbers sections (一、二、… / 1. 2. …), tables (表1 / Table 1.) and charts
/// (图1 / Figure 1.) in order, after the builders left some out.
pub fn renumber(sections: &mut [Section]) {
    const ZH: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (mut tables, mut charts) = (0, 0);
    for s in sections.iter_mut() {
        for b in &mut s.blocks {
            let (title, n, zh, en) = match b {
                Block::Table(t) => {
                    tables += 1;
                    (&mut t.title, tables, "表", "Table")
                }
                Block::Chart(c) => {
                    charts += 1;
                    (&mut c.title, charts, "图", "Figure")
                }
                Block::Para(_) => continue,
            };
            *title = L::new(
                format!("{zh}{n} {}", title.zh),
                format!("{en} {n}. {}", title.en),
            );
        }
    }
    for (i, s) in sections.iter_mut().enumerate() {
        let strip_zh = s
            .title
            .zh
            .split_once('、')
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| s.title.zh.clone());
        let strip_en = s
            .title
            .en
            .split_once(". ")
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| s.title.en.clone());
        s.title = L::new(
            format!("{}、{strip_zh}", ZH.get(i).copied().unwrap_or("")),
            format!("{}. {strip_en}", i + 1),
        );
    }
}

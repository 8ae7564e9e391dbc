//! `calibration.md` and `calibration.html`: the report of `refundsim calibrate`,
//! bilingual like the briefs — the data used and left out, every fitted value
//! with its interval, and per stage the observed histogram against the fitted
//! density and a QQ plot.

use super::{Block, Cell, Chart, Doc, L, Lang, Num, Q, Section, Table, chart, html, md};
use crate::calibrate::fit::{Fit, Model, Prob};
use crate::calibrate::{Calibration, ClassFit, MIN_CLASS};

const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];

/// Observed share of claims per day, as `(day, share)`; an interval-censored
/// claim is spread evenly over the days it may have taken.
fn per_day(f: &Fit) -> Vec<f64> {
    let max = f.obs.groups.keys().map(|k| k.1).max().unwrap_or(0).max(0) as usize;
    let mut v = vec![0.0; max + 1];
    let n = f.n.max(1.0);
    for ((a, b), c) in &f.obs.groups {
        let w = f64::from(b - a + 1);
        for d in *a..=*b {
            v[d as usize] += c / n / w;
        }
    }
    v
}

/// The best parametric candidate (for the density curve and the QQ plot).
fn parametric(f: &Fit) -> Option<&Model> {
    f.candidates
        .iter()
        .map(|c| &c.model)
        .find(|m| !matches!(m, Model::Empirical(_)))
}

fn charts(name: &L, f: &Fit) -> Result<Vec<Chart>, String> {
    let shares = per_day(f);
    let days = shares.len();
    let w = days.div_ceil(60).max(1);
    let bars: Vec<(f64, f64, f64)> = shares
        .chunks(w)
        .enumerate()
        .map(|(i, c)| {
            let from = (i * w) as f64 - 0.5;
            (
                from.max(0.0),
                from + c.len() as f64,
                c.iter().sum::<f64>() / c.len() as f64,
            )
        })
        .collect();
    let model = parametric(f).unwrap_or(f.model());
    let x_max = days as f64 + 0.5;
    let curve: Vec<(f64, f64)> = (1..=200)
        .map(|i| {
            let x = x_max * f64::from(i) / 200.0;
            (x, model.pdf(x))
        })
        .collect();
    let x_name = L::new("天", "days");
    let hist = chart::histogram(
        L::new(
            format!("{}：观测与拟合（{}）", name.zh, model.family()),
            format!("{}: observed vs fitted ({})", name.en, model.family()),
        ),
        &bars,
        &curve,
        x_name,
        Lang::Both,
    )?;
    // Observed quantiles from the per-day shares, against the model's.
    let mut pts = Vec::new();
    let mut cum = 0.0;
    let mut d = 0usize;
    for j in 0..49 {
        let p = (f64::from(j) + 0.5) / 49.0;
        while d < days && cum + shares[d] < p {
            cum += shares[d];
            d += 1;
        }
        pts.push((model.quantile(p), d as f64));
    }
    let qq = chart::qq(
        L::new(
            format!("{}：QQ 图", name.zh),
            format!("{}: QQ plot", name.en),
        ),
        &pts,
        Lang::Both,
    )?;
    Ok(vec![hist, qq])
}

fn num(v: f64, q: Q) -> Cell {
    Cell::Num(Num::new(v, q))
}

fn range(v: f64, ci: (f64, f64), q: Q) -> Cell {
    Cell::Num(Num {
        range: Some(ci),
        ..Num::new(v, q)
    })
}

fn fit_row(stage: &L, who: L, f: &Fit, borrowed: bool) -> Vec<Cell> {
    let m = f.model();
    let alt = f
        .candidates
        .get(1)
        .map(|c| format!("{} +{:.1}", c.model.family(), c.aic - f.candidates[0].aic))
        .unwrap_or_default();
    vec![
        Cell::Text(stage.clone()),
        Cell::Text(who),
        Cell::Text(L::same(if borrowed {
            format!("{} (pooled)", m.family())
        } else {
            m.family().to_string()
        })),
        range(m.mean(), f.mean_ci, Q::Days),
        num(m.cv(), Q::Plain),
        num(f.n, Q::Count),
        Cell::Text(L::same(alt)),
        num(f.ks, Q::Plain),
    ]
}

fn prob_row(what: &L, who: L, p: &Prob, borrowed: bool) -> Vec<Cell> {
    vec![
        Cell::Text(what.clone()),
        Cell::Text(who),
        range(p.p, p.ci, Q::Pct),
        num(p.n, Q::Count),
        Cell::Text(if borrowed {
            L::new("借用合并估计", "borrows the pooled value")
        } else {
            L::same("")
        }),
    ]
}

fn class_label(k: usize) -> L {
    L::new(format!("{}类", ROMAN[k]), format!("class {}", ROMAN[k]))
}

/// Renders `calibration.md` and `calibration.html` (both languages).
pub fn calibration(c: &Calibration) -> Result<(String, String), String> {
    let sections = vec![
        data_section(c),
        durations_section(c),
        probabilities_section(c),
        charts_section(c)?,
    ];
    let doc = Doc {
        title: L::new("退税记录校准", "Calibration from refund records"),
        meta: vec![L::new(
            format!("记录文件 {}，快照日 {}", c.records.display(), c.snapshot),
            format!("Records {}, snapshot {}", c.records.display(), c.snapshot),
        )],
        headlines: vec![L::new(
            format!(
                "审核平均 {:.1} 个工作日，单证平均 {:.1} 天，国库及预算平均 {:.1} 个工作日。",
                c.review_pooled.model().mean(),
                c.docs.model().mean(),
                c.treasury.model().mean()
            ),
            format!(
                "Review takes {:.1} working days on average, documents {:.1} days, treasury and budget {:.1} working days.",
                c.review_pooled.model().mean(),
                c.docs.model().mean(),
                c.treasury.model().mean()
            ),
        )],
        sections,
        provenance: vec![
            (
                L::new("版本", "version"),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                L::new("自助法", "bootstrap"),
                format!(
                    "{} replicates, Xoshiro256PlusPlus keyed by stage",
                    crate::calibrate::fit::BOOTSTRAP
                ),
            ),
        ],
        inputs: vec![(
            L::new("退税记录", "refund records"),
            c.records.display().to_string(),
            c.sha256.clone(),
        )],
    };
    let md = md::render(&doc, Lang::Both).replace("brief.html", "calibration.html");
    let html = html::render(&doc, Lang::Both);
    Ok((md, html))
}

/// The three stages' names: documents, review, treasury and budget.
fn stages() -> [L; 3] {
    [
        L::new("单证收齐（日历天）", "documents (calendar days)"),
        L::new("审核（工作日）", "review (working days)"),
        L::new("国库及预算（工作日）", "treasury and budget (working days)"),
    ]
}

/// Section 1: the records read, left out and pending.
fn data_section(c: &Calibration) -> Section {
    let bad: u64 = c.bad_counts.values().sum();
    let mut blocks = vec![Block::Para(L::new(
        format!(
            "共读取 {} 行记录，其中 {} 行有误已剔除，{} 笔在快照日 {} 仍未办结。未办结时，各环节只用足够早进入该环节的批次拟合，以免漏掉慢的申报。",
            c.rows, bad, c.pending, c.snapshot
        ),
        format!(
            "{} rows read, {} bad rows left out, {} claims still pending at the snapshot {}. With pending claims each stage is fitted on the cohort that entered it early enough to have finished, so slow claims are not missed.",
            c.rows, bad, c.pending, c.snapshot
        ),
    ))];
    if bad > 0 {
        let mut t = Table::new(
            L::new("有误记录", "Bad rows"),
            L::new("有误记录（前 20 行）", "Bad rows (first 20)"),
            vec![
                L::new("行号", "line"),
                L::new("问题", "problem"),
                L::new("详情", "detail"),
            ],
        );
        for b in &c.bad_listed {
            t.rows.push(vec![
                num(b.line as f64, Q::Count),
                Cell::Text(L::same(b.kind.name())),
                Cell::Text(L::same(b.detail.clone())),
            ]);
        }
        let counts: Vec<String> = c
            .bad_counts
            .iter()
            .map(|(k, n)| format!("{} {n}", k.name()))
            .collect();
        t.note = Some(L::same(counts.join(", ")));
        blocks.push(Block::Table(t));
    }
    Section {
        title: L::new("数据", "Data"),
        blocks,
    }
}

/// Section 2: the stage durations fitted.
fn durations_section(c: &Calibration) -> Section {
    let [docs, review, treasury] = stages();
    let all = L::new("全部", "all");
    let mut t = Table::new(
        L::new("时长", "Durations"),
        L::new("各环节时长拟合", "Stage durations fitted"),
        vec![
            L::new("环节", "stage"),
            L::new("类别", "class"),
            L::new("分布（按 AIC）", "distribution (by AIC)"),
            L::new("均值 [95% 区间]", "mean [95% CI]"),
            L::new("变异系数", "cv"),
            L::new("样本数", "n"),
            L::new("次优 ΔAIC", "runner-up ΔAIC"),
            L::new("KS 统计量", "KS statistic"),
        ],
    );
    t.rows.push(fit_row(&docs, all.clone(), &c.docs, false));
    t.rows
        .push(fit_row(&review, all.clone(), &c.review_pooled, false));
    for (k, r) in c.review.iter().enumerate() {
        let ClassFit { own, .. } = r;
        match own {
            Some(f) => t.rows.push(fit_row(&review, class_label(k), f, false)),
            None => t
                .rows
                .push(fit_row(&review, class_label(k), &c.review_pooled, true)),
        }
    }
    t.rows
        .push(fit_row(&treasury, all.clone(), &c.treasury, false));
    t.note = Some(L::new(
        format!(
            "对数正态与伽马分布用极大似然拟合（单证时间在按月申报时为区间删失），有精确观测时还比较经验分布，按 AIC 选择；区间为 {} 次泊松自助法的 95% 分位区间；样本少于 {} 笔的类别借用合并拟合。",
            crate::calibrate::fit::BOOTSTRAP,
            MIN_CLASS
        ),
        format!(
            "Lognormal and gamma fitted by maximum likelihood (documents interval-censored under monthly filing), the empirical distribution too where days are observed exactly; chosen by AIC. Intervals: 95% percentiles of {} Poisson-bootstrap replicates. Classes with fewer than {} claims borrow the pooled fit.",
            crate::calibrate::fit::BOOTSTRAP,
            MIN_CLASS
        ),
    ));
    Section {
        title: L::new("时长", "Durations"),
        blocks: vec![Block::Table(t)],
    }
}

/// Section 3: verification and denial probabilities, and the verification hold.
fn probabilities_section(c: &Calibration) -> Section {
    let all = L::new("全部", "all");
    let verif = L::new("函调概率", "verification probability");
    let denial = L::new("不予退税概率", "denial probability");
    let mut t = Table::new(
        L::new("概率", "Probabilities"),
        L::new("函调与不予退税", "Verification and denial"),
        vec![
            L::new("项目", "item"),
            L::new("类别", "class"),
            L::new("估计 [95% 区间]", "estimate [95% CI]"),
            L::new("样本数", "n"),
            L::new("说明", "note"),
        ],
    );
    t.rows
        .push(prob_row(&verif, all.clone(), &c.verification_pooled, false));
    for (k, v) in c.verification.iter().enumerate() {
        let p = v.own.as_ref().unwrap_or(&c.verification_pooled);
        t.rows
            .push(prob_row(&verif, class_label(k), p, v.own.is_none()));
    }
    t.rows
        .push(prob_row(&denial, all.clone(), &c.denial_pooled, false));
    for (k, v) in c.denial.iter().enumerate() {
        let p = v.own.as_ref().unwrap_or(&c.denial_pooled);
        t.rows
            .push(prob_row(&denial, class_label(k), p, v.own.is_none()));
    }
    let mut blocks = vec![Block::Table(t)];
    if let Some(h) = &c.hold {
        blocks.push(Block::Para(L::new(
            format!(
                "函调平均延长 {:.1} 个日历天（95% 区间 {:.1}–{:.1}，{} 笔函调申报与同类未函调申报之差）。",
                h.mean, h.ci.0, h.ci.1, h.n
            ),
            format!(
                "A verification hold adds {:.1} calendar days on average (95% CI {:.1}–{:.1}; {} verified claims against unverified claims of the same class).",
                h.mean, h.ci.0, h.ci.1, h.n
            ),
        )));
    }
    Section {
        title: L::new("概率", "Probabilities"),
        blocks,
    }
}

/// Section 4: the fit charts of every stage.
fn charts_section(c: &Calibration) -> Result<Section, String> {
    let [docs, review, treasury] = stages();
    let mut blocks = Vec::new();
    let mut stages = vec![(docs, &c.docs), (review.clone(), &c.review_pooled)];
    for (k, r) in c.review.iter().enumerate() {
        if let Some(f) = &r.own {
            stages.push((
                L::new(
                    format!("{}，{}", review.zh, class_label(k).zh),
                    format!("{}, {}", review.en, class_label(k).en),
                ),
                f,
            ));
        }
    }
    stages.push((treasury, &c.treasury));
    for (name, f) in stages {
        for ch in charts(&name, f)? {
            blocks.push(Block::Chart(ch));
        }
    }
    Ok(Section {
        title: L::new("拟合图", "Fit charts"),
        blocks,
    })
}

//! Charts as inline SVG, drawn with plotters' SVG backend into a string: fan
//! charts of daily series over the year (5th–95th percentile band, median and
//! mean lines) and sweep curves (a metric against a grid key, one line per value
//! of a second key, with 95% intervals). Captions and legends are HTML around the
//! chart (see `super::html`), so CJK text is laid out by the browser; the SVG
//! itself carries only axis labels, and has no external reference (the `xmlns`
//! attribute, needless inline in HTML, is removed).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::fmt;
use super::load::Series;
use super::{Chart, L, Lang, Q};

/// Colours (Okabe–Ito-like, readable when printed in grey too).
pub const PALETTE: [(u8, u8, u8); 6] = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (230, 159, 0),
];

/// A CSS colour for palette entry `i`.
pub fn css(i: usize) -> String {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn rgb(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

const W: u32 = 960;
const H: u32 = 380;
const FONT: &str = "sans-serif";

/// An x axis with given tick positions and labels (months, grid values).
#[derive(Clone)]
struct Axis {
    range: Range<f64>,
    ticks: Vec<(f64, String)>,
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 {
            (v - self.range.start) / span
        } else {
            0.5
        };
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points().max(1);
        let step = self.ticks.len().div_ceil(max).max(1);
        self.ticks.iter().step_by(step).map(|t| t.0).collect()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(_: &f64) -> String {
        String::new()
    }

    fn format_ext(&self, v: &f64) -> String {
        self.ticks
            .iter()
            .find(|t| (t.0 - v).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// Month ticks of a daily axis: the first day of each month, labelled `1月` /
/// `Jan` (with the year on January and on the first tick) or, in both
/// languages, `1月 Jan` (the years are in the axis description, see [`years`]).
fn month_ticks(dates: &[String], lang: Lang) -> Vec<(f64, String)> {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut out = Vec::new();
    for (i, d) in dates.iter().enumerate() {
        let mut parts = d.split('-');
        let (Some(y), Some(m), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(m), Ok(day)) = (m.parse::<usize>(), day.parse::<u32>()) else {
            continue;
        };
        if day != 1 || !(1..=12).contains(&m) {
            continue;
        }
        let with_year = m == 1 || out.is_empty();
        let label = match (lang, with_year) {
            (Lang::Both, _) => format!("{m}月 {}", EN[m - 1]),
            (Lang::En, true) => format!("{} {y}", EN[m - 1]),
            (Lang::En, false) => EN[m - 1].to_string(),
            (_, true) => format!("{y}年{m}月"),
            (_, false) => format!("{m}月"),
        };
        out.push((i as f64, label));
    }
    out
}

/// The years a daily axis spans, for its description in both languages:
/// `2017年 / 2017`, `2017–2018年 / 2017–2018`; empty otherwise.
fn years(dates: &[String], lang: Lang) -> String {
    if lang != Lang::Both {
        return String::new();
    }
    let year = |d: Option<&String>| {
        d.and_then(|d| d.split('-').next())
            .unwrap_or("")
            .to_string()
    };
    let (a, b) = (year(dates.first()), year(dates.last()));
    match (a.is_empty(), a == b) {
        (true, _) => String::new(),
        (false, true) => format!("{a}年 / {a}"),
        (false, false) => format!("{a}–{b}年 / {a}–{b}"),
    }
}

/// The unit of a y axis of amounts: (divisor, axis description).
fn cny_axis(max: f64, lang: Lang) -> (f64, String) {
    let zh = if max >= 1e8 {
        (1e8, "亿元", "CNY 100 mn")
    } else {
        (1e4, "万元", "CNY 10,000")
    };
    match lang {
        Lang::Zh => (zh.0, zh.1.to_string()),
        Lang::Both => (zh.0, format!("{} ({})", zh.1, zh.2)),
        Lang::En if max >= 1e9 => (1e9, "CNY bn".into()),
        Lang::En if max >= 1e6 => (1e6, "CNY mn".into()),
        Lang::En => (1e3, "CNY thousand".into()),
    }
}

/// The finite (min, max) of `values`, or `None`.
fn extent(values: &[f64]) -> Option<(f64, f64)> {
    let fin = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = fin.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    min.is_finite().then_some((min, max))
}

/// The y range of a sweep chart (in axis units, values divided by `div`) that
/// shows every value of `all` (means and interval ends). Zero is included only
/// when the spread of the `curve` (the means drawn as lines) is more than a
/// third of its largest magnitude: otherwise a curve from 2.5 to 3.3 亿元 would
/// be drawn flat near the top of an axis from 0. The range is padded by 10% of
/// the spread (at least 1% of the magnitude, so equal values do not collapse it).
pub fn y_range(curve: &[f64], all: &[f64], div: f64) -> (f64, f64) {
    let Some((cmin, cmax)) = extent(curve) else {
        return (0.0, 1.0);
    };
    let (amin, amax) = extent(all).unwrap_or((cmin, cmax));
    let (min, max) = (amin.min(cmin) / div, amax.max(cmax) / div);
    let flat = cmax - cmin <= cmin.abs().max(cmax.abs()) / 3.0;
    let (min, max) = if !flat && min >= 0.0 {
        (0.0, max)
    } else if !flat && max <= 0.0 {
        (min, 0.0)
    } else {
        (min, max)
    };
    let mag = min.abs().max(max.abs());
    let pad = ((max - min) * 0.1).max(mag * 0.01).max(1e-12);
    let lo = if min == 0.0 { 0.0 } else { min - pad };
    let hi = if max == 0.0 { 0.0 } else { max + pad };
    (lo, hi)
}

/// Removes what inline SVG in HTML does not need: the fixed size (CSS scales it)
/// and the `xmlns` attribute (the only URL plotters writes).
fn clean(svg: String, label: &str) -> String {
    let head_end = svg.find('>').unwrap_or(0);
    let (head, rest) = svg.split_at(head_end);
    let view_box = head
        .split("viewBox=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("0 0 960 380");
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let out = format!("<svg viewBox=\"{view_box}\" role=\"img\" aria-label=\"{label}\"{rest}");
    out.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One series drawn as a band: its label and palette index.
pub struct Band<'a> {
    pub series: &'a Series,
    pub label: L,
    pub color: usize,
}

/// The frame of a chart over the window's days: month ticks on x, `lo..hi` on y
/// (described by `y_desc`), the house grid and fonts. `draw` adds the series;
/// returns the SVG.
fn daily_chart(
    dates: &[String],
    (lo, hi): (f64, f64),
    y_desc: String,
    lang: Lang,
    draw: impl FnOnce(
        &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<Axis, RangedCoordf64>>,
    ) -> Result<(), String>,
) -> Result<String, String> {
    let n = dates.len().max(2);
    let mut ticks = month_ticks(dates, lang);
    if ticks.is_empty() {
        ticks = vec![(0.0, dates.first().cloned().unwrap_or_default())];
    }
    let x = Axis {
        range: 0.0..(n - 1) as f64,
        ticks,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(if lang == Lang::Both { 56 } else { 36 })
            .y_label_area_size(72)
            .build_cartesian_2d(x, lo..hi)
            .map_err(err)?;
        let y_fmt = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(13)
            .y_labels(7)
            .y_label_formatter(&y_fmt)
            .y_desc(y_desc)
            .x_desc(years(dates, lang))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        draw(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A fan chart of daily series in CNY over the window: a 5th–95th percentile
/// band, the median (solid) and the mean (dashed) of each series.
pub fn fan(title: L, dates: &[String], bands: &[Band], lang: Lang) -> Result<Chart, String> {
    fan_ext(title, dates, bands, &[], None, lang)
}

/// A horizontal reference line on a fan chart (a pool's capital): its level in
/// CNY and its legend label.
pub struct Level {
    pub value: f64,
    pub label: L,
}

/// [`fan`] with reference lines (drawn dotted, in the band's colour darkened)
/// and, with `family`, the y unit chosen from that magnitude rather than this
/// chart's: every chart of one family (tied-up capital, say) then reads in the
/// same unit.
pub fn fan_ext(
    title: L,
    dates: &[String],
    bands: &[Band],
    levels: &[Level],
    family: Option<f64>,
    lang: Lang,
) -> Result<Chart, String> {
    let n = dates.len().max(2);
    let finite = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect::<Vec<_>>()
    };
    let mut max = 0.0f64;
    let mut min = 0.0f64;
    for b in bands {
        for v in [&b.series.p95, &b.series.mean, &b.series.p5] {
            for x in finite(v) {
                max = max.max(x);
                min = min.min(x);
            }
        }
    }
    for l in levels.iter().filter(|l| l.value.is_finite()) {
        max = max.max(l.value);
    }
    if max <= 0.0 {
        max = 1.0;
    }
    let (div, y_desc) = cny_axis(family.unwrap_or(max.max(-min)), lang);
    let (lo, hi) = (min / div * 1.05, max / div * 1.08);
    let svg = daily_chart(dates, (lo, hi), y_desc, lang, |chart| {
        for (i, l) in levels.iter().enumerate() {
            if l.value.is_finite() {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(0.0, l.value / div), ((n - 1) as f64, l.value / div)],
                        2,
                        3,
                        BLACK.mix(0.75 - 0.2 * i as f64).stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        let pts = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .filter(|(_, y)| y.is_finite())
                .map(|(i, y)| (i as f64, y / div))
                .collect()
        };
        for b in bands {
            let s = b.series;
            let mut poly = pts(&s.p95);
            let mut lower = pts(&s.p5);
            lower.reverse();
            poly.extend(lower);
            if poly.len() > 2 {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        rgb(b.color).mix(0.18).filled(),
                    )))
                    .map_err(err)?;
            }
        }
        for b in bands {
            chart
                .draw_series(LineSeries::new(
                    pts(&b.series.p50),
                    rgb(b.color).stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_series(DashedLineSeries::new(
                    pts(&b.series.mean),
                    6,
                    4,
                    rgb(b.color).mix(0.9).stroke_width(1),
                ))
                .map_err(err)?;
        }
        Ok(())
    })?;
    let mut legend: Vec<(String, bool, L)> = bands
        .iter()
        .map(|b| (css(b.color), true, b.label.clone()))
        .collect();
    let mut note = L::new(
        "阴影：各模拟路径的5%–95%分位区间；实线：中位数；虚线：均值。",
        "Shaded: 5th–95th percentile across simulated paths; solid line: median; dashed line: mean.",
    );
    for l in levels.iter().filter(|l| l.value.is_finite()) {
        legend.push(("#404040".into(), false, l.label.clone()));
    }
    if levels.iter().any(|l| l.value.is_finite()) {
        note = L::new(
            format!("{}黑色点线：资金池规模。", note.zh),
            format!("{} Black dotted line: the pool's size.", note.en),
        );
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend,
        note: Some(note),
        title,
    })
}

/// One line of a sweep chart: (x, mean, ci_low, ci_high) per grid point.
pub struct Line {
    pub label: L,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A metric against the first grid key, one line per value of the second key,
/// with 95% confidence intervals as vertical bars.
pub fn curves(
    title: L,
    x_ticks: Vec<(f64, String)>,
    lines: &[Line],
    q: Q,
    y_name: L,
    lang: Lang,
) -> Result<Chart, String> {
    let all: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().flat_map(|p| [p.1, p.2, p.3]))
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(0.0f64, f64::max);
    let min = all.iter().copied().fold(0.0f64, f64::min);
    let (div, unit) = match q {
        Q::Cny => cny_axis(max.max(-min), lang),
        Q::Pct => (0.01, "%".to_string()),
        Q::Days => (1.0, L::new("天", "days").get(lang)),
        _ => (1.0, String::new()),
    };
    let y_desc = if unit.is_empty() {
        y_name.get(lang)
    } else {
        unit
    };
    let means: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .collect();
    let (lo, hi) = y_range(&means, &all, div);
    let (x0, x1) = x_ticks
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
            (a.min(t.0), b.max(t.0))
        });
    let pad = if x1 > x0 { (x1 - x0) * 0.05 } else { 0.5 };
    let x = Axis {
        range: (x0 - pad)..(x1 + pad),
        ticks: x_ticks,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(x, lo..hi)
            .map_err(err)?;
        let y_fmt = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(20)
            .y_labels(7)
            .y_label_formatter(&y_fmt)
            .y_desc(y_desc)
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        for (i, l) in lines.iter().enumerate() {
            let c = rgb(i);
            let pts: Vec<(f64, f64)> = l
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|p| (p.0, p.1 / div))
                .collect();
            for p in l
                .points
                .iter()
                .filter(|p| p.2.is_finite() && p.3.is_finite())
            {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.0, p.2 / div), (p.0, p.3 / div)],
                        c.mix(0.6).stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, c.filled())))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: lines
            .iter()
            .enumerate()
            .map(|(i, l)| (css(i), false, l.label.clone()))
            .collect(),
        note: Some(L::new(
            "圆点：各参数组合的均值；竖线：95%置信区间。",
            "Dots: mean at each grid point; bars: 95% confidence interval.",
        )),
        title,
    })
}

/// A histogram of observed durations (`bars`: from, to, density per day) against
/// a fitted density (`curve`: x, density), for `calibration.html`.
pub fn histogram(
    title: L,
    bars: &[(f64, f64, f64)],
    curve: &[(f64, f64)],
    x_name: L,
    lang: Lang,
) -> Result<Chart, String> {
    let x1 = bars
        .iter()
        .map(|b| b.1)
        .chain(curve.iter().map(|c| c.0))
        .fold(1.0f64, f64::max);
    let y1 = bars
        .iter()
        .map(|b| b.2)
        .chain(curve.iter().map(|c| c.1).filter(|v| v.is_finite()))
        .fold(1e-9f64, f64::max)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x1, 0.0..y1)
            .map_err(err)?;
        let y_fmt = |v: &f64| format!("{:.1}%", v * 100.0);
        let x_fmt = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(x_name.get(lang))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                bars.iter()
                    .map(|b| Rectangle::new([(b.0, 0.0), (b.1, b.2)], rgb(4).mix(0.55).filled())),
            )
            .map_err(err)?;
        let pts: Vec<(f64, f64)> = curve.iter().copied().filter(|p| p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(pts, rgb(1).stroke_width(3)))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: vec![
            (
                css(4),
                true,
                L::new("观测（每日占比）", "observed (share per day)"),
            ),
            (css(1), false, L::new("拟合密度", "fitted density")),
        ],
        note: None,
        title,
    })
}

/// A QQ plot: (fitted quantile, observed quantile) points and the diagonal.
pub fn qq(title: L, points: &[(f64, f64)], lang: Lang) -> Result<Chart, String> {
    let hi = points
        .iter()
        .flat_map(|p| [p.0, p.1])
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max)
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (480, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..hi, 0.0..hi)
            .map_err(err)?;
        let f = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&f)
            .y_label_formatter(&f)
            .x_desc(L::new("拟合分位数（天）", "fitted quantile (days)").get(lang))
            .y_desc(L::new("观测分位数（天）", "observed quantile (days)").get(lang))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (hi, hi)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .map(|p| Circle::new(*p, 3, rgb(0).filled())),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: vec![(css(0), false, L::new("分位数对", "quantile pairs"))],
        note: Some(L::new(
            "点落在对角线上表示拟合良好。",
            "Points on the diagonal mean a good fit.",
        )),
        title,
    })
}

/// One bar pair of a tornado chart: label, then (delta, 95% half-width) at the
/// low and at the high value, both relative to the base.
pub struct TornadoBar {
    pub label: String,
    pub low: (f64, f64),
    pub high: (f64, f64),
}

/// A tornado chart: one row per parameter (largest swing on top), the change from
/// the base at the low value (first colour) and at the high value (second colour),
/// each with its 95% interval as a whisker.
pub fn tornado(title: L, bars: &[TornadoBar], q: Q, lang: Lang) -> Result<Chart, String> {
    let all: Vec<f64> = bars
        .iter()
        .flat_map(|b| {
            [
                b.low.0 - b.low.1,
                b.low.0 + b.low.1,
                b.high.0 - b.high.1,
                b.high.0 + b.high.1,
            ]
        })
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(0.0f64, f64::max);
    let min = all.iter().copied().fold(0.0f64, f64::min);
    let (div, unit) = match q {
        Q::Cny => cny_axis(max.max(-min), lang),
        Q::Pct => (0.01, "%".to_string()),
        Q::Days => (1.0, L::new("天", "days").get(lang)),
        _ => (1.0, String::new()),
    };
    let pad = ((max - min) / div * 0.08).max(1e-9);
    let n = bars.len();
    let y = Axis {
        range: -0.6..(n as f64 - 0.4),
        ticks: bars
            .iter()
            .enumerate()
            .map(|(i, b)| ((n - 1 - i) as f64, b.label.clone()))
            .collect(),
    };
    let height = (60 + 28 * n as u32).max(160);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(36)
            .y_label_area_size(300)
            .build_cartesian_2d((min / div - pad)..(max / div + pad), y)
            .map_err(err)?;
        let x_fmt = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(9)
            .y_labels(n.max(1))
            .x_label_formatter(&x_fmt)
            .x_desc(unit)
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        for (i, b) in bars.iter().enumerate() {
            let yc = (n - 1 - i) as f64;
            for (k, (d, h), y0, y1) in [(0, b.low, yc, yc + 0.36), (1, b.high, yc - 0.36, yc)] {
                if !d.is_finite() {
                    continue;
                }
                let c = rgb(k);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, y0), (d / div, y1)],
                        c.mix(0.8).filled(),
                    )))
                    .map_err(err)?;
                if h.is_finite() && h > 0.0 {
                    let ym = (y0 + y1) / 2.0;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![((d - h) / div, ym), ((d + h) / div, ym)],
                            BLACK.mix(0.7).stroke_width(2),
                        )))
                        .map_err(err)?;
                }
            }
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
                BLACK.mix(0.6).stroke_width(1),
            )))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: vec![
            (css(0), false, L::new("取低值时", "at the low value")),
            (css(1), false, L::new("取高值时", "at the high value")),
        ],
        note: Some(L::new(
            "条形：相对基准情景的变化（同一组随机数下的配对差）；黑线：95%置信区间。",
            "Bars: change from the base case (paired, on the same random numbers); black lines: 95% confidence intervals.",
        )),
        title,
    })
}

/// A scatter of labelled points (Morris μ* against σ).
pub fn scatter(
    title: L,
    points: &[(String, f64, f64)],
    x_name: L,
    y_name: L,
    lang: Lang,
) -> Result<Chart, String> {
    let fin: Vec<&(String, f64, f64)> = points
        .iter()
        .filter(|p| p.1.is_finite() && p.2.is_finite())
        .collect();
    let xmax = fin.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-12) * 1.12;
    let ymax = fin.iter().map(|p| p.2).fold(0.0f64, f64::max).max(1e-12) * 1.12;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(err)?;
        let f = |v: &f64| fmt::trimmed(*v);
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(7)
            .x_label_formatter(&f)
            .y_label_formatter(&f)
            .x_desc(x_name.get(lang))
            .y_desc(y_name.get(lang))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                fin.iter()
                    .map(|p| Circle::new((p.1, p.2), 5, rgb(0).filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(
                fin.iter()
                    .map(|p| Text::new(p.0.clone(), (p.1, p.2), (FONT, 13).into_font())),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: Vec::new(),
        note: Some(L::new(
            "μ*：参数在其取值范围内对均值的平均绝对影响；σ 大：存在交互作用或非线性。",
            "μ*: mean absolute effect of moving a parameter over its range; a large σ means interactions or non-linearity.",
        )),
        title,
    })
}

/// Escapes text for SVG (XML).
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rough width in pixels of `s` at 14 px: CJK characters are square, others about half.
fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 14.0 } else { 7.6 })
        .sum()
}

/// A text as lines that fit `width` pixels at font size `size`: in both
/// languages the Chinese and the English on lines of their own; long lines are
/// broken at the last space (English) or between characters (Chinese).
fn lines_of(l: &L, lang: Lang, width: f64, size: f64) -> Vec<String> {
    let parts: Vec<String> = match lang {
        Lang::Both if l.zh != l.en && !l.en.is_empty() && !l.zh.is_empty() => {
            vec![l.zh.clone(), l.en.clone()]
        }
        _ => vec![l.get(lang)],
    };
    let fits = |s: &str| text_width(s) * size / 14.0 <= width;
    let mut out = Vec::new();
    for p in parts {
        let mut cur = String::new();
        for ch in p.chars() {
            cur.push(ch);
            if !fits(&cur) {
                let cut = cur
                    .rfind(' ')
                    .filter(|&i| i > 0)
                    .unwrap_or(cur.len() - ch.len_utf8());
                let rest = cur[cut..].trim_start().to_string();
                out.push(cur[..cut].trim_end().to_string());
                cur = rest;
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// A chart as a standalone SVG file (`brief-figN.svg` beside brief.md): its
/// title above, the plot, and the legend and note below as SVG text (wrapped to
/// the chart's width), so the file reads on its own in a Markdown viewer or a slide.
pub fn standalone(c: &Chart, lang: Lang) -> String {
    let (w, h) = c
        .svg
        .split("viewBox=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .and_then(|v| {
            let n: Vec<f64> = v
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (n.len() == 4).then(|| (n[2], n[3]))
        })
        .unwrap_or((f64::from(W), f64::from(H)));
    let mut out = String::new();
    let mut y = 0.0;
    for l in lines_of(&c.title, lang, w - 24.0, 16.0) {
        y += 22.0;
        out += &format!(
            "<text x=\"12\" y=\"{y}\" font-size=\"16\" font-weight=\"600\">{}</text>\n",
            xml(&l)
        );
    }
    y += 12.0;
    out += &c.svg.replacen(
        "<svg ",
        &format!("<svg x=\"0\" y=\"{y}\" width=\"{w}\" height=\"{h}\" "),
        1,
    );
    out.push('\n');
    y += h + 10.0;
    // Legend entries flow left to right, wrapping at the chart's width.
    let mut x = 72.0;
    if !c.legend.is_empty() {
        y += 22.0;
    }
    for (color, band, l) in &c.legend {
        let label = l.get(lang);
        let item = 34.0 + text_width(&label) + 22.0;
        if x + item > w && x > 72.0 {
            x = 72.0;
            y += 22.0;
        }
        let fill = if *band {
            format!("fill=\"{color}\" fill-opacity=\"0.19\" stroke=\"{color}\" stroke-width=\"2\"")
        } else {
            format!("fill=\"{color}\"")
        };
        out += &format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"26\" height=\"12\" {fill}/><text x=\"{}\" y=\"{y}\">{}</text>\n",
            y - 11.0,
            x + 32.0,
            xml(&label)
        );
        x += item;
    }
    if let Some(n) = &c.note {
        y += 6.0;
        for l in lines_of(n, lang, w - 24.0, 12.0) {
            y += 16.0;
            out += &format!(
                "<text x=\"12\" y=\"{y}\" fill=\"#5d6b79\" font-size=\"12\">{}</text>\n",
                xml(&l)
            );
        }
    }
    let total = y + 10.0;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{total}\" viewBox=\"0 0 {w} {total}\" font-family=\"Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n{out}</svg>\n"
    )
}

/// One reform in the cost-effectiveness chart: its name, the working capital it
/// releases on an average day and its net fiscal cost a year, each as (value,
/// 95% low, 95% high) in CNY (NaN bounds: no interval).
pub struct EffectBar {
    pub label: String,
    pub released: (f64, f64, f64),
    pub fiscal: (f64, f64, f64),
}

/// Draws one panel of horizontal bars with whiskers (the 95% interval).
fn bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    bars: &[(String, (f64, f64, f64))],
    color: usize,
    y_label_size: u32,
    x_desc: &str,
    lang: Lang,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let all: Vec<f64> = bars
        .iter()
        .flat_map(|b| [b.1.0, b.1.1, b.1.2])
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(0.0f64, f64::max);
    let min = all.iter().copied().fold(0.0f64, f64::min);
    let (div, unit) = cny_axis(max.max(-min).max(1.0), lang);
    let pad = ((max - min) / div * 0.08).max(1e-9);
    let n = bars.len();
    let y = Axis {
        range: -0.6..(n as f64 - 0.4),
        ticks: bars
            .iter()
            .enumerate()
            .map(|(i, b)| ((n - 1 - i) as f64, b.0.clone()))
            .collect(),
    };
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(y_label_size)
        .build_cartesian_2d((min / div - pad)..(max / div + pad), y)
        .map_err(err)?;
    let x_fmt = |v: &f64| fmt::trimmed(*v);
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(n.max(1))
        .x_label_formatter(&x_fmt)
        .x_desc(format!("{x_desc} ({unit})"))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .axis_style(BLACK.mix(0.45))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(err)?;
    for (i, (_, (v, lo, hi))) in bars.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let yc = (n - 1 - i) as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, yc - 0.3), (v / div, yc + 0.3)],
                rgb(color).mix(0.85).filled(),
            )))
            .map_err(err)?;
        if lo.is_finite() && hi.is_finite() && lo != hi {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(lo / div, yc), (hi / div, yc)],
                    BLACK.mix(0.75).stroke_width(2),
                )))
                .map_err(err)?;
            for x in [lo, hi] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x / div, yc - 0.12), (x / div, yc + 0.12)],
                        BLACK.mix(0.75).stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
            BLACK.mix(0.6).stroke_width(1),
        )))
        .map_err(err)?;
    Ok(())
}

/// The cost-effectiveness chart of a comparison: for each reform (best first),
/// the working capital released on an average day (left) and the net fiscal cost
/// a year (right), each with its paired 95% interval as a whisker.
pub fn effectiveness(title: L, bars: &[EffectBar], lang: Lang) -> Result<Chart, String> {
    let n = bars.len().max(1);
    let height = (110 + 44 * n as u32).max(200);
    let label_w = bars
        .iter()
        .map(|b| text_width(&b.label))
        .fold(60.0f64, f64::max)
        .min(260.0) as u32
        + 16;
    let released: Vec<(String, (f64, f64, f64))> =
        bars.iter().map(|b| (b.label.clone(), b.released)).collect();
    let fiscal: Vec<(String, (f64, f64, f64))> =
        bars.iter().map(|b| (String::new(), b.fiscal)).collect();
    let (rel_desc, fis_desc) = (
        L::new("日均释放的营运资金", "Released, average day").get(lang),
        L::new("财政净成本（每年）", "Net fiscal cost a year").get(lang),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let split = label_w + (W - label_w) / 2;
        let (left, right) = root.split_horizontally(split);
        bar_panel(&left, &released, 0, label_w, &rel_desc, lang)?;
        bar_panel(&right, &fiscal, 1, 8, &fis_desc, lang)?;
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: vec![
            (
                css(0),
                false,
                L::new(
                    "日均释放的营运资金",
                    "working capital released on an average day",
                ),
            ),
            (
                css(1),
                false,
                L::new("财政净成本（每年）", "net fiscal cost a year"),
            ),
        ],
        note: Some(L::new(
            "黑线：配对比较的95%置信区间。按释放的营运资金从多到少排列。",
            "Black whiskers: paired 95% confidence intervals. Reforms ordered by working capital released, most first.",
        )),
        title,
    })
}

/// Daily lines in CNY over the window with a zero line: the paired difference
/// `reform − baseline` of a series' mean, one line per reform.
pub fn difference(
    title: L,
    dates: &[String],
    lines: &[(L, Vec<f64>)],
    family: Option<f64>,
    lang: Lang,
) -> Result<Chart, String> {
    let n = dates.len().max(2);
    let all: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.1.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(0.0f64, f64::max);
    let min = all.iter().copied().fold(0.0f64, f64::min);
    let (div, y_desc) = cny_axis(family.unwrap_or(max.max(-min).max(1.0)), lang);
    let span = ((max - min) / div).max(1e-9);
    let (lo, hi) = (min / div - span * 0.06, max / div + span * 0.06);
    let svg = daily_chart(dates, (lo, hi), y_desc, lang, |chart| {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), ((n - 1) as f64, 0.0)],
                BLACK.mix(0.6).stroke_width(1),
            )))
            .map_err(err)?;
        for (i, (_, v)) in lines.iter().enumerate() {
            let pts: Vec<(f64, f64)> = v
                .iter()
                .enumerate()
                .filter(|(_, y)| y.is_finite())
                .map(|(i, y)| (i as f64, y / div))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, rgb(i).stroke_width(2)))
                .map_err(err)?;
        }
        Ok(())
    })?;
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: lines
            .iter()
            .enumerate()
            .map(|(i, l)| (css(i), false, l.0.clone()))
            .collect(),
        note: Some(L::new(
            "各模拟路径在同一天的配对差（改革后 − 基准）的均值；低于0表示改革减少了资金占用。",
            "Mean over simulated paths of the paired daily difference (reform − baseline); below 0 the reform ties up less capital.",
        )),
        title,
    })
}

//! Charts as inline SVG, drawn with plotters' SVG backend into a string: fan
//! charts of daily series over the year (5th–95th percentile band, median and
//! mean lines) and sweep curves (a metric against a grid key, one line per value
//! of a second key, with 95% intervals). Captions and legends are HTML around the
//! chart (see `super::html`), so CJK text is laid out by the browser; the SVG
//! itself carries only axis labels, and has no external reference (the `xmlns`
//! attribute, needless inline in HTML, is removed).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
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
/// `Jan` (with the year on January and on the first tick).
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
            (Lang::En, true) => format!("{} {y}", EN[m - 1]),
            (Lang::En, false) => EN[m - 1].to_string(),
            (_, true) => format!("{y}年{m}月"),
            (_, false) => format!("{m}月"),
        };
        out.push((i as f64, label));
    }
    out
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

/// A fan chart of daily series in CNY over the window: a 5th–95th percentile
/// band, the median (solid) and the mean (dashed) of each series.
pub fn fan(title: L, dates: &[String], bands: &[Band], lang: Lang) -> Result<Chart, String> {
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
    if max <= 0.0 {
        max = 1.0;
    }
    let (div, y_desc) = cny_axis(max.max(-min), lang);
    let (lo, hi) = (min / div * 1.05, max / div * 1.08);
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
            .x_label_area_size(36)
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
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .axis_style(BLACK.mix(0.45))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
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
        root.present().map_err(err)?;
    }
    Ok(Chart {
        svg: clean(svg, &title.get(lang)),
        legend: bands
            .iter()
            .map(|b| (css(b.color), true, b.label.clone()))
            .collect(),
        note: Some(L::new(
            "阴影：各模拟路径的5%–95%分位区间；实线：中位数；虚线：均值。",
            "Shaded: 5th–95th percentile across simulated paths; solid line: median; dashed line: mean.",
        )),
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
    let span = (max - min).max(max.abs() * 0.1).max(1e-12) / div;
    let (lo, hi) = if min >= 0.0 {
        (0.0, max / div + span * 0.1)
    } else {
        (min / div - span * 0.1, max / div + span * 0.1)
    };
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

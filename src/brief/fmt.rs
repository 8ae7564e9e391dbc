//! Numbers for people: 3 significant digits, thousands separators, a real minus
//! sign, amounts in 亿元 / 万元 (Chinese) or CNY bn / mn (English), and 95%
//! intervals as `2.31 ± 0.05 亿元` (mean ± 1.96 × standard error) and a
//! difference's interval as `−1.50 亿元 (−1.54 ~ −1.46)`. Whole-number
//! parts are never rounded away (`2,217 万元`, not `2,220 万元`).

use super::{Lang, Num, Q};

/// Decimals that show `x` with 3 significant digits (at most 6).
pub fn dec3(x: f64) -> usize {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let e = x.abs().log10().floor() as i32;
    (2 - e).clamp(0, 6) as usize
}

/// Decimals that show `x` with 1 significant digit (at most 6).
fn dec1(x: f64) -> usize {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let e = x.abs().log10().floor() as i32;
    (-e).clamp(0, 6) as usize
}

/// `x` with `d` decimals, thousands separators and a typographic minus (`−`).
pub fn fixed(x: f64, d: usize) -> String {
    let s = format!("{:.*}", d, x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(f) = frac {
        grouped.push('.');
        grouped.push_str(&f);
    }
    let is_zero = grouped.chars().all(|c| matches!(c, '0' | '.' | ','));
    if x < 0.0 && !is_zero {
        format!("−{grouped}")
    } else {
        grouped
    }
}

/// `x` with 3 significant digits.
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    fixed(x, dec3(x))
}

/// The unit an amount of magnitude `mag` is shown in: (divisor, unit).
/// Chinese: 亿元 from 1亿, 万元 from 1万, else 元. English: CNY bn from
/// 1 bn, CNY mn from 0.1 mn, CNY k from 1,000, else CNY.
pub fn cny_unit(mag: f64, zh: bool) -> (f64, &'static str) {
    let mag = mag.abs();
    if zh {
        if mag >= 1e8 {
            (1e8, "亿元")
        } else if mag >= 1e4 {
            (1e4, "万元")
        } else {
            (1.0, "元")
        }
    } else if mag >= 1e9 {
        (1e9, "bn")
    } else if mag >= 1e5 {
        (1e6, "mn")
    } else if mag >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// An amount with its unit: `3.17 亿元`, `CNY 317 mn`.
pub fn cny(x: f64, zh: bool) -> String {
    one(&Num::new(x, Q::Cny), zh)
}

/// Writes the amount unit around `body` for one language.
fn with_cny_unit(body: &str, unit: &str, zh: bool) -> String {
    if zh {
        format!("{body} {unit}")
    } else if unit.is_empty() {
        format!("CNY {body}")
    } else {
        format!("CNY {body} {unit}")
    }
}

/// A number in one language (`zh` true: Chinese units).
pub fn one(n: &Num, zh: bool) -> String {
    // Not a number, or not a finite one: never shown as "inf 亿元".
    if !n.v.is_finite() {
        return "—".into();
    }
    let pct = n.q == Q::Pct;
    let scale_in = if pct { 100.0 } else { 1.0 };
    let mut mag = n.v.abs();
    if let Some((lo, hi)) = n.range {
        mag = mag.max(lo.abs()).max(hi.abs());
    }
    let (div, unit) = if n.q == Q::Cny {
        cny_unit(mag, zh)
    } else {
        (1.0 / scale_in, "")
    };
    let v = n.v / div;
    let mut d = dec3(mag / div);
    if pct {
        // Percentages: one decimal, two below 1%.
        d = if (mag / div) >= 1.0 || mag == 0.0 {
            1
        } else {
            2
        };
    }
    // Widen the decimals to show the interval's first significant digit (at most
    // two more); an interval that still rounds to zero is not shown.
    let mut half = n.ci.filter(|h| h.is_finite() && *h > 0.0).map(|h| h / div);
    if let Some(h) = half {
        let wide = d.max(dec1(h)).min(d + 2);
        if nonzero(&fixed(h, wide)) {
            d = wide;
        } else {
            half = None;
        }
    }
    let sign = if n.signed && v > 0.0 && nonzero(&fixed(v, d)) {
        "+"
    } else {
        ""
    };
    let p = if pct { "%" } else { "" };
    let mut body = format!("{sign}{}{p}", fixed(v, d));
    if let Some(h) = half {
        body = format!("{body} ± {}{p}", fixed(h, d));
    }
    let body = if n.q == Q::Cny {
        with_cny_unit(&body, unit, zh)
    } else {
        body
    };
    match n.range {
        Some((lo, hi)) if lo.is_finite() && hi.is_finite() => {
            let (a, b) = (fixed(lo / div, d), fixed(hi / div, d));
            format!("{body} ({a}{p} ~ {b}{p})")
        }
        _ => body,
    }
}

/// Whether a formatted number has a non-zero digit.
fn nonzero(t: &str) -> bool {
    t.chars().any(|c| c.is_ascii_digit() && c != '0')
}

/// A number for `lang`; with both languages and different texts, they are joined by `sep`.
pub fn num(n: &Num, lang: Lang, sep: &str) -> String {
    match lang {
        Lang::Zh => one(n, true),
        Lang::En => one(n, false),
        Lang::Both => {
            let (z, e) = (one(n, true), one(n, false));
            if z == e { z } else { format!("{z}{sep}{e}") }
        }
    }
}

/// A grid value as written in sweep.csv, for people: amounts (≥ 1万) in 亿元 /
/// 万元 or CNY mn / bn, other numbers with up to 3 significant digits, text as is.
pub fn grid_value(s: &str, key: &str, zh: bool) -> String {
    match parse_grid(s) {
        Some(x) if is_amount_key(key) => {
            let (div, unit) = cny_unit(x, zh);
            with_cny_unit(&trimmed(x / div), unit, zh)
        }
        Some(x) => trimmed(x),
        None => s.trim().trim_matches(['"', '\'']).to_string(),
    }
}

/// A grid value (TOML text) as a number: `5e8`, `500_000_000`, `0.5`; `None` for
/// strings, booleans and arrays.
pub fn parse_grid(s: &str) -> Option<f64> {
    s.trim()
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// `x` with up to 3 significant digits and no trailing zeros (a parameter value:
/// 0.050 → 0.05, 5.00 → 5).
pub fn trimmed(x: f64) -> String {
    let t = fixed(x, dec3(x));
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    }
}

/// Whether a scenario key is an amount in CNY (by its last segment).
pub fn is_amount_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(
        last,
        "capital" | "risk_fund" | "line_cap" | "max_per_exporter" | "monthly" | "export_median"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_with_separators() {
        assert_eq!(sig3(12731.92), "12,732");
        assert_eq!(sig3(109.195), "109");
        assert_eq!(sig3(5.4321), "5.43");
        assert_eq!(sig3(-0.01234), "−0.0123");
        assert_eq!(sig3(0.0), "0");
        assert_eq!(fixed(-0.0001, 2), "0.00");
    }

    #[test]
    fn infinities_are_never_shown_as_numbers() {
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(cny(x, true), "—");
            assert_eq!(cny(x, false), "—");
            assert_eq!(sig3(x), "—");
            assert_eq!(one(&Num::ci(x, Q::Days, 1.0), true), "—");
        }
    }

    #[test]
    fn amounts_in_chinese_and_english_units() {
        assert_eq!(cny(316_693_622.0, true), "3.17 亿元");
        assert_eq!(cny(316_693_622.0, false), "CNY 317 mn");
        assert_eq!(cny(22_168_553.0, true), "2,217 万元");
        assert_eq!(cny(16_702_395_503.0, false), "CNY 16.7 bn");
        assert_eq!(cny(850.0, true), "850 元");
        assert_eq!(cny(85_000.0, false), "CNY 85.0 k");
        assert_eq!(cny(850.0, false), "CNY 850");
    }

    #[test]
    fn intervals_are_mean_plus_minus_half_width() {
        let n = Num::ci(231_000_000.0, Q::Cny, 5_000_000.0);
        assert_eq!(one(&n, true), "2.31 ± 0.05 亿元");
        assert_eq!(one(&n, false), "CNY 231 ± 5 mn");
        let d = Num::ci(109.195, Q::Days, 2.11);
        assert_eq!(one(&d, true), "109 ± 2");
        let p = Num::ci(0.125, Q::Pct, 0.031);
        assert_eq!(one(&p, false), "12.5% ± 3.1%");
        let tiny = Num::ci(109.0, Q::Days, 1e-9);
        assert_eq!(one(&tiny, false), "109");
    }

    #[test]
    fn differences_are_signed_with_their_interval() {
        let n = Num {
            range: Some((-60e6, -44e6)),
            signed: true,
            ..Num::new(-52e6, Q::Cny)
        };
        assert_eq!(one(&n, true), "−5,200 万元 (−6,000 ~ −4,400)");
        assert_eq!(one(&n, false), "CNY −52.0 mn (−60.0 ~ −44.0)");
        let up = Num {
            signed: true,
            ..Num::new(0.164, Q::Pct)
        };
        assert_eq!(one(&up, false), "+16.4%");
    }

    #[test]
    fn grid_values_read_naturally() {
        assert_eq!(
            grid_value("500000000", "pools.turnover.capital", true),
            "5 亿元"
        );
        assert_eq!(
            grid_value("0.5", "pools.turnover.advance_ratio", true),
            "0.5"
        );
        assert_eq!(grid_value("10", "pools.guarantee.leverage", false), "10");
        assert_eq!(
            grid_value("\"fifo\"", "pools.turnover.queue", false),
            "fifo"
        );
        assert_eq!(
            grid_value("5_0000_0000", "pools.guarantee.capital", false),
            "CNY 500 mn"
        );
    }
}

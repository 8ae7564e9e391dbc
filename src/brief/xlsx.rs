//! `brief.xlsx`: a "key findings" sheet, one sheet per table and a provenance
//! sheet. Numbers are stored as numbers (amounts in yuan, shares as fractions)
//! with number formats, so they can be computed with; a `± 95%` column follows
//! each column that has intervals, and a change's interval gets low / high
//! columns. With both languages the header is two rows, Chinese then English.

use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
    XlsxError,
};

use super::{Cell, Doc, L, Lang, Num, Q, Table};

/// Excel's number format for a quantity (`signed`: always show the sign).
fn num_format(q: Q, signed: bool) -> &'static str {
    match (q, signed) {
        (Q::Cny, false) => "\"¥\"#,##0",
        (Q::Cny, true) => "+\"¥\"#,##0;-\"¥\"#,##0;\"¥\"0",
        (Q::Days, false) => "#,##0.0",
        (Q::Days, true) => "+#,##0.0;-#,##0.0;0.0",
        (Q::Count, false) => "#,##0",
        (Q::Count, true) => "+#,##0;-#,##0;0",
        (Q::Pct, false) => "0.0%",
        (Q::Pct, true) => "+0.0%;-0.0%;0.0%",
        (Q::Plain, false) => "#,##0.00",
        (Q::Plain, true) => "+#,##0.00;-#,##0.00;0.00",
    }
}

/// Display width of text in Excel's character units (CJK counts double).
fn width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2.0 } else { 1.0 })
        .sum()
}

/// A valid, unique sheet name: no `[]:*?/\`, at most 31 characters.
fn sheet_name(l: &L, lang: Lang, used: &mut Vec<String>) -> String {
    let clean: String = l
        .get(lang)
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let base: String = clean.trim().chars().take(31).collect();
    let mut name = base.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" {n}");
        name = base.chars().take(31 - suffix.len()).collect::<String>() + &suffix;
        n += 1;
    }
    used.push(name.clone());
    name
}

/// The header rows for a label: one per language shown.
fn header_rows(l: &L, lang: Lang) -> Vec<String> {
    match lang {
        Lang::Zh => vec![l.zh.clone()],
        Lang::En => vec![l.en.clone()],
        Lang::Both => vec![l.zh.clone(), l.en.clone()],
    }
}

struct Styles {
    title: Format,
    head: Format,
    bold: Format,
    note: Format,
    text: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            title: Format::new().set_bold().set_font_size(13),
            head: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xEEF2F6))
                .set_border_bottom(FormatBorder::Thin)
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            bold: Format::new().set_bold(),
            note: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(0x5D6B79)),
            text: Format::new().set_align(FormatAlign::Top),
        }
    }
}

/// One output column of a table column: the value, or its `±` half-width, or a bound.
#[derive(Clone, Copy)]
enum Part {
    Value,
    Half,
    Low,
    High,
}

fn write_table(ws: &mut Worksheet, t: &Table, lang: Lang, st: &Styles) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, t.title.get(lang), &st.title)?;
    // Expand columns with intervals.
    let mut out_cols: Vec<(usize, Part, L)> = Vec::new();
    for (i, c) in t.cols.iter().enumerate() {
        out_cols.push((i, Part::Value, c.clone()));
        let nums = t.rows.iter().filter_map(|r| match r.get(i) {
            Some(Cell::Num(n)) => Some(n),
            _ => None,
        });
        let (mut half, mut range) = (false, false);
        for n in nums {
            half |= n.ci.is_some_and(|h| h.is_finite());
            range |= n.range.is_some();
        }
        // The value column drops the interval from its header ("Mean ± 95% CI"
        // → "Mean", "Change (95% CI)" → "Change"); the interval gets its own columns.
        let bare = L::new(
            c.zh.trim_end_matches(" ± 95%置信区间")
                .trim_end_matches("（95%置信区间）"),
            c.en.trim_end_matches(" ± 95% CI")
                .trim_end_matches(" (95% CI)"),
        );
        let interval_named = bare != *c;
        if half || range {
            out_cols.last_mut().expect("pushed above").2 = bare.clone();
        }
        let sub = |zh: &str, en: &str| {
            if interval_named {
                L::new(zh, en)
            } else {
                L::new(format!("{}：{zh}", bare.zh), format!("{}: {en}", bare.en))
            }
        };
        if half {
            out_cols.push((i, Part::Half, sub("± 95%置信区间", "± 95% CI")));
        }
        if range {
            out_cols.push((i, Part::Low, sub("95%置信下限", "95% CI low")));
            out_cols.push((i, Part::High, sub("95%置信上限", "95% CI high")));
        }
    }
    let with_codes = !t.codes.is_empty();
    let first = 2u32;
    let n_head = match lang {
        Lang::Both => 2,
        _ => 1,
    };
    let mut widths: Vec<f64> = vec![10.0; out_cols.len() + usize::from(with_codes)];
    for (j, (_, _, l)) in out_cols.iter().enumerate() {
        for (k, h) in header_rows(l, lang).into_iter().enumerate() {
            widths[j] = widths[j].max((width(&h) * 0.6).min(28.0));
            ws.write_string_with_format(first + k as u32, j as u16, h, &st.head)?;
        }
    }
    if with_codes {
        let j = out_cols.len();
        for (k, h) in header_rows(&L::new("指标代码", "metric"), lang)
            .into_iter()
            .enumerate()
        {
            ws.write_string_with_format(first + k as u32, j as u16, h, &st.head)?;
        }
    }
    let mut formats: std::collections::HashMap<(Q, bool, bool), Format> = Default::default();
    let mut fmt_for = |n: &Num, bold: bool, signed: bool| {
        formats
            .entry((n.q, signed, bold))
            .or_insert_with(|| {
                let f = Format::new().set_num_format(num_format(n.q, signed));
                if bold { f.set_bold() } else { f }
            })
            .clone()
    };
    let row0 = first + n_head;
    for (ri, r) in t.rows.iter().enumerate() {
        let row = row0 + ri as u32;
        let bold = t.bold_rows.contains(&ri);
        for (j, (i, part, _)) in out_cols.iter().enumerate() {
            let col = j as u16;
            match (r.get(*i), part) {
                (Some(Cell::Text(l)), Part::Value) => {
                    let s = l.get(lang);
                    widths[j] = widths[j].max(width(&s) + 2.0);
                    let f = if bold { &st.bold } else { &st.text };
                    ws.write_string_with_format(row, col, s, f)?;
                }
                (Some(Cell::Num(n)), _) => {
                    let v = match part {
                        Part::Value => n.v,
                        Part::Half => n.ci.unwrap_or(f64::NAN),
                        Part::Low => n.range.map(|r| r.0).unwrap_or(f64::NAN),
                        Part::High => n.range.map(|r| r.1).unwrap_or(f64::NAN),
                    };
                    if v.is_finite() {
                        let signed =
                            n.signed && matches!(part, Part::Value | Part::Low | Part::High);
                        let f = fmt_for(n, bold, signed);
                        ws.write_number_with_format(row, col, v, &f)?;
                        widths[j] = widths[j].max(16.0);
                    }
                }
                _ => {}
            }
        }
        if with_codes && let Some(code) = t.codes.get(ri) {
            let j = out_cols.len();
            widths[j] = widths[j].max(width(code) + 2.0);
            ws.write_string(row, j as u16, code)?;
        }
    }
    if let Some(n) = &t.note {
        let row = row0 + t.rows.len() as u32 + 1;
        for (k, line) in header_rows(n, lang).into_iter().enumerate() {
            ws.write_string_with_format(row + k as u32, 0, line, &st.note)?;
        }
    }
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(j as u16, w.min(70.0))?;
    }
    ws.set_freeze_panes(row0, 1)?;
    Ok(())
}

/// Renders the workbook.
pub fn render(doc: &Doc, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    // A fixed creation date and the title: the same directory gives the same bytes.
    wb.set_properties(
        &DocProperties::new()
            .set_title(doc.title.get(lang))
            .set_creation_datetime(&ExcelDateTime::from_ymd(2016, 1, 1)?),
    );
    let st = Styles::new();
    let mut used = Vec::new();

    // Key findings.
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&L::new("要点", "Key findings"), lang, &mut used))?;
    ws.write_string_with_format(0, 0, doc.title.get(lang), &st.title)?;
    let mut row = 1;
    for m in &doc.meta {
        for line in header_rows(m, lang) {
            ws.write_string_with_format(row, 0, line, &st.note)?;
            row += 1;
        }
    }
    row += 1;
    for h in &doc.headlines {
        for (k, line) in header_rows(h, lang).into_iter().enumerate() {
            let f = if k == 0 { &st.bold } else { &st.text };
            ws.write_string_with_format(row, 0, line, f)?;
            row += 1;
        }
    }
    ws.set_column_width(0, 120)?;

    for s in &doc.sections {
        for b in &s.blocks {
            if let super::Block::Table(t) = b {
                let ws = wb.add_worksheet();
                ws.set_name(sheet_name(&t.sheet, lang, &mut used))?;
                write_table(ws, t, lang, &st)?;
            }
        }
    }

    // Provenance.
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(
        &L::new("数据来源", "provenance"),
        lang,
        &mut used,
    ))?;
    ws.write_string_with_format(0, 0, L::new("数据来源", "Provenance").get(lang), &st.title)?;
    let mut row = 2;
    let mut w0: f64 = 20.0;
    for (k, v) in &doc.provenance {
        let label = k.get(lang);
        w0 = w0.max(width(&label) + 2.0);
        ws.write_string_with_format(row, 0, label, &st.bold)?;
        ws.write_string(row, 1, v)?;
        row += 1;
    }
    if !doc.inputs.is_empty() {
        row += 1;
        ws.write_string_with_format(row, 0, L::new("用途", "Role").get(lang), &st.head)?;
        ws.write_string_with_format(row, 1, L::new("文件", "File").get(lang), &st.head)?;
        ws.write_string_with_format(row, 2, "SHA-256", &st.head)?;
        row += 1;
        for (role, path, sha) in &doc.inputs {
            ws.write_string(row, 0, role.get(lang))?;
            ws.write_string(row, 1, path)?;
            ws.write_string(row, 2, sha)?;
            row += 1;
        }
    }
    ws.set_column_width(0, w0.min(60.0))?;
    ws.set_column_width(1, 60)?;
    ws.set_column_width(2, 68)?;
    wb.save_to_buffer()
}

//! `brief.html`: one self-contained page — inline CSS, inline SVG charts, no
//! scripts, links, web fonts or any other external reference — that opens
//! offline and prints on A4.

use std::fmt::Write as _;

use super::md::numeric;
use super::{Block, Cell, Chart, Doc, L, Lang, Table, fmt};

const CSS: &str = r#"
:root { --ink: #1d2733; --muted: #5d6b79; --line: #dde2e8; --head: #eef2f6; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.55;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Hiragino Sans GB", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 26px; line-height: 1.3; margin: 0 0 10px; }
h2 { font-size: 19px; margin: 34px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h1 .en, h2 .en { font-weight: 400; color: var(--muted); }
h1 .en { display: block; font-size: 17px; margin-top: 2px; }
h2 .en { font-size: 15px; margin-left: 6px; }
p { margin: 4px 0; }
.meta { color: var(--muted); font-size: 14px; }
.meta .en, .para .en { display: block; }
.para .en { color: var(--muted); }
.findings { background: #f2f7fb; border-left: 4px solid var(--accent); padding: 10px 18px 10px 12px; margin-top: 18px; }
.findings h2 { border: 0; margin: 4px 0 6px 18px; padding: 0; font-size: 17px; }
.findings li { margin: 6px 0; }
.findings li .en { display: block; color: var(--muted); font-size: 14px; }
figure { margin: 16px 0 28px; }
figcaption { font-weight: 600; font-size: 15px; margin-bottom: 8px; }
figcaption .en { font-weight: 400; color: var(--muted); margin-left: 6px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
thead th { background: var(--head); border-bottom: 2px solid #a8b4c0; font-weight: 600; font-size: 13px; }
thead th .en { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
td .en { display: block; color: var(--muted); font-size: 12px; }
th.n, td.n { text-align: right; }
tbody td:first-child { white-space: nowrap; }
td.n { white-space: nowrap; }
table.wide { font-size: 12.5px; }
table.wide th, table.wide td { padding: 5px 6px; }
table.wide td.n, table.wide tbody td:first-child { white-space: normal; }
table.wide td.n .en { white-space: normal; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.b td { font-weight: 600; background: #f3f6f9; }
td.empty { color: #9aa5b1; }
.note { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.note .en { display: block; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: inherit; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 22px; font-size: 13px; margin: 6px 0 0 72px; }
.legend .sw { display: inline-block; width: 26px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.legend .en { color: var(--muted); margin-left: 4px; }
footer { margin-top: 40px; font-size: 13px; }
footer h2 { font-size: 16px; }
footer td { border-bottom: 1px solid var(--line); }
footer code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
@media print { main { max-width: none; padding: 0; } figure, table { page-break-inside: avoid; } .scroll { overflow: visible; } }
"#;

/// Tables with more columns than this let their numbers wrap (class `wide`).
const WIDE: usize = 6;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A label: in both languages, Chinese then English in a `.en` span.
fn label(l: &L, lang: Lang) -> String {
    match lang {
        Lang::Both if l.zh != l.en && !l.en.is_empty() && !l.zh.is_empty() => format!(
            "<span class=\"zh\">{}</span> <span class=\"en\">{}</span>",
            esc(&l.zh),
            esc(&l.en)
        ),
        _ => esc(&l.get(lang)),
    }
}

fn cell(c: &Cell, lang: Lang) -> (String, &'static str) {
    match c {
        Cell::Empty => ("—".into(), "empty"),
        Cell::Text(l) => (label(l, lang), ""),
        Cell::Num(n) => {
            let text = match lang {
                Lang::Both => {
                    let (z, e) = (fmt::one(n, true), fmt::one(n, false));
                    if z == e {
                        esc(&z)
                    } else {
                        format!("{}<span class=\"en\">{}</span>", esc(&z), esc(&e))
                    }
                }
                _ => esc(&fmt::num(n, lang, "")),
            };
            (text, "n")
        }
    }
}

fn note(out: &mut String, n: &Option<L>, lang: Lang) {
    if let Some(n) = n {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", label(n, lang));
    }
}

fn table(out: &mut String, t: &Table, lang: Lang) {
    let _ = writeln!(
        out,
        "<figure class=\"table\"><figcaption>{}</figcaption><div class=\"scroll\"><table{}>",
        label(&t.title, lang),
        // Many columns: numbers wrap inside their cells instead of running off the page.
        if t.cols.len() > WIDE {
            " class=\"wide\""
        } else {
            ""
        }
    );
    out.push_str("<thead><tr>");
    for (i, c) in t.cols.iter().enumerate() {
        let class = if numeric(t, i) { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", label(c, lang));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (ri, r) in t.rows.iter().enumerate() {
        if t.bold_rows.contains(&ri) {
            out.push_str("<tr class=\"b\">");
        } else {
            out.push_str("<tr>");
        }
        for (i, c) in r.iter().enumerate() {
            let (text, mut class) = cell(c, lang);
            if class == "empty" && numeric(t, i) {
                class = "n empty";
            }
            if class.is_empty() {
                let _ = write!(out, "<td>{text}</td>");
            } else {
                let _ = write!(out, "<td class=\"{class}\">{text}</td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    note(out, &t.note, lang);
    out.push_str("</figure>\n");
}

fn chart(out: &mut String, c: &Chart, lang: Lang) {
    let _ = writeln!(
        out,
        "<figure class=\"chart\"><figcaption>{}</figcaption>",
        label(&c.title, lang)
    );
    out.push_str(&c.svg);
    out.push_str("\n<div class=\"legend\">");
    for (color, band, l) in &c.legend {
        let style = if *band {
            format!("background:{color}30;border-top:3px solid {color}")
        } else {
            format!("background:{color}")
        };
        let _ = write!(
            out,
            "<span><span class=\"sw\" style=\"{style}\"></span>{}</span>",
            label(l, lang)
        );
    }
    out.push_str("</div>\n");
    note(out, &c.note, lang);
    out.push_str("</figure>\n");
}

/// Renders the whole page.
pub fn render(doc: &Doc, lang: Lang) -> String {
    let mut out = String::new();
    let html_lang = if lang == Lang::En { "en" } else { "zh-CN" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&doc.title.get(lang))
    );
    let _ = writeln!(out, "<header><h1>{}</h1>", label(&doc.title, lang));
    for m in &doc.meta {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", label(m, lang));
    }
    out.push_str("</header>\n");
    if !doc.headlines.is_empty() {
        let _ = writeln!(
            out,
            "<section class=\"findings\"><h2>{}</h2><ul>",
            label(&L::new("要点", "Key findings"), lang)
        );
        for h in &doc.headlines {
            let _ = writeln!(out, "<li>{}</li>", label(h, lang));
        }
        out.push_str("</ul></section>\n");
    }
    for s in &doc.sections {
        let _ = writeln!(out, "<section>\n<h2>{}</h2>", label(&s.title, lang));
        for b in &s.blocks {
            match b {
                Block::Para(l) => {
                    let _ = writeln!(out, "<p class=\"para\">{}</p>", label(l, lang));
                }
                Block::Table(t) => table(&mut out, t, lang),
                Block::Chart(c) => chart(&mut out, c, lang),
            }
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "<footer>\n<h2>{}</h2>\n<table><tbody>",
        label(&L::new("数据来源", "Provenance"), lang)
    );
    for (k, v) in &doc.provenance {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            label(k, lang),
            esc(v)
        );
    }
    for (role, path, sha) in &doc.inputs {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td><code>{}</code><br><code>sha256 {}</code></td></tr>",
            label(role, lang),
            esc(path),
            esc(sha)
        );
    }
    out.push_str("</tbody></table>\n</footer>\n</main>\n</body>\n</html>\n");
    out
}

//! `brief.md`: the brief as Markdown tables (charts are in brief.html).

use std::fmt::Write as _;

use super::{Block, Cell, Doc, L, Lang, Table, fmt};

/// Escapes text for a Markdown table cell.
fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A paragraph: in both languages, Chinese and English as two paragraphs.
fn para(out: &mut String, l: &L, lang: Lang) {
    let _ = writeln!(out, "{}\n", l.join(lang, "\n\n"));
}

/// A cell's text.
pub fn cell(c: &Cell, lang: Lang, sep: &str) -> String {
    match c {
        Cell::Empty => "—".into(),
        Cell::Text(l) => l.get(lang),
        Cell::Num(n) => fmt::num(n, lang, sep),
    }
}

/// Whether column `i` holds numbers (right-aligned).
pub fn numeric(t: &Table, i: usize) -> bool {
    t.rows
        .iter()
        .any(|r| matches!(r.get(i), Some(Cell::Num(_))))
}

fn table(out: &mut String, t: &Table, lang: Lang) {
    let _ = writeln!(out, "**{}**\n", esc(&t.title.get(lang)));
    let head: Vec<String> = t.cols.iter().map(|c| esc(&c.get(lang))).collect();
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let align: Vec<&str> = (0..t.cols.len())
        .map(|i| if numeric(t, i) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for (ri, r) in t.rows.iter().enumerate() {
        let bold = t.bold_rows.contains(&ri);
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                let s = esc(&cell(c, lang, " / "));
                if bold && s != "—" {
                    format!("**{s}**")
                } else {
                    s
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
    if let Some(n) = &t.note {
        let _ = writeln!(out, "*{}*\n", n.join(lang, "*\n\n*"));
    }
}

/// Renders the whole brief.
pub fn render(doc: &Doc, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", doc.title.get(lang));
    for m in &doc.meta {
        para(&mut out, m, lang);
    }
    if !doc.headlines.is_empty() {
        let _ = writeln!(out, "## {}\n", L::new("要点", "Key findings").get(lang));
        for h in &doc.headlines {
            let _ = writeln!(out, "- {}", h.join(lang, "  \n  "));
        }
        out.push('\n');
    }
    for s in &doc.sections {
        let _ = writeln!(out, "## {}\n", s.title.get(lang));
        for b in &s.blocks {
            match b {
                Block::Para(l) => para(&mut out, l, lang),
                Block::Table(t) => table(&mut out, t, lang),
                Block::Chart(c) => {
                    let see = L::new("图见 brief.html", "chart in brief.html").get(lang);
                    let _ = writeln!(out, "*{}（{see}）*\n", c.title.get(lang));
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "---\n\n## {}\n",
        L::new("数据来源", "Provenance").get(lang)
    );
    let _ = writeln!(
        out,
        "| {} | {} |\n|---|---|",
        L::new("项目", "Item").get(lang),
        L::new("内容", "Value").get(lang)
    );
    for (k, v) in &doc.provenance {
        let _ = writeln!(out, "| {} | `{}` |", esc(&k.get(lang)), esc(v));
    }
    out.push('\n');
    if !doc.inputs.is_empty() {
        let _ = writeln!(
            out,
            "| {} | {} | SHA-256 |\n|---|---|---|",
            L::new("用途", "Role").get(lang),
            L::new("文件", "File").get(lang)
        );
        for (role, path, sha) in &doc.inputs {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` |",
                esc(&role.get(lang)),
                esc(path),
                esc(sha)
            );
        }
        out.push('\n');
    }
    out
}

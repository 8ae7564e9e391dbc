//! `brief.md`: the brief as Markdown tables (charts are in brief.html).

use std::fmt::Write as _;

use super::{Block, Cell, Doc, L, Lang, Table, fmt};

/// Escapes text for Markdown (and the HTML Markdown allows): one line, no
/// leading indentation, every character that could start markup, a raw HTML tag,
/// an entity or a table column backslash-escaped, and a line start that would
/// begin a list, quote or heading neutralised. Titles, platform and sector
/// names, overlay names and grid values reach the brief from the user, so every
/// text goes through here; numbers are ours and do not.
fn esc(s: &str) -> String {
    let one_line = s.replace(['\r', '\n'], " ");
    let t = one_line.trim_start();
    let mut out = String::with_capacity(t.len() + 8);
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        // A backslash is an escape only before punctuation (or a line break).
        let escape = match c {
            '\\' => chars.peek().is_none_or(|n| n.is_ascii_punctuation()),
            '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '#' | '~' => true,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    // A list item, thematic break or setext underline at the start of a line.
    let starts_block = |rest: &str| rest.chars().next().is_none_or(|n| !n.is_alphanumeric());
    if out.starts_with(['-', '+', '=']) && starts_block(&out[1..]) {
        out.insert(0, '\\');
    } else if let Some(n) = out.find(|c: char| !c.is_ascii_digit())
        && n > 0
        && out[n..].starts_with(['.', ')'])
        && out[n + 1..].chars().next().is_none_or(char::is_whitespace)
    {
        out.insert(n, '\\');
    }
    out
}

/// `l` escaped in both languages, then joined for `lang` by `sep`.
fn text(l: &L, lang: Lang, sep: &str) -> String {
    L::new(esc(&l.zh), esc(&l.en)).join(lang, sep)
}

/// A code span that holds `s` verbatim, whatever backticks it contains.
fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A paragraph: in both languages, Chinese and English as two paragraphs.
fn para(out: &mut String, l: &L, lang: Lang) {
    let _ = writeln!(out, "{}\n", text(l, lang, "\n\n"));
}

/// A cell's text.
pub fn cell(c: &Cell, lang: Lang, sep: &str) -> String {
    match c {
        Cell::Empty => "—".into(),
        Cell::Text(l) => l.get(lang),
        Cell::Num(n) => fmt::num(n, lang, sep),
    }
}

/// A cell's text for Markdown: labels escaped.
fn md_cell(c: &Cell, lang: Lang, sep: &str) -> String {
    match c {
        Cell::Text(l) => text(l, lang, " "),
        _ => cell(c, lang, sep).replace('|', "\\|"),
    }
}

/// Whether column `i` holds numbers (right-aligned).
pub fn numeric(t: &Table, i: usize) -> bool {
    t.rows
        .iter()
        .any(|r| matches!(r.get(i), Some(Cell::Num(_))))
}

fn table(out: &mut String, t: &Table, lang: Lang) {
    let _ = writeln!(out, "**{}**\n", text(&t.title, lang, " "));
    let head: Vec<String> = t.cols.iter().map(|c| text(c, lang, " ")).collect();
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
                let s = md_cell(c, lang, " / ");
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
        let _ = writeln!(out, "*{}*\n", text(n, lang, "*\n\n*"));
    }
}

/// Renders the whole brief.
pub fn render(doc: &Doc, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", text(&doc.title, lang, " "));
    for m in &doc.meta {
        para(&mut out, m, lang);
    }
    if !doc.headlines.is_empty() {
        let _ = writeln!(out, "## {}\n", L::new("要点", "Key findings").get(lang));
        for h in &doc.headlines {
            let _ = writeln!(out, "- {}", text(h, lang, "  \n  "));
        }
        out.push('\n');
    }
    let mut figures = 0;
    for s in &doc.sections {
        let _ = writeln!(out, "## {}\n", text(&s.title, lang, " "));
        for b in &s.blocks {
            match b {
                Block::Para(l) => para(&mut out, l, lang),
                Block::Table(t) => table(&mut out, t, lang),
                Block::Chart(c) => {
                    // The chart file beside brief.md (see super::figure_file).
                    let file = super::figure_file(figures);
                    figures += 1;
                    let title = text(&c.title, lang, " ");
                    let _ = writeln!(out, "**{title}**\n\n![{title}]({file})\n");
                    if let Some(n) = &c.note {
                        let _ = writeln!(out, "*{}*\n", text(n, lang, "*\n\n*"));
                    }
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
        let _ = writeln!(out, "| {} | {} |", text(k, lang, " "), code(v));
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
                "| {} | {} | {} |",
                text(role, lang, " "),
                code(path),
                code(sha)
            );
        }
        out.push('\n');
    }
    out
}

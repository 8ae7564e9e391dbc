//! The merged scenario tree: TOML values that remember where they were written.
//!
//! Files are parsed with `toml_edit` (which keeps spans), turned into [`Node`]s that
//! carry their [`Origin`], merged left to right (tables key by key; arrays and values
//! replaced) and finally patched by `--set key=value`. Every later error can then
//! name the file, line and column that produced the bad value.

use super::Problem;

/// Where a value came from: a source (file or `--set`) and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// Index into [`Sources`].
    pub source: usize,
    /// Byte offset of the value (or key) in the source text.
    pub offset: usize,
}

/// A value of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A table: entries in written order, each with the origin of its key.
    Table(Vec<(String, Origin, Node)>),
    /// An array of values or of tables.
    Array(Vec<Node>),
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A TOML date or datetime, as written.
    Date(String),
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it was written.
    pub at: Origin,
    /// Written as an inline table `{ … }`: a value, replaced whole when merged.
    pub inline: bool,
}

/// One input text: a scenario file or a `--set` argument.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path as given, or `--set #N`.
    pub name: String,
    /// The text.
    pub text: String,
    /// For `--set`, the offset of the value within the argument (column numbers then
    /// count in the argument as typed).
    pub is_set: bool,
}

/// All sources of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Sources(pub Vec<Source>);

impl Sources {
    /// `(line, column)`, 1-based, of an origin (columns count characters).
    pub fn line_col(&self, at: Origin) -> (usize, usize) {
        let Some(src) = self.0.get(at.source) else {
            return (1, 1);
        };
        let upto = &src.text[..at.offset.min(src.text.len())];
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }

    /// `file:line:col` of an origin.
    pub fn locate(&self, at: Origin) -> String {
        let (l, c) = self.line_col(at);
        let name = self
            .0
            .get(at.source)
            .map(|s| s.name.as_str())
            .unwrap_or("?");
        format!("{name}:{l}:{c}")
    }

    /// A problem at `at`.
    pub fn problem(&self, at: Origin, key: &str, message: impl Into<String>) -> Problem {
        Problem {
            location: self.locate(at),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

impl Node {
    /// A short rendering of the value for messages.
    pub fn show(&self) -> String {
        match &self.value {
            Value::Table(_) => "a table".into(),
            Value::Array(v) => {
                let items: Vec<String> = v.iter().take(6).map(Node::show).collect();
                format!(
                    "[{}{}]",
                    items.join(", "),
                    if v.len() > 6 { ", …" } else { "" }
                )
            }
            Value::Str(s) => {
                // One line, and not the whole of a 40,000-character title.
                format!("\"{}\"", crate::input::clip(s))
            }
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => d.clone(),
        }
    }

    /// The entries of a table, if it is one.
    pub fn entries(&self) -> Option<&Vec<(String, Origin, Node)>> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// A child of a table.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, n)| n)
    }

    /// The value as JSON, for the run manifest.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Table(t) => {
                J::Object(t.iter().map(|(k, _, n)| (k.clone(), n.to_json())).collect())
            }
            Value::Array(v) => J::Array(v.iter().map(Node::to_json).collect()),
            Value::Str(s) | Value::Date(s) => J::String(s.clone()),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Bool(b) => J::Bool(*b),
        }
    }
}

fn span_start(r: Option<std::ops::Range<usize>>, fallback: usize) -> usize {
    r.map(|r| r.start).unwrap_or(fallback)
}

fn from_value(v: &toml_edit::Value, source: usize, fallback: usize) -> Node {
    use toml_edit::Value as V;
    let offset = span_start(v.span(), fallback);
    let at = Origin { source, offset };
    let value = match v {
        V::String(s) => Value::Str(s.value().clone()),
        V::Integer(i) => Value::Int(*i.value()),
        V::Float(f) => Value::Float(*f.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::Date(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(|x| from_value(x, source, offset)).collect()),
        V::InlineTable(t) => Value::Table(
            t.iter()
                .map(|(k, x)| {
                    let kat = span_start(t.key(k).and_then(|k| k.span()), offset);
                    (
                        k.to_string(),
                        Origin {
                            source,
                            offset: kat,
                        },
                        from_value(x, source, kat),
                    )
                })
                .collect(),
        ),
    };
    let inline = matches!(v, V::InlineTable(_));
    Node { value, at, inline }
}

fn from_table(t: &toml_edit::Table, source: usize, fallback: usize) -> Node {
    let offset = span_start(t.span(), fallback);
    let mut entries = Vec::new();
    for (k, item) in t.iter() {
        let kat = span_start(t.key(k).and_then(|k| k.span()), offset);
        if let Some(n) = from_item(item, source, kat) {
            entries.push((
                k.to_string(),
                Origin {
                    source,
                    offset: kat,
                },
                n,
            ));
        }
    }
    Node {
        value: Value::Table(entries),
        at: Origin { source, offset },
        inline: false,
    }
}

fn from_item(item: &toml_edit::Item, source: usize, fallback: usize) -> Option<Node> {
    use toml_edit::Item;
    match item {
        Item::None => None,
        Item::Value(v) => Some(from_value(v, source, fallback)),
        Item::Table(t) => Some(from_table(t, source, fallback)),
        Item::ArrayOfTables(a) => {
            let offset = span_start(a.span(), fallback);
            Some(Node {
                value: Value::Array(a.iter().map(|t| from_table(t, source, offset)).collect()),
                at: Origin { source, offset },
                inline: false,
            })
        }
    }
}

/// Parses one source into a table node.
pub fn parse(sources: &Sources, source: usize) -> Result<Node, Problem> {
    let text = &sources.0[source].text;
    match toml_edit::Document::parse(text.as_str()) {
        Ok(doc) => Ok(from_table(doc.as_table(), source, 0)),
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let mut msg = e.message().trim().to_string();
            if msg == "duplicate key"
                && let Some(key) = e
                    .span()
                    .and_then(|s| text.get(s))
                    .map(str::trim)
                    .filter(|k| !k.is_empty() && k.chars().count() <= 80 && !k.contains('\n'))
            {
                msg = format!(
                    "duplicate key `{key}`: it is set twice in the same table; keep one of the two"
                );
            }
            Err(sources.problem(
                Origin { source, offset },
                "",
                format!("this is not valid TOML: {msg}"),
            ))
        }
    }
}

/// Merges `over` into `base`: tables written as `[section]` merge key by key;
/// arrays, values and inline tables `{ … }` (distributions, filing rules) are
/// replaced whole, so an overlay never mixes two forms of one setting.
pub fn merge(base: &mut Node, over: Node) {
    match (&mut base.value, over.value) {
        (Value::Table(b), Value::Table(o)) if !over.inline => {
            for (k, kat, n) in o {
                match b.iter_mut().find(|(bk, _, _)| *bk == k) {
                    Some((_, bkat, bn)) => {
                        *bkat = kat;
                        merge(bn, n);
                    }
                    None => b.push((k, kat, n)),
                }
            }
        }
        (_, v) => {
            base.value = v;
            base.at = over.at;
            base.inline = over.inline;
        }
    }
}

/// Applies `--set key=value` (source `source` holds the whole argument).
pub fn apply_set(root: &mut Node, sources: &Sources, source: usize) -> Result<(), Problem> {
    let arg = &sources.0[source].text;
    let at0 = Origin { source, offset: 0 };
    if let Some(i) = arg.find(['\n', '\r']) {
        return Err(sources.problem(
            Origin { source, offset: i },
            "",
            "--set takes one KEY=VALUE on one line, and this one holds a line break (what follows it would be lost); give each setting its own --set",
        ));
    }
    let Some((key, raw)) = arg.split_once('=') else {
        return Err(sources.problem(
            at0,
            arg,
            "--set needs KEY=VALUE, e.g. --set pools.turnover.capital=5e8 or --set policy.quota.order=pilot_first",
        ));
    };
    // Column of the value in the argument as typed (after any spaces).
    let voff = arg.len() - raw.trim_start().len();
    let key = key.trim();
    let doc = format!("v = {}", raw.trim());
    let mut node = match toml_edit::Document::parse(doc.as_str()) {
        Ok(d) => {
            let item = d.as_table().get("v").expect("parsed").clone();
            from_item(&item, source, voff).expect("a value")
        }
        Err(_) if is_bare_word(raw.trim()) || crate::input::parse_amount(raw.trim()).is_some() => {
            Node {
                value: Value::Str(raw.trim().to_string()),
                // Placed as if parsed after `v = `; the shift below moves it onto the argument.
                at: Origin { source, offset: 4 },
                inline: false,
            }
        }
        Err(e) => {
            return Err(sources.problem(
                Origin { source, offset: voff },
                key,
                format!(
                    "`{}` is not a TOML value ({}); write numbers as 5e8, text as \"monthly\", lists as [1, 1, 1, 4], tables as {{ fixed = 5 }}",
                    crate::input::clip(raw.trim()),
                    e.message().trim()
                ),
            ));
        }
    };
    // Offsets in the parsed value are relative to `v = `; shift them onto the argument.
    shift(&mut node, voff as isize - 4);
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(sources.problem(
            at0,
            key,
            "the key has an empty part; write a dotted path such as pools.turnover.capital",
        ));
    }
    set_path(root, &parts, node, sources, at0, key)
}

/// An array element that is a table with a text `name` (`[[platform]]`).
fn named(n: &Node) -> bool {
    matches!(n.get("name").map(|x| &x.value), Some(Value::Str(_)))
}

fn shift(n: &mut Node, by: isize) {
    n.at.offset = (n.at.offset as isize + by).max(0) as usize;
    match &mut n.value {
        Value::Table(t) => {
            for (_, kat, c) in t {
                kat.offset = (kat.offset as isize + by).max(0) as usize;
                shift(c, by);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| shift(c, by)),
        _ => {}
    }
}

fn is_bare_word(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || "\"'[]{}=,#".contains(c))
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
}

fn set_path(
    node: &mut Node,
    parts: &[&str],
    value: Node,
    sources: &Sources,
    at0: Origin,
    key: &str,
) -> Result<(), Problem> {
    let (head, rest) = (parts[0], &parts[1..]);
    match &mut node.value {
        Value::Table(t) => {
            if rest.is_empty() {
                match t.iter_mut().find(|(k, _, _)| k == head) {
                    Some((_, kat, n)) => {
                        *kat = value.at;
                        *n = value;
                    }
                    None => t.push((head.to_string(), value.at, value)),
                }
                return Ok(());
            }
            if !t.iter().any(|(k, _, _)| k == head) {
                t.push((
                    head.to_string(),
                    at0,
                    Node {
                        value: Value::Table(Vec::new()),
                        at: at0,
                        inline: false,
                    },
                ));
            }
            let child = &mut t.iter_mut().find(|(k, _, _)| k == head).expect("present").2;
            set_path(child, rest, value, sources, at0, key)
        }
        Value::Array(items)
            if !items.iter().all(named)
                || !items.iter().any(
                    |n| matches!(n.get("name").map(|x| &x.value), Some(Value::Str(s)) if s == head),
                ) =>
        {
            // A list addressed by position, counted from 1 (`policy.review.1` is
            // class I's distribution); array tables are also addressed by name.
            let len = items.len();
            let by_name = !items.is_empty() && items.iter().all(named);
            let names: Vec<String> = items
                .iter()
                .filter_map(|n| match n.get("name").map(|x| &x.value) {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let Some(i) = head.parse::<usize>().ok().filter(|i| (1..=len).contains(i)) else {
                let prefix = key.strip_suffix(&parts.join(".")).unwrap_or("");
                let example = if len == 0 {
                    "the list is empty; set the whole list instead".to_string()
                } else {
                    format!(
                        "elements of this list are addressed by position from 1 to {len}, e.g. {prefix}1{}",
                        if rest.is_empty() {
                            "=…".to_string()
                        } else {
                            format!(".{}=…", rest.join("."))
                        }
                    )
                };
                return Err(sources.problem(
                    at0,
                    key,
                    if by_name {
                        format!(
                            "no element named `{head}` here; array tables are addressed by name (names: {}) or by position from 1 to {len}",
                            names.join(", ")
                        )
                    } else {
                        format!("no element `{head}` here; {example}")
                    },
                ));
            };
            let item = &mut items[i - 1];
            if rest.is_empty() {
                *item = value;
                return Ok(());
            }
            if item.entries().is_none() {
                return Err(sources.problem(
                    at0,
                    key,
                    format!(
                        "element {i} is the value {}, which has no keys; set the whole element, e.g. {}={}",
                        item.show(),
                        key.strip_suffix(&rest.join(".")).unwrap_or(key).trim_end_matches('.'),
                        item.show()
                    ),
                ));
            }
            set_path(item, rest, value, sources, at0, key)
        }
        Value::Array(items) if items.iter().all(|n| n.entries().is_some()) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|n| match n.get("name").map(|x| &x.value) {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let found = items.iter_mut().find(
                |n| matches!(n.get("name").map(|x| &x.value), Some(Value::Str(s)) if s == head),
            );
            match found {
                Some(item) if !rest.is_empty() => set_path(item, rest, value, sources, at0, key),
                Some(_) => Err(sources.problem(
                    at0,
                    key,
                    format!("`{head}` is a whole table; set one of its keys, e.g. {key}.exporters=100"),
                )),
                None => Err(sources.problem(
                    at0,
                    key,
                    format!(
                        "no element named `{head}` here; array tables are addressed by name, e.g. platform.<name>.exporters; names: {}",
                        names.join(", ")
                    ),
                )),
            }
        }
        _ => Err(sources.problem(
            at0,
            key,
            format!("`{head}` is inside a value, not a table; set the whole value instead"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(texts: &[&str]) -> (Sources, Node) {
        let sources = Sources(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| Source {
                    name: format!("f{i}.toml"),
                    text: t.to_string(),
                    is_set: false,
                })
                .collect(),
        );
        let mut root = parse(&sources, 0).unwrap();
        for i in 1..texts.len() {
            let n = parse(&sources, i).unwrap();
            merge(&mut root, n);
        }
        (sources, root)
    }

    #[test]
    fn tables_merge_key_by_key_and_arrays_are_replaced() {
        let (_, root) = load(&[
            "[policy]\nname = \"a\"\nreview = [1, 2, 3, 4]\nquota = { monthly = 5 }\nfiling = { mode = \"monthly\", window_workdays = 5 }\n",
            "[policy]\nreview = [9, 9, 9, 9]\nfiling = { mode = \"continuous\" }\n[policy.quota]\norder = \"class\"\n",
        ]);
        let filing = root.get("policy").unwrap().get("filing").unwrap();
        assert!(
            filing.get("window_workdays").is_none(),
            "inline tables are replaced whole"
        );
        let p = root.get("policy").unwrap();
        assert_eq!(p.get("name").unwrap().show(), "\"a\"");
        assert_eq!(p.get("review").unwrap().show(), "[9, 9, 9, 9]");
        let q = p.get("quota").unwrap();
        assert_eq!(q.get("monthly").unwrap().show(), "5");
        assert_eq!(q.get("order").unwrap().show(), "\"class\"");
    }

    #[test]
    fn origins_point_at_line_and_column() {
        let (s, root) = load(&["a = 1\n[b]\nc =   \"x\"\n"]);
        let c = root.get("b").unwrap().get("c").unwrap();
        assert_eq!(s.line_col(c.at), (3, 7));
    }

    #[test]
    fn set_addresses_array_tables_by_name_and_accepts_bare_words() {
        let (mut s, mut root) = load(&["[[platform]]\nname = \"gui-an\"\nexporters = 5\n"]);
        s.0.push(Source {
            name: "--set #1".into(),
            text: "platform.gui-an.exporters=80".into(),
            is_set: true,
        });
        apply_set(&mut root, &s, 1).unwrap();
        s.0.push(Source {
            name: "--set #2".into(),
            text: "policy.quota.order=pilot_first".into(),
            is_set: true,
        });
        apply_set(&mut root, &s, 2).unwrap();
        let p = &root.get("platform").unwrap();
        let Value::Array(items) = &p.value else {
            panic!()
        };
        assert_eq!(items[0].get("exporters").unwrap().show(), "80");
        assert_eq!(s.line_col(items[0].get("exporters").unwrap().at), (1, 27));
        let order = root
            .get("policy")
            .unwrap()
            .get("quota")
            .unwrap()
            .get("order")
            .unwrap();
        assert_eq!(order.show(), "\"pilot_first\"");
        s.0.push(Source {
            name: "--set #3".into(),
            text: "platform.nowhere.exporters=1".into(),
            is_set: true,
        });
        let e = apply_set(&mut root, &s, 3).unwrap_err();
        assert!(e.message.contains("gui-an"), "{}", e.message);
    }
}

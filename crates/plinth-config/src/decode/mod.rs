//! Decoding one parsed TOML file into declarations: the top-level tables (`backend`,
//! `variable`, `provider`, `resource`, `data`, `action`, `output`, `locals`, `module`), their keys,
//! meta-arguments (`count`, `for_each`, `depends_on`, `lifecycle`), and every value as a
//! [`Node`] (strings parsed as templates).
//!
//! Every problem is reported to the diagnostics and decoding goes on, so one run reports all
//! of them. Used by `load`; uses `syntax` for strings and keys, `vars` for variable types.

mod blocks;
mod conditions;
mod imports;
mod module;
mod refactor;
pub(crate) mod testfile;

use plinth_addr::DeclKind;
use std::borrow::Cow;
use std::collections::BTreeMap;

use plinth_expr::did_you_mean;
use plinth_value::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::decl::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::node::{Node, NodeKind};
use crate::source::{FileId, Loc};
use crate::syntax::{content_offset, escape_map, interpolated_key, is_template_text, string_node};

/// Top-level tables a configuration may have.
pub const TOP_LEVEL: &[&str] = &[
    "backend", "variable", "provider", "resource", "data", "action", "output", "locals", "module",
    "moved", "removed", "check", "import",
];

/// Names that cannot be used for resources because expressions give them another meaning.
pub const RESERVED: &[&str] = &[
    "var", "env", "each", "data", "action", "output", "self", "count", "resource", "local", "path",
    "module",
];

/// Decodes the top-level table of file `file` (whose text is `text`) into `config`; `seen`
/// holds the declarations of the files decoded before, to report duplicates across files.
pub(crate) fn decode_file(
    file: FileId,
    text: &str,
    table: DeTable<'_>,
    config: &mut Config,
    seen: &mut BTreeMap<(String, String), Loc>,
    diags: &mut Diagnostics,
) {
    let mut dec = Decoder { file, text, diags };
    dec.top_level(table, config, seen);
}

struct Decoder<'a> {
    file: FileId,
    text: &'a str,
    diags: &'a mut Diagnostics,
}

type Key<'i> = Spanned<Cow<'i, str>>;

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl<'a> Decoder<'a> {
    fn loc(&self, span: std::ops::Range<usize>) -> Loc {
        Loc::new(self.file, span)
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn top_level(
        &mut self,
        table: DeTable<'_>,
        config: &mut Config,
        seen: &mut BTreeMap<(String, String), Loc>,
    ) {
        for (key, value) in table {
            let kloc = self.loc(key.span());
            let k = key.get_ref().as_ref();
            match k {
                "backend" => {
                    if let Some(t) = self.expect_table(&value, "[backend]", &kloc) {
                        self.backend(t, kloc, config, seen);
                    }
                }
                "locals" => {
                    if let Some(t) = self.expect_table(&value, "[locals]", &kloc) {
                        self.locals(t, config, seen);
                    }
                }
                "moved" | "removed" => self.refactor(k, &value, kloc, config),
                "import" => self.imports(&value, kloc, config),
                "variable" | "provider" | "resource" | "data" | "action" | "output" | "module"
                | "check" => {
                    let Some(t) = self.expect_table(&value, &format!("[{k}]"), &kloc) else {
                        continue;
                    };
                    for (name, body) in t {
                        let nloc = self.loc(name.span());
                        let n = name.get_ref().as_ref().to_string();
                        if !is_identifier(&n) {
                            self.err(
                                Diagnostic::at(format!("`{n}` is not a valid {k} name"), nloc.clone())
                                    .label("expected a name of letters, digits, `_` and `-`, starting with a letter")
                                    .help(format!("rename it, e.g. [{k}.{}]", sanitize(&n))),
                            );
                            continue;
                        }
                        let kind = if k == "data" {
                            "data".to_string()
                        } else {
                            k.to_string()
                        };
                        if let Some(first) = seen.get(&(kind.clone(), n.clone())) {
                            let first = first.clone();
                            self.err(
                                Diagnostic::at(format!("{k} `{n}` is defined twice"), nloc.clone())
                                    .label("second definition")
                                    .related(first, "first defined here")
                                    .help("names must be unique across all files of the configuration; rename one"),
                            );
                            continue;
                        }
                        seen.insert((kind, n.clone()), nloc.clone());
                        let Some(body) = self.expect_table(body, &format!("[{k}.{n}]"), &nloc)
                        else {
                            continue;
                        };
                        match k {
                            "variable" => {
                                if let Some(v) = self.variable(n, nloc, body) {
                                    config.variables.push(v);
                                }
                            }
                            "provider" => {
                                let node = self.table_node(body, nloc.clone());
                                config.providers.push(ProviderDecl {
                                    name: n,
                                    loc: nloc,
                                    config: node,
                                });
                            }
                            "resource" | "data" => {
                                let mode = if k == "data" {
                                    DeclKind::Data
                                } else {
                                    DeclKind::Resource
                                };
                                if mode == DeclKind::Resource && RESERVED.contains(&n.as_str()) {
                                    self.err(
                                        Diagnostic::at(format!("`{n}` cannot be a resource name"), nloc.clone())
                                            .label("reserved word")
                                            .help(format!("`{n}` has its own meaning in expressions (`${{{n}.…}}`); choose another name")),
                                    );
                                    continue;
                                }
                                if let Some(r) = self.resource(mode, n, nloc, body) {
                                    config.resources.push(r);
                                }
                            }
                            "action" => {
                                if let Some(a) = self.action(n, nloc, body) {
                                    config.actions.push(a);
                                }
                            }
                            "output" => {
                                if let Some(o) = self.output(n, nloc, body) {
                                    config.outputs.push(o);
                                }
                            }
                            "module" => {
                                if let Some(m) = self.module_call(n, nloc, body) {
                                    config.module_calls.push(m);
                                }
                            }
                            "check" => {
                                if let Some(c) = self.check(n, nloc, body) {
                                    config.checks.push(c);
                                }
                            }
                            _ => unreachable!(),
                        }
                    }
                }
                other => {
                    let help = match did_you_mean(other, TOP_LEVEL.iter().copied()) {
                        Some(s) => format!(
                            "did you mean `{s}`? Top-level tables are: {}",
                            TOP_LEVEL.join(", ")
                        ),
                        None => format!("top-level tables are: {}", TOP_LEVEL.join(", ")),
                    };
                    self.err(
                        Diagnostic::at(format!("unknown top-level table `{other}`"), kloc)
                            .label("not a plinth table")
                            .help(help),
                    );
                }
            }
        }
    }

    /// The tables of a top-level array of tables (`[[kind]]`), each with its location (the
    /// key's when the table has no span of its own). A value that is not an array, or an item
    /// that is not a table, is reported: `noun` and `example` for the first ("write each
    /// {noun} as its own [[kind]] table"), `item_help` for the second.
    fn array_of_tables<'v, 'i>(
        &mut self,
        value: &'v Spanned<DeValue<'i>>,
        kloc: &Loc,
        kind: &str,
        (noun, example, item_help): (&str, &str, &str),
    ) -> Vec<(&'v DeTable<'i>, Loc)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "`{kind}` must be an array of tables, found {}",
                        value.get_ref().type_str()
                    ),
                    kloc.clone(),
                )
                .label(format!("expected [[{kind}]]"))
                .help(format!(
                    "write each {noun} as its own [[{kind}]] table (two brackets), e.g.\n{example}"
                )),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let iloc = self.loc(item.span());
            let iloc = if iloc.span.is_empty() {
                kloc.clone()
            } else {
                iloc
            };
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, iloc)),
                other => self.err(
                    Diagnostic::at(
                        format!(
                            "each `{kind}` entry must be a table, found {}",
                            other.type_str()
                        ),
                        iloc,
                    )
                    .label("expected a table")
                    .help(item_help.to_string()),
                ),
            }
        }
        out
    }

    fn expect_table<'v, 'i>(
        &mut self,
        v: &'v Spanned<DeValue<'i>>,
        what: &str,
        kloc: &Loc,
    ) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                let loc = self.loc(v.span());
                let loc = if loc.span.is_empty() {
                    kloc.clone()
                } else {
                    loc
                };
                self.err(
                    Diagnostic::at(format!("{what} must be a table, found {}", other.type_str()), loc)
                        .label("expected a table")
                        .help(format!("write it as a table header, e.g. {what} on its own line followed by key = value lines")),
                );
                None
            }
        }
    }

    /// The entries of one file's `[locals]` table, appended to `config.locals`; a name
    /// defined before (in this file or an earlier one) is an error naming both places.
    fn locals(
        &mut self,
        t: &DeTable<'_>,
        config: &mut Config,
        seen: &mut BTreeMap<(String, String), Loc>,
    ) {
        for (key, value) in t {
            let kloc = self.loc(key.span());
            let name = key.get_ref().as_ref().to_string();
            if !is_identifier(&name) {
                self.err(
                    Diagnostic::at(format!("`{name}` is not a valid local name"), kloc)
                        .label("expected a name of letters, digits, `_` and `-`, starting with a letter")
                        .help(format!("rename it, e.g. {} = ...; it is referenced as ${{local.NAME}}", sanitize(&name))),
                );
                continue;
            }
            let seen_key = ("local".to_string(), name.clone());
            if let Some(first) = seen.get(&seen_key) {
                let first = first.clone();
                self.err(
                    Diagnostic::at(format!("local `{name}` is defined twice"), kloc)
                        .label("second definition")
                        .related(first, "first defined here")
                        .help("every file's [locals] table shares one namespace: names must be unique across all files of the configuration; rename or remove one"),
                );
                continue;
            }
            seen.insert(seen_key, kloc.clone());
            let value = self.node(value);
            config.locals.push(LocalDecl {
                name,
                loc: kloc,
                value,
            });
        }
    }

    fn backend(
        &mut self,
        t: &DeTable<'_>,
        loc: Loc,
        config: &mut Config,
        seen: &mut BTreeMap<(String, String), Loc>,
    ) {
        if let Some(first) = seen.get(&("backend".into(), String::new())) {
            let first = first.clone();
            self.err(
                Diagnostic::at("[backend] is defined twice", loc)
                    .related(first, "first defined here")
                    .help("a configuration has one backend; remove one"),
            );
            return;
        }
        seen.insert(("backend".into(), String::new()), loc.clone());
        let mut type_name = None;
        let mut rest = Vec::new();
        for (k, v) in t {
            if k.get_ref() == "type" {
                type_name = self.string_value(v, "backend `type`");
            } else {
                rest.push((k, v));
            }
        }
        let node = self.entries_node(rest, loc.clone());
        match type_name {
            Some(tn) => {
                config.backend = Some(BackendDecl {
                    type_name: tn,
                    loc,
                    config: node,
                })
            }
            None => self.err(
                Diagnostic::at("[backend] has no `type`", loc)
                    .help("add `type = \"local\"` (or \"azure-blob\")"),
            ),
        }
    }

    fn variable(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<VariableDecl> {
        let mut v = VariableDecl {
            name,
            loc,
            default: None,
            description: None,
            var_type: VarType::Any,
            sensitive: false,
        };
        let mut ok = true;
        for (k, val) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "default" => {
                    let node = self.node(val);
                    if !node.is_static() {
                        self.err(
                            Diagnostic::at(format!("the default of variable `{}` cannot contain `${{...}}`", v.name), node.loc.clone())
                                .label("expected a literal value")
                                .help("defaults are fixed values; compute derived values where the variable is used"),
                        );
                        ok = false;
                    }
                    v.default = Some(node);
                }
                "description" => v.description = self.string_value(val, "variable `description`"),
                "sensitive" => {
                    v.sensitive = self
                        .bool_value(val, "variable `sensitive`")
                        .unwrap_or(false)
                }
                "type" => {
                    if let Some(s) = self.string_value(val, "variable `type`") {
                        match VarType::parse(&s) {
                            Some(ty) => v.var_type = ty,
                            None => {
                                let names = ["string", "number", "bool", "list", "map", "any"];
                                self.err(
                                    Diagnostic::at(
                                        format!("unknown variable type `{s}`"),
                                        self.loc(val.span()),
                                    )
                                    .label("expected one of string, number, bool, list, map, any")
                                    .maybe_help(
                                        did_you_mean(&s, names.iter().copied())
                                            .map(|x| format!("did you mean `{x}`?")),
                                    ),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &["default", "description", "type", "sensitive"],
                        "a variable",
                    );
                    ok = false;
                }
            }
        }
        if let (Some(d), true) = (&v.default, ok)
            && let Some(val) = d.static_value()
            && !crate::vars::type_admits(v.var_type, &val)
        {
            self.err(
                Diagnostic::at(
                    format!(
                        "the default of variable `{}` is a {}, but its type is {}",
                        v.name,
                        val.type_name(),
                        v.var_type.name()
                    ),
                    d.loc.clone(),
                )
                .label(format!("expected a {}", v.var_type.name())),
            );
            ok = false;
        }
        ok.then_some(v)
    }

    fn unknown_key(&mut self, key: &str, loc: Loc, allowed: &[&str], what: &str) {
        let help = match did_you_mean(key, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? Allowed keys: {}", allowed.join(", ")),
            None => format!("allowed keys: {}", allowed.join(", ")),
        };
        self.err(
            Diagnostic::at(format!("unknown key `{key}` in {what}"), loc)
                .label("not allowed here")
                .help(help),
        );
    }

    fn string_value(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.err(
                    Diagnostic::at(
                        format!("{what} must be a string, found {}", other.type_str()),
                        self.loc(v.span()),
                    )
                    .label("expected a string"),
                );
                None
            }
        }
    }

    fn bool_value(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.err(
                    Diagnostic::at(
                        format!("{what} must be true or false, found {}", other.type_str()),
                        self.loc(v.span()),
                    )
                    .label("expected a bool"),
                );
                None
            }
        }
    }

    fn entries_node(&mut self, entries: Vec<(&Key<'_>, &Spanned<DeValue<'_>>)>, loc: Loc) -> Node {
        let entries = entries
            .into_iter()
            .map(|(k, v)| {
                let kloc = self.loc(k.span());
                if let Some(d) = interpolated_key(k.get_ref(), &kloc) {
                    self.err(d);
                }
                (k.get_ref().to_string(), kloc, self.node(v))
            })
            .collect();
        Node {
            kind: NodeKind::Table(entries),
            loc,
            content_offset: None,
            escapes: None,
        }
    }

    fn table_node(&mut self, t: &DeTable<'_>, loc: Loc) -> Node {
        self.entries_node(t.iter().collect(), loc)
    }

    fn node(&mut self, v: &Spanned<DeValue<'_>>) -> Node {
        let loc = self.loc(v.span());
        let lit = |val: Value, loc: Loc| Node {
            kind: NodeKind::Lit(val),
            loc,
            content_offset: None,
            escapes: None,
        };
        match v.get_ref() {
            DeValue::String(s) => self.string_node(s, loc),
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => lit(Value::from(n), loc),
                    Err(_) => {
                        self.err(
                            Diagnostic::at("integer out of range", loc.clone())
                                .label("expected a 64-bit integer"),
                        );
                        lit(Value::Null, loc)
                    }
                }
            }
            DeValue::Float(f) => {
                let parsed = f
                    .as_str()
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64);
                match parsed {
                    Some(n) => lit(Value::Number(n), loc),
                    None => {
                        self.err(
                            Diagnostic::at(
                                "infinite or NaN numbers are not supported",
                                loc.clone(),
                            )
                            .label("expected a finite number"),
                        );
                        lit(Value::Null, loc)
                    }
                }
            }
            DeValue::Boolean(b) => lit(Value::Bool(*b), loc),
            DeValue::Datetime(d) => lit(Value::String(d.to_string()), loc),
            DeValue::Array(items) => {
                let items = items.iter().map(|i| self.node(i)).collect();
                Node {
                    kind: NodeKind::List(items),
                    loc,
                    content_offset: None,
                    escapes: None,
                }
            }
            DeValue::Table(t) => self.table_node(t, loc),
        }
    }

    fn string_node(&mut self, s: &str, loc: Loc) -> Node {
        let content_offset = content_offset(self.text, &loc.span, s);
        // Only a template's spans are mapped: a plain string needs no map.
        let escapes = match content_offset {
            None if is_template_text(s) => escape_map(self.text, &loc.span, s),
            _ => None,
        };
        let (n, err) = string_node(s, loc, content_offset, escapes);
        if let Some(d) = err {
            self.err(d);
        }
        n
    }
}

fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("r{out}")
    } else {
        out
    }
}

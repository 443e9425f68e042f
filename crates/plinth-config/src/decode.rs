//! Decoding one parsed TOML file into declarations: the top-level tables (`backend`,
//! `variable`, `provider`, `resource`, `data`, `action`, `output`, `locals`), their keys,
//! meta-arguments (`count`, `for_each`, `depends_on`, `lifecycle`), and every value as a
//! [`Node`] (strings parsed as templates).
//!
//! Every problem is reported to the diagnostics and decoding goes on, so one run reports all
//! of them. Used by `load`; uses `syntax` for strings and keys, `vars` for variable types.

use plinth_addr::DeclKind;
use std::borrow::Cow;
use std::collections::BTreeMap;

use plinth_expr::did_you_mean;
use plinth_value::{Path, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::decl::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::node::{Node, NodeKind};
use crate::source::{FileId, Loc};
use crate::syntax::{content_offset, interpolated_key, string_node};

/// Top-level tables a configuration may have.
pub const TOP_LEVEL: &[&str] = &[
    "backend", "variable", "provider", "resource", "data", "action", "output", "locals",
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
                "variable" | "provider" | "resource" | "data" | "action" | "output" => {
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

    fn resource(
        &mut self,
        mode: DeclKind,
        name: String,
        loc: Loc,
        t: &DeTable<'_>,
    ) -> Option<ResourceDecl> {
        let mut type_name = None;
        let mut type_given = false;
        let mut depends_on = Vec::new();
        let mut for_each: Option<(Node, Loc)> = None;
        let mut count: Option<(Node, Loc)> = None;
        let mut lifecycle = Lifecycle::default();
        let mut rest = Vec::new();
        let mut ok = true;
        for (k, v) in t {
            match k.get_ref().as_ref() {
                "type" => {
                    type_given = true;
                    type_name = self
                        .string_value(v, "`type`")
                        .map(|s| (s, self.loc(v.span())))
                }
                "depends_on" => depends_on = self.addr_list(v, "`depends_on`")?,
                "for_each" => for_each = Some((self.node(v), self.loc(k.span()))),
                "count" => count = Some((self.node(v), self.loc(k.span()))),
                "lifecycle" if mode == DeclKind::Resource => match self.lifecycle(v) {
                    Some(l) => lifecycle = l,
                    None => ok = false,
                },
                _ => rest.push((k, v)),
            }
        }
        let inputs = self.entries_node(rest, loc.clone());
        let what = if mode == DeclKind::Data {
            "data"
        } else {
            "resource"
        };
        if let (Some((_, count_loc)), Some((_, each_loc))) = (&count, &for_each) {
            self.err(
                Diagnostic::at(
                    format!("{what} `{name}` has both `count` and `for_each`"),
                    count_loc.clone(),
                )
                .label("count")
                .related(each_loc.clone(), "for_each")
                .help("a resource has either count or for_each: use count for N alike instances (`name[0]`, `count.index`), for_each for one instance per key (`name[\"key\"]`, `each.key`); remove one"),
            );
            ok = false;
        }
        let Some((type_name, type_loc)) = type_name else {
            if type_given {
                // Already reported: `type` is there but not a string.
                return None;
            }
            self.err(
                Diagnostic::at(format!("{what} `{name}` has no `type`"), loc)
                    .label("missing `type`")
                    .help("add e.g. `type = \"core:data\"`; types are PROVIDER:TYPE"),
            );
            return None;
        };
        ok.then_some(ResourceDecl {
            mode,
            name,
            loc,
            type_name,
            type_loc,
            inputs,
            depends_on,
            for_each: for_each.map(|(n, _)| n),
            count: count.map(|(n, _)| n),
            lifecycle,
        })
    }

    fn action(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<ActionDecl> {
        let mut type_name = None;
        let mut on = Vec::new();
        let mut depends_on = Vec::new();
        let mut rest = Vec::new();
        for (k, v) in t {
            match k.get_ref().as_ref() {
                "type" => {
                    type_name = self
                        .string_value(v, "`type`")
                        .map(|s| (s, self.loc(v.span())))
                }
                "on" => on = self.addr_list(v, "`on`")?,
                "depends_on" => depends_on = self.addr_list(v, "`depends_on`")?,
                _ => rest.push((k, v)),
            }
        }
        let inputs = self.entries_node(rest, loc.clone());
        let Some((type_name, type_loc)) = type_name else {
            self.err(
                Diagnostic::at(format!("action `{name}` has no `type`"), loc)
                    .help("add e.g. `type = \"k8s:rollout-restart\"`"),
            );
            return None;
        };
        Some(ActionDecl {
            name,
            loc,
            type_name,
            type_loc,
            inputs,
            on,
            depends_on,
        })
    }

    fn output(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<OutputDecl> {
        let mut value = None;
        let mut sensitive = false;
        let mut description = None;
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "value" => value = Some(self.node(v)),
                "sensitive" => {
                    sensitive = self.bool_value(v, "output `sensitive`").unwrap_or(false)
                }
                "description" => description = self.string_value(v, "output `description`"),
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &["value", "sensitive", "description"],
                        "an output",
                    );
                    ok = false;
                }
            }
        }
        let Some(value) = value else {
            self.err(
                Diagnostic::at(format!("output `{name}` has no `value`"), loc)
                    .help("add e.g. `value = \"${rg.id}\"`"),
            );
            return None;
        };
        ok.then_some(OutputDecl {
            name,
            loc,
            value,
            sensitive,
            description,
        })
    }

    fn lifecycle(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Lifecycle> {
        let vloc = self.loc(v.span());
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Diagnostic::at("`lifecycle` must be a table", vloc)
                    .label("expected { prevent_destroy = true, ... }")
                    .help(
                        "write lifecycle = { prevent_destroy = true, ignore_changes = [\"tags\"] }",
                    ),
            );
            return None;
        };
        let mut l = Lifecycle::default();
        let mut ok = true;
        for (k, val) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "prevent_destroy" => {
                    l.prevent_destroy = self.bool_value(val, "`prevent_destroy`").unwrap_or(false)
                }
                "create_before_destroy" => {
                    l.create_before_destroy = self
                        .bool_value(val, "`create_before_destroy`")
                        .unwrap_or(false)
                }
                "ignore_changes" => {
                    match val.get_ref() {
                        DeValue::String(s) if s == "all" => l.ignore_all_changes = true,
                        DeValue::Array(items) => {
                            for item in items {
                                let iloc = self.loc(item.span());
                                match item.get_ref() {
                                    DeValue::String(s) => match s.parse::<Path>() {
                                        Ok(p) if !p.is_root() => l.ignore_changes.push((p, iloc)),
                                        Ok(_) => {
                                            self.err(Diagnostic::at("an empty path in `ignore_changes`", iloc).help("name an input path such as \"tags\" or \"body.properties.x\", or write ignore_changes = \"all\""));
                                            ok = false;
                                        }
                                        Err(e) => {
                                            self.err(Diagnostic::at(format!("bad path in `ignore_changes`: {e}"), iloc).label("expected a path such as \"body.properties.count\""));
                                            ok = false;
                                        }
                                    },
                                    other => {
                                        self.err(
                                        Diagnostic::at(format!("`ignore_changes` items must be strings, found {}", other.type_str()), iloc)
                                            .label("expected a path string such as \"tags\""),
                                    );
                                        ok = false;
                                    }
                                }
                            }
                        }
                        other => {
                            self.err(
                            Diagnostic::at(format!("`ignore_changes` must be a list of paths or \"all\", found {}", other.type_str()), self.loc(val.span()))
                                .label("expected [\"path\", ...] or \"all\""),
                        );
                            ok = false;
                        }
                    }
                }
                "replace_triggered_by" => match self.addr_list(val, "`replace_triggered_by`") {
                    Some(list) => l.replace_triggered_by = list,
                    None => ok = false,
                },
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &[
                            "prevent_destroy",
                            "ignore_changes",
                            "create_before_destroy",
                            "replace_triggered_by",
                        ],
                        "`lifecycle`",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(l)
    }

    fn addr_list(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<Vec<AddrRef>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "{what} must be a list of names, found {}",
                        v.get_ref().type_str()
                    ),
                    self.loc(v.span()),
                )
                .label("expected a list such as [\"rg\", \"data.sub\"]"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let iloc = self.loc(item.span());
            match item.get_ref() {
                DeValue::String(s) => out.push(AddrRef {
                    text: s.to_string(),
                    loc: iloc,
                }),
                other => {
                    self.err(
                        Diagnostic::at(
                            format!("{what} items must be strings, found {}", other.type_str()),
                            iloc,
                        )
                        .label("expected a resource name in quotes"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
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
                }
            }
            DeValue::Table(t) => self.table_node(t, loc),
        }
    }

    fn string_node(&mut self, s: &str, loc: Loc) -> Node {
        let content_offset = content_offset(self.text, &loc.span, s);
        let (n, err) = string_node(s, loc, content_offset);
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

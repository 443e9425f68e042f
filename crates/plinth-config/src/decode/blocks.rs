//! The bodies of `[resource.NAME]`, `[data.NAME]`, `[action.NAME]` and `[output.NAME]`
//! tables: their meta-arguments (`type`, `count`, `for_each`, `depends_on`, `lifecycle`,
//! `on`), lifecycle rules and address lists; everything else is the provider's inputs.
//! Conditions (`precondition`, `postcondition`) are decoded in `conditions`.

use plinth_addr::DeclKind;
use plinth_value::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Decoder;
use crate::decl::*;
use crate::diag::Diagnostic;
use crate::node::Node;
use crate::source::Loc;

impl Decoder<'_> {
    pub(super) fn resource(
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
                "lifecycle" => {
                    let decoded = if mode == DeclKind::Resource {
                        self.lifecycle(v)
                    } else {
                        self.data_lifecycle(v)
                    };
                    match decoded {
                        Some(l) => lifecycle = l,
                        None => ok = false,
                    }
                }
                _ => rest.push((k, v)),
            }
        }
        let inputs = self.entries_node(rest, loc.clone());
        let what = if mode == DeclKind::Data {
            "data"
        } else {
            "resource"
        };
        ok &= self.count_or_for_each(
            &format!("{what} `{name}`"),
            "a resource",
            "name",
            &count,
            &for_each,
        );
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

    /// False, with the error, when a block (`subject`, e.g. "resource `web`") has both
    /// `count` and `for_each`; `kind` and `addr` name it in the help ("a resource", `name`).
    pub(super) fn count_or_for_each(
        &mut self,
        subject: &str,
        kind: &str,
        addr: &str,
        count: &Option<(Node, Loc)>,
        for_each: &Option<(Node, Loc)>,
    ) -> bool {
        let (Some((_, count_loc)), Some((_, each_loc))) = (count, for_each) else {
            return true;
        };
        self.err(
            Diagnostic::at(
                format!("{subject} has both `count` and `for_each`"),
                count_loc.clone(),
            )
            .label("count")
            .related(each_loc.clone(), "for_each")
            .help(format!("{kind} has either count or for_each: use count for N alike instances (`{addr}[0]`, `count.index`), for_each for one instance per key (`{addr}[\"key\"]`, `each.key`); remove one")),
        );
        false
    }

    pub(super) fn action(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<ActionDecl> {
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

    pub(super) fn output(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<OutputDecl> {
        let mut value = None;
        let mut sensitive = false;
        let mut description = None;
        let mut preconditions = Vec::new();
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "value" => value = Some(self.node(v)),
                "lifecycle" => match self.output_lifecycle(v) {
                    Some(c) => preconditions = c,
                    None => ok = false,
                },
                "sensitive" => {
                    sensitive = self.bool_value(v, "output `sensitive`").unwrap_or(false)
                }
                "description" => description = self.string_value(v, "output `description`"),
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &["value", "sensitive", "description", "lifecycle"],
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
            preconditions,
        })
    }

    pub(super) fn lifecycle(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Lifecycle> {
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
                "ignore_changes" => match val.get_ref() {
                    DeValue::String(s) if s == "all" => l.ignore_all_changes = true,
                    DeValue::Array(_) => match self.path_list(val, "ignore_changes") {
                        Some(paths) => l.ignore_changes = paths,
                        None => ok = false,
                    },
                    other => {
                        self.err(
                            Diagnostic::at(
                                format!(
                                    "`ignore_changes` must be a list of paths or \"all\", found {}",
                                    other.type_str()
                                ),
                                self.loc(val.span()),
                            )
                            .label("expected [\"path\", ...] or \"all\""),
                        );
                        ok = false;
                    }
                },
                "manage" => match self.path_list(val, "manage") {
                    Some(paths) => l.manage = paths,
                    None => ok = false,
                },
                "replace_triggered_by" => match self.addr_list(val, "`replace_triggered_by`") {
                    Some(list) => l.replace_triggered_by = list,
                    None => ok = false,
                },
                "precondition" => match self.conditions(val, "precondition") {
                    Some(c) => l.preconditions = c,
                    None => ok = false,
                },
                "postcondition" => match self.conditions(val, "postcondition") {
                    Some(c) => l.postconditions = c,
                    None => ok = false,
                },
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &[
                            "prevent_destroy",
                            "ignore_changes",
                            "manage",
                            "create_before_destroy",
                            "replace_triggered_by",
                            "precondition",
                            "postcondition",
                        ],
                        "`lifecycle`",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(l)
    }

    /// A list of paths (`ignore_changes`: input paths; `manage`: attribute paths), each
    /// with the location of its string. Every bad item is reported; `None` when any was.
    fn path_list(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<Vec<(Path, Loc)>> {
        let (example, kind) = if what == "manage" {
            ("properties.minimumTlsVersion", "an attribute path")
        } else {
            ("body.properties.count", "an input path")
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "`{what}` must be a list of paths, found {}",
                        v.get_ref().type_str()
                    ),
                    self.loc(v.span()),
                )
                .label(format!("expected [\"{example}\", ...]")),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let iloc = self.loc(item.span());
            match item.get_ref() {
                DeValue::String(s) => match s.parse::<Path>() {
                    Ok(p) if !p.is_root() => {
                        if out.iter().any(|(q, _): &(Path, Loc)| *q == p) {
                            self.err(
                                Diagnostic::at(format!("`{p}` is listed twice in `{what}`"), iloc)
                                    .label("listed before")
                                    .help("remove one of them"),
                            );
                            ok = false;
                        } else {
                            out.push((p, iloc));
                        }
                    }
                    Ok(_) => {
                        self.err(
                            Diagnostic::at(format!("an empty path in `{what}`"), iloc).help(
                                if what == "manage" {
                                    format!("name {kind} such as \"{example}\" or \"tags\"")
                                } else {
                                    format!("name {kind} such as \"tags\" or \"body.properties.x\", or write ignore_changes = \"all\"")
                                },
                            ),
                        );
                        ok = false;
                    }
                    Err(e) => {
                        self.err(
                            Diagnostic::at(format!("bad path in `{what}`: {e}"), iloc)
                                .label(format!("expected {kind} such as \"{example}\"")),
                        );
                        ok = false;
                    }
                },
                other => {
                    self.err(
                        Diagnostic::at(
                            format!("`{what}` items must be strings, found {}", other.type_str()),
                            iloc,
                        )
                        .label(format!("expected a path string such as \"{example}\"")),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn addr_list(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        what: &str,
    ) -> Option<Vec<AddrRef>> {
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
}

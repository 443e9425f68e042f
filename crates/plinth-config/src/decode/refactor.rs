//! `[[moved]]` and `[[removed]]`: arrays of tables that tell a plan how the configuration was
//! refactored. `moved` has `from` and `to`; `removed` has `from` and `destroy` (also written
//! as Terraform spells it, `lifecycle = { destroy = false }`; `true` when not given).
//!
//! Only the shape is checked here (keys, strings, addresses that parse); what the addresses
//! name is checked against the configuration by the engine's `validate`.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Decoder;
use crate::decl::*;
use crate::diag::Diagnostic;
use crate::source::Loc;

mod keys;
use keys::unquoted_key;

const MOVED_KEYS: &[&str] = &["from", "to"];
const REMOVED_KEYS: &[&str] = &["from", "destroy", "lifecycle"];

impl Decoder<'_> {
    /// The value of a top-level `moved` or `removed` key (`kind`): an array of tables.
    pub(super) fn refactor(
        &mut self,
        kind: &str,
        value: &Spanned<DeValue<'_>>,
        kloc: Loc,
        config: &mut Config,
    ) {
        let example = if kind == "moved" {
            "[[moved]]\nfrom = \"old_name\"\nto = \"new_name\""
        } else {
            "[[removed]]\nfrom = \"old_name\"\ndestroy = false"
        };
        let item_help = format!("write it as a [[{kind}]] table with `from = \"...\"`");
        let tables = self.array_of_tables(value, &kloc, kind, ("declaration", example, &item_help));
        for (t, iloc) in tables {
            if kind == "moved" {
                if let Some(m) = self.moved(t, iloc) {
                    config.moved.push(m);
                }
            } else if let Some(r) = self.removed(t, iloc) {
                config.removed.push(r);
            }
        }
    }

    fn moved(&mut self, t: &DeTable<'_>, loc: Loc) -> Option<MovedDecl> {
        let mut from = None;
        let mut to = None;
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "from" => {
                    from = self.address_value(v, "moved");
                    ok &= from.is_some();
                }
                "to" => {
                    to = self.address_value(v, "moved");
                    ok &= to.is_some();
                }
                other => {
                    self.unknown_key(other, kloc, MOVED_KEYS, "a [[moved]] block");
                    ok = false;
                }
            }
        }
        let missing: Vec<&str> = [("from", from.is_none()), ("to", to.is_none())]
            .into_iter()
            .filter(|(key, absent)| *absent && !t.contains_key(*key))
            .map(|(key, _)| key)
            .collect();
        if !missing.is_empty() {
            let keys = missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            self.err(
                Diagnostic::at(format!("a [[moved]] block has no {keys}"), loc.clone())
                    .label(format!("missing {keys}"))
                    .help("a move names the old address and the new one: from = \"old_name\", to = \"new_name\""),
            );
            return None;
        }
        match (from, to) {
            (Some(from), Some(to)) if ok => Some(MovedDecl { loc, from, to }),
            _ => None,
        }
    }

    fn removed(&mut self, t: &DeTable<'_>, loc: Loc) -> Option<RemovedDecl> {
        let mut from = None;
        let mut destroy: Option<(bool, Loc)> = None;
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "from" => {
                    from = self.address_value(v, "removed");
                    ok &= from.is_some();
                }
                "destroy" => ok &= self.removed_destroy(v, kloc, &mut destroy),
                "lifecycle" => ok &= self.removed_lifecycle(v, &mut destroy),
                other => {
                    self.unknown_key(other, kloc, REMOVED_KEYS, "a [[removed]] block");
                    ok = false;
                }
            }
        }
        if !t.contains_key("from") {
            self.err(
                Diagnostic::at("a [[removed]] block has no `from`", loc.clone())
                    .label("missing `from`")
                    .help("name what the configuration no longer declares: from = \"old_name\" (a resource or module.NAME), with destroy = false to keep the object in the cloud"),
            );
            return None;
        }
        let from = from?;
        ok.then(|| RemovedDecl {
            loc,
            from,
            destroy: destroy.is_none_or(|(d, _)| d),
        })
    }

    /// `destroy = true|false` of a `[[removed]]` block; false when it is not a bool or is
    /// given twice (there and in `lifecycle`).
    fn removed_destroy(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        kloc: Loc,
        destroy: &mut Option<(bool, Loc)>,
    ) -> bool {
        let Some(b) = self.bool_value(v, "`destroy`") else {
            return false;
        };
        if let Some((_, first)) = destroy {
            let first = first.clone();
            self.err(
                Diagnostic::at("`destroy` is given twice in a [[removed]] block", kloc)
                    .label("second `destroy`")
                    .related(first, "first given here")
                    .help("write it once: destroy = false (or lifecycle = { destroy = false })"),
            );
            return false;
        }
        *destroy = Some((b, kloc));
        true
    }

    /// `lifecycle = { destroy = false }`, Terraform's spelling of `destroy`.
    fn removed_lifecycle(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        destroy: &mut Option<(bool, Loc)>,
    ) -> bool {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "`lifecycle` of a [[removed]] block must be a table, found {}",
                        v.get_ref().type_str()
                    ),
                    self.loc(v.span()),
                )
                .label("expected { destroy = false }")
                .help("write lifecycle = { destroy = false }, or simply destroy = false"),
            );
            return false;
        };
        let mut ok = true;
        for (k, val) in t {
            let lkloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "destroy" => ok &= self.removed_destroy(val, lkloc, destroy),
                other => {
                    self.unknown_key(
                        other,
                        lkloc,
                        &["destroy"],
                        "the `lifecycle` of a [[removed]] block",
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    /// A `from` or `to` string: a literal address (`mi`, `app["a"]`, `module.app[0].mi`,
    /// `module.app`) that parses; anything else is reported at the value.
    fn address_value(&mut self, v: &Spanned<DeValue<'_>>, block: &str) -> Option<AddrRef> {
        let vloc = self.loc(v.span());
        let DeValue::String(s) = v.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "an address in a [[{block}]] block must be a string, found {}",
                        v.get_ref().type_str()
                    ),
                    vloc,
                )
                .label("expected an address in quotes")
                .help("write e.g. from = \"old_name\", from = \"app[\\\"blue\\\"]\" or from = \"module.app\""),
            );
            return None;
        };
        if s.contains("${") {
            self.err(
                Diagnostic::at(
                    format!("an address in a [[{block}]] block cannot contain `${{...}}`"),
                    vloc,
                )
                .label("expected a literal address")
                .help("write the address itself, with literal keys: app[\"blue\"], app[0]"),
            );
            return None;
        }
        // The parser takes unquoted keys as the command line types them; a block is written
        // as Terraform writes it, where `app[*]` is a splat (every instance is `app`) and
        // `app[blue]` no key at all: read leniently, either would name an instance that does
        // not exist, and the move would silently do nothing.
        if let Some(key) = unquoted_key(s) {
            let (problem, help) = if key == "*" {
                (
                    format!("`{s}` is not an address of one instance: `[*]` is a splat, not a key"),
                    format!(
                        "write `{}` (without a key): an address without a key names every instance",
                        s.replace("[*]", "")
                    ),
                )
            } else {
                let quoted = serde_json::to_string(key).unwrap_or_default();
                (
                    format!(
                        "`{s}` is not an address: a key is written in quotes ([{quoted}]) or as a number ([0])"
                    ),
                    format!(
                        "write `{}`",
                        s.replacen(&format!("[{key}]"), &format!("[{quoted}]"), 1)
                    ),
                )
            };
            self.err(
                Diagnostic::at(problem, vloc)
                    .label("expected [\"KEY\"] or [0]")
                    .help(help),
            );
            return None;
        }
        let problem = match s.parse::<plinth_addr::Address>() {
            Err(e) => Some(e.to_string()),
            Ok(a) if a.deposed => Some(format!("`{s}` names a deposed object")),
            Ok(a) if !matches!(a.kind, plinth_addr::DeclKind::Resource) => Some(format!(
                "`{s}` is not a resource or a module: only resources (all their instances or one) and modules (a call or one instance) can be {block}"
            )),
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            self.err(
                Diagnostic::at(problem, vloc)
                    .label("expected a resource or module address")
                    .help("addresses look like mi, app[\"blue\"], app[0], module.app or module.app[\"orders\"].mi (relative to the module that declares the block)"),
            );
            return None;
        }
        Some(AddrRef {
            text: s.to_string(),
            loc: vloc,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::source::Sources;
    use crate::{Config, load_sources};

    fn load(text: &str) -> Result<Config, String> {
        let mut sources = Sources::new();
        sources.add("main.toml".into(), "main.toml".into(), text.into());
        load_sources(sources).map_err(|(s, d)| d.render(&s, false))
    }

    #[test]
    fn moved_and_removed_decode_in_file_order_with_destroy_defaulting_to_true() {
        let c = load(
            "[[moved]]\nfrom = \"a\"\nto = \"b\"\n\n[[moved]]\nfrom = \"mi\"\nto = 'mi[\"x\"]'\n\n\
             [[removed]]\nfrom = \"old\"\n\n[[removed]]\nfrom = \"module.gone\"\ndestroy = false\n\n\
             [[removed]]\nfrom = \"legacy\"\nlifecycle = { destroy = false }\n",
        )
        .unwrap();
        let moves: Vec<(&str, &str)> = c
            .moved
            .iter()
            .map(|m| (m.from.text.as_str(), m.to.text.as_str()))
            .collect();
        assert_eq!(moves, [("a", "b"), ("mi", "mi[\"x\"]")]);
        let removed: Vec<(&str, bool)> = c
            .removed
            .iter()
            .map(|r| (r.from.text.as_str(), r.destroy))
            .collect();
        assert_eq!(
            removed,
            [("old", true), ("module.gone", false), ("legacy", false)]
        );
    }

    #[test]
    fn every_mistake_is_located_and_reported_at_once() {
        let err = load(
            "[[moved]]\nfrom = \"a\"\n\n[[moved]]\nfrom = 3\nto = \"b\"\nextra = 1\n\n\
             [[removed]]\ndestroy = \"no\"\n\n[[removed]]\nfrom = \"data.x\"\n\n\
             [[removed]]\nfrom = \"x\"\ndestroy = false\nlifecycle = { destroy = true }\n",
        )
        .unwrap_err();
        for needle in [
            "a [[moved]] block has no `to`",
            "main.toml:1:1",
            "an address in a [[moved]] block must be a string, found integer",
            "main.toml:5:8",
            "unknown key `extra` in a [[moved]] block",
            "a [[removed]] block has no `from`",
            "`destroy` must be true or false, found string",
            "`data.x` is not a resource or a module",
            "`destroy` is given twice in a [[removed]] block",
        ] {
            assert!(err.contains(needle), "{needle:?} missing from:\n{err}");
        }
    }

    #[test]
    fn a_single_table_is_refused_with_the_double_bracket_spelling() {
        let err = load("[moved]\nfrom = \"a\"\nto = \"b\"\n").unwrap_err();
        assert!(
            err.contains("`moved` must be an array of tables, found table"),
            "{err}"
        );
        assert!(err.contains("[[moved]]"), "{err}");
    }
}

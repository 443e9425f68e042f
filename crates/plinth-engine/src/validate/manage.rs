//! `lifecycle.manage`: each path names an attribute of the object (as it reads back:
//! `properties.minimumTlsVersion`, not `body.properties.minimumTlsVersion`) that an input can
//! set (the provider's `input_path` maps it to one), that the service does not change by itself, and that `ignore_changes` does not also
//! name. Checked before anything is read, every problem at once.

use plinth_config::{Diagnostic, Diagnostics, ResourceDecl, did_you_mean};
use plinth_provider::{Provider, TypeSchema};
use plinth_value::{Path, PathSeg};

use crate::addr::DeclKind;

/// Checks `r.lifecycle.manage` against its type (`t`: without the provider prefix).
pub(super) fn check(
    d: &mut Diagnostics,
    provider: &dyn Provider,
    t: &str,
    schema: &TypeSchema,
    r: &ResourceDecl,
) {
    let l = &r.lifecycle;
    let Some((_, first_loc)) = l.manage.first() else {
        return;
    };
    if r.mode == DeclKind::Data {
        d.push(
            Diagnostic::at(
                format!(
                    "`lifecycle.manage` on data source `{}`: plinth reads data sources, it does not enforce them",
                    r.name
                ),
                first_loc.clone(),
            )
            .help("remove `manage`, or declare the object as [resource.NAME] to manage it"),
        );
        return;
    }
    if l.ignore_all_changes {
        d.push(
            Diagnostic::at(
                format!(
                    "`{}` has both `manage` and ignore_changes = \"all\": plinth cannot enforce attributes of an object whose every change it ignores",
                    r.name
                ),
                first_loc.clone(),
            )
            .label("manage")
            .help("remove `manage`, or list the paths to ignore instead of \"all\""),
        );
        return;
    }
    for (path, loc) in &l.manage {
        let problem = if provider.is_volatile(t, path) {
            Some(
                Diagnostic::at(
                    format!(
                        "`manage` names `{path}`, which the service changes by itself ({} reports it as status or bookkeeping)",
                        schema.type_name
                    ),
                    loc.clone(),
                )
                .label("set by the service")
                .help("remove it: plinth cannot hold a value the service owns"),
            )
        } else {
            match provider.input_path(t, path) {
                None => Some(not_settable(provider, t, schema, path, loc)),
                Some(input) if !schema.open && !is_input(schema, &input) => {
                    Some(not_settable(provider, t, schema, path, loc))
                }
                Some(input) => l
                    .ignore_changes
                    .iter()
                    .find(|(i, _)| i.overlaps(&input))
                    .map(|(i, _)| {
                        Diagnostic::at(
                            format!(
                                "`{path}` is in both `manage` and `ignore_changes` (as `{i}`): one enforces the value state recorded, the other keeps whatever the object has"
                            ),
                            loc.clone(),
                        )
                        .label("also ignored")
                        .help(format!("keep one: remove `{path}` from `manage` or `{i}` from `ignore_changes`"))
                    }),
            }
        };
        if let Some(p) = problem {
            d.push(p);
        }
    }
}

fn is_input(schema: &TypeSchema, input: &Path) -> bool {
    matches!(input.segments().first(), Some(PathSeg::Key(k)) if schema.input(k).is_some())
}

/// A path no input of the type sets: the error names the attribute paths its inputs do set.
fn not_settable(
    provider: &dyn Provider,
    t: &str,
    schema: &TypeSchema,
    path: &Path,
    loc: &plinth_config::Loc,
) -> Diagnostic {
    let settable: Vec<String> = schema
        .inputs
        .iter()
        .filter_map(|i| provider.attribute_path(t, &Path::root().key(&i.name)))
        .filter(|a| !a.is_root())
        .map(|a| a.to_string())
        .collect();
    let first = match path.segments().first() {
        Some(PathSeg::Key(k)) => k.clone(),
        _ => path.to_string(),
    };
    let help = match did_you_mean(&first, settable.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`? name an attribute an input sets"),
        None if settable.is_empty() => {
            "name an attribute an input of the type sets, as the object reports it".to_string()
        }
        None => format!(
            "name an attribute an input sets, as the object reports it: {}",
            settable.join(", ")
        ),
    };
    Diagnostic::at(
        format!(
            "`manage` names `{path}`, which no input of {} sets",
            schema.type_name
        ),
        loc.clone(),
    )
    .label("not an attribute plinth can set")
    .help(help)
}

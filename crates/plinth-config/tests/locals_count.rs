//! `[locals]` tables and the `count` meta-argument (issue 14): how they decode, and every
//! error they can make.

use std::path::Path;

use plinth_config::{Config, DeclKind, NodeKind, load_dir};
use plinth_value::Value;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn load(files: &[(&str, &str)]) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    load_dir(dir.path()).map_err(|(sources, diags)| diags.render(&sources, false))
}

fn load_err(files: &[(&str, &str)]) -> String {
    match load(files) {
        Ok(_) => panic!("expected the configuration to be refused"),
        Err(text) => text,
    }
}

#[test]
fn locals_of_every_shape_decode_in_file_order_with_their_key_locations() {
    let config = load(&[
        (
            "a.toml",
            "[locals]\nname_prefix = \"${var.prefix}-${var.env}\"\nreplicas = 3\nzones = [\"1\", \"2\"]\ninline = { env = \"${var.env}\" }\n\n[locals.tags]\nowner = \"${var.owner}\"\n",
        ),
        ("b.toml", "[locals]\nplain = \"text\"\n"),
    ])
    .unwrap();
    let names: Vec<&str> = config.locals.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "name_prefix",
            "replicas",
            "zones",
            "inline",
            "tags",
            "plain"
        ]
    );
    let local = |n: &str| config.locals.iter().find(|l| l.name == n).unwrap();
    assert!(matches!(
        local("name_prefix").value.kind,
        NodeKind::Template(_)
    ));
    let refs: Vec<String> = local("name_prefix")
        .value
        .references()
        .iter()
        .map(|r| r.reference.to_string())
        .collect();
    assert_eq!(refs, ["var.prefix", "var.env"]);
    assert_eq!(local("replicas").value.static_value(), Some(Value::from(3)));
    assert!(matches!(local("zones").value.kind, NodeKind::List(ref l) if l.len() == 2));
    assert!(local("inline").value.entry("env").is_some());
    assert!(local("tags").value.entry("owner").is_some());
    assert_eq!(
        local("plain").value.static_value(),
        Some(Value::from("text"))
    );
    // The key is the location: a.toml line 2, column 1.
    let loc = &local("name_prefix").loc;
    assert_eq!(
        config.sources.describe(loc),
        format!("{}:2:1", file_name(&config, loc.file))
    );
    let loc = &local("plain").loc;
    assert!(config.sources.describe(loc).ends_with("b.toml:2:1"));
}

fn file_name(config: &Config, file: usize) -> String {
    config.sources.get(file).name.clone()
}

#[test]
fn a_local_defined_in_two_files_is_an_error_naming_both_places() {
    let text = load_err(&[
        ("a.toml", "[locals]\nenv = \"dev\"\n"),
        ("b.toml", "# second\n[locals]\nenv = \"prod\"\n"),
    ]);
    assert!(text.contains("local `env` is defined twice"), "{text}");
    assert!(text.contains("b.toml:3:1"), "{text}");
    assert!(text.contains("a.toml:2:1"), "{text}");
    assert!(text.contains("first defined here"), "{text}");
}

#[test]
fn a_local_defined_twice_in_one_file_is_refused() {
    // Two [locals] headers in one file: TOML itself refuses the second table.
    let text = load_err(&[("a.toml", "[locals]\nenv = \"dev\"\n[locals]\nx = 1\n")]);
    assert!(text.contains("invalid TOML"), "{text}");
    let text = load_err(&[("a.toml", "[locals]\nenv = \"dev\"\nenv = \"prod\"\n")]);
    assert!(text.contains("duplicate key `env`"), "{text}");
}

#[test]
fn locals_must_be_a_table_of_identifiers() {
    let text = load_err(&[("a.toml", "locals = 3\n")]);
    assert!(
        text.contains("[locals] must be a table, found integer"),
        "{text}"
    );
    let text = load_err(&[("a.toml", "[locals]\n\"my local\" = 1\n")]);
    assert!(
        text.contains("`my local` is not a valid local name"),
        "{text}"
    );
    assert!(text.contains("my_local = ..."), "{text}");
}

#[test]
fn a_misspelled_locals_table_suggests_it() {
    let text = load_err(&[("a.toml", "[local]\nx = 1\n")]);
    assert!(text.contains("unknown top-level table `local`"), "{text}");
    assert!(text.contains("did you mean `locals`?"), "{text}");
}

#[test]
fn count_decodes_as_a_number_or_a_template_on_resources_and_data() {
    let config = load(&[(
        "main.toml",
        "[resource.a]\ntype = \"core:data\"\ncount = 3\ninput = 1\n\n[resource.b]\ntype = \"core:data\"\ncount = \"${var.replicas}\"\n\n[data.d]\ntype = \"core:data\"\ncount = 0\n\n[resource.c]\ntype = \"core:data\"\n",
    )])
    .unwrap();
    let a = config.resource(DeclKind::Resource, "a").unwrap();
    assert_eq!(
        a.count.as_ref().and_then(|c| c.static_value()),
        Some(Value::from(3))
    );
    assert!(a.inputs.entry("count").is_none(), "count is not an input");
    assert!(a.inputs.entry("input").is_some());
    let b = config.resource(DeclKind::Resource, "b").unwrap();
    assert!(matches!(
        b.count.as_ref().map(|c| &c.kind),
        Some(NodeKind::Template(_))
    ));
    let d = config.resource(DeclKind::Data, "d").unwrap();
    assert_eq!(
        d.count.as_ref().and_then(|c| c.static_value()),
        Some(Value::from(0))
    );
    let c = config.resource(DeclKind::Resource, "c").unwrap();
    assert!(c.count.is_none() && c.for_each.is_none());
}

#[test]
fn count_with_for_each_is_an_error_located_at_count() {
    let text = load_err(&[(
        "main.toml",
        "[resource.a]\ntype = \"core:data\"\nfor_each = [\"x\"]\ncount = 2\n",
    )]);
    assert!(
        text.contains("resource `a` has both `count` and `for_each`"),
        "{text}"
    );
    assert!(text.contains("main.toml:4:1"), "{text}");
    assert!(
        text.contains("a resource has either count or for_each"),
        "{text}"
    );
    let text = load_err(&[(
        "main.toml",
        "[data.d]\ntype = \"core:data\"\ncount = 2\nfor_each = [\"x\"]\n",
    )]);
    assert!(
        text.contains("data `d` has both `count` and `for_each`"),
        "{text}"
    );
    assert!(text.contains("main.toml:3:1"), "{text}");
}

#[test]
fn names_expressions_give_a_meaning_are_reserved_for_resources() {
    for name in ["local", "path", "module", "count"] {
        let text = load_err(&[(
            "main.toml",
            &format!("[resource.{name}]\ntype = \"core:data\"\n"),
        )]);
        assert!(
            text.contains(&format!("`{name}` cannot be a resource name")),
            "{text}"
        );
        assert!(text.contains("reserved word"), "{text}");
    }
}

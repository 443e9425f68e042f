//! `[module.NAME]` calls (issue 15): decoding, loading the tree of modules into the root's one
//! `Sources`, cycles and depth, call-site checks against the module's variables, tables a
//! module may not have, and sources found through a `SourceResolver`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_config::{Config, MAX_MODULE_DEPTH, NodeKind, SourceResolver, load_dir, load_dir_with};

/// Writes `files` (path relative to `root`, text) and returns `root`.
fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn ok(dir: &Path) -> Config {
    load_dir(dir).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)))
}

fn err(dir: &Path) -> String {
    match load_dir(dir) {
        Ok(_) => panic!("expected an error"),
        Err((s, d)) => d.render(&s, false),
    }
}

const APP_MODULE: &str = r#"
[variable.name]
type = "string"

[variable.replicas]
type = "number"
default = 1

[resource.mi]
type = "core:data"
input = "${var.name}"

[output.id]
value = "${mi.output}"
"#;

#[test]
fn a_call_is_decoded_with_its_meta_arguments_providers_and_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("infra");
    write(
        &root,
        &[
            (
                "main.toml",
                r#"
[resource.rg]
type = "core:data"
input = "x"

[module.app]
source = "./modules/app"
for_each = { orders = 1, billing = 2 }
depends_on = ["rg"]
name = "${each.key}"
replicas = 2

[module.app.providers.kubernetes]
cluster = "aks2"
"#,
            ),
            ("modules/app/main.toml", APP_MODULE),
        ],
    );
    let config = ok(&root);
    assert_eq!(config.module_calls.len(), 1);
    let call = &config.module_calls[0];
    assert_eq!(call.name, "app");
    assert_eq!(call.source, "./modules/app");
    assert!(call.for_each.is_some() && call.count.is_none());
    assert_eq!(call.depends_on.len(), 1);
    assert_eq!(call.depends_on[0].text, "rg");
    let keys: Vec<&str> = call.inputs.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys, ["name", "replicas"]);
    assert!(matches!(call.inputs[0].2.kind, NodeKind::Template(_)));
    assert_eq!(call.providers.len(), 1);
    assert_eq!(call.providers[0].name, "kubernetes");
    assert!(call.providers[0].config.entry("cluster").is_some());
    // The module, loaded from its directory, absolute.
    assert_eq!(
        call.dir,
        std::fs::canonicalize(root.join("modules/app")).unwrap()
    );
    assert!(call.dir.is_absolute());
    let module = &call.module;
    assert!(
        module.sources.files().is_empty(),
        "child sources stay empty"
    );
    assert_eq!(module.variables.len(), 2);
    assert_eq!(module.resources[0].name, "mi");
    assert_eq!(module.outputs[0].name, "id");
    // Its files are in the root's sources, named like the root's.
    let names: Vec<&str> = config
        .sources
        .files()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["infra/main.toml", "infra/modules/app/main.toml"]);
    let file = module.resources[0].loc.file;
    assert_eq!(config.sources.get(file).name, "infra/modules/app/main.toml");
}

#[test]
fn a_call_without_a_source_or_with_a_bad_one_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            (
                "main.toml",
                "[module.a]\nname = \"x\"\n\n[module.b]\nsource = 3\n\n[module.c]\nsource = \"./m/${var.x}\"\n\n[module.d]\nsource = \"./m\"\ncount = 2\nfor_each = {}\n",
            ),
            ("m/main.toml", ""),
        ],
    );
    let text = err(tmp.path());
    assert!(text.contains("module `a` has no `source`"), "{text}");
    assert!(text.contains("source = \"./modules/a\""), "{text}");
    assert!(text.contains("main.toml:1:9"), "{text}");
    assert!(
        text.contains("the `source` of module `b` must be a string, found integer"),
        "{text}"
    );
    assert!(
        text.contains("the `source` of module `c` cannot contain `${...}`"),
        "{text}"
    );
    assert!(
        text.contains("module `d` has both `count` and `for_each`"),
        "{text}"
    );
}

#[test]
fn a_module_call_defined_twice_names_both_places() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("a.toml", "[module.app]\nsource = \"./m\"\n"),
            ("b.toml", "\n[module.app]\nsource = \"./m\"\n"),
            ("m/main.toml", "[resource.x]\ntype = \"core:data\"\n"),
        ],
    );
    let text = err(tmp.path());
    assert!(text.contains("module `app` is defined twice"), "{text}");
    assert!(text.contains("b.toml:2:9"), "{text}");
    assert!(text.contains("first defined here"), "{text}");
    assert!(text.contains("a.toml:1:9"), "{text}");
}

#[test]
fn modules_nest_and_a_directory_called_twice_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    write(
        &root,
        &[
            (
                "main.toml",
                "[module.net]\nsource = \"./modules/net\"\n\n[module.net2]\nsource = \"./modules/net/\"\n",
            ),
            (
                "modules/net/main.toml",
                "[module.sub]\nsource = \"../../../shared/sub\"\nprefix = \"n\"\n",
            ),
        ],
    );
    write(
        tmp.path(),
        &[(
            "shared/sub/main.toml",
            "[variable.prefix]\n\n[resource.rg]\ntype = \"core:data\"\ninput = \"${var.prefix}\"\n",
        )],
    );
    let config = ok(&root);
    let (net, net2) = (&config.module_calls[0], &config.module_calls[1]);
    assert!(
        Arc::ptr_eq(&net.module, &net2.module),
        "one directory, one load"
    );
    let sub = &net.module.module_calls[0];
    assert_eq!(sub.name, "sub");
    assert_eq!(
        sub.dir,
        std::fs::canonicalize(tmp.path().join("shared/sub")).unwrap()
    );
    assert_eq!(sub.module.resources[0].name, "rg");
    let names: Vec<&str> = config
        .sources
        .files()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    // Beside the root: named from the root's parent.
    assert_eq!(
        names,
        [
            "root/main.toml",
            "root/modules/net/main.toml",
            "shared/sub/main.toml"
        ]
    );
}

#[test]
fn an_error_in_a_module_file_quotes_that_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("infra");
    write(
        &root,
        &[
            ("main.toml", "[module.app]\nsource = \"./modules/app\"\n"),
            (
                "modules/app/main.toml",
                "[resource.mi]\ntype = \"core:data\"\n\n[resource.bad]\nlifecycle = 3\n",
            ),
        ],
    );
    let text = err(&root);
    assert!(text.contains("resource `bad` has no `type`"), "{text}");
    assert!(text.contains("infra/modules/app/main.toml:4:11"), "{text}");
    assert!(
        text.contains("[resource.bad]"),
        "quotes the child's line: {text}"
    );
}

#[test]
fn a_module_that_calls_itself_prints_the_chain_of_calls() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("main.toml", "[module.a]\nsource = \"./a\"\n"),
            ("a/main.toml", "[module.b]\nsource = \"../b\"\n"),
            ("b/main.toml", "[module.back]\nsource = \"../a\"\n"),
        ],
    );
    let text = err(tmp.path());
    assert!(
        text.contains("modules call each other in a cycle: module.a -> module.b -> module.back"),
        "{text}"
    );
    // Located at the source that closes the cycle.
    assert!(text.contains("b/main.toml:2:10"), "{text}");

    let direct = tempfile::tempdir().unwrap();
    write(
        direct.path(),
        &[
            ("main.toml", "[module.a]\nsource = \"./a\"\n"),
            ("a/main.toml", "[module.again]\nsource = \"./\"\n"),
        ],
    );
    let text = err(direct.path());
    assert!(text.contains("cycle: module.a -> module.again"), "{text}");

    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        &[
            ("main.toml", "[module.a]\nsource = \"./a\"\n"),
            ("a/main.toml", "[module.up]\nsource = \"..\"\n"),
        ],
    );
    let text = err(root.path());
    assert!(text.contains("cycle: module.a -> module.up"), "{text}");
}

#[test]
fn modules_nested_deeper_than_the_limit_are_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = vec![(
        "main.toml".to_string(),
        "[module.m1]\nsource = \"./m1\"\n".to_string(),
    )];
    for i in 1..=MAX_MODULE_DEPTH + 1 {
        let next = i + 1;
        files.push((
            format!("m{i}/main.toml"),
            format!("[module.m{next}]\nsource = \"../m{next}\"\n"),
        ));
    }
    files.push((
        format!("m{}/main.toml", MAX_MODULE_DEPTH + 2),
        "[resource.x]\ntype = \"core:data\"\n".to_string(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write(tmp.path(), &refs);
    let text = err(tmp.path());
    assert!(
        text.contains(&format!(
            "modules nest deeper than {MAX_MODULE_DEPTH} levels: module.m1 -> module.m2"
        )),
        "{text}"
    );
    assert!(text.contains("-> module.m17"), "{text}");
    assert!(!text.contains("module.m18"), "{text}");

    // Exactly the limit is fine.
    let ok_dir = tempfile::tempdir().unwrap();
    let mut files = vec![(
        "main.toml".to_string(),
        "[module.m1]\nsource = \"./m1\"\n".to_string(),
    )];
    for i in 1..MAX_MODULE_DEPTH {
        let next = i + 1;
        files.push((
            format!("m{i}/main.toml"),
            format!("[module.m{next}]\nsource = \"../m{next}\"\n"),
        ));
    }
    files.push((
        format!("m{MAX_MODULE_DEPTH}/main.toml"),
        "[resource.x]\ntype = \"core:data\"\n".to_string(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write(ok_dir.path(), &refs);
    ok(ok_dir.path());
}

#[test]
fn inputs_are_checked_against_the_module_variables_all_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("infra");
    write(
        &root,
        &[
            (
                "main.toml",
                "[module.app]\nsource = \"./modules/app\"\nnam = \"orders\"\nreplicas = \"three\"\n",
            ),
            ("modules/app/main.toml", APP_MODULE),
        ],
    );
    let (sources, diags) = load_dir(&root).unwrap_err();
    assert_eq!(diags.len(), 3, "{}", diags.render(&sources, false));
    let text = diags.render(&sources, false);
    // Unknown input: at the key, with did-you-mean and the module's directory.
    assert!(
        text.contains("module `app` has no variable `nam`"),
        "{text}"
    );
    assert!(text.contains("infra/main.toml:3:1"), "{text}");
    assert!(text.contains("did you mean `name`?"), "{text}");
    assert!(
        text.contains("(in infra/modules/app): name, replicas"),
        "{text}"
    );
    // Mistyped literal: at the value, with the declaration.
    assert!(
        text.contains(
            "input `replicas` of module `app` is a string, but the variable's type is number"
        ),
        "{text}"
    );
    assert!(text.contains("infra/main.toml:4:12"), "{text}");
    assert!(
        text.contains("declared here as type = \"number\""),
        "{text}"
    );
    assert!(text.contains("infra/modules/app/main.toml:5:11"), "{text}");
    // Required variable not set: at the call header, with the declaration.
    assert!(
        text.contains("module `app` does not set the required variable `name`"),
        "{text}"
    );
    assert!(text.contains("infra/main.toml:1:9"), "{text}");
    assert!(text.contains("declared here without a default"), "{text}");
    assert!(text.contains("infra/modules/app/main.toml:2:11"), "{text}");
}

#[test]
fn an_input_computed_from_expressions_is_left_to_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            (
                "main.toml",
                "[variable.n]\ndefault = 3\n\n[module.app]\nsource = \"./m\"\nname = \"x\"\nreplicas = \"${var.n}\"\n",
            ),
            ("m/main.toml", APP_MODULE),
        ],
    );
    ok(tmp.path());
}

#[test]
fn a_module_cannot_have_a_backend_or_provider_settings() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("main.toml", "[module.app]\nsource = \"./m\"\n"),
            (
                "m/main.toml",
                "[backend]\ntype = \"local\"\n\n[provider.kubernetes]\ncluster = \"x\"\n",
            ),
        ],
    );
    let text = err(tmp.path());
    assert!(text.contains("a module cannot have a [backend]"), "{text}");
    assert!(
        text.contains("state is configured once, by the root"),
        "{text}"
    );
    assert!(
        text.contains("a module cannot have a [provider.kubernetes] table"),
        "{text}"
    );
    assert!(
        text.contains("[module.NAME.providers.kubernetes]"),
        "{text}"
    );
    assert!(text.contains("m/main.toml:4:11"), "{text}");
}

#[test]
fn a_missing_or_empty_module_directory_quotes_the_resolved_path() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            (
                "main.toml",
                "[module.a]\nsource = \"./modules/gone\"\n\n[module.b]\nsource = \"./empty\"\n\n[module.c]\nsource = \"./main.toml\"\n",
            ),
            ("empty/README.md", "nothing here"),
        ],
    );
    let real = std::fs::canonicalize(tmp.path()).unwrap();
    let text = err(tmp.path());
    let gone = real.join("modules/gone");
    assert!(
        text.contains(&format!(
            "the source of module `a` is not a module directory: {} does not exist",
            gone.display()
        )),
        "{text}"
    );
    assert!(text.contains("main.toml:2:10"), "{text}");
    assert!(text.contains("has no *.toml files"), "{text}");
    assert!(text.contains("is a file, not a directory"), "{text}");
}

#[test]
fn a_non_local_source_without_a_resolver_says_to_run_init() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            (
                "main.toml",
                "[module.a]\nsource = \"git::https://example.com/org/repo.git//app?ref=v1\"\n\n[module.b]\nsource = \"modules/b\"\n",
            ),
            ("modules/b/main.toml", ""),
        ],
    );
    let text = err(tmp.path());
    assert!(text.contains("run `plinth init`"), "{text}");
    assert!(text.contains("main.toml:2:10"), "{text}");
    assert!(text.contains("write source = \"./modules/b\""), "{text}");
}

/// Resolves `fake::NAME` to a directory under `base`, pinned by a lock file.
struct Fake {
    base: PathBuf,
}

impl SourceResolver for Fake {
    fn resolve(&self, source: &str, _caller_dir: &Path) -> Result<PathBuf, String> {
        match source.strip_prefix("fake::") {
            Some(name) => Ok(self.base.join(name)),
            None => Err(format!("cannot fetch `{source}`: unknown host")),
        }
    }

    fn pinned_files(&self) -> Vec<(String, String)> {
        vec![(
            "plinth.lock".into(),
            "[module.app]\ncommit = \"abc123\"\n".into(),
        )]
    }
}

#[test]
fn a_resolver_finds_non_local_sources_and_its_pinned_files_join_the_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("infra");
    write(
        &root,
        &[(
            "main.toml",
            "[module.app]\nsource = \"fake::app\"\nname = \"orders\"\n",
        )],
    );
    write(tmp.path(), &[("cache/app/main.toml", APP_MODULE)]);
    let fake = Fake {
        base: tmp.path().join("cache"),
    };
    let config =
        load_dir_with(&root, &fake).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    assert_eq!(config.module_calls[0].module.resources[0].name, "mi");
    let lock = config
        .sources
        .files()
        .iter()
        .find(|f| f.name == "plinth.lock")
        .expect("the lock file is a source");
    assert!(lock.text.contains("abc123"));

    // Its error is located at the source.
    write(
        &root,
        &[("main.toml", "[module.app]\nsource = \"other::x\"\n")],
    );
    let (sources, diags) = load_dir_with(&root, &fake).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(
        text.contains("cannot load module `app`: cannot fetch `other::x`: unknown host"),
        "{text}"
    );
    assert!(text.contains("infra/main.toml:2:10"), "{text}");
}

#[test]
fn files_a_module_names_are_read_from_its_own_directory() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("main.toml", "[module.app]\nsource = \"./m\"\n"),
            ("script.sh", "root script"),
            (
                "m/main.toml",
                "[resource.x]\ntype = \"core:data\"\ninput = \"${file(\\\"script.sh\\\")}\"\n",
            ),
            ("m/script.sh", "module script"),
        ],
    );
    let config = ok(tmp.path());
    let module = &config.module_calls[0].module;
    let f = &module.files["script.sh"];
    assert_eq!(f.text.as_deref(), Some("module script"));
    assert!(config.files.is_empty());
    let id = f.source.unwrap();
    assert!(config.sources.get(id).text.contains("module script"));
}

#[test]
fn load_sources_reads_modules_relative_to_the_calling_file() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), &[("m/main.toml", APP_MODULE)]);
    let mut sources = plinth_config::Sources::new();
    sources.add(
        "main.toml".into(),
        tmp.path().join("main.toml"),
        "[module.app]\nsource = \"./m\"\nname = \"x\"\n".into(),
    );
    let config = plinth_config::load_sources(sources)
        .unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    let call = &config.module_calls[0];
    assert_eq!(call.module.variables.len(), 2);
    assert_eq!(config.sources.files().len(), 2);
}

//! `manifest_file`: YAML beside the configuration becomes the resource's `manifest`.

use std::path::Path;

use plinth_config::{DeclKind, NodeKind, load_dir};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const MAIN: &str = r#"
[resource.sa]
type = "k8s:v1/ServiceAccount"
manifest_file = "manifests/sa.yaml"
"#;

#[test]
fn yaml_becomes_the_manifest_with_its_references() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.toml", MAIN);
    write(
        dir.path(),
        "manifests/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${var.prefix}-mi\n  annotations:\n    azure.workload.identity/client-id: \"${mi.properties.clientId}\"\n  labels:\n    replicas: 3\n",
    );
    let config = load_dir(dir.path()).unwrap();
    let r = config.resource(DeclKind::Resource, "sa").unwrap();
    assert!(r.inputs.entry("manifest_file").is_none());
    let manifest = r.inputs.entry("manifest").expect("manifest");
    let refs: Vec<String> = manifest
        .references()
        .iter()
        .map(|f| f.reference.root.clone())
        .collect();
    assert_eq!(refs, vec!["var".to_string(), "mi".to_string()]);
    // Non-string scalars keep their type.
    let labels = manifest.entry("metadata").unwrap().entry("labels").unwrap();
    assert!(
        matches!(&labels.entry("replicas").unwrap().kind, NodeKind::Lit(v) if v.to_json() == serde_json::json!(3))
    );
    // The YAML file is a source: a saved plan goes stale when it changes, and errors in it
    // point into it.
    assert!(
        config
            .sources
            .files()
            .iter()
            .any(|f| f.name.ends_with("manifests/sa.yaml"))
    );
}

#[test]
fn bad_expression_in_yaml_is_located_in_the_yaml() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.toml", MAIN);
    write(
        dir.path(),
        "manifests/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${var.}\n",
    );
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(text.contains("invalid expression"), "{text}");
    assert!(text.contains("sa.yaml:4:"), "{text}");
}

#[test]
fn missing_file_several_documents_and_both_forms_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.toml", MAIN);
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(
        text.contains("cannot read manifest_file manifests/sa.yaml"),
        "{text}"
    );
    assert!(text.contains("main.toml:4:"), "{text}");

    write(
        dir.path(),
        "manifests/sa.yaml",
        "kind: ServiceAccount\n---\nkind: ConfigMap\n",
    );
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(text.contains("exactly one object"), "{text}");

    write(
        dir.path(),
        "main.toml",
        &format!("{MAIN}manifest = {{ kind = \"ServiceAccount\" }}\n"),
    );
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(
        text.contains("both `manifest` and `manifest_file`"),
        "{text}"
    );
}

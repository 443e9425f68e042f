//! One path language in plans (issue 18 items 4, 5), through the `plinth` binary on the
//! in-process simulator (`--sim`, world under the configuration, instant latency): a rotated
//! Kubernetes Secret `stringData` value is an update of `stringData.password` that both
//! `before` and `after` hold (sensitive, never printed), and a Service Bus namespace's
//! `disableLocalAuth` change names `properties.disableLocalAuth`, not the input path
//! `body.properties.disableLocalAuth`. Every path of every change in `plan --json`, and in the
//! Terraform plan JSON of the saved plan, resolves in the documents beside it.

mod common;

use common::{Project, Run};
use serde_json::Value as Json;

const OLD_SECRET: &str = "OldSekrit-4417";
const NEW_SECRET: &str = "NewSekrit-9052";

fn config(password: &str, local_auth_disabled: bool) -> String {
    format!(
        r#"
[variable.pw]
default = "{password}"
sensitive = true

[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "paths-rg"
location = "eastus"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${{rg.id}}"
name = "paths-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "paths"
properties.agentPoolProfiles = [{{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }}]

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${{rg.id}}"
name = "paths-sbns"
location = "eastus"
[resource.sb.body]
sku = {{ name = "Standard" }}
properties.disableLocalAuth = {local_auth_disabled}

[resource.creds]
type = "k8s:v1/Secret"
[resource.creds.manifest]
metadata = {{ name = "creds" }}
stringData = {{ password = "${{var.pw}}" }}
"#
    )
}

fn sim(p: &Project, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.push("--sim");
    p.run_env(&all, &[("PLINTH_SIM_LATENCY", "instant")])
}

/// A path as the plan JSON spells it (`properties.disableLocalAuth`,
/// `metadata.annotations["a/b"]`, `spec.list[0]`), looked up in a JSON document.
fn resolve<'a>(doc: &'a Json, path: &str) -> Option<&'a Json> {
    let mut cur = doc;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(inner) = rest.strip_prefix("[\"") {
            let end = inner.find("\"]")?;
            cur = cur.get(&inner[..end])?;
            rest = &inner[end + 2..];
        } else if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            cur = cur.get(inner[..end].parse::<usize>().ok()?)?;
            rest = &inner[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            cur = cur.get(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    Some(cur)
}

/// The plan JSON's changes, each path of each checked against its `before` and `after`
/// (a create against `after` only, a delete against `before` only).
fn assert_every_path_resolves(doc: &Json) {
    for c in doc["plan"]["resource_changes"]
        .as_array()
        .expect("resource_changes")
    {
        let address = c["address"].as_str().unwrap();
        let actions = c["actions"].to_string();
        for key in ["changed_paths", "replace_paths"] {
            for p in c[key].as_array().into_iter().flatten() {
                let p = p.as_str().unwrap();
                let (before, after) = (&c["before"], &c["after"]);
                if !actions.contains("create") || actions.contains("delete") {
                    assert!(
                        resolve(before, p).is_some(),
                        "{address}: {key} {p} is not in before: {before}"
                    );
                }
                if !actions.contains("delete") || actions.contains("create") {
                    let unknown = &c["after_unknown"];
                    assert!(
                        resolve(after, p).is_some() || resolve(unknown, p).is_some(),
                        "{address}: {key} {p} is not in after: {after}"
                    );
                }
            }
        }
    }
}

fn change<'a>(doc: &'a Json, address: &str) -> &'a Json {
    doc["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address}: {doc}"))
}

#[test]
fn a_rotated_secret_and_a_changed_namespace_name_paths_that_resolve() {
    let p = Project::with_main(&config(OLD_SECRET, true));
    let first = sim(&p, &["plan", "--json"]);
    first.code(0);
    assert_every_path_resolves(&first.plan_doc());
    sim(&p, &["apply", "--auto-approve"]).code(0);
    sim(&p, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    // The Secret's value is rotated and local auth turned back on.
    p.write("main.toml", &config(NEW_SECRET, false));
    let run = sim(&p, &["plan", "--json", "--detailed-exitcode"]);
    run.code(2);
    assert!(!run.all().contains("Sekrit"), "{}", run.all());
    let doc = run.plan_doc();
    assert_every_path_resolves(&doc);

    let creds = change(&doc, "creds");
    assert_eq!(creds["actions"], serde_json::json!(["update"]), "{creds}");
    assert_eq!(
        creds["changed_paths"],
        serde_json::json!(["stringData.password"])
    );
    // Both sides hold the path, both sensitive (the server keeps stringData as data and
    // never returns it: before is the value last applied).
    let ch = creds;
    for side in ["before_sensitive", "after_sensitive"] {
        assert_eq!(
            resolve(&ch[side], "stringData.password"),
            Some(&Json::Bool(true)),
            "{side}: {ch}"
        );
    }

    let sb = change(&doc, "sb");
    assert_eq!(sb["actions"], serde_json::json!(["update"]), "{sb}");
    assert_eq!(
        sb["changed_paths"],
        serde_json::json!(["properties.disableLocalAuth"])
    );
    assert_eq!(
        resolve(&sb["before"], "properties.disableLocalAuth"),
        Some(&Json::Bool(true))
    );
    assert_eq!(
        resolve(&sb["after"], "properties.disableLocalAuth"),
        Some(&Json::Bool(false))
    );

    // The text plan shows the rotation as a change of a secret, not an addition.
    let text = sim(&p, &["plan", "--no-color"]);
    text.code(0);
    assert!(!text.all().contains("Sekrit"), "{}", text.all());
    let out = text.all();
    let line = out
        .lines()
        .find(|l| l.contains("stringData.password"))
        .unwrap_or_else(|| panic!("no stringData.password line: {out}"));
    assert!(
        line.contains("(sensitive) -> (sensitive)") && !line.trim_start().starts_with('+'),
        "{line}"
    );
    assert!(!out.contains("body.properties.disableLocalAuth"), "{out}");

    // The saved plan's Terraform JSON: its paths resolve too, and no secret is in it.
    let file = p.dir.parent().unwrap().join("rotation.plan");
    let file = file.to_str().unwrap();
    sim(&p, &["plan", "--out", file]).code(0);
    let tf = p.run(&["show", "--format", "terraform-json", file]);
    tf.code(0);
    assert!(!tf.all().contains("Sekrit"));
    let tf: Json = serde_json::from_str(&tf.stdout).expect("terraform json");
    for c in tf["resource_changes"].as_array().unwrap() {
        for p in c["change"]["replace_paths"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let steps: Vec<&Json> = p.as_array().unwrap().iter().collect();
            let mut cur = &c["change"]["before"];
            for s in steps {
                cur = match s {
                    Json::String(k) => &cur[k.as_str()],
                    Json::Number(n) => &cur[n.as_u64().unwrap() as usize],
                    _ => panic!("step {s}"),
                };
            }
            assert!(!cur.is_null(), "{}: {p} does not resolve", c["address"]);
        }
    }

    // Applied, the rotation converges.
    sim(&p, &["apply", "--auto-approve"]).code(0);
    sim(&p, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");
}

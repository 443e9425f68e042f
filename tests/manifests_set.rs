//! `k8s:manifests` (issue 17 item 6): the AKS KEDA guide's four manifests kept as ONE
//! multi-document YAML file (examples/aks-keda-guide-yaml) and applied as a set on the
//! simulator: the guide's outcome (`Created 10 jobs`), an empty second plan, a document
//! removed from the file planned and applied as the delete of exactly that object, and a
//! destroy that leaves nothing. Plus the located errors of bad sets, which need no cloud.

mod common;

use std::path::Path;

use common::Project;
use common::sim::{Kubectl, Sim, require_kubectl};

const PRODUCER: &str = "objects[\"batch/v1/Job/default/myproducer\"]";

fn example() -> Project {
    Project::copy_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aks-keda-guide-yaml"))
}

/// The changed paths of the plan's `guide` change, with its action.
fn guide_change(p: &Project, sim: &Sim) -> (String, Vec<String>) {
    let run = p.sim_run(sim, &["plan", "--json", "--detailed-exitcode"]);
    run.code(2);
    let doc = run.plan_doc();
    let changes = doc["plan"]["resource_changes"].as_array().unwrap();
    let others: Vec<&str> = changes
        .iter()
        .filter(|c| c["actions"] != serde_json::json!(["no-op"]) && c["address"] != "guide")
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert!(others.is_empty(), "only the set changes: {others:?}");
    let guide = changes.iter().find(|c| c["address"] == "guide").unwrap();
    (
        guide["actions"][0].as_str().unwrap().to_string(),
        guide["changed_paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn the_guide_as_one_yaml_set_scales_updates_deletes_and_destroys() {
    require_kubectl();
    let p = example();
    let world = p.dir.parent().unwrap().join("world.json");
    let sim = Sim::start(&world);

    // The plan shows every object of the file by kind, namespace and name.
    let plan = p.sim_run(&sim, &["plan"]);
    plan.code(0);
    for id in [
        PRODUCER,
        "objects[\"keda.sh/v1alpha1/ScaledJob/default/myconsumer-scaledjob\"]",
        "objects[\"keda.sh/v1alpha1/TriggerAuthentication/default/kedayaml-servicebus-auth\"]",
        "objects[\"v1/ServiceAccount/default/kedayaml-mi\"]",
    ] {
        plan.stdout_has(id);
    }
    // A Secret in the set is as sensitive as a k8s:v1/Secret: in plans, state and output.
    let mut yaml = p.read("manifests/guide.yaml");
    yaml.push_str("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s1\nstringData:\n  password: Hunter2-Sekrit\n");
    p.write("manifests/guide.yaml", &yaml);
    let apply = p.sim_run(&sim, &["apply", "--auto-approve"]);
    apply.code(0);
    assert!(!apply.all().contains("Hunter2"), "{}", apply.all());
    let shown = p.run(&["state", "show", "guide"]);
    shown.stdout_has("objects[\"v1/Secret/default/s1\"].data = (sensitive)");
    assert!(!shown.all().contains("Hunter2"));
    let marked = p.state()["resources"]["guide"]["sensitive_paths"].to_string();
    assert!(
        marked.contains("manifests[4].stringData.password"),
        "{marked}"
    );

    let config = p.run(&["sim", "kubeconfig", "--sim", &sim.url]);
    config.code(0);
    let kubeconfig = p.dir.parent().unwrap().join("set.kubeconfig");
    std::fs::write(&kubeconfig, &config.stdout).unwrap();
    let kubectl = Kubectl { kubeconfig };
    sim.settle();
    let text = kubectl.ok(&["describe", "scaledjob", "myconsumer-scaledjob"]);
    assert!(text.contains("Created 10 jobs"), "{text}");
    let annotation = kubectl.ok(&[
        "get",
        "serviceaccount",
        "kedayaml-mi",
        "-o",
        r#"jsonpath={.metadata.annotations.azure\.workload\.identity/client-id}"#,
    ]);
    assert!(common::is_uuid(&annotation), "{annotation}");

    // Applied as configured: nothing to do.
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    // A changed document is an update of that object's changed field only (a list, as for a
    // single object, is compared whole).
    p.edit(
        "manifests/guide.yaml",
        "messageCount: \"10\"",
        "messageCount: \"20\"",
    );
    let (action, paths) = guide_change(&p, &sim);
    assert_eq!(action, "update");
    assert_eq!(
        paths,
        ["objects[\"keda.sh/v1alpha1/ScaledJob/default/myconsumer-scaledjob\"].spec.triggers"]
    );
    p.edit(
        "manifests/guide.yaml",
        "messageCount: \"20\"",
        "messageCount: \"10\"",
    );

    // A change the server cannot make in place (a Job's pod template is immutable) is refused
    // at plan with the ways to replace it, never applied as a hidden delete and create.
    let yaml = p.read("manifests/guide.yaml");
    let job_start = yaml.find("kind: Job\n").unwrap();
    let at = job_start + yaml[job_start..].find("servicebusdemo:latest").unwrap();
    let mut changed = yaml.clone();
    changed.replace_range(at..at + "servicebusdemo:latest".len(), "servicebusdemo:v2");
    p.write("manifests/guide.yaml", &changed);
    let refused = p.sim_run(&sim, &["plan"]);
    refused.code(1);
    refused.stderr_has("cannot be changed in place");
    refused.stderr_has("--replace");
    p.write("manifests/guide.yaml", &yaml);

    // An apply of the set that fails part-way deletes again what it had created: the engine
    // records nothing of a failed update's new objects, which would be left unmanaged.
    let mut partial = yaml.clone();
    partial.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made-first\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fails\n  namespace: nowhere\n");
    p.write("manifests/guide.yaml", &partial);
    let failed = p.sim_run(&sim, &["apply", "--auto-approve"]);
    failed.code(1);
    failed.stderr_has("object(s) this apply had created were deleted again");
    let gone = kubectl.run(&["get", "configmap", "made-first"]);
    assert!(!gone.status.success(), "made-first was left behind");
    p.write("manifests/guide.yaml", &yaml);

    // An object deleted by hand is drift: the set creates exactly that one again.
    kubectl.ok(&["delete", "serviceaccount", "kedayaml-mi"]);
    let (action, paths) = guide_change(&p, &sim);
    // What it shows of the object is what its document sets.
    assert_eq!(
        (action.as_str(), paths),
        (
            "update",
            vec![
                "objects[\"v1/ServiceAccount/default/kedayaml-mi\"].metadata.annotations[\"azure.workload.identity/client-id\"]"
                    .to_string()
            ]
        )
    );
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    kubectl.ok(&["get", "serviceaccount", "kedayaml-mi"]);

    // The producer's document leaves the file: exactly that object is deleted.
    let yaml = p.read("manifests/guide.yaml");
    let kept: Vec<&str> = yaml
        .split("---\n")
        .filter(|d| !d.contains("kind: Job\n"))
        .collect();
    assert_eq!(kept.len(), 4);
    p.write("manifests/guide.yaml", &kept.join("---\n"));
    let (action, paths) = guide_change(&p, &sim);
    assert_eq!(action, "update");
    assert!(
        paths.iter().all(|p| p.starts_with(PRODUCER))
            && paths.contains(&format!("{PRODUCER}.spec.template.spec.containers")),
        "{paths:?}"
    );
    let text = p.sim_run(&sim, &["plan"]);
    text.stdout_has(&format!(
        "- {PRODUCER}.spec.template.spec.restartPolicy = \"Never\""
    ));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    let jobs = kubectl.ok(&[
        "get",
        "job",
        "myproducer",
        "--ignore-not-found",
        "-o",
        "name",
    ]);
    assert!(jobs.trim().is_empty(), "{jobs}");
    kubectl.ok(&["get", "scaledjob", "myconsumer-scaledjob"]);
    p.sim_run(&sim, &["plan", "--detailed-exitcode"]).code(0);

    // Destroying the set removes every object of it, in reverse order; then everything.
    p.sim_run(&sim, &["destroy", "--auto-approve", "--target", "guide"])
        .code(0);
    for kind in ["scaledjob", "triggerauthentication", "job"] {
        let left = kubectl.ok(&["get", kind, "-o", "name"]);
        assert!(left.trim().is_empty(), "{kind}: {left}");
    }
    let sa = kubectl.ok(&[
        "get",
        "serviceaccount",
        "kedayaml-mi",
        "--ignore-not-found",
        "-o",
        "name",
    ]);
    assert!(sa.trim().is_empty(), "{sa}");
    p.sim_run(&sim, &["destroy", "--auto-approve"]).code(0);
    assert!(p.state_list().is_empty(), "{:?}", p.state_list());
    let left = sim.inventory();
    assert!(left.is_empty(), "{left:?}");
    sim.stop();
}

#[test]
fn bad_sets_are_located_errors() {
    let p = Project::with_main("[resource.set]\ntype = \"k8s:manifests\"\nmanifest_dir = \"m\"\n");
    std::fs::create_dir(p.path("m")).unwrap();
    p.write(
        "m/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    p.write("m/b.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    p.write("m/c.yaml", "a: 1\n---\nkind: [\n");
    p.write("m/ignored.txt", "not: [yaml\n");
    let run = p.fails(&["validate"]);
    let all = run.all();
    for want in [
        "m/a.yaml, document 2 (line 6): ConfigMap a is already in the set",
        "m/b.yml, document 1 (line 1): the object has no `kind` or no `metadata.name`",
        "invalid YAML (document 2)",
        "3 problems found",
    ] {
        assert!(all.contains(want), "{want}\n{all}");
    }

    // An empty directory, a directory outside, both keys.
    let p = Project::with_main("[resource.set]\ntype = \"k8s:manifests\"\nmanifest_dir = \"m\"\n");
    std::fs::create_dir(p.path("m")).unwrap();
    p.fails(&["validate"])
        .stderr_has("manifest_dir m holds no *.yaml or *.yml file");
    let p = Project::with_main("[resource.set]\ntype = \"k8s:manifests\"\nmanifest_dir = \"..\"\n");
    p.fails(&["validate"])
        .stderr_has("cannot read manifest_dir ..");
    let p =
        Project::with_main("[resource.one]\ntype = \"k8s:v1/ConfigMap\"\nmanifest_dir = \"m\"\n");
    p.fails(&["validate"])
        .stderr_has("`manifest_dir` is for k8s:manifests");
    // Import is refused with the way out.
    let p = Project::with_main("[resource.set]\ntype = \"k8s:manifests\"\nmanifests = []\n");
    p.fails(&["import", "set", "v1/ConfigMap/default/a"])
        .stderr_has("k8s:manifests cannot import");
}

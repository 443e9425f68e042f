//! Real kubectl against the simulated Kubernetes API (the kubeconfig names
//! `{sim}/k8s/{cluster}`; kubectl never sends tokens to an http:// server, so the clusters here
//! accept anonymous requests, as `Cluster::new` makes them).

mod k8s_support;

use k8s_support::{Sim, require_kubectl};

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: worker\n  namespace: default\n  labels:\n    app: worker\n";

const SCALED_JOB: &str = r#"apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: orders
  namespace: default
spec:
  jobTargetRef:
    template:
      spec:
        containers:
        - name: worker
          image: example.azurecr.io/worker:1.0
        restartPolicy: Never
  pollingInterval: 10
  triggers:
  - type: azure-servicebus
    metadata:
      queueName: orders
      namespace: sb-demo
"#;

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn service_account_apply_get_delete() {
    require_kubectl();
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let file = sim.write("sa.yaml", SA);
    let out = kube.ok(&["apply", "--server-side", "-f", path(&file)]);
    assert!(
        out.contains("serviceaccount/worker serverside-applied"),
        "{out}"
    );
    // Applying again is a no-op the server accepts.
    kube.ok(&["apply", "--server-side", "-f", path(&file)]);

    let yaml = kube.get_yaml(&["sa", "worker"]);
    assert!(yaml.contains("manager: kubectl"), "{yaml}");
    assert!(yaml.contains("operation: Apply"), "{yaml}");
    assert!(yaml.contains("f:app: {}"), "{yaml}");
    assert!(yaml.contains("app: worker"), "{yaml}");

    let table = kube.ok(&["get", "sa"]);
    assert!(
        table.contains("NAME") && table.contains("SECRETS") && table.contains("worker"),
        "{table}"
    );
    let all = kube.ok(&["get", "serviceaccounts", "-A"]);
    assert!(
        all.contains("kube-system") && all.contains("worker"),
        "{all}"
    );

    let out = kube.ok(&["delete", "-f", path(&file)]);
    assert!(out.contains("serviceaccount \"worker\" deleted"), "{out}");
    let gone = kube.kubectl(&["get", "sa", "worker"]);
    assert!(!gone.ok);
    assert!(
        gone.stderr.contains("serviceaccounts \"worker\" not found"),
        "{}",
        gone.stderr
    );
}

#[test]
fn scaled_job_needs_the_keda_add_on() {
    require_kubectl();
    let sim = Sim::start();
    let keda = sim.cluster("with-keda", true);
    let plain = sim.cluster("no-keda", false);
    let file = sim.write("sj.yaml", SCALED_JOB);

    let out = keda.ok(&["apply", "--server-side", "-f", path(&file)]);
    assert!(
        out.contains("scaledjob.keda.sh/orders serverside-applied"),
        "{out}"
    );
    let table = keda.ok(&["get", "scaledjob"]);
    assert!(table.contains("orders"), "{table}");
    let short = keda.get_yaml(&["sj", "orders"]);
    assert!(
        short.contains("queueName: orders") && short.contains("manager: kubectl"),
        "{short}"
    );
    assert!(short.contains("generation: 1"), "{short}");
    let out = keda.ok(&["delete", "scaledjob", "orders"]);
    assert!(
        out.contains("scaledjob.keda.sh \"orders\" deleted"),
        "{out}"
    );
    assert!(!keda.kubectl(&["get", "scaledjob", "orders"]).ok);

    let refused = plain.kubectl(&["apply", "--server-side", "-f", path(&file)]);
    assert!(!refused.ok, "{}", refused.stdout);
    assert!(refused.stderr.contains("ScaledJob"), "{}", refused.stderr);
    let refused = plain.kubectl(&["get", "scaledjobs"]);
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("the server doesn't have a resource type \"scaledjobs\""),
        "{}",
        refused.stderr
    );
}

#[test]
fn rollout_restart_of_keda_operator() {
    require_kubectl();
    let sim = Sim::start();
    let kube = sim.cluster("c1", true);
    let deploys = kube.ok(&["get", "deployments", "-n", "kube-system"]);
    assert!(
        deploys.contains("keda-operator") && deploys.contains("2/2"),
        "{deploys}"
    );
    let before = kube.keda_operator_jsonpath("{.metadata.generation}");

    let out = kube.ok(&[
        "rollout",
        "restart",
        "deployment/keda-operator",
        "-n",
        "kube-system",
    ]);
    assert!(
        out.contains("deployment.apps/keda-operator restarted"),
        "{out}"
    );
    let annotations = kube.keda_operator_jsonpath("{.spec.template.metadata.annotations}");
    assert!(
        annotations.contains("kubectl.kubernetes.io/restartedAt"),
        "{annotations}"
    );
    let after = kube.keda_operator_jsonpath("{.metadata.generation}");
    assert_eq!(
        after.parse::<i64>().unwrap(),
        before.parse::<i64>().unwrap() + 1
    );
    let yaml = kube.get_yaml(&["deployment", "keda-operator", "-n", "kube-system"]);
    assert!(
        yaml.contains("manager: kubectl-rollout") && yaml.contains("operation: Update"),
        "{yaml}"
    );

    // Without the add-on there is no operator.
    let plain = sim.cluster("c2", false);
    plain.fails(
        &["get", "deployment", "keda-operator", "-n", "kube-system"],
        "not found",
    );
}

#[test]
fn other_kubectl_commands() {
    require_kubectl();
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    kube.ok(&["create", "namespace", "apps"]);
    let ns = kube.ok(&["get", "ns"]);
    assert!(
        ns.contains("apps") && ns.contains("Active") && ns.contains("kube-public"),
        "{ns}"
    );
    kube.ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "apps",
        "--from-literal=mode=fast",
    ]);
    kube.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        "apps",
        "--from-literal=password=s3cret",
    ]);
    let cm = kube.ok(&[
        "get",
        "cm",
        "settings",
        "-n",
        "apps",
        "-o",
        "jsonpath={.data.mode}",
    ]);
    assert_eq!(cm, "fast");
    kube.ok(&[
        "patch",
        "cm",
        "settings",
        "-n",
        "apps",
        "--type=merge",
        "-p",
        r#"{"data":{"mode":"slow"}}"#,
    ]);
    let cm = kube.ok(&[
        "get",
        "cm",
        "settings",
        "-n",
        "apps",
        "-o",
        "jsonpath={.data.mode}",
    ]);
    assert_eq!(cm, "slow");
    kube.ok(&["label", "cm", "settings", "-n", "apps", "tier=backend"]);
    let sel = kube.ok(&[
        "get",
        "cm",
        "-n",
        "apps",
        "-l",
        "tier=backend",
        "-o",
        "name",
    ]);
    assert_eq!(sel.trim(), "configmap/settings");
    let secrets = kube.ok(&["get", "secrets", "-n", "apps"]);
    assert!(
        secrets.contains("creds") && secrets.contains("Opaque"),
        "{secrets}"
    );
    let pods = kube.kubectl(&["get", "pods", "-A"]);
    assert!(pods.ok, "{}", pods.stderr);
    let describe = kube.kubectl(&["describe", "cm", "settings", "-n", "apps"]);
    assert!(describe.ok, "{}", describe.stderr);
    kube.ok(&["create", "job", "once", "-n", "apps", "--image=busybox"]);
    let jobs = kube.ok(&["get", "jobs", "-n", "apps"]);
    assert!(jobs.contains("once") && jobs.contains("1/1"), "{jobs}");
    let dry = kube.ok(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        path(&sim.write("sa.yaml", SA)),
    ]);
    assert!(dry.contains("serverside-applied (server dry run)"), "{dry}");
    assert!(!kube.kubectl(&["get", "sa", "worker"]).ok);
    kube.ok(&["delete", "namespace", "apps"]);
    assert!(!kube.kubectl(&["get", "cm", "settings", "-n", "apps"]).ok);
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
"#;

#[test]
fn client_side_apply_scale_set_image_and_migration_to_server_side() {
    require_kubectl();
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let file = sim.write("d.yaml", DEPLOYMENT);
    assert!(
        kube.ok(&["apply", "-f", path(&file)])
            .contains("deployment.apps/web created")
    );
    assert!(
        kube.ok(&["apply", "-f", path(&file)])
            .contains("deployment.apps/web unchanged")
    );
    assert!(
        kube.ok(&["scale", "deployment", "web", "--replicas=3"])
            .contains("deployment.apps/web scaled")
    );
    kube.ok(&["set", "image", "deployment/web", "web=nginx:1.26"]);
    let wide = kube.ok(&["get", "deployment", "web", "-o", "wide"]);
    assert!(
        wide.contains("3/3") && wide.contains("nginx:1.26") && wide.contains("app=web"),
        "{wide}"
    );
    let describe = kube.ok(&["describe", "deployment", "web"]);
    assert!(describe.contains("MinimumReplicasAvailable"), "{describe}");

    // Server-side apply conflicts with kubectl-set's image, then takes it with force; kubectl
    // migrates client-side apply's ownership with a JSON patch of managedFields, no warning.
    let conflict = kube.kubectl(&["apply", "--server-side", "-f", path(&file)]);
    assert!(!conflict.ok);
    assert!(
        conflict.stderr.contains("conflict with \"kubectl-set\""),
        "{}",
        conflict.stderr
    );
    let forced = kube.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        path(&file),
    ]);
    assert!(
        forced.ok && forced.stdout.contains("serverside-applied"),
        "{}",
        forced.stderr
    );
    assert!(!forced.stderr.contains("Warning"), "{}", forced.stderr);
    let yaml = kube.get_yaml(&["deployment", "web"]);
    assert!(!yaml.contains("kubectl-client-side-apply"), "{yaml}");
    assert!(yaml.contains("image: nginx:1.25"), "{yaml}");

    kube.ok(&["create", "configmap", "a", "--from-literal=k=v"]);
    kube.ok(&["label", "configmap", "a", "drop=yes"]);
    kube.ok(&["delete", "configmap", "-l", "drop=yes"]);
    assert!(!kube.kubectl(&["get", "configmap", "a"]).ok);
}

#[test]
fn rollout_status_and_wait() {
    require_kubectl();
    let sim = Sim::start();
    let kube = sim.cluster("c1", true);
    let out = kube.ok(&[
        "rollout",
        "status",
        "deployment/keda-operator",
        "-n",
        "kube-system",
        "--timeout=20s",
    ]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let out = kube.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/keda-operator",
        "-n",
        "kube-system",
        "--timeout=20s",
    ]);
    assert!(out.contains("condition met"), "{out}");

    kube.ok(&["create", "configmap", "doomed", "--from-literal=a=b"]);
    // Whether the delete lands before or during the wait, the wait ends successfully.
    let waiter = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kube.kubeconfig)
        .arg("--cache-dir")
        .arg(&kube.cache)
        .args(["wait", "--for=delete", "configmap/doomed", "--timeout=20s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    kube.ok(&["delete", "configmap", "doomed", "--wait=false"]);
    let done = waiter.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    // A watch from a resourceVersion sees the changes after it.
    let list = kube
        .http("GET", "/api/v1/namespaces/default/configmaps", None, "")
        .body;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    kube.ok(&["create", "configmap", "watched", "--from-literal=a=b"]);
    assert_eq!(watch_types(&kube, &rv), ["ADDED"]);
    let created = kube
        .http(
            "GET",
            "/api/v1/namespaces/default/configmaps/watched",
            None,
            "",
        )
        .body;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    kube.ok(&["label", "configmap", "watched", "x=y"]);
    assert_eq!(watch_types(&kube, &rv), ["MODIFIED"]);
    kube.ok(&["delete", "configmap", "watched"]);
    assert_eq!(watch_types(&kube, &rv), ["DELETED"]);
}

/// The event types a watch of default's configmaps from `rv` answers (only the latest state of
/// each object, as a watch that starts late sees them).
fn watch_types(kube: &k8s_support::Kube, rv: &str) -> Vec<String> {
    // The watch stays open until its timeout, then the body ends.
    let w = kube.http(
        "GET",
        &format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1"
        ),
        None,
        "",
    );
    assert_eq!(w.status, 200);
    let text = match &w.body {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("a watch line that is not JSON ({e}): {l:?}"))["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

//! The Kubernetes provider against what a hostile test throws at it: an API server that
//! accepts connections and never answers (timeouts, retries reported, a message naming the
//! server), and kubeconfig settings that name a device, a FIFO, a directory, a huge file or a
//! file that is not a kubeconfig (refused before reading, and its content never quoted).

use std::sync::Mutex;
use std::time::Duration;

use plinth_provider::{Note, NullReporter, Prior, Provider, Reporter, Request};
use plinth_provider_kubernetes::KubernetesProvider;
use plinth_value::Value;
use serde_json::json;

mod support;

use support::{AKS_TYPE, aks_config, azure_for, create_cluster, p, start_sim};

#[derive(Default)]
struct Notes(Mutex<Vec<Note>>);

impl Reporter for Notes {
    fn note(&self, note: Note) {
        self.0.lock().unwrap().push(note);
    }
}

fn prior() -> Prior {
    Prior {
        id: Some("v1/ConfigMap/default/web".into()),
        inputs: Value::Null,
        attributes: Value::Null,
    }
}

/// A kubeconfig for an API server at `server`, with a token user.
fn kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\nusers:\n- name: u\n  user:\n    token: KubeToken-never-printed\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_retries_reported() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Connections accepted and held open, never answered.
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(dir.path(), &format!("http://{addr}"));
    let mut k8s = KubernetesProvider::new();
    k8s.request_timeout = Duration::from_millis(200);
    k8s.retry_attempts = 2;
    k8s.retry_base = Duration::from_millis(5);
    let settings = Value::from(json!({"kubeconfig": path.to_str().unwrap()}));
    let notes = Notes::default();
    let req = Request::new("v1/ConfigMap", "web", &notes).with_settings(&settings);
    let started = std::time::Instant::now();
    // Bounded, so that a client without timeouts fails this test instead of hanging it.
    let err = tokio::time::timeout(Duration::from_secs(30), k8s.read(&req, &prior()))
        .await
        .expect("the read never ended: the Kubernetes client has no request timeout")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        err.message.ends_with(&format!(
            "timed out after 200ms talking to the Kubernetes API at http://{addr}"
        )),
        "{}",
        err.message
    );
    assert!(!err.message.contains("SendRequest"), "{}", err.message);
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let notes = notes.0.lock().unwrap().clone();
    assert!(!notes.is_empty(), "no retry was reported");
    for n in &notes {
        assert_eq!(n.address, "web");
        assert!(n.message.contains("timed out"), "{}", n.message);
    }
    assert!(!format!("{err:?} {notes:?}").contains("KubeToken-never-printed"));
}

#[tokio::test]
async fn kubeconfig_settings_must_name_a_small_regular_kubeconfig_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let huge = dir.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 * 1024 * 1024)
        .unwrap();
    let not_yaml = dir.path().join("env");
    std::fs::write(
        &not_yaml,
        "AWS_SECRET=Hunter2-env-secret\0PATH=/bin\0: [unbalanced\n",
    )
    .unwrap();
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let k8s = KubernetesProvider::new();
    for (path, expect) in [
        ("/dev/zero".into(), "is a device, not a regular file"),
        (fifo, "is a FIFO, not a regular file"),
        (
            dir.path().to_path_buf(),
            "is a directory, not a regular file",
        ),
        (
            huge,
            "is 67108864 bytes, more than a kubeconfig can be (4 MiB)",
        ),
        (not_yaml, "it is not a kubeconfig"),
        (dangling, "cannot be read: no such file"),
    ] {
        let settings = Value::from(json!({"kubeconfig": path.to_str().unwrap()}));
        let req = Request::new("v1/ConfigMap", "web", &plinth_provider::NullReporter)
            .with_settings(&settings);
        // Bounded: reading /dev/zero or a FIFO would never end.
        let err = tokio::time::timeout(Duration::from_secs(10), k8s.read(&req, &prior()))
            .await
            .unwrap_or_else(|_| panic!("reading the kubeconfig {} never ended", path.display()))
            .unwrap_err();
        assert!(
            err.message.starts_with(&format!(
                "[provider.kubernetes] kubeconfig {}",
                path.display()
            )),
            "{}",
            err.message
        );
        assert!(err.message.contains(expect), "{}", err.message);
        assert!(!err.message.contains("Hunter2"), "{}", err.message);
    }
}

/// Pointing `kubeconfig` (or `context`) at another cluster replaces the object: the refresh
/// read it where state says it lives, the plan finds another object (or none) where the
/// settings now point. What counts is the cluster reached, not the path: the same kubeconfig
/// under another name is no change. A server that answers 404 even for /version is no
/// cluster, not one whose CRD is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_cluster_behind_the_kubeconfig_replaces_the_object() {
    let sim = start_sim().await;
    let azure = azure_for(&sim);
    let (rg_id, a_id) = create_cluster(&azure, false).await;
    let mut b_config = aks_config(&rg_id, false);
    b_config.set(&p("name"), Value::from("k8s-aks-b"));
    b_config.set(&p("body.properties.dnsPrefix"), Value::from("k8sb"));
    let b_id = azure
        .create(&Request::new(AKS_TYPE, "aks_b", &NullReporter), &b_config)
        .await
        .unwrap()
        .id
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, yaml: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        Value::from(json!({"kubeconfig": path.to_str().unwrap()}))
    };
    let yaml_a = azure
        .cluster_kubeconfig(&a_id, false)
        .await
        .unwrap()
        .unwrap();
    let yaml_b = azure
        .cluster_kubeconfig(&b_id, false)
        .await
        .unwrap()
        .unwrap();
    let at_a = write("a.yaml", &yaml_a);
    let a_again = write("a-copy.yaml", &yaml_a);
    let at_b = write("b.yaml", &yaml_b);

    let k8s = KubernetesProvider::new();
    let t = "v1/ConfigMap";
    let cfg = Value::from(json!({"manifest": {"metadata": {"name": "moved"}, "data": {"k": "v"}}}));
    let req = |settings| Request::new(t, "cm", &NullReporter).with_settings(settings);
    let created = k8s.create(&req(&at_a), &cfg).await.unwrap();
    let read = k8s
        .read(
            &req(&at_a),
            &Prior {
                id: created.id.clone(),
                inputs: cfg.clone(),
                attributes: created.attributes.clone(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    let prior = Prior {
        id: read.id,
        inputs: cfg.clone(),
        attributes: read.attributes,
    };
    let same = k8s.plan(&req(&a_again), Some(&prior), &cfg).await.unwrap();
    assert!(same.changed.is_empty(), "{:?}", same.changed);
    assert!(same.requires_replace.is_empty());

    let moved = k8s.plan(&req(&at_b), Some(&prior), &cfg).await.unwrap();
    assert_eq!(moved.requires_replace, vec![p("manifest.metadata.uid")]);
    assert_eq!(
        moved.attributes.get(&p("metadata.uid")),
        Some(Value::Unknown)
    );

    // A server that is no cluster at all (a deleted one's address).
    let gone_key = sim.url.clone() + "/k8s/no-such-cluster";
    let server_a = yaml_a
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let nowhere = write("nowhere.yaml", &yaml_a.replace(&server_a, &gone_key));
    let err = k8s
        .plan(&req(&nowhere), Some(&prior), &cfg)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("is not a Kubernetes API server"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("CRD"), "{}", err.message);
    let err = k8s.read(&req(&nowhere), &prior).await.unwrap_err();
    assert!(
        err.message.contains("is not a Kubernetes API server"),
        "{}",
        err.message
    );
}

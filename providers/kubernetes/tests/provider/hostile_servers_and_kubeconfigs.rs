//! What a hostile environment throws at the provider: an API server that accepts connections
//! and never answers (timeouts, retries reported, a message naming the server), and
//! kubeconfig settings that name a device, a FIFO, a directory, a huge file or a file that
//! is not a kubeconfig (refused before reading, and its content never quoted).

use std::sync::Mutex;
use std::time::Duration;

use plinth_provider::{Note, Prior, Provider, Reporter, Request};
use plinth_provider_kubernetes::KubernetesProvider;
use plinth_value::Value;
use serde_json::json;

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

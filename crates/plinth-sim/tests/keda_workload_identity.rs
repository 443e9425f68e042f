//! Issue 6 (simulator half): the flagship's identity chain, checked from the resources'
//! content. ARM (AKS with OIDC issuer, workload identity and KEDA; a Service Bus namespace and
//! queue; a user-assigned identity, its federated credentials and a data role) and Kubernetes
//! (ServiceAccount, TriggerAuthentication, producer Job, ScaledJob, a restart of keda-operator)
//! are driven over HTTP and with a real kubectl; the simulated Job controller, the sample
//! workload and KEDA decide what happens: 100 messages, 10 consumer Jobs, and
//! `kubectl describe scaledjob` showing `Created 10 jobs` — or the failure a real cluster shows
//! when a piece is missing, until that piece is fixed.

mod k8s_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use k8s_support::{Kube, Sim, require_kubectl};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUB: &str = "00000000-0000-0000-0000-0000000000aa";
const DATA_OWNER: &str = "090c5cfd-751d-490a-894a-3ce6f1109419";
const DATA_SENDER: &str = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";

/// One blocking HTTP/1.1 request (the simulator serves on its own runtime).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).expect("receive");
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, mut body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .expect("response");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body.as_str();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        body = out;
    }
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(Value::String(body))
    };
    (status, json)
}

/// What to leave out of the flagship, to see it fail.
#[derive(Clone, Copy)]
struct Setup {
    keda_fic: bool,
    restart: bool,
    role: bool,
}

const FULL: Setup = Setup {
    keda_fic: true,
    restart: true,
    role: true,
};

struct Cloud {
    sim: Sim,
    addr: SocketAddr,
    bearer: String,
    kube: Kube,
    rg: String,
    ns_id: String,
    queue_id: String,
    uai_id: String,
    issuer: String,
    client_id: String,
    principal_id: String,
}

impl Cloud {
    fn arm(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        http(
            self.addr,
            method,
            path,
            &[
                ("authorization", &self.bearer),
                ("content-type", "application/json"),
            ],
            &text,
        )
    }

    fn put(&self, id: &str, api: &str, body: Value) -> Value {
        let (status, body) = self.arm("PUT", &format!("{id}?api-version={api}"), body);
        assert!(status == 200 || status == 201, "PUT {id}: {status} {body}");
        body
    }

    fn get(&self, id: &str, api: &str) -> Value {
        let (status, body) = self.arm("GET", &format!("{id}?api-version={api}"), Value::Null);
        assert_eq!(status, 200, "GET {id}: {body}");
        body
    }

    /// The queue's active message count, as ARM shows it.
    fn queue_messages(&self) -> i64 {
        let q = self.get(&self.queue_id, "2024-01-01");
        let active = q["properties"]["countDetails"]["activeMessageCount"]
            .as_i64()
            .expect("activeMessageCount");
        assert_eq!(
            q["properties"]["messageCount"].as_i64(),
            Some(active),
            "{q}"
        );
        active
    }

    fn fic(&self, name: &str, subject: &str) {
        self.put(
            &format!("{}/federatedIdentityCredentials/{name}", self.uai_id),
            "2024-11-30",
            json!({"properties": {"issuer": self.issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}}),
        );
    }

    fn role(&self, scope: &str, role_guid: &str, name: &str) {
        self.put(
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            "2022-04-01",
            json!({"properties": {
                "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
                "principalId": self.principal_id,
                "principalType": "ServicePrincipal",
            }}),
        );
    }

    fn restart_keda(&self, at: &str) {
        let patch = format!(
            r#"{{"spec":{{"template":{{"metadata":{{"annotations":{{"kubectl.kubernetes.io/restartedAt":"{at}"}}}}}}}}}}"#
        );
        self.kube.ok(&[
            "patch",
            "deployment",
            "keda-operator",
            "-n",
            "kube-system",
            "--type",
            "merge",
            "-p",
            &patch,
        ]);
    }

    fn apply(&self, file: &str, yaml: &str) {
        let p = self.sim.write(file, yaml);
        self.kube
            .ok(&["apply", "--server-side", "-f", p.to_str().unwrap()]);
    }

    fn k8s(&self, path: &str) -> Value {
        let (status, body) = http(
            self.addr,
            "GET",
            &format!("/k8s/{}{path}", self.kube.key),
            &[],
            "",
        );
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn job(&self, name: &str) -> Value {
        self.k8s(&format!("/apis/batch/v1/namespaces/default/jobs/{name}"))
    }

    /// Jobs the ScaledJob `consumer` created.
    fn consumer_jobs(&self) -> Vec<Value> {
        self.k8s("/apis/batch/v1/namespaces/default/jobs?labelSelector=scaledjob.keda.sh/name%3Dconsumer")["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn settle(&self) -> Value {
        let (status, body) = http(self.addr, "POST", "/_sim/settle", &[], "");
        assert_eq!(status, 200, "{body}");
        body
    }

    fn describe_scaledjob(&self) -> String {
        self.kube.ok(&["describe", "scaledjob", "consumer"])
    }

    /// Stops the simulator and starts it again (same world file, new port).
    fn restart_simulator(self) -> Cloud {
        let Cloud {
            sim,
            mut kube,
            rg,
            ns_id,
            queue_id,
            uai_id,
            issuer,
            client_id,
            principal_id,
            ..
        } = self;
        let old = sim.handle.url.clone();
        let config = sim.handle.shared.config.clone();
        let Sim { rt, handle, dir } = sim;
        rt.block_on(handle.shutdown()).unwrap();
        let handle = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            plinth_sim::start(listener, config).await.unwrap()
        });
        let kubeconfig = std::fs::read_to_string(&kube.kubeconfig).unwrap();
        std::fs::write(&kube.kubeconfig, kubeconfig.replace(&old, &handle.url)).unwrap();
        kube.addr = handle.addr;
        let addr = handle.addr;
        Cloud {
            sim: Sim { rt, handle, dir },
            addr,
            bearer: bearer(addr),
            kube,
            rg,
            ns_id,
            queue_id,
            uai_id,
            issuer,
            client_id,
            principal_id,
        }
    }

    fn producer(&self, name: &str) {
        self.apply(&format!("{name}.yaml"), &producer_yaml(name));
    }
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn producer_yaml(name: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: default
spec:
  template:
    metadata:
      labels:
        azure.workload.identity/use: "true"
    spec:
      serviceAccountName: demo-sa
      containers:
        - name: producer
          image: ghcr.io/azure-samples/aks-app-samples/servicebusdemo:latest
          env:
            - name: OPERATION_MODE
              value: producer
            - name: MESSAGE_COUNT
              value: "100"
            - name: AZURE_SERVICEBUS_QUEUE_NAME
              value: orders
            - name: AZURE_SERVICEBUS_HOSTNAME
              value: demo-sb.servicebus.windows.net
      restartPolicy: Never
"#
    )
}

const SCALED_JOB: &str = r#"apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: consumer
  namespace: default
spec:
  jobTargetRef:
    template:
      metadata:
        labels:
          azure.workload.identity/use: "true"
      spec:
        serviceAccountName: demo-sa
        containers:
          - name: consumer
            image: ghcr.io/azure-samples/aks-app-samples/servicebusdemo:latest
            env:
              - name: OPERATION_MODE
                value: consumer
              - name: MESSAGE_COUNT
                value: "10"
              - name: AZURE_SERVICEBUS_QUEUE_NAME
                value: orders
              - name: AZURE_SERVICEBUS_HOSTNAME
                value: demo-sb.servicebus.windows.net
        restartPolicy: Never
  triggers:
    - type: azure-servicebus
      metadata:
        queueName: orders
        namespace: demo-sb
        messageCount: "10"
      authenticationRef:
        name: demo-auth
"#;

/// The flagship, built in the order the guide (and plinth's dependency graph) uses, minus
/// what `setup` leaves out. Stops before the producer Job and the ScaledJob.
fn flagship(setup: Setup) -> Cloud {
    flagship_on(Sim::start(), setup)
}

/// A bearer token for ARM from the simulated Entra.
fn bearer(addr: SocketAddr) -> String {
    let (status, tok) = http(
        addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
    );
    assert_eq!(status, 200, "{tok}");
    format!("Bearer {}", tok["access_token"].as_str().expect("token"))
}

fn flagship_on(sim: Sim, setup: Setup) -> Cloud {
    require_kubectl();
    let addr = sim.handle.addr;
    let bearer = bearer(addr);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/demo-rg");
    let aks = format!("{rg}/providers/Microsoft.ContainerService/managedClusters/demo-aks");
    let ns_id = format!("{rg}/providers/Microsoft.ServiceBus/namespaces/demo-sb");
    let uai_id = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/demo-mi");
    let mut cloud = Cloud {
        kube: Kube {
            key: String::new(),
            token: String::new(),
            kubeconfig: sim.dir.path().join("aks.kubeconfig"),
            cache: sim.dir.path().join("cache"),
            addr,
        },
        sim,
        addr,
        bearer,
        rg: rg.clone(),
        queue_id: format!("{ns_id}/queues/orders"),
        ns_id,
        uai_id,
        issuer: String::new(),
        client_id: String::new(),
        principal_id: String::new(),
    };
    cloud.put(&rg, "2025-04-01", json!({"location": "eastus"}));
    cloud.put(
        &aks,
        "2025-10-01",
        json!({
            "location": "eastus",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "dnsPrefix": "demo",
                "oidcIssuerProfile": {"enabled": true},
                "securityProfile": {"workloadIdentity": {"enabled": true}},
                "workloadAutoScalerProfile": {"keda": {"enabled": true}},
                "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]
            }
        }),
    );
    let body = cloud.get(&aks, "2025-10-01");
    cloud.issuer = body["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .expect("issuer")
        .to_string();
    cloud.put(
        &cloud.ns_id.clone(),
        "2024-01-01",
        json!({"location": "eastus", "sku": {"name": "Standard", "tier": "Standard"}, "properties": {"disableLocalAuth": true}}),
    );
    cloud.put(
        &cloud.queue_id.clone(),
        "2024-01-01",
        json!({"properties": {}}),
    );
    let mi = cloud.put(
        &cloud.uai_id.clone(),
        "2024-11-30",
        json!({"location": "eastus"}),
    );
    cloud.client_id = mi["properties"]["clientId"].as_str().unwrap().to_string();
    cloud.principal_id = mi["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, creds) = cloud.arm(
        "POST",
        &format!("{aks}/listClusterUserCredential?api-version=2025-10-01"),
        Value::Null,
    );
    assert_eq!(status, 200, "{creds}");
    let kubeconfig = base64::engine::general_purpose::STANDARD
        .decode(creds["kubeconfigs"][0]["value"].as_str().unwrap())
        .unwrap();
    let kubeconfig = String::from_utf8(kubeconfig).unwrap();
    std::fs::write(&cloud.kube.kubeconfig, &kubeconfig).unwrap();
    let (_, server) = kubeconfig.split_once("/k8s/").expect("server url");
    cloud.kube.key = server.lines().next().unwrap().trim().to_string();

    cloud.fic("demo-fic", "system:serviceaccount:default:demo-sa");
    if setup.keda_fic {
        cloud.fic(
            "keda-fic",
            "system:serviceaccount:kube-system:keda-operator",
        );
    }
    if setup.role {
        cloud.role(
            &cloud.ns_id,
            DATA_OWNER,
            "5a1f6e7c-0000-4000-8000-000000000001",
        );
    }
    if setup.restart {
        cloud.restart_keda("2026-01-01T00:00:00Z");
    }
    cloud.apply(
        "sa.yaml",
        &format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: demo-sa\n  namespace: default\n  annotations:\n    azure.workload.identity/client-id: {}\n",
            cloud.client_id
        ),
    );
    cloud.apply(
        "auth.yaml",
        &format!(
            "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: demo-auth\n  namespace: default\nspec:\n  podIdentity:\n    provider: azure-workload\n    identityId: {}\n",
            cloud.client_id
        ),
    );
    cloud
}

fn assert_complete(job: &Value) {
    assert_eq!(
        condition(job, "Complete").map(|c| c["status"].clone()),
        Some(json!("True")),
        "{job}"
    );
    assert_eq!(job["status"]["succeeded"], 1, "{job}");
}

/// After the producer and the ScaledJob: 100 messages went through, in 10 jobs.
fn assert_scaled_out(cloud: &Cloud) {
    assert_eq!(cloud.queue_messages(), 0);
    let jobs = cloud.consumer_jobs();
    assert_eq!(jobs.len(), 10, "{jobs:?}");
    for j in &jobs {
        assert_complete(j);
        let name = j["metadata"]["name"].as_str().unwrap();
        assert!(
            name.starts_with("consumer-") && name.len() == "consumer-".len() + 5,
            "{name}"
        );
        let owner = &j["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ScaledJob");
        assert_eq!(owner["name"], "consumer");
        assert_eq!(owner["controller"], true);
    }
    let pods = cloud
        .k8s("/api/v1/namespaces/default/pods?labelSelector=scaledjob.keda.sh/name%3Dconsumer");
    let pods = pods["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(pods.len(), 10, "{pods:?}");
    assert!(
        pods.iter().all(|p| p["status"]["phase"] == "Succeeded"),
        "{pods:?}"
    );
    let sj = cloud.k8s("/apis/keda.sh/v1alpha1/namespaces/default/scaledjobs/consumer");
    assert_eq!(condition(&sj, "Ready").unwrap()["status"], "True", "{sj}");
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAJobsCreated"), "{describe}");
    assert!(describe.contains("Created 10 jobs"), "{describe}");
    assert!(describe.contains("KEDAScalersStarted"), "{describe}");
    assert!(describe.contains("ScaledJobReady"), "{describe}");
}

#[test]
fn flagship_happy_path_scales_out_to_ten_jobs() {
    let cloud = flagship(FULL);
    cloud.producer("producer");
    let producer = cloud.job("producer");
    assert_complete(&producer);
    assert_eq!(cloud.queue_messages(), 100);
    let logs = cloud.kube.ok(&["logs", "job/producer"]);
    assert!(logs.contains("Sent 100 messages"), "{logs}");

    cloud.apply("scaledjob.yaml", SCALED_JOB);
    assert_scaled_out(&cloud);
    let describe = cloud.describe_scaledjob();
    println!("{describe}");
    assert!(!describe.contains("KEDAScalerFailed"), "{describe}");
    // kubectl found them as core/v1 events of this object.
    let (_, log) = http(cloud.addr, "GET", "/_sim/requests", &[], "");
    assert!(
        log.as_array().unwrap().iter().any(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/api/v1/namespaces/default/events"))
                && e["query"]
                    .as_str()
                    .is_some_and(|q| q.contains("involvedObject.name%3Dconsumer"))
        }),
        "{log}"
    );
    // Each consumer took its 10 messages.
    let first = cloud.consumer_jobs()[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let logs = cloud.kube.ok(&["logs", &format!("job/{first}")]);
    assert!(logs.contains("Received 10 messages"), "{logs}");
    let pods = cloud.kube.ok(&["get", "pods"]);
    assert_eq!(pods.matches("Completed").count(), 11, "{pods}");
    let events = cloud.kube.ok(&["get", "events"]);
    assert!(events.contains("KEDAJobsCreated"), "{events}");
    println!(
        "{pods}\n{events}\n{}",
        cloud.kube.ok(&["describe", "job", "producer"])
    );

    // Quiet afterwards: another producer run scales out again, settle finds nothing to do.
    cloud.settle();
    assert_eq!(cloud.consumer_jobs().len(), 10);
    cloud.producer("producer-2");
    assert_eq!(cloud.queue_messages(), 0);
    assert_eq!(cloud.consumer_jobs().len(), 20);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("(x2 over"), "{describe}");

    // Deleting the ScaledJob takes its jobs (and their pods) with it.
    cloud.kube.ok(&["delete", "scaledjob", "consumer"]);
    assert!(cloud.consumer_jobs().is_empty());
    let pods = cloud
        .k8s("/api/v1/namespaces/default/pods?labelSelector=scaledjob.keda.sh/name%3Dconsumer");
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(0), "{pods}");
}

#[test]
fn without_the_keda_operator_credential_the_scaler_fails_until_it_exists_and_keda_restarts() {
    let cloud = flagship(Setup {
        keda_fic: false,
        ..FULL
    });
    cloud.producer("producer");
    assert_complete(&cloud.job("producer"));
    assert_eq!(cloud.queue_messages(), 100);
    cloud.apply("scaledjob.yaml", SCALED_JOB);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    println!("{describe}");
    assert!(describe.contains("AADSTS70021"), "{describe}");
    assert!(
        describe.contains("system:serviceaccount:kube-system:keda-operator"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    let sj = cloud.k8s("/apis/keda.sh/v1alpha1/namespaces/default/scaledjobs/consumer");
    assert_eq!(condition(&sj, "Ready").unwrap()["status"], "False", "{sj}");
    // Retrying changes nothing and records no new failure event.
    cloud.settle();
    let events =
        cloud.k8s("/api/v1/namespaces/default/events?fieldSelector=reason%3DKEDAScalerFailed");
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(1),
        "{events}"
    );

    // A credential for another subject does not match, restart or not.
    cloud.fic(
        "keda-fic",
        "system:serviceaccount:kube-system:keda-operater",
    );
    cloud.restart_keda("2026-01-02T00:00:00Z");
    assert!(cloud.consumer_jobs().is_empty());
    let describe = cloud.describe_scaledjob();
    assert!(!describe.contains("restart"), "{describe}");
    // Corrected, it is not enough either: keda-operator's pods started before the change.
    cloud.fic(
        "keda-fic",
        "system:serviceaccount:kube-system:keda-operator",
    );
    assert!(cloud.consumer_jobs().is_empty());
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("restart"), "{describe}");
    println!("{describe}");
    // A restart (as `kubectl rollout restart` does it) fixes it on the next reconcile.
    cloud.kube.ok(&[
        "rollout",
        "restart",
        "deployment",
        "keda-operator",
        "-n",
        "kube-system",
    ]);
    assert_scaled_out(&cloud);
}

#[test]
fn without_a_restart_after_the_credential_the_scaler_fails_until_keda_restarts() {
    let cloud = flagship(Setup {
        restart: false,
        ..FULL
    });
    cloud.producer("producer");
    cloud.apply("scaledjob.yaml", SCALED_JOB);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    println!("{describe}");
    assert!(
        describe.contains("started before the federated identity credential 'keda-fic'"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    assert_eq!(cloud.queue_messages(), 100);
    // A restart that does not change the template is no restart.
    cloud.apply(
        "noop.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n  namespace: default\n",
    );
    assert!(cloud.consumer_jobs().is_empty());
    cloud.restart_keda("2026-02-02T00:00:00Z");
    assert_scaled_out(&cloud);
}

#[test]
fn without_the_data_role_producer_and_scaler_fail_until_it_is_assigned() {
    let cloud = flagship(Setup {
        role: false,
        ..FULL
    });
    cloud.producer("producer");
    // The first attempt failed; the Job retries on later reconciles.
    let job = cloud.job("producer");
    assert_eq!(job["status"]["failed"], 1, "{job}");
    assert_eq!(job["status"]["active"], 1, "{job}");
    let logs = cloud.kube.ok(&["logs", "job/producer"]);
    assert!(
        logs.contains("'Send' claim(s) are required to perform this operation"),
        "{logs}"
    );
    cloud.apply("scaledjob.yaml", SCALED_JOB);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    println!("{describe}");
    assert!(
        describe.contains("Manage,EntityRead claims required for this operation"),
        "{describe}"
    );
    // Time passes: the producer uses up its backoffLimit.
    cloud.settle();
    let job = cloud.job("producer");
    let failed = condition(&job, "Failed").expect("Failed condition");
    assert_eq!(failed["reason"], "BackoffLimitExceeded", "{job}");
    assert_eq!(job["status"]["failed"], 7, "{job}");
    let describe_job = cloud.kube.ok(&["describe", "job", "producer"]);
    assert!(
        describe_job.contains("BackoffLimitExceeded"),
        "{describe_job}"
    );
    assert!(describe_job.contains("'Send' claim(s)"), "{describe_job}");
    println!("{describe_job}");
    assert_eq!(cloud.queue_messages(), 0);

    // Sender alone lets a producer send, but the scaler still needs Owner (Manage claim).
    cloud.role(
        &cloud.queue_id,
        DATA_SENDER,
        "5a1f6e7c-0000-4000-8000-000000000002",
    );
    cloud.producer("producer-2");
    assert_complete(&cloud.job("producer-2"));
    assert_eq!(cloud.queue_messages(), 100);
    assert!(cloud.consumer_jobs().is_empty());

    // Data Owner on the resource group (above the namespace) fixes the scaler.
    cloud.role(
        &cloud.rg,
        DATA_OWNER,
        "5a1f6e7c-0000-4000-8000-000000000003",
    );
    assert_scaled_out(&cloud);
}

#[test]
fn a_role_assigned_just_after_the_job_is_seen_by_its_retry() {
    let cloud = flagship(Setup {
        role: false,
        ..FULL
    });
    cloud.producer("producer");
    assert_eq!(cloud.job("producer")["status"]["failed"], 1);
    cloud.role(
        &cloud.ns_id,
        DATA_OWNER,
        "5a1f6e7c-0000-4000-8000-000000000004",
    );
    let job = cloud.job("producer");
    assert_complete(&job);
    assert_eq!(job["status"]["failed"], 1, "{job}");
    assert_eq!(cloud.queue_messages(), 100);
}

#[test]
fn a_workload_without_its_credential_gets_no_token() {
    let cloud = flagship(FULL);
    // A ServiceAccount whose subject has no federated credential.
    cloud.apply(
        "other-sa.yaml",
        &format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: other-sa\n  namespace: default\n  annotations:\n    azure.workload.identity/client-id: {}\n",
            cloud.client_id
        ),
    );
    cloud.apply(
        "p.yaml",
        &producer_yaml("other").replace("demo-sa", "other-sa"),
    );
    let logs = cloud.kube.ok(&["logs", "job/other"]);
    assert!(logs.contains("AADSTS70021"), "{logs}");
    assert!(
        logs.contains("system:serviceaccount:default:other-sa"),
        "{logs}"
    );
    // Without the pod label, the webhook injects nothing.
    cloud.apply(
        "q.yaml",
        &producer_yaml("unlabelled").replace("azure.workload.identity/use: \"true\"", "app: x"),
    );
    let logs = cloud.kube.ok(&["logs", "job/unlabelled"]);
    assert!(logs.contains("no token file specified"), "{logs}");
    cloud.settle();
    for name in ["other", "unlabelled"] {
        let job = cloud.job(name);
        assert_eq!(
            condition(&job, "Failed").map(|c| c["reason"].clone()),
            Some(json!("BackoffLimitExceeded")),
            "{job}"
        );
    }
    assert_eq!(cloud.queue_messages(), 0);
}

#[test]
fn the_controllers_state_survives_a_restart_of_the_simulator() {
    let worlds = tempfile::tempdir().unwrap();
    let sim = Sim::start_with(plinth_sim::SimConfig {
        world_file: Some(worlds.path().join("world.json")),
        ..Default::default()
    });
    let cloud = flagship_on(
        sim,
        Setup {
            restart: false,
            ..FULL
        },
    );
    cloud.producer("producer");
    cloud.apply("scaledjob.yaml", SCALED_JOB);
    assert!(cloud.consumer_jobs().is_empty());

    let cloud = cloud.restart_simulator();
    assert_eq!(cloud.queue_messages(), 100);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    println!("{describe}");
    assert!(cloud.consumer_jobs().is_empty());
    // The logical clock went on from where it was: this restart is after the credential.
    cloud.restart_keda("2026-03-03T00:00:00Z");
    assert_scaled_out(&cloud);
    let events =
        cloud.k8s("/api/v1/namespaces/default/events?fieldSelector=reason%3DKEDAScalerFailed");
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(1),
        "{events}"
    );
}

#[test]
fn keda_keeps_only_the_job_history_it_is_asked_to() {
    let cloud = flagship(FULL);
    cloud.producer("producer");
    cloud.apply(
        "scaledjob.yaml",
        &SCALED_JOB.replace(
            "  triggers:\n",
            "  successfulJobsHistoryLimit: 3\n  maxReplicaCount: 4\n  triggers:\n",
        ),
    );
    // At most 4 jobs at a time: 40 messages went in the first round.
    assert_eq!(cloud.queue_messages(), 60);
    let body = cloud.settle();
    assert!(body["rounds"].as_u64().unwrap() > 1, "{body}");
    assert_eq!(cloud.queue_messages(), 0);
    let jobs = cloud.consumer_jobs();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    let pods = cloud
        .k8s("/api/v1/namespaces/default/pods?labelSelector=scaledjob.keda.sh/name%3Dconsumer");
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(3), "{pods}");
}

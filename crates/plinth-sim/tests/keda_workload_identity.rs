//! Issue 6 (simulator half): the flagship's identity chain, checked from the resources'
//! content. ARM (AKS with OIDC issuer, workload identity and KEDA; a Service Bus namespace and
//! queue; a user-assigned identity, its federated credentials and a data role) and Kubernetes
//! (ServiceAccount, TriggerAuthentication, producer Job, ScaledJob, a restart of keda-operator)
//! are driven over HTTP and with a real kubectl; the simulated Job controller, the sample
//! workload and KEDA decide what happens: 100 messages, 10 consumer Jobs, and
//! `kubectl describe scaledjob` showing `Created 10 jobs` — or the failure a real cluster shows
//! when a piece is missing, until that piece is fixed.

mod k8s_support;

use k8s_support::{AKS_API, Arm, Kube, SUB, Sim, aks_body, http, require_kubectl};
use serde_json::{Value, json};

const DATA_OWNER: &str = "090c5cfd-751d-490a-894a-3ce6f1109419";
const DATA_SENDER: &str = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";

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
    arm: Arm,
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
    /// The queue's active message count, as ARM shows it.
    fn queue_messages(&self) -> i64 {
        let q = self.arm.get(&self.queue_id, "2024-01-01");
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
        self.arm.put(
            &format!("{}/federatedIdentityCredentials/{name}", self.uai_id),
            "2024-11-30",
            json!({"properties": {"issuer": self.issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}}),
        );
    }

    fn role(&self, scope: &str, role_guid: &str, name: &str) {
        self.arm.put(
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
            self.arm.addr,
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
        let (status, body) = http(self.arm.addr, "POST", "/_sim/settle", &[], "");
        assert_eq!(status, 200, "{body}");
        body
    }

    fn describe_scaledjob(&self) -> String {
        self.kube.ok(&["describe", "scaledjob", "consumer"])
    }

    /// The `KEDAScalerFailed` events recorded: `n` of them.
    fn assert_scaler_failed_events(&self, n: usize) {
        let events =
            self.k8s("/api/v1/namespaces/default/events?fieldSelector=reason%3DKEDAScalerFailed");
        assert_eq!(
            events["items"].as_array().map(Vec::len),
            Some(n),
            "{events}"
        );
    }

    /// Applies the ScaledJob `consumer`, whose scaler fails: `kubectl describe` shows it.
    fn scaled_job_fails(&self) -> String {
        self.apply("scaledjob.yaml", &scaled_job_yaml());
        let describe = self.describe_scaledjob();
        assert!(describe.contains("KEDAScalerFailed"), "{describe}");
        println!("{describe}");
        describe
    }

    /// Stops the simulator and starts it again (same world file, new port).
    fn restart_simulator(mut self) -> Cloud {
        let old = self.sim.handle.url.clone();
        self.sim = self.sim.restart();
        let kubeconfig = std::fs::read_to_string(&self.kube.kubeconfig).unwrap();
        std::fs::write(
            &self.kube.kubeconfig,
            kubeconfig.replace(&old, &self.sim.handle.url),
        )
        .unwrap();
        self.kube.addr = self.sim.handle.addr;
        self.arm = self.sim.arm();
        self
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

/// The sample workload's pod template (`template:` and below) as the producer Job and the
/// ScaledJob `consumer` use it: workload identity on, `demo-sa`, the `orders` queue; `mode`
/// (the container's name too) and `count` messages; indented by `indent` spaces.
fn workload_template(mode: &str, count: u32, indent: usize) -> String {
    let template = format!(
        r#"template:
  metadata:
    labels:
      azure.workload.identity/use: "true"
  spec:
    serviceAccountName: demo-sa
    containers:
      - name: {mode}
        image: ghcr.io/azure-samples/aks-app-samples/servicebusdemo:latest
        env:
          - name: OPERATION_MODE
            value: {mode}
          - name: MESSAGE_COUNT
            value: "{count}"
          - name: AZURE_SERVICEBUS_QUEUE_NAME
            value: orders
          - name: AZURE_SERVICEBUS_HOSTNAME
            value: demo-sb.servicebus.windows.net
    restartPolicy: Never
"#
    );
    let pad = " ".repeat(indent);
    template.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn producer_yaml(name: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n{}",
        workload_template("producer", 100, 2)
    )
}

/// The ScaledJob `consumer`: 10 messages a Job, authenticated by the TriggerAuthentication
/// `demo-auth`.
fn scaled_job_yaml() -> String {
    format!(
        r#"apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: consumer
  namespace: default
spec:
  jobTargetRef:
{}  triggers:
    - type: azure-servicebus
      metadata:
        queueName: orders
        namespace: demo-sb
        messageCount: "10"
      authenticationRef:
        name: demo-auth
"#,
        workload_template("consumer", 10, 4)
    )
}

/// The flagship, built in the order the guide (and plinth's dependency graph) uses, minus
/// what `setup` leaves out. Stops before the producer Job and the ScaledJob.
fn flagship(setup: Setup) -> Cloud {
    flagship_on(Sim::start(), setup)
}

fn flagship_on(sim: Sim, setup: Setup) -> Cloud {
    require_kubectl();
    let arm = sim.arm();
    let rg = format!("/subscriptions/{SUB}/resourceGroups/demo-rg");
    let aks = format!("{rg}/providers/Microsoft.ContainerService/managedClusters/demo-aks");
    let ns_id = format!("{rg}/providers/Microsoft.ServiceBus/namespaces/demo-sb");
    let queue_id = format!("{ns_id}/queues/orders");
    let uai_id = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/demo-mi");
    arm.put(&rg, "2025-04-01", json!({"location": "eastus"}));
    arm.put(&aks, AKS_API, aks_body("demo"));
    let body = arm.get(&aks, AKS_API);
    let issuer = body["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .expect("issuer")
        .to_string();
    arm.put(
        &ns_id,
        "2024-01-01",
        json!({"location": "eastus", "sku": {"name": "Standard", "tier": "Standard"}, "properties": {"disableLocalAuth": true}}),
    );
    arm.put(&queue_id, "2024-01-01", json!({"properties": {}}));
    let mi = arm.put(&uai_id, "2024-11-30", json!({"location": "eastus"}));
    let client_id = mi["properties"]["clientId"].as_str().unwrap().to_string();
    let principal_id = mi["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let kube = sim.kube_from_kubeconfig("aks.kubeconfig", &arm.kubeconfig(&aks));
    let cloud = Cloud {
        sim,
        arm,
        kube,
        rg,
        ns_id,
        queue_id,
        uai_id,
        issuer,
        client_id,
        principal_id,
    };

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

    cloud.apply("scaledjob.yaml", &scaled_job_yaml());
    assert_scaled_out(&cloud);
    let describe = cloud.describe_scaledjob();
    println!("{describe}");
    assert!(!describe.contains("KEDAScalerFailed"), "{describe}");
    // kubectl found them as core/v1 events of this object.
    let (_, log) = http(cloud.arm.addr, "GET", "/_sim/requests", &[], "");
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
    let describe = cloud.scaled_job_fails();
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
    cloud.assert_scaler_failed_events(1);

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
    let describe = cloud.scaled_job_fails();
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
    let describe = cloud.scaled_job_fails();
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
    cloud.apply("scaledjob.yaml", &scaled_job_yaml());
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
    cloud.assert_scaler_failed_events(1);
}

#[test]
fn keda_keeps_only_the_job_history_it_is_asked_to() {
    let cloud = flagship(FULL);
    cloud.producer("producer");
    cloud.apply(
        "scaledjob.yaml",
        &scaled_job_yaml().replace(
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

//! The flagship's pieces for the simulator's identity-chain tests (keda_workload_identity,
//! eventual_consistency): the ARM side built over HTTP, the Kubernetes side with kubectl,
//! the sample workload's manifests, and what a scaled-out flagship looks like.
#![allow(dead_code)]
use crate::k8s_support::{AKS_API, Arm, Kube, SUB, Sim, aks_body, http, require_kubectl};
use serde_json::{Value, json};

pub const DATA_OWNER: &str = "090c5cfd-751d-490a-894a-3ce6f1109419";
pub const DATA_SENDER: &str = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";

/// What to leave out of the flagship, to see it fail.
#[derive(Clone, Copy)]
pub struct Setup {
    pub keda_fic: bool,
    pub restart: bool,
    pub role: bool,
}

pub const FULL: Setup = Setup {
    keda_fic: true,
    restart: true,
    role: true,
};

pub struct Cloud {
    pub sim: Sim,
    pub arm: Arm,
    pub kube: Kube,
    pub rg: String,
    pub ns_id: String,
    pub queue_id: String,
    pub uai_id: String,
    pub issuer: String,
    pub client_id: String,
    pub principal_id: String,
}

impl Cloud {
    /// The queue's active message count, as ARM shows it.
    pub fn queue_messages(&self) -> i64 {
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

    pub fn fic(&self, name: &str, subject: &str) {
        self.arm.put(
            &format!("{}/federatedIdentityCredentials/{name}", self.uai_id),
            "2024-11-30",
            json!({"properties": {"issuer": self.issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}}),
        );
    }

    pub fn role(&self, scope: &str, role_guid: &str, name: &str) {
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

    pub fn restart_keda(&self, at: &str) {
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

    pub fn apply(&self, file: &str, yaml: &str) {
        let p = self.sim.write(file, yaml);
        self.kube
            .ok(&["apply", "--server-side", "-f", p.to_str().unwrap()]);
    }

    pub fn k8s(&self, path: &str) -> Value {
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

    pub fn job(&self, name: &str) -> Value {
        self.k8s(&format!("/apis/batch/v1/namespaces/default/jobs/{name}"))
    }

    /// Jobs the ScaledJob `consumer` created.
    pub fn consumer_jobs(&self) -> Vec<Value> {
        self.k8s("/apis/batch/v1/namespaces/default/jobs?labelSelector=scaledjob.keda.sh/name%3Dconsumer")["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn settle(&self) -> Value {
        let (status, body) = http(self.arm.addr, "POST", "/_sim/settle", &[], "");
        assert_eq!(status, 200, "{body}");
        body
    }

    pub fn describe_scaledjob(&self) -> String {
        self.kube.ok(&["describe", "scaledjob", "consumer"])
    }

    /// The `KEDAScalerFailed` events recorded: `n` of them.
    pub fn assert_scaler_failed_events(&self, n: usize) {
        let events =
            self.k8s("/api/v1/namespaces/default/events?fieldSelector=reason%3DKEDAScalerFailed");
        assert_eq!(
            events["items"].as_array().map(Vec::len),
            Some(n),
            "{events}"
        );
    }

    /// Applies the ScaledJob `consumer`, whose scaler fails: `kubectl describe` shows it.
    pub fn scaled_job_fails(&self) -> String {
        self.apply("scaledjob.yaml", &scaled_job_yaml());
        let describe = self.describe_scaledjob();
        assert!(describe.contains("KEDAScalerFailed"), "{describe}");
        println!("{describe}");
        describe
    }

    /// Stops the simulator and starts it again (same world file, new port).
    pub fn restart_simulator(mut self) -> Cloud {
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

    pub fn producer(&self, name: &str) {
        self.apply(&format!("{name}.yaml"), &producer_yaml(name));
    }
}

pub fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The sample workload's pod template (`template:` and below) as the producer Job and the
/// ScaledJob `consumer` use it: workload identity on, `demo-sa`, the `orders` queue; `mode`
/// (the container's name too) and `count` messages; indented by `indent` spaces.
pub fn workload_template(mode: &str, count: u32, indent: usize) -> String {
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
            value: demo-sbns.servicebus.windows.net
    restartPolicy: Never
"#
    );
    let pad = " ".repeat(indent);
    template.lines().map(|l| format!("{pad}{l}\n")).collect()
}

pub fn producer_yaml(name: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n{}",
        workload_template("producer", 100, 2)
    )
}

/// The ScaledJob `consumer`: 10 messages a Job, authenticated by the TriggerAuthentication
/// `demo-auth`.
pub fn scaled_job_yaml() -> String {
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
        namespace: demo-sbns
        messageCount: "10"
      authenticationRef:
        name: demo-auth
"#,
        workload_template("consumer", 10, 4)
    )
}

/// The flagship, built in the order the guide (and plinth's dependency graph) uses, minus
/// what `setup` leaves out. Stops before the producer Job and the ScaledJob.
pub fn flagship(setup: Setup) -> Cloud {
    flagship_on(Sim::start(), setup)
}

pub fn flagship_on(sim: Sim, setup: Setup) -> Cloud {
    require_kubectl();
    let arm = sim.arm();
    let rg = format!("/subscriptions/{SUB}/resourceGroups/demo-rg");
    let aks = format!("{rg}/providers/Microsoft.ContainerService/managedClusters/demo-aks");
    let ns_id = format!("{rg}/providers/Microsoft.ServiceBus/namespaces/demo-sbns");
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

pub fn assert_complete(job: &Value) {
    assert_eq!(
        condition(job, "Complete").map(|c| c["status"].clone()),
        Some(json!("True")),
        "{job}"
    );
    assert_eq!(job["status"]["succeeded"], 1, "{job}");
}

/// After the producer and the ScaledJob: 100 messages went through, in 10 jobs.
pub fn assert_scaled_out(cloud: &Cloud) {
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

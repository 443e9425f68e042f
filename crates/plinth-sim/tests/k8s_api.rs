//! The simulated Kubernetes API over HTTP: discovery, server-side apply (ownership,
//! conflicts, force, removal, dry run), merge patches, and Status errors.

mod k8s_support;

use k8s_support::{Kube, Sim};
use serde_json::{Value, json};

const APPLY: Option<&str> = Some("application/apply-patch+yaml");
const CM: &str = "/api/v1/namespaces/default/configmaps";

fn managers(obj: &Value) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().to_string(),
                e["operation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_status(resp: &k8s_support::Resp, code: u16, reason: &str) {
    assert_eq!(resp.status, code, "{}", resp.body);
    assert_eq!(resp.body["kind"], "Status", "{}", resp.body);
    assert_eq!(resp.body["apiVersion"], "v1");
    assert_eq!(resp.body["status"], "Failure");
    assert_eq!(resp.body["reason"], reason, "{}", resp.body);
    assert_eq!(resp.body["code"], code);
    assert!(resp.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn apply_cm(kube: &Kube, manager: &str, yaml: &str, extra: &str) -> k8s_support::Resp {
    kube.http(
        "PATCH",
        &format!("{CM}/settings?fieldManager={manager}{extra}"),
        APPLY,
        yaml,
    )
}

#[test]
fn discovery_follows_the_keda_add_on() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let groups = kube.http("GET", "/apis", None, "").body;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apps", "batch"]);
    assert_status(
        &kube.http("GET", "/apis/keda.sh/v1alpha1", None, ""),
        404,
        "NotFound",
    );
    assert_status(
        &kube.http(
            "GET",
            "/apis/keda.sh/v1alpha1/namespaces/default/scaledjobs",
            None,
            "",
        ),
        404,
        "NotFound",
    );
    assert!(
        kube.http("GET", "/openapi/v3", None, "").body["paths"]
            .get("apis/keda.sh/v1alpha1")
            .is_none()
    );

    sim.handle
        .shared
        .world()
        .clusters
        .get_mut("c1")
        .unwrap()
        .set_keda(true);
    let groups = kube.http("GET", "/apis", None, "").body;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "keda.sh")
    );
    let list = kube.http("GET", "/apis/keda.sh/v1alpha1", None, "").body;
    let sj = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "scaledjobs")
        .unwrap();
    assert_eq!(sj["kind"], "ScaledJob");
    assert_eq!(sj["namespaced"], true);
    assert_eq!(sj["shortNames"], json!(["sj"]));
    assert!(sj["verbs"].as_array().unwrap().contains(&json!("patch")));
    let op = kube.http(
        "GET",
        "/apis/apps/v1/namespaces/kube-system/deployments/keda-operator",
        None,
        "",
    );
    assert_eq!(op.status, 200);

    sim.handle
        .shared
        .world()
        .clusters
        .get_mut("c1")
        .unwrap()
        .set_keda(false);
    assert_status(
        &kube.http("GET", "/apis/keda.sh/v1alpha1", None, ""),
        404,
        "NotFound",
    );
    assert_status(
        &kube.http(
            "GET",
            "/apis/apps/v1/namespaces/kube-system/deployments/keda-operator",
            None,
            "",
        ),
        404,
        "NotFound",
    );

    let core = kube.http("GET", "/api/v1", None, "").body;
    let ns = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "namespaces")
        .unwrap();
    assert_eq!(ns["namespaced"], false);
    assert_eq!(
        kube.http("GET", "/api", None, "").body["versions"],
        json!(["v1"])
    );
    assert_eq!(kube.http("GET", "/version", None, "").body["major"], "1");
}

#[test]
fn tokens() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    assert_status(
        &kube.http_with("GET", "/api/v1/namespaces", None, "", Some("wrong")),
        401,
        "Unauthorized",
    );
    assert_eq!(kube.http("GET", "/api/v1/namespaces", None, "").status, 200);
    // kubectl sends no token to an http:// server, so a missing one is accepted unless required.
    assert_eq!(
        kube.http_with("GET", "/api/v1/namespaces", None, "", None)
            .status,
        200
    );
    sim.handle
        .shared
        .world()
        .clusters
        .get_mut("c1")
        .unwrap()
        .require_token = true;
    assert_status(
        &kube.http_with("GET", "/api/v1/namespaces", None, "", None),
        401,
        "Unauthorized",
    );
    assert_eq!(kube.http("GET", "/api/v1/namespaces", None, "").status, 200);
}

#[test]
fn server_side_apply_ownership_conflicts_force_and_removal() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n  size: big\n";
    let created = apply_cm(&kube, "plinth", a, "");
    assert_eq!(created.status, 201, "{}", created.body);
    let obj = created.body;
    assert_eq!(
        managers(&obj),
        [("plinth".to_string(), "Apply".to_string())]
    );
    let entry = &obj["metadata"]["managedFields"][0];
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:data": {".": {}, "f:mode": {}, "f:size": {}}})
    );
    let rv1 = obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(obj["metadata"]["uid"].is_string() && obj["metadata"]["creationTimestamp"].is_string());

    // Re-applying the same configuration changes nothing.
    let again = apply_cm(&kube, "plinth", a, "");
    assert_eq!(again.status, 200);
    assert_eq!(again.body["metadata"]["resourceVersion"], rv1.as_str());

    // Another manager setting the same value shares ownership; a different value conflicts.
    let same = apply_cm(
        &kube,
        "other",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
        "",
    );
    assert_eq!(same.status, 200, "{}", same.body);
    let clash = apply_cm(
        &kube,
        "other",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  size: small\n",
        "",
    );
    assert_status(&clash, 409, "Conflict");
    assert_eq!(
        clash.body["message"],
        "Apply failed with 1 conflict: conflict with \"plinth\": .data.size"
    );
    assert_eq!(
        clash.body["details"]["causes"][0]["reason"],
        "FieldManagerConflict"
    );
    assert_eq!(clash.body["details"]["causes"][0]["field"], ".data.size");
    assert_eq!(
        clash.body["details"]["causes"][0]["message"],
        "conflict with \"plinth\""
    );

    // Dry run: the answer shows the result, the store keeps the old object.
    let dry = apply_cm(
        &kube,
        "other",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  size: small\n",
        "&force=true&dryRun=All",
    );
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["data"]["size"], "small");
    assert_eq!(
        kube.http("GET", &format!("{CM}/settings"), None, "").body["data"]["size"],
        "big"
    );

    // Force takes the field over.
    let forced = apply_cm(
        &kube,
        "other",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  size: small\n",
        "&force=true",
    );
    assert_eq!(forced.status, 200, "{}", forced.body);
    assert_eq!(forced.body["data"]["size"], "small");
    let fields: Vec<&Value> = forced.body["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let plinth = fields.iter().find(|e| e["manager"] == "plinth").unwrap();
    assert_eq!(
        plinth["fieldsV1"],
        json!({"f:data": {".": {}, "f:mode": {}}})
    );
    let other = fields.iter().find(|e| e["manager"] == "other").unwrap();
    assert_eq!(
        other["fieldsV1"],
        json!({"f:data": {".": {}, "f:size": {}}})
    );

    // plinth stops applying `mode`, which nobody else owns any more: it is removed. `size`,
    // owned by `other`, stays when plinth stops applying anything.
    let fewer = apply_cm(
        &kube,
        "plinth",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  extra: x\n",
        "",
    );
    assert_eq!(fewer.status, 200, "{}", fewer.body);
    assert_eq!(fewer.body["data"], json!({"size": "small", "extra": "x"}));
    let fewer = apply_cm(
        &kube,
        "plinth",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        "",
    );
    assert_eq!(fewer.body["data"], json!({"size": "small"}));
    assert_eq!(
        managers(&fewer.body),
        [("other".to_string(), "Apply".to_string())]
    );

    // JSON form of the applied configuration, and the required fieldManager.
    let json_body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"size":"small"}}"#;
    assert_eq!(apply_cm(&kube, "other", json_body, "").status, 200);
    assert_status(
        &kube.http("PATCH", &format!("{CM}/settings"), APPLY, json_body),
        400,
        "BadRequest",
    );
}

#[test]
fn apply_deployments_by_merge_key_and_generation() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let url = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=plinth";
    let deploy = |image: &str, replicas: i64| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]}}}
        })
        .to_string()
    };
    let created = kube.http("PATCH", url, APPLY, &deploy("nginx:1", 2));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["generation"], 1);
    // The deployment controller, which runs before the answer, writes the status after it.
    let got = kube.http(
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/web",
        None,
        "",
    );
    assert_eq!(got.body["status"]["readyReplicas"], 2, "{}", got.body);
    let f = &created.body["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(
        f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:image"],
        json!({})
    );
    assert_eq!(f["f:spec"]["f:selector"], json!({}));
    assert!(
        f["f:spec"].get("f:revisionHistoryLimit").is_none(),
        "defaults are not owned"
    );

    let updated = kube.http("PATCH", url, APPLY, &deploy("nginx:2", 2));
    assert_eq!(updated.body["metadata"]["generation"], 2);
    let conflict = kube.http(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=hpa",
        APPLY,
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}"#,
    );
    assert_status(&conflict, 409, "Conflict");
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains(".spec.replicas")
    );

    // A merge patch by another manager takes the field (operation Update), no conflict.
    let patched = kube.http(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=scaler",
        Some("application/merge-patch+json"),
        r#"{"spec":{"replicas":3}}"#,
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["spec"]["replicas"], 3);
    let m = managers(&patched.body);
    assert!(
        m.contains(&("scaler".to_string(), "Update".to_string())),
        "{m:?}"
    );
    // Now plinth's apply of replicas 2 conflicts with the Update manager.
    let back = kube.http("PATCH", url, APPLY, &deploy("nginx:2", 2));
    assert_status(&back, 409, "Conflict");
    assert!(
        back.body["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"scaler\" using apps/v1"),
        "{}",
        back.body
    );

    // Strategic merge patch of template annotations (what `kubectl rollout restart` sends).
    let smp = kube.http(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl-rollout",
        Some("application/strategic-merge-patch+json"),
        r#"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}"#,
    );
    assert_eq!(smp.status, 200, "{}", smp.body);
    assert_eq!(
        smp.body["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        smp.body["spec"]["template"]["metadata"]["labels"]["app"],
        "web"
    );
    assert_eq!(
        smp.body["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert_eq!(smp.body["metadata"]["generation"], 4);
}

#[test]
fn status_errors() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let missing = kube.http("GET", &format!("{CM}/nope"), None, "");
    assert_status(&missing, 404, "NotFound");
    assert_eq!(missing.body["message"], "configmaps \"nope\" not found");
    assert_eq!(
        missing.body["details"],
        json!({"name": "nope", "kind": "configmaps"})
    );
    let missing = kube.http(
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/nope",
        None,
        "",
    );
    assert_eq!(
        missing.body["message"],
        "deployments.apps \"nope\" not found"
    );
    assert_eq!(missing.body["details"]["group"], "apps");

    let body =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"one"},"data":{"a":"b"}}"#;
    let created = kube.http("POST", CM, Some("application/json"), body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        managers(&created.body),
        [("k8s-test".to_string(), "Update".to_string())]
    );
    let dup = kube.http("POST", CM, Some("application/json"), body);
    assert_status(&dup, 409, "AlreadyExists");
    assert_eq!(dup.body["message"], "configmaps \"one\" already exists");

    // Optimistic concurrency on PUT.
    let mut stale = created.body.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let put = kube.http(
        "PUT",
        &format!("{CM}/one"),
        Some("application/json"),
        &stale.to_string(),
    );
    assert_status(&put, 409, "Conflict");
    assert!(
        put.body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    let mut fresh = created.body.clone();
    fresh["data"]["a"] = json!("c");
    let put = kube.http(
        "PUT",
        &format!("{CM}/one"),
        Some("application/json"),
        &fresh.to_string(),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["data"]["a"], "c");

    let bad = kube.http(
        "POST",
        CM,
        Some("application/json"),
        r#"{"metadata":{"name":"Bad_Name"}}"#,
    );
    assert_status(&bad, 422, "Invalid");
    assert_eq!(bad.body["details"]["causes"][0]["field"], "metadata.name");
    let no_ns = kube.http(
        "POST",
        "/api/v1/namespaces/ghost/configmaps",
        Some("application/json"),
        body,
    );
    assert_status(&no_ns, 404, "NotFound");
    assert_eq!(no_ns.body["message"], "namespaces \"ghost\" not found");
    let bad_deploy = kube.http(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/x?fieldManager=t",
        APPLY,
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"template":{"spec":{"containers":[]}}}}"#,
    );
    assert_status(&bad_deploy, 422, "Invalid");
    assert!(
        bad_deploy.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Deployment.apps \"x\" is invalid")
    );
    let typo = kube.http(
        "PATCH",
        &format!("{CM}/typo?fieldManager=t"),
        APPLY,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typo"},"dat":{"a":"b"}}"#,
    );
    assert_status(&typo, 400, "BadRequest");
    assert!(
        typo.body["message"]
            .as_str()
            .unwrap()
            .contains(".dat: field not declared in schema")
    );
    let strict = kube.http(
        "POST",
        &format!("{CM}?fieldValidation=Strict"),
        Some("application/json"),
        r#"{"metadata":{"name":"typo"},"dat":{"a":"b"}}"#,
    );
    assert_status(&strict, 400, "BadRequest");
    let dry = kube.http(
        "POST",
        &format!("{CM}?dryRun=All"),
        Some("application/json"),
        r#"{"metadata":{"name":"dry"}}"#,
    );
    assert_eq!(dry.status, 201);
    assert!(dry.body["metadata"].get("resourceVersion").is_none());
    assert_status(
        &kube.http("GET", &format!("{CM}/dry"), None, ""),
        404,
        "NotFound",
    );
    let unsupported = kube.http("PATCH", &format!("{CM}/one"), Some("text/plain"), "{}");
    assert_status(&unsupported, 415, "UnsupportedMediaType");
    assert_status(
        &kube.http("GET", "/apis/nothing.example/v1", None, ""),
        404,
        "NotFound",
    );

    let deleted = kube.http("DELETE", &format!("{CM}/one"), None, "");
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["status"], "Success");
    assert_status(
        &kube.http("DELETE", &format!("{CM}/one"), None, ""),
        404,
        "NotFound",
    );
}

#[test]
fn lists_tables_and_merge_patch() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    let body = r#"{"metadata":{"name":"one","labels":{"tier":"a"}},"data":{"x":"1","y":"2"}}"#;
    assert_eq!(
        kube.http("POST", CM, Some("application/json"), body).status,
        201
    );
    let merged = kube.http(
        "PATCH",
        &format!("{CM}/one"),
        Some("application/merge-patch+json"),
        r#"{"data":{"x":null,"z":"3"}}"#,
    );
    assert_eq!(merged.body["data"], json!({"y": "2", "z": "3"}));

    let list = kube
        .http("GET", &format!("{CM}?labelSelector=tier%3Da"), None, "")
        .body;
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let all = kube.http("GET", "/api/v1/configmaps", None, "").body;
    assert!(
        all["items"].as_array().unwrap().len() >= 5,
        "kube-root-ca.crt in every namespace"
    );
    let none = kube
        .http("GET", &format!("{CM}?labelSelector=tier%21%3Da"), None, "")
        .body;
    assert!(
        none["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["metadata"]["name"] != "one")
    );

    let mut s = std::net::TcpStream::connect(kube.addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET /k8s/c1{CM} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let table: Value = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["columnDefinitions"][0]["name"], "Name");
    assert!(
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["cells"][0] == "one")
    );
    assert!(table["rows"][0]["object"]["kind"] == "PartialObjectMetadata");

    let pods = kube.http("GET", "/api/v1/pods", None, "").body;
    assert_eq!(pods["kind"], "PodList");
    assert_eq!(pods["items"], json!([]));
    assert_eq!(
        kube.http(
            "POST",
            "/api/v1/namespaces/default/pods",
            Some("application/json"),
            "{}"
        )
        .status,
        405
    );
}

#[test]
fn json_patch_scale_and_persistence() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", true);
    let body = r#"{"metadata":{"name":"one"},"data":{"x":"1"}}"#;
    assert_eq!(
        kube.http("POST", CM, Some("application/json"), body).status,
        201
    );
    let patched = kube.http(
        "PATCH",
        &format!("{CM}/one"),
        Some("application/json-patch+json"),
        r#"[{"op":"add","path":"/data/y","value":"2"},{"op":"remove","path":"/data/x"}]"#,
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["data"], json!({"y": "2"}));
    let failed = kube.http(
        "PATCH",
        &format!("{CM}/one"),
        Some("application/json-patch+json"),
        r#"[{"op":"test","path":"/data/y","value":"3"}]"#,
    );
    assert_status(&failed, 422, "Invalid");

    let scale_url = "/apis/apps/v1/namespaces/kube-system/deployments/keda-operator/scale";
    let scale = kube.http("GET", scale_url, None, "").body;
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 2);
    let scaled = kube.http(
        "PATCH",
        scale_url,
        Some("application/merge-patch+json"),
        r#"{"spec":{"replicas":4}}"#,
    );
    assert_eq!(scaled.body["spec"]["replicas"], 4, "{}", scaled.body);
    let d = kube
        .http(
            "GET",
            "/apis/apps/v1/namespaces/kube-system/deployments/keda-operator",
            None,
            "",
        )
        .body;
    assert_eq!(d["spec"]["replicas"], 4);

    // The world (clusters included) survives a save and a load.
    let json = serde_json::to_string(&*sim.handle.shared.world()).unwrap();
    let world: plinth_sim::World = serde_json::from_str(&json).unwrap();
    let c = &world.clusters["c1"];
    assert!(c.keda_enabled);
    assert_eq!(c.token, kube.token);
    assert_eq!(
        c.objects["configmaps"]["default/one"]["data"],
        json!({"y": "2"})
    );
}

#[test]
fn a_hook_edits_an_object_between_two_list_pages() {
    let sim = Sim::start();
    let kube = sim.cluster("c1", false);
    for name in ["a", "b", "c"] {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"v": "old"}});
        let r = kube.http("POST", CM, Some("application/json"), &body.to_string());
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let list = format!("/k8s/c1{CM}");
    for hook in [
        json!({"prefix": list, "exact": true, "after": 1, "id": format!("{list}/c"),
            "merge": {"data": {"v": "new"}}}),
        json!({"prefix": list, "exact": true, "after": 1, "id": format!("{list}/a"), "delete": true}),
        json!({"prefix": list, "exact": true, "after": 1, "id": format!("{list}/nope"), "delete": true}),
    ] {
        let (status, body) = k8s_support::http(
            kube.addr,
            "POST",
            "/_sim/hooks",
            &[("content-type", "application/json")],
            &hook.to_string(),
        );
        assert_eq!(status, 200, "{body}");
    }
    // Reading one object is no list page.
    assert_eq!(kube.http("GET", &format!("{CM}/a"), None, "").status, 200);
    let first = kube.http("GET", &format!("{CM}?limit=2"), None, "").body;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"], "the first page shows the world before");
    let token = first["metadata"]["continue"].as_str().unwrap();
    let second = kube
        .http("GET", &format!("{CM}?limit=2&continue={token}"), None, "")
        .body;
    assert_eq!(second["items"][0]["metadata"]["name"], "c");
    assert_eq!(
        second["items"][0]["data"]["v"], "new",
        "the next page after"
    );
    // The edit is a hand edit (kubectl patch's field manager); the delete happened.
    let c = kube.http("GET", &format!("{CM}/c"), None, "").body;
    assert!(managers(&c).contains(&("kubectl-patch".to_string(), "Update".to_string())));
    assert_eq!(kube.http("GET", &format!("{CM}/a"), None, "").status, 404);
    let (_, hooks) = k8s_support::http(kube.addr, "GET", "/_sim/hooks", &[], "");
    let outcomes: Vec<&str> = hooks["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "no such resource"]);
}

//! Snapshot tests of the Markdown rendering (`plinth show --format markdown`).
//!
//! Plans are made by the real engine (core provider, plus the `ext` test provider of
//! `fixtures`) against an in-memory state, except where a shape is easier to build by hand.
//! UUIDs (the ids of `core` objects) are redacted.

mod fixtures;

use fixtures::{Harness, path, redact_uuids};
use plinth_engine::PlanOptions;
use plinth_plan::{Action, DeclKind, PLAN_FORMAT, Plan, PlanMode, ReplaceOrder, ResourceChange};
use plinth_render::markdown::{GITHUB_COMMENT_LIMIT, MarkdownOptions, render};
use plinth_value::Value;
use serde_json::json;

fn md(plan: &Plan) -> String {
    redact_uuids(&render(plan, &MarkdownOptions::default()))
}

fn md_revealed(plan: &Plan) -> String {
    redact_uuids(&render(
        plan,
        &MarkdownOptions {
            show_sensitive: true,
            ..Default::default()
        },
    ))
}

/// A realistic first configuration: variables, references, `for_each`, `depends_on`,
/// lifecycle, a sensitive input, an action and outputs.
const FIRST: &str = r#"
[variable.prefix]
default = "demo"

[variable.environments]
type = "list"
default = ["dev", "prod"]

[variable.db_password]
default = "correct-horse-battery-staple"
sensitive = true

[resource.settings]
type = "core:data"
input = { name = "${var.prefix}", owner = "${upper(var.prefix)}-team" }

[resource.app]
type = "core:data"
for_each = "${var.environments}"
input = { name = "${format(\"%s-app-%s\", settings.output.name, each.key)}", settings_id = "${settings.id}" }

[resource.database]
type = "ext:object"
name = "${var.prefix}-db"
password = "${var.db_password}"
spec = { tier = "standard", replicas = 2 }

[resource.propagation]
type = "core:sleep"
create_duration = "2s"
depends_on = ["app"]

[resource.assignment]
type = "core:data"
depends_on = ["propagation"]
input = { name = "${guid(settings.output.name, \"reader\")}", database = "${database.id}" }
lifecycle = { create_before_destroy = true }

[action.announce]
type = "ext:notify"
on = ["database"]
message = "database ${database.id} is ready"

[output.app_names]
value = "${join(\", \", [app[\"dev\"].output.name, app[\"prod\"].output.name])}"

[output.database_id]
value = "${database.id}"
"#;

#[tokio::test]
async fn first_plan() {
    let h = Harness::new(FIRST);
    let plan = h.plan().await;
    let out = md(&plan);
    assert!(out.len() <= GITHUB_COMMENT_LIMIT);
    assert!(!out.contains("correct-horse-battery-staple"), "{out}");
    assert!(!out.contains("[!CAUTION]"), "nothing is destroyed: {out}");
    assert!(out.contains("(known after apply)"), "{out}");
    assert!(out.contains("```mermaid\nflowchart LR\n"), "{out}");
    insta::assert_snapshot!(out);
}

/// `FIRST` without the sleep, so that it applies at once.
fn first_without_sleep() -> String {
    FIRST.replace("create_duration = \"2s\"", "create_duration = \"1ms\"")
}

#[tokio::test]
async fn no_op_plan() {
    let h = Harness::new(&first_without_sleep());
    h.up().await;
    let plan = h.plan().await;
    assert!(!plan.has_changes());
    let out = md(&plan);
    assert!(out.contains("**No changes.**"), "{out}");
    insta::assert_snapshot!(out);
}

const MANIFEST_V1: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.4.2
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: FEATURE_FLAGS
              value: "checkout,search"
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
"#;

fn yaml_config(manifest: &str, policy: &str) -> String {
    format!(
        r#"
[resource.web]
type = "core:data"
input = {{ manifest = '''
{manifest}''', policy = '{policy}', replicas = 2 }}
"#
    )
}

const POLICY_V1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::shop-assets/*"}]}"#;

#[tokio::test]
async fn update_with_long_yaml_diff() {
    let mut h = Harness::new(&yaml_config(MANIFEST_V1, POLICY_V1));
    h.up().await;
    let v2 = MANIFEST_V1
        .replace(
            "image: ghcr.io/example/web:1.4.2",
            "image: ghcr.io/example/web:1.5.0",
        )
        .replace("value: info", "value: debug");
    let policy2 = POLICY_V1.replace(r#"["s3:GetObject"]"#, r#"["s3:GetObject","s3:ListBucket"]"#);
    h.set_config(&yaml_config(&v2, &policy2));
    let plan = h.plan().await;
    assert_eq!(plan.change("web").unwrap().action, Action::Update);
    let out = md(&plan);
    assert!(out.contains("```diff\n@@"), "{out}");
    assert!(out.contains("-          image: ghcr.io/example/web:1.4.2\n+          image: ghcr.io/example/web:1.5.0"), "{out}");
    // The embedded JSON is pretty-printed before it is diffed.
    assert!(out.contains("+        \"s3:ListBucket\""), "{out}");
    insta::assert_snapshot!(out);
}

const REPLACE_V1: &str = r#"
[resource.blue]
type = "core:data"
input = { colour = "blue" }
triggers = { version = "1" }

[resource.green]
type = "core:data"
input = { colour = "green" }
triggers = { version = "1" }
lifecycle = { create_before_destroy = true }

[resource.cache]
type = "core:data"
input = { size = 3 }

[resource.router]
type = "core:data"
input = { backends = ["${blue.id}", "${green.id}"], cache = "${cache.id}" }

[resource.legacy]
type = "core:data"
input = { note = "to be removed" }
"#;

#[tokio::test]
async fn replace_in_both_orders_and_delete() {
    let mut h = Harness::new(REPLACE_V1);
    h.up().await;
    let v2 = REPLACE_V1
        .replace(
            "triggers = { version = \"1\" }",
            "triggers = { version = \"2\" }",
        )
        .replace(
            "[resource.legacy]\ntype = \"core:data\"\ninput = { note = \"to be removed\" }\n",
            "",
        );
    h.set_config(&v2);
    let plan = h
        .plan_with(PlanOptions {
            parallelism: 4,
            replace: vec!["cache".parse().unwrap()],
            ..Default::default()
        })
        .await;
    let blue = plan.change("blue").unwrap();
    assert_eq!(blue.action, Action::Replace);
    assert_eq!(blue.replace_order, Some(ReplaceOrder::DeleteThenCreate));
    assert_eq!(
        plan.change("green").unwrap().replace_order,
        Some(ReplaceOrder::CreateThenDelete)
    );
    assert_eq!(plan.change("legacy").unwrap().action, Action::Delete);
    let out = md(&plan);
    // The caution block comes first, right after the title.
    let caution = out.find("> [!CAUTION]").expect("caution block");
    assert!(caution < out.find("| Provider |").unwrap(), "{out}");
    assert!(
        out.contains("`triggers.version` forces replacement"),
        "{out}"
    );
    assert!(out.contains("requested with --replace"), "{out}");
    assert!(out.contains("(`create_before_destroy`)"), "{out}");
    assert!(out.contains("not in the configuration"), "{out}");
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn destroy_plan() {
    let h = Harness::new(&first_without_sleep());
    h.up().await;
    let plan = h
        .plan_with(PlanOptions {
            mode: PlanMode::Destroy,
            parallelism: 4,
            ..Default::default()
        })
        .await;
    let out = md(&plan);
    assert!(
        out.starts_with("## plinth plan: destroy\n\n**Configuration:** `test`\n\n> [!CAUTION]\n"),
        "{out}"
    );
    assert!(out.contains("destroy requested"), "{out}");
    assert!(!out.contains("correct-horse-battery-staple"), "{out}");
    insta::assert_snapshot!(out);
}

const DRIFT: &str = r#"
[resource.db]
type = "ext:object"
name = "db"
spec = { tier = "standard", replicas = 2 }

[resource.queue]
type = "ext:object"
name = "queue"
spec = { tier = "basic" }

[resource.bucket]
type = "ext:object"
name = "bucket"
spec = { versioning = true }

[resource.index]
type = "core:data"
input = { bucket = "${bucket.id}" }
"#;

#[tokio::test]
async fn drift() {
    let h = Harness::new(DRIFT);
    h.up().await;
    // Changed outside plinth: a declared value (put back by the plan), an attribute the
    // configuration does not set (the service's own business: not shown as drift, except by
    // a refresh-only plan), and an object deleted (created again).
    h.ext
        .mutate("ext/db", "spec", json!({"tier": "premium", "replicas": 2}));
    h.ext.mutate("ext/queue", "etag", json!("etag-changed"));
    h.ext.remove("ext/bucket");
    let plan = h.plan().await;
    assert!(plan.change("db").unwrap().drift, "{:#?}", plan.change("db"));
    assert_eq!(plan.change("bucket").unwrap().action, Action::Create);
    let out = md(&plan);
    let drift_at = out
        .find("### Changes made outside plinth")
        .expect("drift section");
    assert!(drift_at < out.find("### Changes\n").unwrap(), "{out}");
    assert!(out.contains("undoes a change made outside plinth"), "{out}");
    assert!(
        out.contains("re-creates an object deleted outside plinth"),
        "{out}"
    );
    // The etag, which the configuration does not set, only in its own section, after the
    // drift that matters and before the changes.
    let unmanaged_at = out
        .find("### Changed outside plinth, not managed here")
        .expect("unmanaged drift section");
    let etag_at = out.find("etag-changed").expect("the etag's drift");
    assert!(drift_at < unmanaged_at && unmanaged_at < etag_at, "{out}");
    assert!(etag_at < out.find("### Changes\n").unwrap(), "{out}");
    assert_eq!(out.matches("etag-changed").count(), 1, "{out}");
    insta::assert_snapshot!(out);

    let refresh_only = h
        .plan_with(PlanOptions {
            mode: PlanMode::RefreshOnly,
            parallelism: 4,
            ..Default::default()
        })
        .await;
    let refresh_only = md(&refresh_only);
    assert!(refresh_only.contains("etag-changed"), "{refresh_only}");
    insta::assert_snapshot!("drift_refresh_only", refresh_only);
}

const SECRET: &str = "hunter2-correct-horse";
const SECRET2: &str = "swordfish-battery-staple";

fn sensitive_config(password: &str, key: &str) -> String {
    format!(
        r#"
[variable.password]
default = "{password}"
sensitive = true

[variable.private_key]
default = '''
{key}'''
sensitive = true

[resource.db]
type = "ext:object"
name = "db"
password = "${{var.password}}"
spec = {{ tier = "standard" }}

[resource.tls]
type = "core:data"
input = {{ key = "${{var.private_key}}", host = "db.example.com" }}

[output.password]
value = "${{var.password}}"
sensitive = true
"#
    )
}

fn pem(secret: &str) -> String {
    let mut s = "-----BEGIN PRIVATE KEY-----\n".to_string();
    for i in 0..8 {
        s.push_str(&format!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{i}{secret}{i}\n"));
    }
    s.push_str("-----END PRIVATE KEY-----\n");
    s
}

#[tokio::test]
async fn sensitive_values() {
    let mut h = Harness::new(&sensitive_config(SECRET, &pem(SECRET)));
    let first = h.plan().await;
    let out = md(&first);
    assert!(!out.contains(SECRET), "{out}");
    assert!(out.contains("(sensitive)"), "{out}");
    assert!(md_revealed(&first).contains(SECRET));
    insta::assert_snapshot!("sensitive_values_create", out);

    h.apply_ok(&first).await;
    h.set_config(&sensitive_config(SECRET2, &pem(SECRET2)));
    let plan = h.plan().await;
    assert_eq!(plan.change("db").unwrap().action, Action::Update);
    assert_eq!(plan.change("tls").unwrap().action, Action::Update);
    let out = md(&plan);
    for s in [SECRET, SECRET2] {
        assert!(!out.contains(s), "{s} leaked:\n{out}");
    }
    // The long secret is not diffed (a diff would show its lines).
    assert!(!out.contains("MIIEvQ"), "{out}");
    insta::assert_snapshot!("sensitive_values_update", out);

    let shown = md_revealed(&plan);
    assert!(shown.contains(SECRET) && shown.contains(SECRET2), "{shown}");
    assert!(shown.contains("```diff"), "{shown}");
}

#[tokio::test]
async fn huge_plan_is_cut_to_fit() {
    let keys: Vec<String> = (0..3000).map(|i| format!("\"svc-{i:04}\"")).collect();
    let config = format!(
        r#"
[variable.services]
type = "list"
default = [{}]

[resource.base]
type = "core:data"
input = {{ region = "westeurope" }}

[resource.svc]
type = "core:data"
for_each = "${{var.services}}"
input = {{ name = "${{each.key}}", base = "${{base.id}}", tier = "standard", replicas = 3 }}
"#,
        keys.join(", ")
    );
    let h = Harness::new(&config);
    let plan = h.plan().await;
    assert_eq!(plan.summary().add, 3001);
    let out = md(&plan);
    let chars = out.chars().count();
    assert!(chars <= GITHUB_COMMENT_LIMIT, "{chars} characters");
    assert!(
        chars > GITHUB_COMMENT_LIMIT - 2_000,
        "the budget is used: {chars}"
    );
    assert!(out.contains("Plan: 3001 to add, 0 to change, 0 to replace, 0 to destroy."));
    assert!(
        out.contains("> [!NOTE]\n> The attribute details of "),
        "{}",
        &out[..2000]
    );
    assert!(out.contains(" of the 3,001 resource changes were cut to stay under GitHub's 65,536-character comment limit; run `plinth show` on the saved plan file for the full plan."));
    assert!(out.contains("more resource changes not listed here"));
    assert!(!out.contains("<details>"));
    // The head, up to the first resources, and the tail.
    let head: String = out.lines().take(20).collect::<Vec<_>>().join("\n");
    let tail: String = {
        let lines: Vec<&str> = out.lines().collect();
        lines[lines.len().saturating_sub(4)..].join("\n")
    };
    insta::assert_snapshot!(format!("{head}\n[…]\n{tail}"));

    // A smaller limit is honoured too, and so is a tiny one.
    for max_chars in [10_000, 500, 40, 0] {
        let small = render(
            &plan,
            &MarkdownOptions {
                max_chars,
                ..Default::default()
            },
        );
        assert!(small.chars().count() <= max_chars, "{max_chars}: {small}");
    }
}

// ---------------------------------------------------------------------------------------
// Hand-built plans
// ---------------------------------------------------------------------------------------

fn plan_of(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format: PLAN_FORMAT.into(),
        mode: PlanMode::Normal,
        created_at: "2026-01-01T00:00:00Z".into(),
        lineage: "l".into(),
        serial: 1,
        config_digest: "d".into(),
        config_dir: "/x".into(),
        variables: Default::default(),
        changes,
        outputs: vec![],
        drift: vec![],
        warnings: vec![],
        targets: vec![],
        checks: vec![],
        findings: vec![],
    }
}

fn change(
    address: &str,
    action: Action,
    before: serde_json::Value,
    after: serde_json::Value,
    changed: &[&str],
) -> ResourceChange {
    let absent = |v: serde_json::Value| (!v.is_null()).then(|| Value::from(v));
    ResourceChange {
        address: address.into(),
        name: address.split('[').next().unwrap_or(address).into(),
        type_name: "core:data".into(),
        kind: DeclKind::Resource,
        action,
        replace_order: (action == Action::Replace).then_some(ReplaceOrder::DeleteThenCreate),
        id: None,
        before: absent(before),
        after: absent(after.clone()),
        config: absent(after),
        changed_paths: changed.iter().map(|p| path(p)).collect(),
        attribute_paths: vec![],
        replace_paths: vec![],
        reason: None,
        drift: false,
        depends_on: vec![],
        moved_from: None,
        importing: None,
        annotations: vec![],
        bookkeeping: vec![],
        cascade: None,
    }
}

#[test]
fn markdown_significant_characters_are_escaped() {
    let odd = "app[\"a|b`c<script>\"]";
    let mut c = change(
        odd,
        Action::Update,
        json!({"input": {"cmd": "echo `a` | tr a-z A-Z", "html": "<b>bold</b> & <i>"}}),
        json!({"input": {"cmd": "echo ``b`` | wc -l", "html": "<img src=x onerror=alert(1)>"}}),
        &["input.cmd", "input.html"],
    );
    c.reason = Some("replace_triggered_by: `x[\"<y>\"]` changes | *now*".into());
    let mut dep = change(
        "dep",
        Action::Create,
        json!(null),
        json!({"input": "$x$ **b**"}),
        &[],
    );
    dep.depends_on = vec![odd.into()];
    let mut p = plan_of(vec![c, dep]);
    p.warnings = vec!["this plan is limited by --target: <b>only</b> `x`".into()];
    let out = md(&p);
    // Every table row keeps its three cells: pipes inside cells are escaped.
    for line in out.lines().filter(|l| l.starts_with("| `input.")) {
        let unescaped = line.matches('|').count() - line.matches("\\|").count();
        assert_eq!(unescaped, 4, "{line}");
    }
    // No raw HTML from values or addresses outside code.
    assert!(!out.contains("<script>"), "{out}");
    assert!(out.contains("&lt;script&gt;"), "{out}");
    assert!(out.contains("``\"echo `a` \\| tr a-z A-Z\"``"), "{out}");
    assert!(out.contains("#quot;"), "{out}");
    assert!(out.contains("\\<b\\>only\\</b\\>"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn details_of_the_largest_resources_are_cut_first() {
    let big = |n: usize| -> String { (0..n).map(|i| format!("line {i}\n")).collect() };
    let changes: Vec<ResourceChange> = (0..40)
        .map(|i| {
            let lines = if i % 10 == 0 { 400 } else { 20 };
            let mut c = change(
                &format!("doc[\"{i}\"]"),
                Action::Create,
                json!(null),
                json!({"input": big(lines)}),
                &[],
            );
            if i > 0 {
                c.depends_on = vec!["doc[\"0\"]".into()];
            }
            c
        })
        .collect();
    let plan = plan_of(changes);
    let full = render(
        &plan,
        &MarkdownOptions {
            max_chars: usize::MAX,
            ..Default::default()
        },
    );
    let max_chars = full.chars().count() / 2;
    let out = render(
        &plan,
        &MarkdownOptions {
            max_chars,
            ..Default::default()
        },
    );
    assert!(out.chars().count() <= max_chars);
    // The four large resources lose their details; the graph and the small ones stay.
    assert!(
        out.contains(
            "> The attribute details of 4 resources (the largest first) were cut to stay under the "
        ),
        "{out}"
    );
    assert!(
        out.contains("- **create** `doc[\"0\"]` (core:data)"),
        "{out}"
    );
    assert!(
        out.contains("<details><summary><b>create</b> <code>doc[&quot;1&quot;]</code>"),
        "{out}"
    );
    assert!(out.contains("```mermaid"), "{out}");
}

#[test]
fn a_huge_destroy_keeps_the_caution_block_first() {
    let changes: Vec<ResourceChange> = (0..3000)
        .map(|i| {
            let mut c = change(
                &format!("old[\"{i}\"]"),
                Action::Delete,
                json!({"id": format!("id-{i}"), "input": {"n": i}}),
                json!(null),
                &[],
            );
            c.reason = Some("destroy requested".into());
            c.config = None;
            c
        })
        .collect();
    let mut plan = plan_of(changes);
    plan.mode = PlanMode::Destroy;
    let out = render(&plan, &MarkdownOptions::default());
    assert!(out.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert!(
        out.starts_with(
            "## plinth plan: destroy\n\n**Configuration:** `x`\n\n> [!CAUTION]\n> This plan **destroys 3,000 resources** (destroy requested)."
        ),
        "{}",
        &out[..500]
    );
    assert!(out.contains("more not listed here"), "{out}");
    assert!(out.contains("Plan: 0 to add, 0 to change, 0 to replace, 3000 to destroy."));
}

#[test]
fn actions_reads_and_outputs() {
    let mut run = change(
        "action.notify",
        Action::Run,
        json!(null),
        json!({"message": "deployed"}),
        &[],
    );
    run.kind = DeclKind::Action;
    run.type_name = "ext:notify".into();
    run.after = None;
    run.reason = Some("`web` changes".into());
    let mut read = change("data.current", Action::Read, json!(null), json!(null), &[]);
    read.kind = DeclKind::Data;
    read.after = Some(Value::Unknown);
    read.config = Some(Value::from(json!({"query": "x"})));
    read.reason = Some(
        "read during apply: its configuration depends on values known only after apply".into(),
    );
    let mut web = change(
        "web",
        Action::Update,
        json!({"input": {"v": 1}}),
        json!({"input": {"v": 2}}),
        &["input.v"],
    );
    web.type_name = "k8s:apps/v1/Deployment".into();
    let mut p = plan_of(vec![web, read, run]);
    p.drift = vec![plinth_plan::Drift {
        address: "half".into(),
        type_name: "core:data".into(),
        action: Action::Update,
        before: None,
        after: Some(Value::from(json!({"id": "x"}))),
        changed_paths: vec![],
        id: Some("x".into()),
        reconciled: true,
        unmanaged_paths: vec![],
    }];
    p.outputs = vec![
        plinth_plan::OutputChange {
            name: "url".into(),
            action: Action::Update,
            before: Some(Value::from("http://a")),
            after: Some(Value::Unknown),
            sensitive: false,
        },
        plinth_plan::OutputChange {
            name: "token".into(),
            action: Action::Create,
            before: None,
            after: Some(Value::from("tok-123")),
            sensitive: true,
        },
        plinth_plan::OutputChange {
            name: "gone".into(),
            action: Action::Delete,
            before: Some(Value::from(1)),
            after: None,
            sensitive: false,
        },
    ];
    let out = md(&p);
    assert!(!out.contains("tok-123"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn nested_secrets_never_reach_a_diff() {
    let secret = "nested-secret-value-0042";
    let mut c = change(
        "cfg",
        Action::Update,
        json!({"input": {"settings": {}}}),
        json!({"input": {"settings": {}}}),
        &["input.settings"],
    );
    // A long map (shown as a diff) holding a sensitive value, before and after.
    let long_map = |n: i64| {
        let mut v = Value::from(json!({
            "endpoint": "https://service.example.com/api/v1/resources/with/a/long/path",
            "retries": n,
        }));
        v.set(&path("password"), Value::sensitive(Value::from(secret)));
        v
    };
    let p = path("input.settings");
    for (side, n) in [(&mut c.before, 1), (&mut c.after, 2), (&mut c.config, 2)] {
        side.as_mut().unwrap().set(&p, long_map(n));
    }
    let plan = plan_of(vec![c]);
    let out = md(&plan);
    assert!(out.contains("```diff"), "{out}");
    assert!(out.contains("-  \"retries\": 1"), "{out}");
    assert!(out.contains("\"password\": (sensitive)"), "{out}");
    assert!(!out.contains(secret), "{out}");
    assert!(md_revealed(&plan).contains(secret));
}

#[tokio::test]
async fn moves_when_count_is_added() {
    let single = "[resource.app]\ntype = \"core:data\"\ninput = { n = \"one\" }\n\n[resource.web]\ntype = \"core:data\"\ninput = { n = \"a\" }\n";
    let mut h = Harness::new(single);
    h.up().await;
    // `app` only moves; `web` moves and changes.
    h.set_config(
        &single
            .replace("input = { n = \"a\" }", "count = 1\ninput = { n = \"b\" }")
            .replace(
                "type = \"core:data\"\ninput = { n = \"one\" }",
                "type = \"core:data\"\ncount = 2\ninput = { n = \"one\" }",
            ),
    );
    let plan = h.plan().await;
    let out = md(&plan);
    assert!(out.contains("#### Move (1)"), "{out}");
    assert!(out.contains("`app` has moved to `app[0]`"), "{out}");
    assert!(
        out.contains("<code>web</code> has moved to <code>web[0]</code>"),
        "{out}"
    );
    assert!(
        out.contains("1 to add, 1 to change, 0 to replace, 0 to destroy, 2 to move."),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

// ---------------------------------------------------------------------------------------
// The flagship (examples/aks-keda-workload-identity), as a reviewer reads its plans
// ---------------------------------------------------------------------------------------
//
// The plans in `fixtures/flagship/` were made by `plinth plan --sim --out` on the flagship
// (its configuration directory set to where a CI runner checks it out): its first plan, the
// first plan of a broken variant (Service Bus local auth on) under `--policy
// examples/policies`, a replacement of the cluster (`dnsPrefix` changed, made after the changes
// outside plinth below, so it shows them too), a plan after changes made outside plinth (local auth and TLS 1.0 on the namespace, a tag and a setting
// on the cluster) under the policies, and a destroy. `scripts/render-markdown.sh` renders
// them as GitHub does.

fn flagship(name: &str) -> Plan {
    let path = format!(
        "{}/tests/fixtures/flagship/{name}.plan.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What every flagship rendering must be: within GitHub's limit, naming the configuration
/// directory as a reviewer knows it and no home directory.
fn flagship_md(name: &str) -> String {
    // The fixtures are fixed, so their ids stay as they are.
    let out = render(&flagship(name), &MarkdownOptions::default());
    assert!(out.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert!(
        out.contains(
            "**Configuration:** `examples/aks-keda-workload-identity` · **Module instance:** `module.workload`"
        ),
        "{out}"
    );
    assert!(!out.contains("/home/"), "{out}");
    out
}

/// The edges of the Mermaid graph.
fn graph_edges(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains(" --> ")).collect()
}

#[test]
fn flagship_first_plan() {
    let out = flagship_md("first");
    // Who gets which role where: on the line and in the details.
    assert!(
        out.contains("<code>data_owner</code> (azure:Microsoft.Authorization/roleAssignments@2022-04-01) — grants Azure Service Bus Data Owner on <code>queue</code>"),
        "{out}"
    );
    assert!(
        out.contains("**Role:** Azure Service Bus Data Owner · **Scope:** `queue`"),
        "{out}"
    );
    assert!(
        out.contains(
            "/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419` — Azure Service Bus Data Owner"
        ),
        "{out}"
    );
    // Every Azure resource's parent (the cluster's is the resource group).
    assert!(
        out.contains("**Parent:** `rg` — `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/kedademo-rg`"),
        "{out}"
    );
    // The service's bookkeeping is left out of creates, and counted.
    for noise in [
        "metadata.uid",
        "metadata.resourceVersion",
        "creationTimestamp",
        "| `status` |",
    ] {
        assert!(!out.contains(noise), "{noise}: {out}");
    }
    assert!(
        out.contains("*Not shown: 5 attributes the service fills in.*"),
        "{out}"
    );
    // Long ids are list lines, which GitHub wraps, not clipped table cells.
    assert!(!out.contains("…"), "{out}");
    assert!(out.contains("\n- `id`: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/kedademo-rg/providers/Microsoft.ContainerService/managedClusters/kedademo-aks`\n"), "{out}");
    // The graph is the transitive reduction of the plan's dependencies: `producer` depends on
    // `rg` through `sb`, so no arrow goes from `rg` straight to it.
    let edges = graph_edges(&out);
    assert!(edges.len() < 30, "{} edges: {out}", edges.len());
    assert!(
        out.contains("dependencies that longer paths imply are not drawn"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn flagship_policy_denial_comes_first() {
    let out = flagship_md("broken");
    // The denial is read before anything else, with its fix and where the rule is.
    let findings = out
        .find("> [!CAUTION]\n> **Findings — Policy: 1 denied")
        .expect("findings");
    assert!(findings < out.find("| Provider |").unwrap(), "{out}");
    assert!(
        out.contains("> - **deny** `sb` — `plinth.servicebus.deny`: Service Bus namespace sb allows local (SAS key) authentication. **Fix:** set properties.disableLocalAuth = true in its body; clients use their workload identity. (`policies/servicebus.rego`)"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn flagship_replacement_of_the_cluster() {
    let out = flagship_md("replace");
    // The cluster first, then its Kubernetes objects on one line, not one reason each.
    let caution = out.find("> [!CAUTION]").expect("caution");
    let aks = out.find("> - **replace** `aks`").expect("aks");
    let objects = out
        .find("> - 5 Kubernetes objects are replaced because their cluster `aks` is replaced: ")
        .expect("the cascade, grouped");
    assert!(caution < aks && aks < objects, "{out}");
    assert!(!out.contains("which its provider's settings name"), "{out}");
    assert!(
        out.contains("3 Kubernetes objects are replaced because their cluster `aks` is replaced."),
        "{out}"
    );
    assert!(
        out.contains(
            "- **replace** `keda_operator_identity[0]` (k8s:fields) — goes with its cluster `aks`"
        ),
        "{out}"
    );
    // A replaced object's bookkeeping going unknown is not listed.
    assert!(!out.contains("metadata.resourceVersion"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn flagship_drift() {
    let out = flagship_md("drift");
    let drift = out.find("### Changes made outside plinth").expect("drift");
    let unmanaged = out
        .find("### Changed outside plinth, not managed here")
        .expect("unmanaged drift");
    let changes = out.find("### Changes\n").expect("changes");
    assert!(drift < unmanaged && unmanaged < changes, "{out}");
    // The TLS downgrade, which the configuration does not set, is shown apart with how to
    // enforce it; and the policy denies it, at the top.
    let tls = out
        .find("| `properties.minimumTlsVersion` | `\"1.2\"` | `\"1.0\"` |")
        .expect("tls");
    assert!(unmanaged < tls && tls < changes, "{out}");
    assert!(
        out.contains("To enforce: `lifecycle.manage = [\"properties.minimumTlsVersion\"]`"),
        "{out}"
    );
    assert!(
        out.find("accepts TLS 1.0").unwrap() < out.find("| Provider |").unwrap(),
        "{out}"
    );
    assert!(out.contains("<code>sb</code> (azure:Microsoft.ServiceBus/namespaces@2024-01-01) — undoes a change made outside plinth"), "{out}");
    assert!(!out.contains("so it is kept"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn flagship_destroy() {
    let out = flagship_md("destroy");
    // Drift on an object the plan destroys says so (it is not "kept").
    assert!(
        out.contains("1 attribute changed; this plan destroys the object"),
        "{out}"
    );
    assert!(!out.contains("kept"), "{out}");
    // The biggest blast radius first, and the one reason said once.
    let intro = "> This plan **destroys 13 resources** (destroy requested).";
    assert!(out.contains(intro), "{out}");
    assert_eq!(out.matches("destroy requested").count(), 13 + 1, "{out}");
    let aks = out.find("> - **destroy** `aks`").unwrap();
    let rg = out.find("> - **destroy** `rg`").unwrap();
    let queue = out.find("> - **destroy** `queue`").unwrap();
    assert!(aks < rg && rg < queue, "{out}");
    // A destroy is its id, not rows of status.
    assert!(out.contains("- **destroy** `aks` (azure:Microsoft.ContainerService/managedClusters@2025-10-01) — destroy requested; id `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/kedademo-rg/providers/Microsoft.ContainerService/managedClusters/kedademo-aks`"), "{out}");
    assert!(!out.contains("properties.provisioningState"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_rotated_secret_is_an_update_of_a_hidden_value() {
    // A Kubernetes Secret's stringData is write-only: the object reports it under data, and
    // the plan says where (attribute_paths), so the rotation reads sensitive → sensitive.
    let hidden = |s: &str| Value::sensitive(Value::from(s));
    let mut c = change(
        "db_secret",
        Action::Update,
        json!({"data": {}}),
        json!({"data": {}}),
        &["manifest.stringData.password"],
    );
    c.type_name = "k8s:v1/Secret".into();
    c.before
        .as_mut()
        .unwrap()
        .set(&path("data.password"), hidden("b2xkLXNlY3JldA=="));
    c.after
        .as_mut()
        .unwrap()
        .set(&path("data.password"), hidden("bmV3LXNlY3JldA=="));
    c.config = Some(Value::from(json!({"manifest": {"stringData": {}}})));
    c.config
        .as_mut()
        .unwrap()
        .set(&path("manifest.stringData.password"), hidden("new-secret"));
    c.attribute_paths = vec![(path("manifest.stringData.password"), path("data.password"))];
    let out = md(&plan_of(vec![c]));
    assert!(
        out.contains("| `manifest.stringData.password` | *(sensitive)* | *(sensitive)* |"),
        "{out}"
    );
    assert!(!out.contains("(none)"), "{out}");
    for s in ["new-secret", "bmV3", "b2xk"] {
        assert!(!out.contains(s), "{s}: {out}");
    }
}

//! The facts a reviewer needs that the text, Markdown and JSON renderings share, as pure
//! functions of a [`Plan`] or a [`ResourceChange`]: which attributes of a create are worth
//! showing (and how many were left out as the service's bookkeeping), the parent of an
//! Azure resource, replacements grouped by the change that causes them, a reason as plain
//! text, the blast radius of a type (for ordering caution lists), the annotation of an
//! attribute, which changes undo drift, and how many objects a plan destroys.
//!
//! Nothing here writes Markdown or colours text: a rendering builds its words from these
//! facts. Uses `grouping` (the provider of a type) only.

use plinth_plan::{Action, CascadeVia, DeclKind, Drift, Plan, ResourceChange};
use plinth_value::{Path, Value};

use crate::grouping::provider_of;

/// The attributes a create (or a read) shows: its `after` leaf paths with a value, less
/// those under one of the change's [`ResourceChange::bookkeeping`] paths.
pub(crate) struct CreateAttributes {
    /// The paths shown, in `after`'s order (depth-first). The root path when `after` is a
    /// scalar.
    pub(crate) shown: Vec<Path>,
    /// How many leaf paths were left out as bookkeeping.
    pub(crate) hidden: usize,
}

/// Whether `p` is bookkeeping of `c`: it is, or lies inside, one of `c.bookkeeping`.
pub(crate) fn is_bookkeeping(c: &ResourceChange, p: &Path) -> bool {
    c.bookkeeping.iter().any(|b| p.starts_with(b))
}

/// The attributes a create shows and how many bookkeeping ones it leaves out. A null
/// leaf is neither shown nor counted (it says nothing). Empty without `after`.
pub(crate) fn create_attributes(c: &ResourceChange) -> CreateAttributes {
    let mut out = CreateAttributes {
        shown: vec![],
        hidden: 0,
    };
    let Some(after) = &c.after else {
        return out;
    };
    for p in after.leaf_paths() {
        if matches!(after.get(&p), None | Some(Value::Null)) {
            continue;
        }
        if is_bookkeeping(c, &p) {
            out.hidden += 1;
        } else {
            out.shown.push(p);
        }
    }
    out
}

/// "12 attributes the service fills in" (without parentheses); `None` when none were hidden.
pub(crate) fn hidden_text(hidden: usize) -> Option<String> {
    match hidden {
        0 => None,
        1 => Some("1 attribute the service fills in".into()),
        n => Some(format!("{n} attributes the service fills in")),
    }
}

/// The parent of an Azure resource: its ARM id, and the address of the change in the plan
/// whose id that is (when one is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parent {
    /// The ARM id, as the configuration gives it.
    pub(crate) id: String,
    /// The address of the change in the plan with that id (ids compare case-insensitively,
    /// as ARM's do).
    pub(crate) address: Option<String>,
}

/// The parent of `c` (an Azure resource), resolved to the address of the change in `plan`
/// with that id: `config.parent`; without a configuration (a delete), the parent the ARM id
/// names (see [`arm_parent_id`]). `None` for other providers, a resource group, and when
/// the parent is unknown at plan time.
pub(crate) fn parent(plan: &Plan, c: &ResourceChange) -> Option<Parent> {
    if provider_of(&c.type_name) != "azure" {
        return None;
    }
    let id = match &c.config {
        Some(config) => config
            .get(&Path::root().key("parent"))?
            .unmarked()
            .as_str()?
            .to_string(),
        None if blast_rank(&c.type_name) == 2 => return None,
        None => arm_parent_id(c.id.as_deref()?)?,
    };
    let address = plan
        .changes
        .iter()
        .find(|o| {
            o.address != c.address
                && o.kind == DeclKind::Resource
                && o.id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(&id))
        })
        .map(|o| o.address.clone());
    Some(Parent { id, address })
}

/// The id of the parent an ARM id names: a child's parent resource
/// (`…/namespaces/sb/queues/q` → `…/namespaces/sb`), a top-level resource's resource group
/// or an extension resource's scope (`{scope}/providers/NS/type/name` → `{scope}`). `None`
/// for an id too short to have one.
pub(crate) fn arm_parent_id(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    // ["", "subscriptions", s, ...]: a parent keeps at least the subscription.
    if segs.len() < 5 {
        return None;
    }
    let mut keep = segs.len() - 2;
    if keep >= 2 && segs[keep - 2].eq_ignore_ascii_case("providers") {
        keep -= 2;
    }
    (keep >= 3).then(|| segs[..keep].join("/"))
}

/// The parent as one line of plain text: `rg (/subscriptions/…/resourceGroups/demo)`, or the
/// id alone when no change in the plan has it.
pub(crate) fn parent_text(p: &Parent) -> String {
    match &p.address {
        Some(a) => format!("{a} ({})", p.id),
        None => p.id.clone(),
    }
}

/// Replacements caused by one change (see [`ResourceChange::cascade`]).
pub(crate) struct CascadeGroup<'a> {
    /// The address of the cause (`aks`).
    pub(crate) cause: &'a str,
    /// The cause's change, when it is in the plan.
    pub(crate) cause_change: Option<&'a ResourceChange>,
    /// How the replaced objects are tied to the cause.
    pub(crate) via: CascadeVia,
    /// The replaced objects, in plan order.
    pub(crate) changes: Vec<&'a ResourceChange>,
}

/// The changes of `changes` that are replaced because another is, grouped by cause and
/// tie, in the order each cause first appears.
pub(crate) fn cascade_groups<'a>(
    plan: &'a Plan,
    changes: &[&'a ResourceChange],
) -> Vec<CascadeGroup<'a>> {
    let mut groups: Vec<CascadeGroup<'a>> = Vec::new();
    for c in changes {
        let Some(k) = &c.cascade else { continue };
        match groups
            .iter_mut()
            .find(|g| g.cause == k.cause && g.via == k.via)
        {
            Some(g) => g.changes.push(c),
            None => groups.push(CascadeGroup {
                cause: &k.cause,
                cause_change: plan.change(&k.cause),
                via: k.via,
                changes: vec![c],
            }),
        }
    }
    groups
}

/// What the objects of a group are, counted: `6 Kubernetes objects`, `1 Azure resource`,
/// `2 objects` (mixed or other providers).
pub(crate) fn objects_text(changes: &[&ResourceChange]) -> String {
    let providers: Vec<&str> = changes.iter().map(|c| provider_of(&c.type_name)).collect();
    let all = |p: &str| !providers.is_empty() && providers.iter().all(|x| *x == p);
    let (one, many) = if all("k8s") {
        ("Kubernetes object", "Kubernetes objects")
    } else if all("azure") {
        ("Azure resource", "Azure resources")
    } else {
        ("object", "objects")
    };
    match changes.len() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// The parts of a cascade group's sentence, so that a rendering can set the cause's
/// address as code: `(before, cause, after)` with `before + cause + after` the plain text
/// (see [`cascade_text`]).
pub(crate) fn cascade_parts(g: &CascadeGroup<'_>) -> (String, String, String) {
    let n = g.changes.len();
    let are = if n == 1 { "is" } else { "are" };
    let objects = objects_text(&g.changes);
    let cause_replaced = g
        .cause_change
        .is_none_or(|c| matches!(c.action, Action::Replace | Action::Delete));
    let cause_done = if cause_replaced {
        "is replaced"
    } else {
        "changes"
    };
    let their = if n == 1 { "its" } else { "their" };
    match g.via {
        CascadeVia::ProviderSettings => {
            let what = match g.cause_change.map(|c| blast_rank(&c.type_name)) {
                Some(0) => "cluster ",
                _ => "",
            };
            let lives = if what.is_empty() {
                format!(", which {their} provider's settings name, ")
            } else {
                " ".into()
            };
            (
                format!("{objects} {are} replaced because {their} {what}"),
                g.cause.to_string(),
                format!("{lives}{cause_done}"),
            )
        }
        CascadeVia::ReplaceTriggeredBy => (
            format!("{objects} {are} replaced because {their} replace_triggered_by names "),
            g.cause.to_string(),
            format!(", which {cause_done}"),
        ),
    }
}

/// A cascade group as one plain sentence (no Markdown): `6 Kubernetes objects are replaced
/// because their cluster aks is replaced`.
pub(crate) fn cascade_text(g: &CascadeGroup<'_>) -> String {
    let (a, b, c) = cascade_parts(g);
    format!("{a}{b}{c}")
}

/// A reason as plain text: the engine writes code in backticks (`` `aks`, which ... ``);
/// balanced backticks are dropped, keeping what they quote. Unbalanced ones are kept.
pub(crate) fn plain_reason(reason: &str) -> String {
    if reason.matches('`').count().is_multiple_of(2) {
        reason.replace('`', "")
    } else {
        reason.to_string()
    }
}

/// The blast radius of a type, smallest first: 0 an AKS cluster (it takes every
/// Kubernetes object in it), 1 a Kubernetes Namespace, 2 a resource group, 3 anything else.
/// Caution lists sort by it (stably) so that the biggest loss is read first.
pub(crate) fn blast_rank(type_name: &str) -> u8 {
    let (provider, rest) = type_name.split_once(':').unwrap_or(("", type_name));
    let ty = rest.split('@').next().unwrap_or(rest);
    match provider {
        "azure" if ty.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters") => 0,
        "k8s" if ty == "v1/Namespace" => 1,
        "azure" if ty.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") => 2,
        _ => 3,
    }
}

/// `changes` ordered by [`blast_rank`], keeping the given order within a rank.
pub(crate) fn by_blast_radius<'a>(changes: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    let mut out = changes.to_vec();
    out.sort_by_key(|c| blast_rank(&c.type_name));
    out
}

/// The provider's note on the attribute at `p` (an attribute path), if it gave one.
pub(crate) fn annotation<'a>(c: &'a ResourceChange, p: &Path) -> Option<&'a str> {
    c.annotations
        .iter()
        .find(|a| &a.path == p)
        .map(|a| a.note.as_str())
}

/// The drift refresh found on `address` that a review sees (not a settled record).
pub(crate) fn drift_of<'a>(plan: &'a Plan, address: &str) -> Option<&'a Drift> {
    plan.drift
        .iter()
        .find(|d| d.address == address && !d.reconciled && is_managed_drift(d))
}

/// Whether the change puts back something changed outside plinth: the engine says so
/// (`drift`), or it is an update or a replacement of an object whose drift touches one of
/// the paths it changes (in attribute paths; a path inside another counts) — a mixed
/// update that also changes what the configuration changed, and a replacement that
/// re-creates the object with its declared values, both undo the drift on those paths.
/// A create after a delete outside plinth is not this ("re-creates" says it).
pub(crate) fn undoes_drift(plan: &Plan, c: &ResourceChange) -> bool {
    if c.drift {
        return true;
    }
    if !matches!(c.action, Action::Update | Action::Replace) {
        return false;
    }
    let Some(d) = drift_of(plan, &c.address) else {
        return false;
    };
    if d.action != Action::Update {
        return false;
    }
    if c.action == Action::Replace {
        // The new object has the declared values of every path the drift changed (drift
        // lists only paths the configuration sets).
        return !d.changed_paths.is_empty();
    }
    c.changed_paths.iter().any(|p| {
        let ap = c.attribute_path(p);
        d.changed_paths.iter().any(|q| q.overlaps(ap))
    })
}

/// How many objects apply destroys: each deleted resource, and the old object of each
/// replacement. (Forgotten objects stay; data sources are only removed from state.)
pub(crate) fn destroyed_count(plan: &Plan) -> usize {
    plan.changes
        .iter()
        .filter(|c| {
            c.kind == DeclKind::Resource && matches!(c.action, Action::Delete | Action::Replace)
        })
        .count()
}

/// Whether drift belongs in the drift section proper ("changes outside plinth"): the
/// object was deleted, a record was settled, or a path the configuration sets changed.
/// Drift only in what the configuration does not set is shown apart (see
/// [`unmanaged_drift`]), though [`Drift::is_reportable`] counts it too.
pub(crate) fn is_managed_drift(d: &Drift) -> bool {
    d.reconciled || d.action == Action::Delete || !d.changed_paths.is_empty()
}

/// The drifts with changes outside plinth to paths the configuration does not set
/// ([`Drift::unmanaged_paths`]), in plan order: informational, never planned back.
///
/// A record settled from an interrupted run is among them when it has some: a delete that
/// never reached the object leaves the object as it was recorded, so what changed there
/// since is as much a change outside plinth as on any other object, and the apply of the
/// plan records it (state must not take values nobody was shown). A settled create has
/// none: its record held no attributes to compare, so refresh lists everything it found as
/// what the record takes.
pub(crate) fn unmanaged_drift(plan: &Plan) -> Vec<&Drift> {
    plan.drift
        .iter()
        .filter(|d| !d.unmanaged_paths.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_plan::{Annotation, Cascade, PLAN_FORMAT, PlanMode};
    use serde_json::json;

    fn p(s: &str) -> Path {
        s.parse().unwrap()
    }

    fn change(address: &str, type_name: &str, action: Action) -> ResourceChange {
        ResourceChange::new(address, type_name, DeclKind::Resource, action)
    }

    fn plan(changes: Vec<ResourceChange>, drift: Vec<Drift>) -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            mode: PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: Default::default(),
            changes,
            outputs: vec![],
            drift,
            warnings: vec![],
            targets: vec![],
            checks: vec![],
            findings: vec![],
        }
    }

    const RG: &str = "azure:Microsoft.Resources/resourceGroups@2024-03-01";
    const AKS: &str = "azure:Microsoft.ContainerService/managedClusters@2024-09-01";

    #[test]
    fn creates_leave_out_bookkeeping_and_count_it() {
        let mut c = change("cm", "k8s:v1/ConfigMap", Action::Create);
        let mut after = Value::from(json!({
            "metadata": {"name": "x", "uid": null, "resourceVersion": null,
                         "annotations": {"a": "b"}},
            "data": {"k": "v"}, "status": {"phase": null, "ready": null}, "gone": null
        }));
        for q in [
            "metadata.uid",
            "metadata.resourceVersion",
            "status.phase",
            "status.ready",
        ] {
            after.set(&p(q), Value::Unknown);
        }
        c.after = Some(after);
        c.bookkeeping = vec![
            p("metadata.uid"),
            p("metadata.resourceVersion"),
            p("status"),
        ];
        let a = create_attributes(&c);
        let shown: Vec<String> = a.shown.iter().map(Path::to_string).collect();
        assert_eq!(shown, ["data.k", "metadata.annotations.a", "metadata.name"]);
        assert_eq!(a.hidden, 4);
        assert_eq!(
            hidden_text(a.hidden).as_deref(),
            Some("4 attributes the service fills in")
        );
        assert_eq!(hidden_text(0), None);
    }

    #[test]
    fn parents_resolve_to_the_address_with_that_id_whatever_its_case() {
        let mut rg = change("rg", RG, Action::Create);
        rg.id = Some("/subscriptions/s/resourceGroups/Demo".into());
        let mut ra = change(
            "ra",
            "azure:Microsoft.Authorization/roleAssignments@2022-04-01",
            Action::Create,
        );
        ra.config = Some(Value::from(
            json!({"parent": "/subscriptions/s/resourcegroups/demo"}),
        ));
        let mut orphan = ra.clone();
        orphan.address = "orphan".into();
        orphan.config = Some(Value::from(json!({"parent": "/subscriptions/s/other"})));
        let mut unknown = ra.clone();
        unknown.address = "later".into();
        unknown.config = Some(Value::from(json!({"parent": null})));
        unknown
            .config
            .as_mut()
            .unwrap()
            .set(&p("parent"), Value::Unknown);
        let k8s = change("cm", "k8s:v1/ConfigMap", Action::Create);
        let pl = plan(vec![rg, ra, orphan, unknown, k8s], vec![]);
        let got = parent(&pl, &pl.changes[1]).unwrap();
        assert_eq!(got.address.as_deref(), Some("rg"));
        assert_eq!(
            parent_text(&got),
            "rg (/subscriptions/s/resourcegroups/demo)"
        );
        let got = parent(&pl, &pl.changes[2]).unwrap();
        assert_eq!(parent_text(&got), "/subscriptions/s/other");
        assert_eq!(parent(&pl, &pl.changes[3]), None);
        assert_eq!(parent(&pl, &pl.changes[4]), None);
    }

    #[test]
    fn arm_ids_name_their_parent() {
        let rg = "/subscriptions/s/resourceGroups/g";
        assert_eq!(
            arm_parent_id(&format!(
                "{rg}/providers/Microsoft.ServiceBus/namespaces/sb"
            ))
            .as_deref(),
            Some(rg)
        );
        assert_eq!(
            arm_parent_id(&format!(
                "{rg}/providers/Microsoft.ServiceBus/namespaces/sb/queues/q"
            ))
            .as_deref(),
            Some(&*format!(
                "{rg}/providers/Microsoft.ServiceBus/namespaces/sb"
            ))
        );
        let sb = format!("{rg}/providers/Microsoft.ServiceBus/namespaces/sb");
        assert_eq!(
            arm_parent_id(&format!(
                "{sb}/providers/Microsoft.Authorization/roleAssignments/1"
            ))
            .as_deref(),
            Some(&*sb)
        );
        assert_eq!(arm_parent_id(rg).as_deref(), Some("/subscriptions/s"));
        assert_eq!(arm_parent_id("/subscriptions/s"), None);
        // A delete has no configuration: its id names the parent.
        let mut q = change(
            "q",
            "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01",
            Action::Delete,
        );
        q.id = Some(format!("{sb}/queues/q"));
        let mut ns = change(
            "sb",
            "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
            Action::Delete,
        );
        ns.id = Some(sb.to_uppercase());
        let mut group = change("rg", RG, Action::Delete);
        group.id = Some(rg.into());
        let pl = plan(vec![q, ns, group], vec![]);
        assert_eq!(
            parent(&pl, &pl.changes[0])
                .and_then(|p| p.address)
                .as_deref(),
            Some("sb")
        );
        assert_eq!(
            parent(&pl, &pl.changes[1])
                .and_then(|p| p.address)
                .as_deref(),
            Some("rg")
        );
        assert_eq!(parent(&pl, &pl.changes[2]), None);
    }

    #[test]
    fn cascades_are_grouped_by_cause_in_plain_words() {
        let aks = change("aks", AKS, Action::Replace);
        let mut objs = vec![aks];
        for name in ["ns", "sa", "job"] {
            let mut c = change(name, "k8s:v1/ServiceAccount", Action::Replace);
            c.cascade = Some(Cascade {
                cause: "aks".into(),
                via: CascadeVia::ProviderSettings,
            });
            objs.push(c);
        }
        let mut trig = change("cfg", "core:data", Action::Replace);
        trig.cascade = Some(Cascade {
            cause: "ver".into(),
            via: CascadeVia::ReplaceTriggeredBy,
        });
        objs.push(trig);
        let mut ver = change("ver", "core:data", Action::Update);
        ver.address = "ver".into();
        objs.push(ver);
        let pl = plan(objs, vec![]);
        let refs: Vec<&ResourceChange> = pl.changes.iter().collect();
        let groups = cascade_groups(&pl, &refs);
        let texts: Vec<String> = groups.iter().map(cascade_text).collect();
        assert_eq!(
            texts,
            [
                "3 Kubernetes objects are replaced because their cluster aks is replaced",
                "1 object is replaced because its replace_triggered_by names ver, which changes",
            ]
        );
        assert_eq!(groups[0].changes.len(), 3);
        assert_eq!(
            cascade_parts(&groups[0]).1,
            "aks",
            "the cause is its own part, for a code span"
        );
    }

    #[test]
    fn a_cause_that_is_not_a_cluster_is_named_by_its_tie() {
        let mut c = change("cm", "k8s:v1/ConfigMap", Action::Replace);
        c.cascade = Some(Cascade {
            cause: "kube".into(),
            via: CascadeVia::ProviderSettings,
        });
        let pl = plan(vec![c], vec![]);
        let refs: Vec<&ResourceChange> = pl.changes.iter().collect();
        assert_eq!(
            cascade_text(&cascade_groups(&pl, &refs)[0]),
            "1 Kubernetes object is replaced because its kube, which its provider's settings name, is replaced"
        );
    }

    #[test]
    fn reasons_lose_balanced_backticks_only() {
        assert_eq!(
            plain_reason("`aks`, which its provider's settings name, is replaced"),
            "aks, which its provider's settings name, is replaced"
        );
        assert_eq!(plain_reason("a ` b"), "a ` b");
    }

    #[test]
    fn blast_radius_puts_clusters_namespaces_and_groups_first() {
        let q = change(
            "q",
            "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01",
            Action::Delete,
        );
        let rg = change("rg", RG, Action::Delete);
        let ns = change("ns", "k8s:v1/Namespace", Action::Delete);
        let aks = change("aks", AKS, Action::Replace);
        let cm = change("cm", "k8s:v1/ConfigMap", Action::Delete);
        let order: Vec<&str> = by_blast_radius(&[&q, &rg, &cm, &ns, &aks])
            .iter()
            .map(|c| c.address.as_str())
            .collect();
        assert_eq!(order, ["aks", "ns", "rg", "q", "cm"]);
    }

    #[test]
    fn annotations_are_found_by_attribute_path() {
        let mut c = change("ra", "azure:x", Action::Create);
        c.annotations = vec![Annotation {
            path: p("properties.roleDefinitionId"),
            note: "Azure Service Bus Data Owner".into(),
        }];
        assert_eq!(
            annotation(&c, &p("properties.roleDefinitionId")),
            Some("Azure Service Bus Data Owner")
        );
        assert_eq!(annotation(&c, &p("properties")), None);
    }

    fn drift(address: &str, paths: &[&str]) -> Drift {
        Drift {
            address: address.into(),
            type_name: "azure:x".into(),
            action: Action::Update,
            before: None,
            after: None,
            changed_paths: paths.iter().map(|s| p(s)).collect(),
            id: None,
            reconciled: false,
            unmanaged_paths: vec![],
        }
    }

    #[test]
    fn mixed_updates_and_replacements_undo_drift_on_their_paths() {
        let mut mixed = change("sb", "azure:x", Action::Update);
        mixed.changed_paths = vec![p("body.properties.disableLocalAuth"), p("body.tags")];
        mixed.attribute_paths = vec![
            (
                p("body.properties.disableLocalAuth"),
                p("properties.disableLocalAuth"),
            ),
            (p("body.tags"), p("tags")),
        ];
        let mut other = change("kv", "azure:x", Action::Update);
        other.changed_paths = vec![p("tags.env")];
        let mut replaced = change("aks", "azure:x", Action::Replace);
        replaced.changed_paths = vec![p("location")];
        let created = change("new", "azure:x", Action::Create);
        let pl = plan(
            vec![mixed, other, replaced, created],
            vec![
                drift("sb", &["properties.disableLocalAuth"]),
                drift("kv", &["properties.sku"]),
                drift("aks", &["properties.dnsPrefix"]),
                drift("new", &["x"]),
            ],
        );
        let got: Vec<bool> = pl.changes.iter().map(|c| undoes_drift(&pl, c)).collect();
        assert_eq!(got, [true, false, true, false]);
    }

    /// What apply records of a settled record (its unmanaged paths) is what renderings show:
    /// the settled object's changes outside plinth are in the unmanaged section too.
    #[test]
    fn a_settled_records_unmanaged_drift_is_shown() {
        let mut settled = drift("sb", &[]);
        settled.reconciled = true;
        settled.unmanaged_paths = vec![p("properties.minimumTlsVersion")];
        settled.before = Some(Value::from(
            json!({"properties": {"minimumTlsVersion": "1.2"}}),
        ));
        settled.after = Some(Value::from(
            json!({"properties": {"minimumTlsVersion": "1.0"}}),
        ));
        let mut created = drift("q", &["properties"]);
        created.reconciled = true;
        let pl = plan(vec![], vec![settled, created]);
        let shown: Vec<&str> = unmanaged_drift(&pl)
            .iter()
            .map(|d| d.address.as_str())
            .collect();
        assert_eq!(shown, ["sb"]);
        let text = crate::text::plan_text(&pl, &Default::default());
        assert!(
            text.contains("Changed outside plinth, not managed here")
                && text.contains("~ properties.minimumTlsVersion = \"1.2\" -> \"1.0\""),
            "{text}"
        );
        assert!(text.contains("Settled from an interrupted run:"), "{text}");
    }

    #[test]
    fn a_replace_destroys_one_object_and_a_forget_none() {
        let mut data = change("data.x", "core:data", Action::Delete);
        data.kind = DeclKind::Data;
        let pl = plan(
            vec![
                change("a", "core:data", Action::Delete),
                change("b", "core:data", Action::Replace),
                change("c", "core:data", Action::Forget),
                change("d", "core:data", Action::Create),
                data,
            ],
            vec![],
        );
        assert_eq!(destroyed_count(&pl), 2);
    }
}

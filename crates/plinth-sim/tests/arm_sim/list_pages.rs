//! Typed collection lists as ARM pages them: full GET bodies, `$top` where the collection
//! takes it, every page one read from the subscription's bucket and in the request log, role
//! assignments at, above and below a scope, and the one-shot hooks between two pages.

use super::*;

/// Every item of a list, following `nextLink`, and the number of pages read.
async fn all_pages(s: &Sim, first: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(p) = next {
        let r = s.get(&p).await;
        assert_eq!(r.status, 200, "{p}: {}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        pages += 1;
        items.extend(v["value"].as_array().unwrap().iter().cloned());
        next = v["nextLink"].as_str().map(|l| s.local(l));
    }
    (items, pages)
}

fn identities(rg: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30",
        rg_id(rg)
    )
}

#[tokio::test]
async fn list_items_are_get_bodies_and_pages_are_reads() {
    let s = sim().await;
    s.rg("rg").await;
    for i in 0..5 {
        s.put(
            &uai_path("rg", &format!("u{i}")),
            json!({"location": "eastus", "tags": {"n": i.to_string()}}),
        )
        .await;
    }
    s.settings(json!({"page_size": 2})).await;
    s.admin("POST", "/_sim/throttle/refill", None).await;
    let before = s.admin("GET", "/_sim/requests", None).await.json();
    let before = before.as_array().unwrap().len();
    // The first page draws one read token: 250 - 1 left.
    let r = s.get(&identities("rg")).await;
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("249")
    );
    let next = r.json()["nextLink"].as_str().unwrap().to_string();
    assert!(next.starts_with("http"), "nextLink is absolute: {next}");
    assert!(next.contains("%24skiptoken=2"), "{next}");
    let r = s.get(&s.local(&next)).await;
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("248")
    );
    let (items, pages) = all_pages(&s, &identities("rg")).await;
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 5);
    for item in &items {
        let id = item["id"].as_str().unwrap();
        let get = s.get(&format!("{id}?api-version=2024-11-30")).await.json();
        assert_eq!(item, &get, "the list item of {id} is its GET body");
    }
    // Every page is in the request log: 2 + 3 list pages, 5 GETs.
    let log = s.admin("GET", "/_sim/requests", None).await.json();
    let new: Vec<&Value> = log.as_array().unwrap()[before..].iter().collect();
    let lists = new
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .ends_with("/userAssignedIdentities")
        })
        .count();
    assert_eq!(lists, 5);

    // Federated credentials: a child collection, items as GET answers them; a missing
    // identity answers 404 as its GET would.
    let uai = uai_path("rg", "u0");
    let base = uai.split('?').next().unwrap().to_string();
    for i in 0..3 {
        let r = s
            .put(
                &format!("{base}/federatedIdentityCredentials/f{i}?api-version=2024-11-30"),
                json!({"properties": {"issuer": "https://issuer.example", "subject": format!("system:serviceaccount:ns:sa{i}"), "audiences": ["api://AzureADTokenExchange"]}}),
            )
            .await;
        assert!(r.status == 200 || r.status == 201, "{}", r.status);
    }
    let (fics, pages) = all_pages(
        &s,
        &format!("{base}/federatedIdentityCredentials?api-version=2024-11-30"),
    )
    .await;
    assert_eq!((fics.len(), pages), (3, 2));
    let get = s
        .get(&format!(
            "{base}/federatedIdentityCredentials/f1?api-version=2024-11-30"
        ))
        .await
        .json();
    assert_eq!(fics[1], get);
    // $top where the collection takes it wins over the page size.
    let v = s
        .get(&format!(
            "{base}/federatedIdentityCredentials?api-version=2024-11-30&$top=3"
        ))
        .await
        .json();
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    assert!(v.get("nextLink").is_none());
    let missing = uai_path("rg", "nope");
    let missing = missing.split('?').next().unwrap();
    let r = s
        .get(&format!(
            "{missing}/federatedIdentityCredentials?api-version=2024-11-30"
        ))
        .await;
    // As ARM answers a read of the missing parent itself.
    assert_eq!(
        (r.status, r.code()),
        (404, s.get(&uai_path("rg", "nope")).await.code())
    );
    assert_eq!(r.code(), "ResourceNotFound");
    let r = s.get(&identities("nogroup")).await;
    assert_eq!(
        (r.status, r.code()),
        (404, "ResourceGroupNotFound".to_string())
    );
}

#[tokio::test]
async fn queues_take_top_and_carry_it_in_next_link() {
    let s = sim().await;
    s.rg("rg").await;
    let ns = ns_id("rg", "bulkns");
    let r = s
        .put(
            &format!("{ns}?api-version=2024-01-01"),
            json!({"location": "eastus", "sku": {"name": "Standard"}}),
        )
        .await;
    assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
    for i in 0..5 {
        s.put(
            &format!("{ns}/queues/q{i}?api-version=2024-01-01"),
            json!({"properties": {}}),
        )
        .await;
    }
    let v = s
        .get(&format!("{ns}/queues?api-version=2024-01-01&$top=2"))
        .await
        .json();
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let next = v["nextLink"].as_str().unwrap();
    assert!(
        next.contains("%24top=2") && next.contains("%24skiptoken=2"),
        "{next}"
    );
    let (items, pages) = all_pages(&s, &format!("{ns}/queues?api-version=2024-01-01&$top=2")).await;
    assert_eq!((items.len(), pages), (5, 3));
    let get = s
        .get(&format!("{ns}/queues/q4?api-version=2024-01-01"))
        .await
        .json();
    assert_eq!(items[4], get);
}

#[tokio::test]
async fn role_assignments_at_above_and_below_a_scope() {
    let s = sim().await;
    s.rg("rg").await;
    let principal = s
        .put(&uai_path("rg", "app"), json!({"location": "eastus"}))
        .await
        .json()["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let role = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    );
    let ns = ns_id("rg", "rans");
    s.put(
        &format!("{ns}?api-version=2024-01-01"),
        json!({"location": "eastus", "sku": {"name": "Standard"}}),
    )
    .await;
    let sub_scope = format!("/subscriptions/{SUB}");
    let rg_scope = rg_id("rg");
    let scopes = [
        (sub_scope.as_str(), "10000000-0000-0000-0000-000000000001"),
        (rg_scope.as_str(), "20000000-0000-0000-0000-000000000002"),
        (ns.as_str(), "30000000-0000-0000-0000-000000000003"),
    ];
    for (scope, name) in scopes {
        let r = s
            .put(&ra_path(scope, name), json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}))
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    }
    let names = |v: Vec<Value>| {
        let mut n: Vec<String> = v
            .iter()
            .map(|i| i["name"].as_str().unwrap()[..1].to_string())
            .collect();
        n.sort();
        n
    };
    let at_group = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
        rg_id("rg")
    );
    // No filter: at, above (the subscription's, inherited) and below (the namespace's).
    let (all, _) = all_pages(&s, &at_group).await;
    assert_eq!(names(all.clone()), ["1", "2", "3"]);
    let get = s
        .get(&ra_path(&ns, "30000000-0000-0000-0000-000000000003"))
        .await
        .json();
    assert!(all.contains(&get), "items are GET bodies");
    // atScope(): at and above only.
    let (at, _) = all_pages(&s, &format!("{at_group}&$filter=atScope()")).await;
    assert_eq!(names(at), ["1", "2"]);
    let at_ns = format!(
        "{ns}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"
    );
    let (at, _) = all_pages(&s, &at_ns).await;
    assert_eq!(names(at), ["1", "2", "3"]);
}

#[tokio::test]
async fn a_hook_changes_the_world_between_two_pages() {
    let s = sim().await;
    s.rg("rg").await;
    for i in 0..4 {
        s.put(
            &uai_path("rg", &format!("u{i}")),
            json!({"location": "eastus", "tags": {"v": "old"}}),
        )
        .await;
    }
    s.settings(json!({"page_size": 2})).await;
    let prefix = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        rg_id("rg")
    );
    let id = |n: &str| format!("{prefix}/{n}");
    // An exact hook does not count the credentials listed under an identity.
    let r = s
        .admin("POST", "/_sim/hooks", Some(json!({"prefix": prefix, "exact": true, "after": 2, "id": id("u1"), "merge": {"tags": {"v": "late"}}})))
        .await;
    assert_eq!(r.status, 200);
    let fics = format!(
        "{}/federatedIdentityCredentials?api-version=2024-11-30",
        id("u0")
    );
    assert_eq!(s.get(&fics).await.status, 200);
    let hooks = s.admin("GET", "/_sim/hooks", None).await.json();
    assert_eq!(hooks["hooks"][0]["pages"], 0);
    // Refused shapes.
    let r = s
        .admin(
            "POST",
            "/_sim/hooks",
            Some(json!({"prefix": prefix, "id": id("u2")})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidHook".to_string()));
    let r = s
        .admin("POST", "/_sim/hooks", Some(json!({"prefix": prefix, "after": 1, "id": id("u2"), "merge": {"tags": {"v": "new"}}})))
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .admin("POST", "/_sim/hooks", Some(json!({"prefix": prefix.to_uppercase(), "after": 1, "id": id("u3"), "delete": true})))
        .await;
    assert_eq!(r.json()["hooks"].as_array().unwrap().len(), 3);
    // A GET of one identity is no list page: nothing fires.
    s.get(&uai_path("rg", "u0")).await;
    assert_eq!(s.get(&uai_path("rg", "u3")).await.status, 200);
    // The first page shows the world before, the second after.
    let v = s.get(&identities("rg")).await.json();
    let first: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["u0", "u1"]);
    let v = s
        .get(&s.local(v["nextLink"].as_str().unwrap()))
        .await
        .json();
    let second = v["value"].as_array().unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["name"], "u2");
    assert_eq!(second[0]["tags"]["v"], "new");
    assert!(v.get("nextLink").is_none());
    assert_eq!(s.get(&uai_path("rg", "u3")).await.status, 404);
    let hooks = s.admin("GET", "/_sim/hooks", None).await.json();
    let hooks = hooks["hooks"].as_array().unwrap();
    for h in &hooks[1..] {
        assert_eq!(
            (h["fired"].as_bool(), h["outcome"].as_str()),
            (Some(true), Some("applied"))
        );
        assert_eq!(h["pages"], 1);
    }
    // The exact hook counted the two identity pages, not the credentials' list.
    assert_eq!(
        (hooks[0]["pages"].as_u64(), hooks[0]["fired"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(
        s.get(&uai_path("rg", "u1")).await.json()["tags"]["v"],
        "late"
    );
    // Spent hooks stay spent; DELETE clears them.
    s.get(&identities("rg")).await;
    let hooks = s.admin("DELETE", "/_sim/hooks", None).await.json();
    assert_eq!(hooks["hooks"].as_array().unwrap().len(), 0);
}

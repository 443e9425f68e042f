//! The built-in role table: role names and their definition GUIDs, both ways.

/// Built-in role definitions: (role name, GUID). The same GUIDs as Azure's (and the simulator's).
pub static BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
    (
        "Azure Service Bus Data Owner",
        "090c5cfd-751d-490a-894a-3ce6f1109419",
    ),
    (
        "Azure Service Bus Data Sender",
        "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    ),
    (
        "Azure Service Bus Data Receiver",
        "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    ),
    (
        "Azure Kubernetes Service Cluster User Role",
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    ),
    (
        "Managed Identity Operator",
        "f1a07417-d97a-45cb-824c-7a7467783830",
    ),
];

/// The built-in role a role definition id names, by its GUID (the table above, read the other
/// way): the id in any of its forms, compared ignoring case, `/providers/Microsoft.
/// Authorization/roleDefinitions/GUID` (as `azure.role_definition_id` writes it) or under a
/// scope, `/subscriptions/SUB/providers/...` (as ARM answers it). `None` for a GUID not in the
/// table (a custom role, or one plinth does not know): never a guess.
pub fn role_name(role_definition_id: &str) -> Option<&'static str> {
    let id = role_definition_id.trim().trim_end_matches('/');
    let segs: Vec<&str> = id.split('/').collect();
    let n = segs.len();
    if n < 5 || !segs[0].is_empty() {
        return None;
    }
    let tail_ok = segs[n - 4].eq_ignore_ascii_case("providers")
        && segs[n - 3].eq_ignore_ascii_case("Microsoft.Authorization")
        && segs[n - 2].eq_ignore_ascii_case("roleDefinitions");
    // The scope before `/providers/Microsoft.Authorization/...`: none, or whole segments.
    if !tail_ok || segs[1..n - 4].iter().any(|s| s.is_empty()) {
        return None;
    }
    let guid = uuid::Uuid::parse_str(segs[n - 1]).ok()?;
    BUILT_IN_ROLES
        .iter()
        .find(|(_, g)| uuid::Uuid::parse_str(g).is_ok_and(|g| g == guid))
        .map(|(name, _)| *name)
}

/// The tenant-relative id of a built-in role, by name (case-insensitive); the error suggests
/// the nearest name.
pub fn role_definition_id(name: &str) -> Result<String, String> {
    match BUILT_IN_ROLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
    {
        Some((_, guid)) => Ok(format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        )),
        None => {
            let hint = match plinth_expr::did_you_mean(name, BUILT_IN_ROLES.iter().map(|r| r.0)) {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!(
                    "known roles: {}",
                    BUILT_IN_ROLES
                        .iter()
                        .map(|r| r.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Err(format!("no built-in role named \"{name}\"; {hint}"))
        }
    }
}

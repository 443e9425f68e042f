//! Microsoft's Azure CLI (`az`, the pinned PyPI `azure-cli`) against `plinth sim serve
//! --tls`: registered as a custom cloud from the simulator's `/metadata/endpoints`, logged in
//! with a service principal, then every `az` command of the AKS KEDA workload identity guide
//! run as the guide writes it, in its order, with the guide's kubectl steps against the
//! cluster `az aks get-credentials` merged into ~/.kube/config, and the guide's clean-up.

#[path = "common/az.rs"]
mod az;
mod common;

use az::{TlsSim, az_cli, az_shell};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "0aa00000-0000-0000-0000-0000000000a1";

/// The custom-cloud login (what the guide assumes already done).
const LOGIN: &str = r#"
az cloud register -n plinthsim --endpoint-resource-manager "$SIM_URL"
az cloud set -n plinthsim
az login --service-principal -u "$CLIENT_ID" -p "$CLIENT_SECRET" --tenant "$TENANT" --output none
az account set --subscription "$(az account list --query '[0].id' --output tsv)"
"#;

/// The guide's commands, unmodified (its placeholders given values first).
const GUIDE: &[&str] = &[
    "az group create --name $RG_NAME --location $LOCATION",
    "az aks create \\\n--name $AKS_NAME \\\n--resource-group $RG_NAME \\\n--enable-workload-identity \\\n--enable-oidc-issuer \\\n--enable-keda \\\n--generate-ssh-keys",
    "az aks show \\\n--name $AKS_NAME \\\n--resource-group $RG_NAME \\\n--query \"[workloadAutoScalerProfile, securityProfile, oidcIssuerProfile]\"",
    "az aks get-credentials \\\n--name $AKS_NAME \\\n--resource-group $RG_NAME \\\n--overwrite-existing",
    "az servicebus namespace create \\\n--name $SB_NAME \\\n--resource-group $RG_NAME \\\n--disable-local-auth",
    "az servicebus queue create \\\n--name $SB_QUEUE_NAME \\\n--namespace $SB_NAME \\\n--resource-group $RG_NAME",
    "MI_CLIENT_ID=$(az identity create \\\n--name $MI_NAME \\\n--resource-group $RG_NAME \\\n--query \"clientId\" \\\n--output tsv)",
    "AKS_OIDC_ISSUER=$(az aks show \\\n--name $AKS_NAME \\\n--resource-group $RG_NAME \\\n--query oidcIssuerProfile.issuerUrl \\\n--output tsv)",
    "az identity federated-credential create \\\n--name $FED_WORKLOAD \\\n--identity-name $MI_NAME \\\n--resource-group $RG_NAME \\\n--issuer $AKS_OIDC_ISSUER \\\n--subject system:serviceaccount:default:$MI_NAME \\\n--audience api://AzureADTokenExchange",
    "az identity federated-credential create \\\n--name $FED_KEDA \\\n--identity-name $MI_NAME \\\n--resource-group $RG_NAME \\\n--issuer $AKS_OIDC_ISSUER \\\n--subject system:serviceaccount:kube-system:keda-operator \\\n--audience api://AzureADTokenExchange",
    "MI_OBJECT_ID=$(az identity show \\\n--name $MI_NAME \\\n--resource-group $RG_NAME \\\n--query \"principalId\" \\\n--output tsv)",
    "SB_ID=$(az servicebus namespace show \\\n--name $SB_NAME \\\n--resource-group $RG_NAME \\\n--query \"id\" \\\n--output tsv)",
    "az role assignment create \\\n--role \"Azure Service Bus Data Owner\" \\\n--assignee-object-id $MI_OBJECT_ID \\\n--assignee-principal-type ServicePrincipal \\\n--scope $SB_ID",
    "kubectl rollout restart deploy keda-operator -n kube-system",
    "az group delete --name $RG_NAME --yes --no-wait",
];

/// The guide's placeholders.
const VALUES: &str = r#"
LOCATION=eastus
RG_NAME=rg-keda-guide
AKS_NAME=aks-keda-guide
SB_NAME=sb-keda-guide
SB_HOSTNAME="${SB_NAME}.servicebus.windows.net"
SB_QUEUE_NAME=orders
MI_NAME=mi-keda-guide
FED_WORKLOAD=fed-workload
FED_KEDA=fed-keda
"#;

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// When the guide's text is at hand (the reference data of this repository's authors), the
/// commands above are checked to be its own, verbatim.
#[test]
fn the_commands_are_the_guides() {
    // $PLINTH_REFERENCE_DIR, else shared/reference beside an ancestor of the repository,
    // else the workplace's /work/shared/reference.
    let name = "aks-keda-workload-identity-guide.txt";
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("PLINTH_REFERENCE_DIR") {
        candidates.push(std::path::PathBuf::from(d).join(name));
    }
    for a in std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors() {
        candidates.push(a.join("shared/reference").join(name));
    }
    candidates.push(std::path::PathBuf::from("/work/shared/reference").join(name));
    let Some(text) = candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
    else {
        println!("SKIPPED: the guide's text is not in any of {candidates:?}");
        return;
    };
    let mut at = 0;
    for cmd in GUIDE {
        let found = text[at..].find(cmd).map(|i| i + at);
        let Some(i) = found else {
            panic!("not in the guide (after the previous command): {cmd}");
        };
        at = i + cmd.len();
    }
}

#[test]
fn the_guides_az_commands_run_against_the_simulator() {
    common::sim::require_kubectl();
    let Some(az) = az_cli() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let sim = TlsSim::start(tmp.path());

    // Each step echoes a marker, so a failure names the step it stopped at.
    let mut script = String::from("set -euo pipefail\n");
    script.push_str(LOGIN);
    script.push_str(VALUES);
    for (i, cmd) in GUIDE.iter().enumerate() {
        if cmd.starts_with("az group delete") {
            // The guide's kubectl checks, against the cluster, before it goes.
            script.push_str("echo '### kubectl'\nkubectl get pod -n kube-system -lapp=keda-operator\nkubectl get namespaces\n");
        }
        script.push_str(&format!("echo '### step {i}'\n{cmd}\n"));
    }
    script.push_str(
        "echo \"### values MI_CLIENT_ID=$MI_CLIENT_ID MI_OBJECT_ID=$MI_OBJECT_ID SB_ID=$SB_ID ISSUER=$AKS_OIDC_ISSUER\"\n\
         echo \"### exists $(az group exists --name $RG_NAME)\"\n",
    );
    let out = az_shell(&az, &sim, &home)
        .env("TENANT", TENANT)
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", "not-a-real-secret")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the guide's commands failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(
        !stdout.contains("not-a-real-secret") && !stderr.contains("not-a-real-secret"),
        "the secret was printed"
    );

    // What the guide's checks show.
    let aks_show = stdout
        .split("### step 2")
        .nth(1)
        .and_then(|s| s.split("### step 3").next())
        .unwrap();
    let profiles: serde_json::Value = serde_json::from_str(aks_show.trim()).unwrap();
    assert_eq!(profiles[0]["keda"]["enabled"], true, "{aks_show}");
    assert_eq!(profiles[1]["workloadIdentity"]["enabled"], true);
    assert_eq!(profiles[2]["enabled"], true);
    let values = stdout
        .lines()
        .find(|l| l.starts_with("### values"))
        .unwrap();
    let value = |k: &str| {
        values
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(is_guid(&value("MI_CLIENT_ID")), "{values}");
    assert!(is_guid(&value("MI_OBJECT_ID")), "{values}");
    assert!(
        value("SB_ID").ends_with(
            "/resourceGroups/rg-keda-guide/providers/Microsoft.ServiceBus/namespaces/sb-keda-guide"
        ),
        "{values}"
    );
    assert!(
        value("ISSUER").starts_with(&format!("{}/oidc/", sim.url)),
        "{values}"
    );

    // The role assignment: the built-in role's id under the subscription, at the namespace.
    let assignment = stdout
        .split("### step 12")
        .nth(1)
        .and_then(|s| s.split("### step 13").next())
        .unwrap();
    let ra: serde_json::Value = serde_json::from_str(assignment.trim()).unwrap();
    let role_id = ra["roleDefinitionId"].as_str().unwrap();
    assert!(
        role_id.starts_with("/subscriptions/")
            && role_id.ends_with(
                "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
            ),
        "{assignment}"
    );
    assert_eq!(ra["scope"].as_str(), Some(value("SB_ID").as_str()));
    assert_eq!(ra["principalType"], "ServicePrincipal");

    // kubectl reached the cluster with the credentials az merged.
    let kubectl = stdout.split("### kubectl").nth(1).unwrap();
    assert!(kubectl.contains("kube-system"), "{kubectl}");
    // The group is gone (its deletion runs at once on the instant profile).
    assert!(stdout.contains("### exists false"), "{stdout}");
}

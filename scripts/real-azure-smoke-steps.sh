# shellcheck shell=bash
# The steps of scripts/real-azure-smoke.sh (sourced by it; not run on its own): each runs in a
# subshell with errexit through `step`, its output in the step's log, and fails with its
# reason on its last line. They use the script's settings (MODE, CONFIG, PREFIX, ...) and
# helpers (run_plinth, arm, kube, pass_time).

# The ScaledJob and the API version of the cluster, as the example declares them; the token
# file the workload identity webhook injects.
SCALED_JOB=myconsumer-scaledjob
SCALED_JOB_NAMESPACE=default
AKS_API_VERSION=2025-10-01
TOKEN_FILE_PATH=/var/run/secrets/azure/tokens/azure-identity-token

preflight() {
    local tool
    for tool in curl jq "$KUBECTL"; do
        command -v "$tool" >/dev/null || {
            echo "$tool is not installed (or not on PATH): install it, or set KUBECTL for kubectl" >&2
            return 1
        }
    done
    "$PLINTH" --version
    # The example, copied without any state someone left in the repository's copy.
    cp -R "$EXAMPLE" "$CONFIG"
    rm -rf "$CONFIG/.plinth"
    local args
    mapfile -t args < <(vars)
    run_plinth validate "$CONFIG" "${args[@]}"
    # A read-only plan: the credentials reach ARM and the configuration plans.
    # (A refused plan's errors are JSON lines too: show their messages.)
    if ! run_plinth plan "$CONFIG" "${args[@]}" --lock-timeout 60s --json >"$WORK/plan.jsonl"; then
        jq -r 'select(.type == "error") | .message' "$WORK/plan.jsonl" >&2 || true
        return 1
    fi
    grep '"type":"plan"' "$WORK/plan.jsonl" | jq -r '.plan.summary | "plan: \(.add) to add, \(.change) to change, \(.destroy) to destroy"'
}

# The names the plan creates against Azure's naming rules, before anything is created (ARM
# refuses a bad name only once the resources before it exist; the simulator accepts more).
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
# (Reserved endings, such as a Service Bus namespace's -sb or -mgmt, `plinth validate` already
# refuses in preflight.)
names() {
    local problems
    problems=$(grep '"type":"plan"' "$WORK/plan.jsonl" | jq -r '
        def rule($what; $v; $re; $why):
            if ($v | type) == "string" and ($v | test($re) | not)
            then "\($what) `\($v)`: \($why)" else empty end;
        .plan.resource_changes[] | (.type | sub("^azure:"; "") | sub("@.*$"; "")) as $t
        | .after.name as $n
        | if $t == "Microsoft.Resources/resourceGroups" then
            rule("resource group"; $n; "^[-\\w.()]{0,89}[-\\w()]$"; "1-90 letters, digits, - _ . ( ), not ending in .")
          elif $t == "Microsoft.ContainerService/managedClusters" then
            rule("AKS cluster"; $n; "^[a-zA-Z0-9]([-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$"; "1-63 letters, digits, - and _, starting and ending with a letter or digit"),
            rule("AKS dnsPrefix"; .after.properties.dnsPrefix; "^[a-zA-Z0-9]([-a-zA-Z0-9]{0,52}[a-zA-Z0-9])?$"; "1-54 letters, digits and -, starting and ending with a letter or digit")
          elif $t == "Microsoft.ServiceBus/namespaces" then
            rule("Service Bus namespace"; $n; "^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$"; "6-50 letters, digits and -, starting with a letter, ending with a letter or digit")
          elif $t == "Microsoft.ManagedIdentity/userAssignedIdentities" then
            rule("managed identity"; $n; "^[a-zA-Z0-9][-_a-zA-Z0-9]{2,127}$"; "3-128 letters, digits, - and _, starting with a letter or digit")
          elif $t == "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials" then
            rule("federated credential"; $n; "^[a-zA-Z0-9][-_a-zA-Z0-9]{2,119}$"; "3-120 letters, digits, - and _, starting with a letter or digit")
          else empty end')
    if [ -z "$problems" ]; then
        echo "every planned Azure name follows Azure's naming rules"
        return 0
    fi
    echo "$problems"
    if [ "$MODE" = azure ]; then
        echo "Azure would refuse $(wc -l <<<"$problems") planned name(s): fix the configuration's names" >&2
        return 1
    fi
    echo "the simulator accepts them, Azure would refuse $(wc -l <<<"$problems"): $(head -n 1 <<<"$problems")" >&2
    return "$WARN"
}

check_credentials() {
    local missing=() name
    for name in ARM_SUBSCRIPTION_ID ARM_TENANT_ID ARM_CLIENT_ID ARM_CLIENT_SECRET; do
        [ -n "${!name:-}" ] || missing+=("$name")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "real-azure-smoke: ${missing[*]} not set. Export the service principal's ARM_SUBSCRIPTION_ID," >&2
        echo "ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET, or run with --sim (see docs/real-azure.md)." >&2
        exit 2
    fi
    # plinth must use exactly this service principal, not an `az login` of someone else.
    export ARM_USE_CLI=false
}

apply_all() {
    local args
    mapfile -t args < <(vars)
    run_plinth apply "$CONFIG" --auto-approve "${args[@]}" --lock-timeout 60s
    run_plinth output --dir "$CONFIG"
}

cluster_id() {
    run_plinth state pull --dir "$CONFIG" | jq -r '.resources.aks.id // empty'
}

# What `az aks get-credentials` does: POST listClusterUserCredential, decode the first
# kubeconfig. (plinth's Kubernetes provider fetches the same credential for its objects.)
kubeconfig() {
    local id status
    id=$(cluster_id)
    [ -n "$id" ] || {
        echo "the cluster \`aks\` is not in the state of $CONFIG" >&2
        return 1
    }
    echo "cluster: $id"
    status=$(arm POST "$id/listClusterUserCredential?api-version=$AKS_API_VERSION" "$WORK/credential.json")
    if [ "$status" != 200 ]; then
        echo "listClusterUserCredential answered $status: $(jq -c '.error // .' "$WORK/credential.json" | head -c 300)" >&2
        return 1
    fi
    (
        umask 077
        jq -r '.kubeconfigs[0].value' "$WORK/credential.json" | base64 -d >"$KUBECONFIG_FILE"
    )
    rm -f "$WORK/credential.json"
    kube config view -o jsonpath='{.clusters[0].cluster.server}{"\n"}'
    if [ "$MODE" != azure ]; then
        # The simulator's own way to the same credential must agree.
        local theirs="$WORK/sim-kubeconfig"
        (
            umask 077
            run_plinth sim kubeconfig --dir "$CONFIG" >"$theirs"
        )
        cmp -s "$theirs" "$KUBECONFIG_FILE" || {
            rm -f "$theirs"
            echo "plinth sim kubeconfig differs from ARM's listClusterUserCredential" >&2
            return 1
        }
        rm -f "$theirs"
        echo "plinth sim kubeconfig gives the same kubeconfig"
    fi
    kube get namespaces
}

# Polls until ATTEMPT succeeds: on Azure every INTERVAL seconds until the deadline; on the
# simulator after each settle, at most 20 times (time passes only when it settles).
poll() {
    local interval=$1 deadline=$(($(now) + $2)) attempts=0
    shift 2
    while :; do
        attempts=$((attempts + 1))
        if "$@"; then
            echo "after $attempts attempt(s)"
            return 0
        fi
        if [ "$MODE" = azure ]; then
            [ "$(now)" -lt "$deadline" ] || break
        else
            [ "$attempts" -lt 20 ] || break
        fi
        pass_time "$interval"
    done
    echo "gave up waiting for $1 after $attempts attempt(s)" >&2
    return 1
}

jobs_created() {
    kube describe scaledjob "$SCALED_JOB" -n "$SCALED_JOB_NAMESPACE" >"$WORK/scaledjob.txt" 2>&1 || return 1
    grep -q 'Created 10 jobs' "$WORK/scaledjob.txt"
}

scaledjob() {
    if poll 20 "$DEADLINE" jobs_created; then
        grep -E 'KEDAJobsCreated|KEDAScaler' "$WORK/scaledjob.txt" | tail -n 5
        return 0
    fi
    echo "the last kubectl describe scaledjob:" >&2
    tail -n 20 "$WORK/scaledjob.txt" >&2 || true
    echo "kubectl describe scaledjob $SCALED_JOB never showed \"Created 10 jobs\"" >&2
    return 1
}

operator_rolled_out() {
    kube rollout status deployment/keda-operator -n kube-system --timeout=60s
}

# The value after NAME: on the Environment lines of `kubectl describe po`.
env_value() {
    awk -v key="$1:" '$1 == key { $1 = ""; sub(/^ +/, ""); print; exit }' "$WORK/keda-pod.txt"
}

keda_env() {
    poll 15 600 operator_rolled_out
    # The guide's pod: app.kubernetes.io/name=keda-operator; one that runs and is not being
    # replaced (an old pod of the restart may still be terminating).
    local pod
    pod=$(kube get pods -n kube-system -l app.kubernetes.io/name=keda-operator -o json |
        jq -r '[.items[] | select(.metadata.deletionTimestamp == null and .status.phase == "Running")][0].metadata.name // empty')
    [ -n "$pod" ] || {
        echo "no running keda-operator pod (label app.kubernetes.io/name=keda-operator) in kube-system" >&2
        return 1
    }
    echo "pod: $pod"
    kube describe pod "$pod" -n kube-system >"$WORK/keda-pod.txt"
    grep -E '^ +AZURE_[A-Z_]+:' "$WORK/keda-pod.txt" || true
    local client_id want_client tenant token_file authority bad=0
    client_id=$(env_value AZURE_CLIENT_ID)
    tenant=$(env_value AZURE_TENANT_ID)
    token_file=$(env_value AZURE_FEDERATED_TOKEN_FILE)
    authority=$(env_value AZURE_AUTHORITY_HOST)
    want_client=$(run_plinth output identity_client_id --json --dir "$CONFIG" | jq -r .)
    # Azure/AKS#5243: the keda-operator ServiceAccount's client-id annotation is the identity's.
    if [ "$client_id" != "$want_client" ]; then
        echo "AZURE_CLIENT_ID is \`$client_id\`, not the workload identity's client id $want_client (the keda-operator ServiceAccount annotation azure.workload.identity/client-id)" >&2
        bad=1
    fi
    if [ -z "$tenant" ]; then
        echo "AZURE_TENANT_ID is empty or missing" >&2
        bad=1
    elif [ "$MODE" = azure ] && [ "$tenant" != "$ARM_TENANT_ID" ]; then
        echo "AZURE_TENANT_ID is $tenant, not the tenant in ARM_TENANT_ID" >&2
        bad=1
    fi
    if [ "$token_file" != "$TOKEN_FILE_PATH" ]; then
        echo "AZURE_FEDERATED_TOKEN_FILE is \`$token_file\`, not $TOKEN_FILE_PATH" >&2
        bad=1
    fi
    # The webhook's authority host: Entra's on Azure, the simulator itself on --sim.
    local want_authority
    if [ "$MODE" = azure ]; then
        want_authority=${ARM_AUTHORITY_HOST:-https://login.microsoftonline.com}
    else
        want_authority=$SIM_URL
    fi
    if [ "${authority%/}" != "${want_authority%/}" ]; then
        echo "AZURE_AUTHORITY_HOST is \`$authority\`, not ${want_authority%/}/" >&2
        bad=1
    fi
    [ "$bad" -eq 0 ]
}

destroy_all() {
    local attempt args
    mapfile -t args < <(vars)
    for attempt in 1 2 3; do
        echo "destroy, attempt $attempt"
        if run_plinth destroy "$CONFIG" --auto-approve "${args[@]}" --lock-timeout 120s; then
            local left
            left=$(run_plinth state list --dir "$CONFIG")
            if [ -z "$left" ]; then
                return 0
            fi
            echo "still in state after destroy: $left" >&2
        fi
        [ "$attempt" -eq 3 ] || pass_time 30
    done
    return 1
}

rg_gone() {
    local status
    status=$(arm GET "/subscriptions/$(subscription)/resourcegroups/$RG?api-version=2021-04-01" "$WORK/rg.json")
    if [ "$status" = 404 ]; then
        rm -f "$WORK/rg.json"
        return 0
    fi
    echo "GET resource group $RG answered $status $(jq -r '.properties.provisioningState // empty' "$WORK/rg.json" 2>/dev/null)"
    rm -f "$WORK/rg.json"
    return 1
}

nothing_left() {
    # A resource group ARM is still deleting answers 200 (Deleting) for a while.
    if ! poll 30 900 rg_gone; then
        echo "ARM still has the resource group $RG" >&2
        return 1
    fi
    echo "resource group $RG: 404"
    if [ "$MODE" != azure ]; then
        local left
        left=$(sim_curl -sS --fail "$SIM_URL/_sim/resources" |
            jq -r --arg rg "/resourcegroups/$RG" '.resources[].id | select(ascii_downcase | contains($rg))')
        [ -z "$left" ] || {
            echo "the simulator still holds: $left" >&2
            return 1
        }
        echo "simulator inventory: nothing of $RG"
    fi
}

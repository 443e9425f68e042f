#!/usr/bin/env bash
# The flagship (examples/aks-keda-workload-identity) on a real Azure subscription, checked the
# way the AKS guide checks it, then destroyed — also when a step fails or the run is
# interrupted. `--sim` runs exactly the same steps against `plinth sim serve` (what CI does,
# so that this script cannot rot). See docs/real-azure.md.
#
#   scripts/real-azure-smoke.sh                  # real subscription, credentials from ARM_*
#   scripts/real-azure-smoke.sh --sim            # the simulated cloud, no account needed
#
# Steps (each reported PASS/FAIL/SKIP with its duration):
#   preflight    tools present; a read-only `plinth plan` (credentials and configuration work)
#   names        the planned Azure names follow Azure's naming rules (WARN only on --sim)
#   apply        `plinth apply` of a copy of the example in a temp dir, unique prefix
#   kubeconfig   ARM listClusterUserCredential of the cluster (token from the client secret),
#                what `az aks get-credentials` fetches; on --sim also compared with
#                `plinth sim kubeconfig`
#   scaledjob    `kubectl describe scaledjob` shows "Created 10 jobs" before the deadline
#   keda-env     the keda-operator pod (after its rollout) has the workload identity env
#                injected: AZURE_CLIENT_ID (the identity's client id, from the ServiceAccount
#                annotation), AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST
#   destroy      `plinth destroy`, retried
#   nothing-left ARM answers 404 for the resource group
#
# Exit 0 only when every step passed. Secrets (ARM_CLIENT_SECRET, tokens, kubeconfigs) are
# never printed nor put on a command line.

set -euo pipefail
if [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
    echo "real-azure-smoke: needs bash 4 or later (this is bash $BASH_VERSION; on macOS: brew install bash)" >&2
    exit 2
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
EXAMPLE="$REPO/examples/aks-keda-workload-identity"
# The simulator's built-in client credential and tenant (plinth-provider-azure's for_sim).
SIM_TENANT=11111111-2222-3333-4444-555555555555
SIM_CLIENT_ID=plinth
SIM_CLIENT_SECRET=plinth-sim
SIM_SUBSCRIPTION=00000000-0000-0000-0000-000000000000

usage() {
    cat <<'EOF'
usage: real-azure-smoke.sh [--sim | --sim-url URL] [options]

Applies examples/aks-keda-workload-identity with a unique prefix, runs the AKS guide's
verification (kubectl describe scaledjob: "Created 10 jobs"; the keda-operator pod's
workload identity env), prints a report and destroys everything, whatever happened.

Real subscription (default): needs ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID and
ARM_CLIENT_SECRET of a service principal that may create resource groups and role
assignments (Owner, or Contributor + User Access Administrator), plus kubectl, curl, jq.

options:
  --sim              run against a simulator this script starts (plinth sim serve --tls,
                     port 0: HTTPS with its own CA, as Azure and AKS serve HTTPS)
  --sim-http         with --sim: plain HTTP instead
  --sim-url URL      run against a simulator already running at URL (left running)
  --sim-ca FILE      the CA certificate of an https:// --sim-url (what sim serve --tls printed)
  --sim-latency L    latency of the simulator --sim starts: instant (default), demo, realistic
  --plinth PATH      the plinth binary (default: plinth on PATH)
  --config DIR       the configuration to copy and apply (default: the flagship example;
                     another must declare the same cluster `aks`, ScaledJob and outputs)
  --prefix NAME      name prefix, 3-16 lowercase letters and digits, starting with a letter
                     (default: sk + UTC month, day, hour, minute + 4 random hex digits)
  --location LOC     Azure region (default: the example's, eastus)
  --deadline SECS    how long to wait for "Created 10 jobs" on Azure (default 900)
  --keep             keep the temp dir (state, logs) even when everything was destroyed
  -h, --help         this text

environment: KUBECTL (the kubectl to run, default kubectl).
EOF
}

# ---------------------------------------------------------------------------------------
# Arguments.
MODE=azure
SIM_URL=
SIM_LATENCY=${PLINTH_SIM_LATENCY:-instant}
SIM_TLS=1
SIM_CA=
PLINTH=plinth
PREFIX=
LOCATION=
DEADLINE=900
KEEP=0
KUBECTL=${KUBECTL:-kubectl}

die_usage() {
    echo "real-azure-smoke: $1" >&2
    echo "run with --help for the options" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --sim) MODE=sim ;;
    --sim-url)
        [ $# -ge 2 ] || die_usage "--sim-url needs the simulator's URL"
        MODE=sim-url
        SIM_URL=${2%/}
        shift
        ;;
    --sim-http) SIM_TLS=0 ;;
    --sim-ca)
        [ $# -ge 2 ] || die_usage "--sim-ca needs the CA certificate file plinth sim serve --tls printed"
        SIM_CA=$2
        shift
        ;;
    --sim-latency)
        [ $# -ge 2 ] || die_usage "--sim-latency needs instant, demo or realistic"
        SIM_LATENCY=$2
        shift
        ;;
    --config)
        [ $# -ge 2 ] || die_usage "--config needs a configuration directory"
        EXAMPLE=$2
        shift
        ;;
    --plinth)
        [ $# -ge 2 ] || die_usage "--plinth needs the path of the plinth binary"
        PLINTH=$2
        shift
        ;;
    --prefix)
        [ $# -ge 2 ] || die_usage "--prefix needs a name"
        PREFIX=$2
        shift
        ;;
    --location)
        [ $# -ge 2 ] || die_usage "--location needs an Azure region, e.g. eastus"
        LOCATION=$2
        shift
        ;;
    --deadline)
        [ $# -ge 2 ] || die_usage "--deadline needs a number of seconds"
        DEADLINE=$2
        shift
        ;;
    --keep) KEEP=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die_usage "unknown argument \`$1\`" ;;
    esac
    shift
done

case "$SIM_LATENCY" in
instant | demo | realistic) ;;
*) die_usage "--sim-latency \`$SIM_LATENCY\` is not instant, demo or realistic" ;;
esac
[[ "$DEADLINE" =~ ^[0-9]+$ ]] || die_usage "--deadline \`$DEADLINE\` is not a number of seconds"
if [ -z "$PREFIX" ]; then
    PREFIX="sk$(date -u +%m%d%H%M)$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
fi
# Every name the example derives from the prefix stays valid: the resource group, the AKS
# cluster and its DNS prefix, the Service Bus namespace (6-50 characters, starts with a
# letter), the identity, and Kubernetes object names (lowercase DNS labels).
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{2,15}$ ]] ||
    die_usage "--prefix \`$PREFIX\` must be 3-16 lowercase letters and digits, starting with a letter"
if [ -n "$LOCATION" ] && ! [[ "$LOCATION" =~ ^[a-z0-9]+$ ]]; then
    die_usage "--location \`$LOCATION\` is not a region name such as eastus"
fi

# ---------------------------------------------------------------------------------------
# The run's temp dir, the report, and the teardown that always runs.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/plinth-smoke-$PREFIX.XXXXXX")
CONFIG="$WORK/config"
LOGS="$WORK/logs"
KUBECONFIG_FILE="$WORK/kubeconfig"
mkdir -p "$LOGS"
REPORT=()
FAILED=0
APPLY_STARTED=0
DESTROYED=0
SIM_PID=
TORN_DOWN=0
CURRENT_STEP=
INTERRUPTED=
STEP_PID=
RG="$PREFIX-rg"

now() { date +%s; }

# step NAME FUNCTION [ARGS...]: runs FUNCTION in a subshell with errexit (its output in
# LOGS/NAME.log) and records PASS or FAIL with the time it took; a FUNCTION that exits WARN
# reports a problem that does not fail the run.
WARN=3
step() {
    local name=$1 start rc
    shift
    start=$(now)
    CURRENT_STEP=$name
    printf '... %-12s (log: %s)\n' "$name" "$LOGS/$name.log"
    set +e
    # In the background, waited for: a signal interrupts `wait` at once, so its trap runs
    # now and not when the step (a 15-minute apply) would have ended.
    (
        set -euo pipefail
        "$@"
    ) >"$LOGS/$name.log" 2>&1 &
    STEP_PID=$!
    wait "$STEP_PID"
    rc=$?
    STEP_PID=
    set -e
    local took=$(($(now) - start))
    if [ "$rc" -eq 0 ]; then
        REPORT+=("$(printf 'PASS  %-12s %5ss' "$name" "$took")")
    elif [ "$rc" -eq "$WARN" ]; then
        REPORT+=("$(printf 'WARN  %-12s %5ss  %s' "$name" "$took" "$(last_line "$LOGS/$name.log")")")
        rc=0
    else
        FAILED=$((FAILED + 1))
        REPORT+=("$(printf 'FAIL  %-12s %5ss  %s' "$name" "$took" "$(last_line "$LOGS/$name.log")")")
        echo "--- $name failed; the end of its log:" >&2
        tail -n 15 "$LOGS/$name.log" >&2 || true
    fi
    return "$rc"
}

skip() {
    REPORT+=("$(printf 'SKIP  %-12s %5s   %s' "$1" "-" "$2")")
}

last_line() {
    grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-160 || true
}

report() {
    echo
    echo "== plinth real-azure smoke test: prefix $PREFIX, $(target_name)"
    local line
    for line in "${REPORT[@]}"; do
        echo "$line"
    done
    if [ -n "$INTERRUPTED" ]; then
        echo "RESULT: FAIL (stopped by $INTERRUPTED during $CURRENT_STEP; $FAILED of ${#REPORT[@]} steps failed)"
    elif [ "$FAILED" -eq 0 ]; then
        echo "RESULT: PASS (${#REPORT[@]} steps)"
    else
        echo "RESULT: FAIL ($FAILED of ${#REPORT[@]} steps failed)"
    fi
}

target_name() {
    case "$MODE" in
    azure) echo "subscription ${ARM_SUBSCRIPTION_ID:-}" ;;
    *) echo "simulator $SIM_URL" ;;
    esac
}

teardown() {
    local code=$?
    [ "$TORN_DOWN" -eq 0 ] || return 0
    TORN_DOWN=1
    trap '' INT TERM
    if [ "${#REPORT[@]}" -eq 0 ] && [ "$APPLY_STARTED" -eq 0 ]; then
        # Refused before any step (usage, credentials): nothing to destroy or report.
        stop_sim
        rm -rf "$WORK"
        exit "$code"
    fi
    local stopped_in=$CURRENT_STEP
    if [ "$APPLY_STARTED" -eq 1 ]; then
        if step destroy destroy_all; then
            DESTROYED=1
            step nothing-left nothing_left || true
        else
            skip nothing-left "destroy failed"
        fi
    fi
    stop_sim
    CURRENT_STEP=$stopped_in
    report
    if [ "$APPLY_STARTED" -eq 1 ] && [ "$DESTROYED" -eq 0 ]; then
        echo
        echo "Some resources may be left: the resource group $RG and everything in it (the"
        echo "cluster's node resource group MC_${RG}_${PREFIX}-aks_* goes with the cluster)."
        echo "Remove them with:   plinth destroy --auto-approve $CONFIG"
        echo "or:                 az group delete -n $RG --yes"
        echo "The state and logs are kept in $WORK"
    elif [ "$KEEP" -eq 1 ] || [ "$FAILED" -gt 0 ]; then
        echo "Logs and state: $WORK"
    else
        rm -rf "$WORK"
    fi
    if [ "$FAILED" -gt 0 ] || [ "$code" -ne 0 ]; then
        exit 1
    fi
    exit 0
}
trap teardown EXIT
# A signal stops the run where it is: the running step's processes get it too (a CI cancel
# sends SIGTERM to this script alone, and its SIGKILL follows soon: the destroy must start
# now). plinth stops on SIGINT once it has recorded the operations in flight, and dies on
# SIGTERM (its journal keeps every change it made; the destroy's refresh settles the rest).
stop_step() {
    [ -n "$STEP_PID" ] || return 0
    pkill "-$1" -P "$STEP_PID" 2>/dev/null || true
    kill "-$1" "$STEP_PID" 2>/dev/null || true
    wait "$STEP_PID" 2>/dev/null || true
    STEP_PID=
}
trap 'INTERRUPTED=SIGINT; echo "real-azure-smoke: interrupted; destroying what was created" >&2; stop_step INT; exit 130' INT
trap 'INTERRUPTED=SIGTERM; echo "real-azure-smoke: terminated; destroying what was created" >&2; stop_step TERM; exit 143' TERM

# ---------------------------------------------------------------------------------------
# The simulator (--sim).
start_sim() {
    local fifo="$WORK/sim.stdout"
    mkfifo "$fifo"
    local tls=()
    [ "$SIM_TLS" -eq 0 ] || tls=(--tls)
    "$PLINTH" sim serve --addr 127.0.0.1:0 --latency "$SIM_LATENCY" "${tls[@]}" \
        --world "$WORK/sim-world.json" >"$fifo" 2>"$LOGS/sim.log" &
    SIM_PID=$!
    # The first line of its stdout is its URL: the explicit readiness signal. fd 3 stays open
    # until the simulator stops, so it never writes to a closed pipe.
    exec 3<"$fifo"
    if ! read -r -t 60 SIM_URL <&3 || [[ "$SIM_URL" != http*://* ]]; then
        echo "real-azure-smoke: plinth sim serve did not print its URL; its log:" >&2
        cat "$LOGS/sim.log" >&2
        exit 1
    fi
    SIM_URL=${SIM_URL%/}
    if [ "$SIM_TLS" -eq 1 ]; then
        # Printed on stderr before the URL: "plinth sim: CA certificate in PATH (trust it: ...".
        SIM_CA=$(sed -n 's/^plinth sim: CA certificate in \(.*\) (trust it.*$/\1/p' "$LOGS/sim.log" | head -n 1)
        if [ -z "$SIM_CA" ] || [ ! -f "$SIM_CA" ]; then
            echo "real-azure-smoke: plinth sim serve --tls did not name its CA certificate; its log:" >&2
            cat "$LOGS/sim.log" >&2
            exit 1
        fi
        export PLINTH_SIM_CA=$SIM_CA
    fi
}

stop_sim() {
    [ -n "$SIM_PID" ] || return 0
    kill -INT "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=
    exec 3<&- || true
}

# Simulated time passes only when asked (POST /_sim/settle); on Azure, real time passes.
pass_time() {
    if [ "$MODE" = azure ]; then
        sleep "$1"
    else
        sim_curl -sS --fail -X POST "$SIM_URL/_sim/settle" -o /dev/null
    fi
}

# curl that trusts the simulator's CA when it serves HTTPS (and only the system's CAs on Azure).
sim_curl() {
    if [ -n "$SIM_CA" ]; then curl --cacert "$SIM_CA" "$@"; else curl "$@"; fi
}

# ---------------------------------------------------------------------------------------
# plinth, ARM and kubectl.
run_plinth() {
    if [ "$MODE" = azure ]; then
        "$PLINTH" "$@"
    else
        # The simulator's own credential, never the caller's real ARM_* secrets.
        env -u ARM_CLIENT_SECRET -u AZURE_CLIENT_SECRET -u ARM_CLIENT_ID -u AZURE_CLIENT_ID \
            -u ARM_TENANT_ID -u AZURE_TENANT_ID -u ARM_SUBSCRIPTION_ID -u AZURE_SUBSCRIPTION_ID \
            -u ARM_OIDC_TOKEN_FILE_PATH -u AZURE_FEDERATED_TOKEN_FILE -u ARM_USE_OIDC \
            "$PLINTH" "$@" --sim "$SIM_URL"
    fi
}

vars() {
    printf '%s\n' --var "prefix=$PREFIX"
    if [ -n "$LOCATION" ]; then printf '%s\n' --var "location=$LOCATION"; fi
}

subscription() {
    if [ "$MODE" = azure ]; then echo "$ARM_SUBSCRIPTION_ID"; else echo "$SIM_SUBSCRIPTION"; fi
}

arm_endpoint() {
    if [ "$MODE" = azure ]; then echo "${ARM_ENDPOINT:-https://management.azure.com}"; else echo "$SIM_URL"; fi
}

# An ARM access token from the client credential (the secret goes through stdin, never argv).
arm_token() {
    local authority tenant client secret
    if [ "$MODE" = azure ]; then
        authority=${ARM_AUTHORITY_HOST:-https://login.microsoftonline.com}
        # Set in the environment; check_credentials made sure of it.
        # shellcheck disable=SC2153
        tenant=$ARM_TENANT_ID client=$ARM_CLIENT_ID secret=$ARM_CLIENT_SECRET
    else
        authority=$SIM_URL tenant=$SIM_TENANT client=$SIM_CLIENT_ID secret=$SIM_CLIENT_SECRET
    fi
    local body
    body=$(printf '%s' "$secret" | sim_curl -sS -X POST "${authority%/}/$tenant/oauth2/v2.0/token" \
        --data-urlencode grant_type=client_credentials \
        --data-urlencode "client_id=$client" \
        --data-urlencode "scope=https://management.azure.com/.default" \
        --data-urlencode "client_secret@-")
    local token
    token=$(jq -r '.access_token // empty' <<<"$body")
    if [ -z "$token" ]; then
        echo "no ARM token for client $client in tenant $tenant: $(jq -r '.error_description // .error // "no answer"' <<<"$body" 2>/dev/null | head -c 300)" >&2
        return 1
    fi
    printf '%s' "$token"
}

# arm METHOD PATH-AND-QUERY OUTFILE: the HTTP status on stdout, the body in OUTFILE. The
# bearer token goes through stdin as a header file, never argv.
arm() {
    local token
    token=$(arm_token)
    printf 'Authorization: Bearer %s\n' "$token" |
        sim_curl -sS -X "$1" -H @- -H 'Content-Length: 0' -o "$3" -w '%{http_code}' "$(arm_endpoint)$2"
}

kube() {
    "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"
}

# ---------------------------------------------------------------------------------------
# The steps, and the helpers only they use.
# shellcheck source-path=SCRIPTDIR source=real-azure-smoke-steps.sh
. "$SCRIPT_DIR/real-azure-smoke-steps.sh"

# ---------------------------------------------------------------------------------------
# The run.
[ -d "$EXAMPLE" ] || {
    echo "real-azure-smoke: $EXAMPLE not found (run the script from a plinth checkout, or pass --config DIR)" >&2
    exit 2
}
if [[ "$PLINTH" == */* ]]; then
    [ -x "$PLINTH" ] || die_usage "--plinth $PLINTH is not an executable file"
else
    command -v "$PLINTH" >/dev/null || die_usage "plinth is not on PATH: build it (cargo build --release) and pass --plinth target/release/plinth"
fi
case "$MODE" in
azure) check_credentials ;;
sim) start_sim ;;
sim-url)
    if [[ "$SIM_URL" == https://* ]]; then
        [ -n "$SIM_CA" ] || die_usage "--sim-url $SIM_URL serves HTTPS: pass --sim-ca FILE, the CA certificate plinth sim serve --tls printed"
        export PLINTH_SIM_CA=$SIM_CA
    fi
    sim_curl -sS --fail "$SIM_URL/_sim/health" >/dev/null || die_usage "no simulator answers at $SIM_URL"
    ;;
esac
echo "plinth smoke test: prefix $PREFIX, $(target_name), temp dir $WORK"

if step preflight preflight && step names names; then
    APPLY_STARTED=1
    if step apply apply_all; then
        if step kubeconfig kubeconfig; then
            step scaledjob scaledjob || true
            step keda-env keda_env || true
        else
            skip scaledjob "no kubeconfig"
            skip keda-env "no kubeconfig"
        fi
    else
        skip kubeconfig "apply failed"
        skip scaledjob "apply failed"
        skip keda-env "apply failed"
    fi
else
    skip apply "preflight or names failed"
fi
# The EXIT trap destroys, checks that nothing is left and reports.

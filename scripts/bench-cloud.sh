#!/usr/bin/env bash
# The cloud-scale benchmark (issue 19): plinth against a `plinth sim serve` of its own (a world
# in a temporary directory, an ephemeral port, stopped by PID when the script exits), where
# ARM's request budget, not the engine, is the limit.
#
# 1. N user-assigned identities in one resource group (`cargo xtask gen-identities`), on the
#    `instant` profile: plan on an empty state, apply, no-op plan (which must say "No
#    changes"). Every step starts with full throttling buckets (`POST /_sim/throttle/refill`),
#    so each is measured alone.
# 2. With ESTATE=1 (default): the realistic estate (`cargo xtask gen-estate`, ESTATE_OBJECTS
#    objects), applied on `instant`, then the simulator restarted on the same world with the
#    `realistic` profile and the no-op plan measured there.
#
# For every step: wall time, peak RSS (/usr/bin/time), and from the simulator's request log
# (`GET /_sim/requests`) the ARM reads (GET/HEAD), writes (PUT/PATCH/POST), deletes and 429
# answers it received, and the Kubernetes requests (the step's log is kept as
# RUN_DIR/KEY.requests.json). The bound: how long ARM's token buckets
# make that step take at least, `max(0, (requests - capacity) / refill rate)` per class
# (classes are separate buckets, so the largest one), computed twice: for a per-object
# engine (one GET per Azure object to refresh or check, one PUT per object to create), which
# is what the issue's table sits on, and for the requests actually counted. The capacities
# and rates are the simulator's own: `/_sim/config` when it sets them, else the defaults in
# crates/plinth-sim/src/arm/store.rs (read from the source, so they follow it).
# A third bound comes from the simulator's service times (`realistic`: an ARM read 100 ms, a
# write 250 ms, a Kubernetes request 10 ms; a 60th on `demo`, nothing on `instant`; see
# `service_time` in crates/plinth-sim/src/lib.rs, read from the source): no client with
# PARALLELISM requests in flight (plinth's default, 16) can answer the counted requests in
# less than their summed service time / PARALLELISM. The bound a step is compared with is the
# largest of the counted requests' bucket bound and this one.
#
#   scripts/bench-cloud.sh                         # 1,000 identities, the estate, 1 run
#   COUNT=200 ESTATE=0 scripts/bench-cloud.sh      # quicker
#   RUNS=3 scripts/bench-cloud.sh                  # medians of 3 runs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${COUNT:-1000}"
RUNS="${RUNS:-1}"
ESTATE="${ESTATE:-1}"
ESTATE_OBJECTS="${ESTATE_OBJECTS:-2000}"
ESTATE_SEED="${ESTATE_SEED:-1}"
PARALLELISM="${PARALLELISM:-16}"
WORK="${BENCH_DIR:-$(mktemp -d -t plinth-bench-cloud.XXXXXX)}"
mkdir -p "$WORK"
BENCH_NAME=bench-cloud
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_binaries

SIM_PID=""
SIM_URL=""
stop_sim() {
    if [[ -n "$SIM_PID" ]]; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
        SIM_PID=""
    fi
}
trap stop_sim EXIT

# start_sim WORLD LATENCY : serves WORLD (a JSON file, created if missing) on an ephemeral
# port; sets SIM_PID and SIM_URL (the first line the simulator prints).
start_sim() {
    local world="$1" latency="$2" out="$1.out"
    SIM_LATENCY="$latency"
    "$PLINTH" sim serve --addr 127.0.0.1:0 --latency "$latency" --world "$world" \
        >"$out" 2>"$out.err" &
    SIM_PID=$!
    local tries=0
    until SIM_URL=$(head -1 "$out" 2>/dev/null) && [[ "$SIM_URL" == http* ]]; do
        if ! kill -0 "$SIM_PID" 2>/dev/null; then
            log "the simulator did not start:"
            cat "$out.err" >&2
            exit 1
        fi
        tries=$((tries + 1))
        ((tries < 600)) || { log "the simulator printed no URL in 60 s"; exit 1; }
        sleep 0.1
    done
    curl -fsS "$SIM_URL/_sim/health" >/dev/null
    log "simulator ($latency) at $SIM_URL, pid $SIM_PID"
}

# The simulator's bucket (capacity rate) of CLASS (reads, writes, deletes): /_sim/config's
# `CLASS_bucket` when set, else the default in store.rs.
bucket() {
    local field="${1%s}_bucket" set
    set=$(curl -fsS "$SIM_URL/_sim/config" | jq -r --arg k "$field" \
        'if .[$k] then "\(.[$k][0]) \(.[$k][1])" else empty end')
    if [[ -n "$set" ]]; then
        echo "$set"
        return
    fi
    grep -E "self\.$field\.unwrap_or\(\(" "$ROOT/crates/plinth-sim/src/arm/store.rs" |
        sed -E 's/.*unwrap_or\(\(([0-9.]+), *([0-9.]+)\)\).*/\1 \2/' | head -1 |
        grep -E '^[0-9.]+ [0-9.]+$' ||
        { log "no default $field in crates/plinth-sim/src/arm/store.rs"; exit 1; }
}

# service_ms CLASS (ArmRead, ArmWrite, K8s) : the simulator's service time of a request of
# CLASS in ms: /_sim/config's override when set, else the realistic figure in lib.rs scaled
# by the profile the simulator runs.
service_ms() {
    local field set realistic
    case "$1" in
        ArmRead) field=arm_read_ms ;;
        ArmWrite) field=arm_write_ms ;;
        K8s) field=k8s_request_ms ;;
    esac
    set=$(curl -fsS "$SIM_URL/_sim/config" | jq -r --arg k "$field" '.[$k] // empty')
    if [[ -n "$set" ]]; then
        echo "$set"
        return
    fi
    realistic=$(grep -E "RequestClass::$1 => \(settings\.$field, [0-9]+\)" \
        "$ROOT/crates/plinth-sim/src/lib.rs" | sed -E 's/.*, ([0-9]+)\).*/\1/' | head -1)
    [[ -n "$realistic" ]] || { log "no service time of $1 in crates/plinth-sim/src/lib.rs"; exit 1; }
    case "$SIM_LATENCY" in
        instant) echo 0 ;;
        demo) awk -v m="$realistic" 'BEGIN {print m / 60}' ;;
        *) echo "$realistic" ;;
    esac
}

# bound N CAPACITY RATE : seconds a bucket of CAPACITY refilled at RATE/s needs for N requests.
bound() { awk -v n="$1" -v c="$2" -v r="$3" 'BEGIN {b = (n - c) / r; if (b < 0) b = 0; printf "%.1f", b}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# log_len : how many requests the simulator has logged.
log_len() { curl -fsS "$SIM_URL/_sim/requests" | jq length; }

# counts FROM : "reads writes deletes throttled k8s" of the requests logged after the first FROM.
counts() {
    curl -fsS "$SIM_URL/_sim/requests" | jq -r --argjson from "$1" '
        .[$from:] as $r
        | ($r | map(select(.path | test("^/(subscriptions|providers)/"; "i")))) as $arm
        | [ ($arm | map(select(.method == "GET" or .method == "HEAD")) | length),
            ($arm | map(select(.method == "PUT" or .method == "PATCH" or .method == "POST")) | length),
            ($arm | map(select(.method == "DELETE")) | length),
            ($arm | map(select(.status == 429)) | length),
            ($r | map(select(.path | startswith("/k8s/"))) | length) ] | @tsv'
}

# step LABEL KEY DIR MIN_READS MIN_WRITES CMD... : runs a plinth command against the simulator
# in DIR with full buckets; appends "ms rss_kb reads writes deletes 429s k8s" to
# $WORK/KEY, and the per-object bound (MIN_READS GETs, MIN_WRITES PUTs) and the counted
# requests' bound to $WORK/KEY.bound.
step() {
    local label="$1" key="$2" dir="$3" min_reads="$4" min_writes="$5"
    shift 5
    curl -fsS -X POST "$SIM_URL/_sim/throttle/refill" >/dev/null
    local from start end rss
    from=$(log_len)
    log "$label"
    start=$(date +%s%N)
    (cd "$dir" && /usr/bin/time -o "$dir/last.time" -f "%M" "$@" --sim "$SIM_URL" --no-color \
        >"$dir/last.out" 2>"$dir/last.err") ||
        { log "failed in $dir:"; tail -5 "$dir/last.err" >&2; exit 1; }
    end=$(date +%s%N)
    rss=$(tail -1 "$dir/last.time")
    read -r reads writes deletes throttled k8s < <(counts "$from")
    # The step's requests, for a closer look (which paths, which answers).
    curl -fsS "$SIM_URL/_sim/requests" | jq --argjson from "$from" '.[$from:]' \
        >"$dir/$key.requests.json"
    echo "$(((end - start) / 1000000)) $rss $reads $writes $deletes $throttled $k8s" >>"$WORK/$key"
    local rc rr wc wr dc dr
    read -r rc rr < <(bucket reads)
    read -r wc wr < <(bucket writes)
    read -r dc dr < <(bucket deletes)
    local per counted served
    per=$(maxof "$(bound "$min_reads" "$rc" "$rr")" "$(bound "$min_writes" "$wc" "$wr")")
    counted=$(maxof "$(bound "$reads" "$rc" "$rr")" "$(bound "$writes" "$wc" "$wr")" \
        "$(bound "$deletes" "$dc" "$dr")")
    served=$(awk -v r="$reads" -v w="$((writes + deletes))" -v k="$k8s" -v p="$PARALLELISM" \
        -v lr="$(service_ms ArmRead)" -v lw="$(service_ms ArmWrite)" -v lk="$(service_ms K8s)" \
        'BEGIN {printf "%.2f", (r * lr + w * lw + k * lk) / p / 1000}')
    echo "$per $counted $served" >"$WORK/$key.bound"
    BUCKETS="reads $rc + $rr/s, writes $wc + $wr/s, deletes $dc + $dr/s"
}

# column KEY N : the median of column N of $WORK/KEY.
column() { awk -v n="$2" '{print $n}' "$WORK/$1" >"$WORK/$1.col$2" && median "$WORK/$1.col$2"; }

# row LABEL KEY : a Markdown row of the medians of KEY and its bounds.
row() {
    local ms rss per counted served
    ms=$(column "$2" 1)
    rss=$(column "$2" 2)
    read -r per counted served <"$WORK/$2.bound"
    echo "| $1 | $(secs "$ms") | $(awk -v k="$rss" 'BEGIN {printf "%.0f", k/1024}') \
| $(column "$2" 3) | $(column "$2" 4) | $(column "$2" 5) | $(column "$2" 6) | $(column "$2" 7) \
| $per | $counted | $served | $(awk -v w="$(secs "$ms")" -v b="$counted" -v s="$served" \
        'BEGIN {if (s > b) b = s; if (b > 0) printf "%.2f", w / b; else print "no bound"}') |"
}

# --- 1. the identities -------------------------------------------------------------------
"$XTASK" gen-identities --count "$COUNT" --out "$WORK/gen-identities" >/dev/null
rm -f "$WORK"/mi.{plan,apply,noop}
for r in $(seq "$RUNS"); do
    d="$WORK/run-identities-$r"
    rm -rf "$d" && mkdir -p "$d" && cp -r "$WORK/gen-identities/." "$d/"
    start_sim "$d/world.json" instant
    step "identities run $r: plan (empty state)" mi.plan "$d" "$((COUNT + 1))" 0 "$PLINTH" plan
    step "identities run $r: apply" mi.apply "$d" "$((COUNT + 1))" "$((COUNT + 1))" \
        "$PLINTH" apply --auto-approve
    step "identities run $r: plan (no-op)" mi.noop "$d" "$((COUNT + 1))" 0 "$PLINTH" plan
    no_changes "$d"
    stop_sim
done

HEADER="| step | wall (s) | peak RSS (MB) | ARM reads | ARM writes | ARM deletes | 429s | k8s requests | bound, per object (s) | bound, counted (s) | bound, service times (s) | wall / bound |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
{
    echo "$COUNT user-assigned identities in one resource group ($((COUNT + 1)) objects), \
simulator \`instant\`, buckets $BUCKETS, median of $RUNS run(s) ($(nproc) cores), binary $PLINTH"
    echo
    echo "$HEADER"
    row "plan, empty state" mi.plan
    row "apply (its plan included)" mi.apply
    row "plan after apply (no-op)" mi.noop
} >"$WORK/identities.md"
cat "$WORK/identities.md"

# --- 2. the realistic estate -----------------------------------------------------------
if [[ "$ESTATE" == 1 ]]; then
    summary=$("$XTASK" gen-estate --objects "$ESTATE_OBJECTS" --seed "$ESTATE_SEED" \
        --out "$WORK/gen-estate")
    objects=$(jq .objects <<<"$summary")
    azure=$(jq .azure_objects <<<"$summary")
    rm -f "$WORK"/estate.{apply,noop}
    for r in $(seq "$RUNS"); do
        d="$WORK/run-estate-$r"
        rm -rf "$d" && mkdir -p "$d" && cp -r "$WORK/gen-estate/." "$d/"
        start_sim "$d/world.json" instant
        step "estate run $r: apply (instant)" estate.apply "$d" "$azure" "$azure" \
            "$PLINTH" apply --auto-approve
        stop_sim
        start_sim "$d/world.json" realistic
        step "estate run $r: plan (no-op, realistic)" estate.noop "$d" "$azure" 0 "$PLINTH" plan
        no_changes "$d"
        stop_sim
    done
    {
        echo "The realistic estate (\`gen-estate --objects $ESTATE_OBJECTS --seed $ESTATE_SEED\`): \
$objects objects ($azure Azure, $(jq .kubernetes_objects <<<"$summary") Kubernetes) in \
$(jq .clusters <<<"$summary") clusters, applications per cluster \
$(jq -c .applications_per_cluster <<<"$summary"); buckets $BUCKETS, median of $RUNS run(s)"
        echo
        echo "$HEADER"
        row "apply (\`instant\`)" estate.apply
        row "plan after apply (no-op, \`realistic\`)" estate.noop
    } >"$WORK/estate.md"
    echo
    cat "$WORK/estate.md"
fi
echo
echo "Raw figures (ms, KB, reads, writes, deletes, 429s, k8s requests) in $WORK/{mi,estate}.*;"
echo "each step's request log in $WORK/run-*/KEY.requests.json (bounds: of the last run)."

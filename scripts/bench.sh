#!/usr/bin/env bash
# Scale benchmark of plinth (issue 2, item 6). Prints a Markdown report on stdout.
#
#   scripts/bench.sh                      # build release, N = 1,000 and 10,000, 3 runs each
#   SIZES="1000" RUNS=1 scripts/bench.sh  # quicker
#   PLINTH=/path/to/plinth scripts/bench.sh   # benchmark another binary (skips the build)
#   MODULE_SIZE=0 scripts/bench.sh        # without the module workload
#
# For each N: a layered DAG of N core:data resources (cargo xtask gen-scale) is planned on an
# empty state, applied (fresh state), planned again (a no-op plan that refreshes N objects),
# and planned after 1% of the inputs changed. Wall time is measured around the process, peak
# memory is the maximum resident set size from /usr/bin/time. Each figure is the median of
# RUNS runs. The apply of the largest N also reports the bytes written to state (from
# PLINTH_STATS_FILE) divided by the final state.json size. Finally a DAG of core:sleep
# resources is applied with parallelism above its width, and its wall time compared with the
# critical-path bound (the longest chain of sleep durations).
#
# The module workload (issue 15, item 8): for each N, the same kind of DAG split into N /
# MODULE_SIZE instances of one module of MODULE_SIZE resources (cargo xtask gen-scale
# --modules; 100 x 100 for N = 10,000) is planned on an empty state, applied, and planned
# again (no-op), run by run right after the flat workload of the same N; its empty plan must
# be within 1.3x of the flat one. See also scripts/bench-modules.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES="${SIZES:-1000 10000}"
RUNS="${RUNS:-3}"
LAYERS="${LAYERS:-10}"
SEED="${SEED:-1}"
TOUCH="${TOUCH:-0.01}"
SLEEP_RESOURCES="${SLEEP_RESOURCES:-60}"
SLEEP_LAYERS="${SLEEP_LAYERS:-6}"
SLEEP_MS="${SLEEP_MS:-200..1000}"
MODULE_SIZE="${MODULE_SIZE:-100}"
WORK="${BENCH_DIR:-$(mktemp -d -t plinth-bench.XXXXXX)}"
mkdir -p "$WORK"

log() { echo "bench: $*" >&2; }

if [[ -z "${PLINTH:-}" ]]; then
    log "building release binary"
    (cd "$ROOT" && cargo build --release --quiet --package plinth)
    PLINTH="$ROOT/target/release/plinth"
fi
(cd "$ROOT" && cargo build --quiet --package xtask)
XTASK="$ROOT/target/debug/xtask"

TIME_BIN=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    TIME_BIN=/usr/bin/time
else
    log "GNU time not found (apt-get install time): peak memory will be reported as n/a"
fi

# measure NAME DIR CMD... : runs CMD in DIR, appends "wall_ms rss_kb" to $WORK/NAME.
measure() {
    local name="$1" dir="$2"
    shift 2
    local tf="$WORK/.time" start end rss="n/a"
    start=$(date +%s%N)
    if [[ -n "$TIME_BIN" ]]; then
        (cd "$dir" && "$TIME_BIN" -f %M -o "$tf" "$@" >"$dir/$name.out" 2>"$dir/$name.err") ||
            { log "$name failed in $dir:"; tail -5 "$dir/$name.err" >&2; exit 1; }
    else
        (cd "$dir" && "$@" >"$dir/$name.out" 2>"$dir/$name.err") ||
            { log "$name failed in $dir:"; tail -5 "$dir/$name.err" >&2; exit 1; }
    fi
    end=$(date +%s%N)
    [[ -n "$TIME_BIN" ]] && rss=$(tail -1 "$tf")
    echo "$(((end - start) / 1000000)) $rss" >>"$WORK/$name"
}

# median FILE COLUMN : the median of one column (numbers or n/a).
median() {
    awk -v c="$2" '{print $c}' "$1" | sort -n |
        awk '{a[NR]=$1} END {if (a[1]=="n/a") print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

secs() { awk -v ms="$1" 'BEGIN {printf "%.3f", ms/1000}'; }
mb() { if [[ "$1" == n/a ]]; then echo n/a; else awk -v kb="$1" 'BEGIN {printf "%.0f", kb * 1024 / 1e6}'; fi; }
# json_num FILE KEY : a numeric field of a one-line JSON object (no jq needed).
json_num() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"; }
pass() { if [[ "$1" == *n/a* ]]; then echo "n/a"; elif awk "BEGIN {exit !($1)}"; then echo "pass"; else echo "**MISS**"; fi; }

rm -f "$WORK"/{plan_empty,apply,plan_noop,plan_touched,bytes,mod_plan_empty,mod_apply,mod_plan_noop}_*
# modules_of N : the number of module instances of the module workload of N (0: none).
modules_of() {
    if ((MODULE_SIZE > 0 && $1 % MODULE_SIZE == 0)); then echo $(($1 / MODULE_SIZE)); else echo 0; fi
}
for n in $SIZES; do
    m=$(modules_of "$n")
    if ((m > 0)); then
        "$XTASK" gen-scale --resources "$n" --modules "$m" --layers "$LAYERS" --seed "$SEED" \
            --out "$WORK/gen-$n-modules" >"$WORK/gen-$n-modules.json"
    else
        log "N=$n: no module workload (N is not a multiple of MODULE_SIZE=$MODULE_SIZE)"
    fi
    tmpl="$WORK/gen-$n"
    "$XTASK" gen-scale --resources "$n" --layers "$LAYERS" --seed "$SEED" --out "$tmpl" >"$WORK/gen-$n.json"
    "$XTASK" gen-scale --resources "$n" --layers "$LAYERS" --seed "$SEED" --touch "$TOUCH" \
        --out "$tmpl-touched" >"$WORK/gen-$n-touched.json"
    for r in $(seq "$RUNS"); do
        d="$WORK/run-$n-$r"
        rm -rf "$d" && mkdir -p "$d" && cp "$tmpl"/*.toml "$d/"
        log "N=$n run $r: plan (empty state)"
        measure "plan_empty_$n" "$d" "$PLINTH" plan --no-color
        log "N=$n run $r: apply"
        PLINTH_STATS_FILE="$d/stats.json" measure "apply_$n" "$d" "$PLINTH" apply --auto-approve --no-color
        written=$(json_num "$d/stats.json" state_bytes_written)
        size=$(stat -c %s "$d/.plinth/state.json")
        echo "$written $size" >>"$WORK/bytes_$n"
        log "N=$n run $r: plan (no-op, refreshes $n objects)"
        measure "plan_noop_$n" "$d" "$PLINTH" plan --no-color
        grep -q "No changes" "$d/plan_noop_$n.out" ||
            log "WARNING: the plan after apply is not a no-op (see $d/plan_noop_$n.out)"
        cp "$tmpl-touched"/*.toml "$d/"
        log "N=$n run $r: plan (a fraction $TOUCH of inputs changed)"
        measure "plan_touched_$n" "$d" "$PLINTH" plan --no-color
        ((m > 0)) || continue
        d="$WORK/run-$n-modules-$r"
        rm -rf "$d" && mkdir -p "$d" && cp -r "$WORK/gen-$n-modules/." "$d/"
        log "N=$n run $r: $m module instances, plan (empty state)"
        measure "mod_plan_empty_$n" "$d" "$PLINTH" plan --no-color
        log "N=$n run $r: $m module instances, apply"
        measure "mod_apply_$n" "$d" "$PLINTH" apply --auto-approve --no-color
        log "N=$n run $r: $m module instances, plan (no-op)"
        measure "mod_plan_noop_$n" "$d" "$PLINTH" plan --no-color
        grep -q "No changes" "$d/mod_plan_noop_$n.out" ||
            log "WARNING: the module plan after apply is not a no-op (see $d/mod_plan_noop_$n.out)"
    done
done

# The sleep experiment.
sd="$WORK/sleep"
"$XTASK" gen-scale --sleep --resources "$SLEEP_RESOURCES" --layers "$SLEEP_LAYERS" \
    --duration-ms "$SLEEP_MS" --seed "$SEED" --out "$sd-tmpl" >"$WORK/sleep.json"
cp_ms=$(json_num "$WORK/sleep.json" critical_path_ms)
total_ms=$(json_num "$WORK/sleep.json" total_sleep_ms)
par=$((SLEEP_RESOURCES * 2))
rm -f "$WORK/sleep_apply"
for r in $(seq "$RUNS"); do
    rm -rf "$sd" && mkdir -p "$sd" && cp "$sd-tmpl"/*.toml "$sd/"
    log "sleep run $r: apply (critical path ${cp_ms} ms)"
    measure sleep_apply "$sd" "$PLINTH" apply --auto-approve --no-color --parallelism "$par"
done
sleep_ms=$(median "$WORK/sleep_apply" 1)

# The report.
largest=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
smallest=$(echo "$SIZES" | tr ' ' '\n' | sort -n | head -1)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "Machine: $(nproc) CPUs ($cpu), $ram RAM; $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit; binary $PLINTH"
echo
pct=$(awk -v f="$TOUCH" 'BEGIN {printf "%g%%", f * 100}')
echo "| Workload | N | wall time (s) | peak RSS (MB) |"
echo "|---|---:|---:|---:|"
for n in $SIZES; do
    for w in plan_empty apply plan_noop plan_touched; do
        case $w in
        plan_empty) label='`plan`, empty state' ;;
        apply) label='`apply --auto-approve`, fresh state' ;;
        plan_noop) label='`plan` after apply (no-op; refreshes N)' ;;
        plan_touched) label="\`plan\` after apply, $pct of inputs edited" ;;
        esac
        echo "| $label | $n | $(secs "$(median "$WORK/${w}_$n" 1)") | $(mb "$(median "$WORK/${w}_$n" 2)") |"
    done
    m=$(modules_of "$n")
    ((m > 0)) || continue
    for w in plan_empty apply plan_noop; do
        case $w in
        plan_empty) label="\`plan\`, empty state, $m module instances x $MODULE_SIZE" ;;
        apply) label="\`apply --auto-approve\`, fresh state, $m module instances x $MODULE_SIZE" ;;
        plan_noop) label="\`plan\` after apply (no-op), $m module instances x $MODULE_SIZE" ;;
        esac
        echo "| $label | $n | $(secs "$(median "$WORK/mod_${w}_$n" 1)") | $(mb "$(median "$WORK/mod_${w}_$n" 2)") |"
    done
done
echo
echo "| Target | measured | result |"
echo "|---|---:|---|"
pe_ms=$(median "$WORK/plan_empty_$largest" 1)
pe_kb=$(median "$WORK/plan_empty_$largest" 2)
pn_ms=$(median "$WORK/plan_noop_$largest" 1)
pn_kb=$(median "$WORK/plan_noop_$largest" 2)
echo "| \`plan\` of $largest (empty state) < 2 s | $(secs "$pe_ms") s | $(pass "$pe_ms < 2000") |"
echo "| \`plan\` of $largest (empty state) < 200 MB | $(mb "$pe_kb") MB | $(pass "$pe_kb * 1024 < 200e6") |"
echo "| \`plan\` of $largest (no-op, refresh) < 2 s | $(secs "$pn_ms") s | $(pass "$pn_ms < 2000") |"
echo "| \`plan\` of $largest (no-op, refresh) < 200 MB | $(mb "$pn_kb") MB | $(pass "$pn_kb * 1024 < 200e6") |"
if [[ "$largest" != "$smallest" ]]; then
    for w in plan_empty apply plan_noop plan_touched; do
        a=$(median "$WORK/${w}_$smallest" 1)
        b=$(median "$WORK/${w}_$largest" 1)
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", (a > 0 ? b / a : 0)}')
        echo "| $w: time($largest) / time($smallest) <= 12 | ${ratio}x | $(pass "$ratio <= 12") |"
    done
fi
m=$(modules_of "$largest")
if ((m > 0)); then
    a=$(median "$WORK/plan_empty_$largest" 1)
    b=$(median "$WORK/mod_plan_empty_$largest" 1)
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}')
    echo "| \`plan\` (empty) of $m module instances x $MODULE_SIZE / flat $largest <= 1.3 | $(secs "$b") / $(secs "$a") s = ${ratio}x | $(pass "$ratio <= 1.3") |"
fi
read -r written size < <(sort -n "$WORK/bytes_$largest" | head -1)
bratio=$(awk -v w="$written" -v s="$size" 'BEGIN {printf "%.2f", w / s}')
echo "| state bytes written during the $largest apply / final state.json <= 3 | $written / $size = ${bratio}x | $(pass "$bratio <= 3") |"
over=$(awk -v w="$sleep_ms" -v c="$cp_ms" 'BEGIN {printf "%.1f", (w - c) * 100 / c}')
echo "| sleep apply ($SLEEP_RESOURCES resources, $SLEEP_LAYERS layers, ${SLEEP_MS} ms, --parallelism $par) within 5% of critical path ${cp_ms} ms (sum of all sleeps ${total_ms} ms) | $(secs "$sleep_ms") s (+${over}%) | $(pass "$over <= 5") |"
echo
echo "Median of $RUNS runs (MB = 10^6 bytes); raw figures (wall ms, peak RSS KiB) in $WORK."

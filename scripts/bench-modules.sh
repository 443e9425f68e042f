#!/usr/bin/env bash
# The module benchmark (issue 15, item 8): the flat layered DAG of N core:data resources
# (`cargo xtask gen-scale`) against the same kind of DAG split into N / MODULE_SIZE instances
# of one module (`gen-scale --modules`; 100 instances x 100 resources for N = 10,000). For
# each: a plan on an empty state, an apply, and the no-op plan after it (which must say "No
# changes"). The two layouts alternate run by run with the same binary, so that drift in
# the machine's load hits both. Prints a Markdown table of medians over RUNS runs and the
# module/flat ratio of each figure; the target is a module plan within 1.3x of the flat one.
#
# With CALLGRIND=1 it also counts instructions (valgrind --tool=callgrind, which repeat
# exactly where wall time on a shared VM does not) of the same three workloads at
# CALLGRIND_N resources (default 1,000: 10 instances x 100), once each.
#
#   scripts/bench-modules.sh                          # N = 10,000, 3 runs
#   N=1000 RUNS=1 scripts/bench-modules.sh            # quicker
#   CALLGRIND=1 PLINTH=/path/to/plinth scripts/bench-modules.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-10000}"
MODULE_SIZE="${MODULE_SIZE:-100}"
RUNS="${RUNS:-3}"
LAYERS="${LAYERS:-10}"
SEED="${SEED:-1}"
CALLGRIND="${CALLGRIND:-0}"
CALLGRIND_N="${CALLGRIND_N:-1000}"
WORK="${BENCH_DIR:-$(mktemp -d -t plinth-bench-modules.XXXXXX)}"
mkdir -p "$WORK"
BENCH_NAME=bench-modules
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_binaries

# generate KIND N DIR : the flat or the module layout of N resources in DIR.
generate() {
    local kind="$1" n="$2" dir="$3"
    if ((n % MODULE_SIZE != 0)); then
        log "N=$n is not a multiple of MODULE_SIZE=$MODULE_SIZE"
        exit 1
    fi
    local flags=()
    [[ "$kind" == modules ]] && flags=(--modules $((n / MODULE_SIZE)))
    "$XTASK" gen-scale --resources "$n" --layers "$LAYERS" --seed "$SEED" "${flags[@]}" \
        --out "$dir" >/dev/null
}

# fresh DIR TEMPLATE : DIR becomes a copy of TEMPLATE (configuration only, no state).
fresh() { rm -rf "$1" && mkdir -p "$1" && cp -r "$2/." "$1/"; }

for kind in flat modules; do
    generate "$kind" "$N" "$WORK/gen-$kind"
    rm -f "$WORK/$kind".{plan,apply,noop}
done
for r in $(seq "$RUNS"); do
    for kind in flat modules; do
        d="$WORK/run-$kind-$r"
        fresh "$d" "$WORK/gen-$kind"
        measure_cycle "$WORK" "$kind" "$d" "$r"
    done
done

m=$((N / MODULE_SIZE))
echo "N = $N core:data resources ($m module instances x $MODULE_SIZE, plus 2 in the root), \
$LAYERS layers, seed $SEED, median of $RUNS runs ($(nproc) cores), binary $PLINTH"
echo
echo "| figure | flat (s) | modules (s) | ratio |"
echo "|---|---:|---:|---:|"
for fig in plan apply noop; do
    f=$(median "$WORK/flat.$fig")
    mo=$(median "$WORK/modules.$fig")
    echo "| $(figure_name "$fig") | $(secs "$f") | $(secs "$mo") | $(ratio "$mo" "$f") |"
done
f=$(median "$WORK/flat.plan")
mo=$(median "$WORK/modules.plan")
verdict=$(awk -v a="$mo" -v b="$f" 'BEGIN {print (a <= 1.3 * b ? "pass" : "**MISS**")}')
echo
echo "Target: module plan (empty state) within 1.3x of the flat one: $(ratio "$mo" "$f")x, $verdict."
echo "Raw wall times (ms) in $WORK/{flat,modules}.{plan,apply,noop}."

if [[ "$CALLGRIND" == 1 ]]; then
    command -v valgrind >/dev/null || { log "valgrind not found (apt-get install valgrind)"; exit 1; }
    # instructions DIR OUT CMD... : the instruction count (Ir) of CMD run in DIR.
    instructions() {
        local dir="$1" out="$2"
        shift 2
        (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
            >"$dir/last.out" 2>"$dir/last.err") ||
            { log "callgrind failed in $dir:"; tail -5 "$dir/last.err" >&2; exit 1; }
        sed -n 's/^summary: *//p' "$out"
    }
    millions() { awk -v i="$1" 'BEGIN {printf "%.1f M", i / 1e6}'; }
    echo
    echo "Instructions (callgrind), N = $CALLGRIND_N ($((CALLGRIND_N / MODULE_SIZE)) instances x $MODULE_SIZE):"
    echo
    echo "| figure | flat | modules | ratio |"
    echo "|---|---:|---:|---:|"
    declare -A ir
    for kind in flat modules; do
        generate "$kind" "$CALLGRIND_N" "$WORK/cg-gen-$kind"
        d="$WORK/cg-$kind"
        fresh "$d" "$WORK/cg-gen-$kind"
        log "callgrind $kind: plan, apply, no-op plan"
        ir[$kind.plan]=$(instructions "$d" "$WORK/callgrind.$kind.plan" "$PLINTH" plan --no-color)
        ir[$kind.apply]=$(instructions "$d" "$WORK/callgrind.$kind.apply" "$PLINTH" apply --auto-approve --no-color)
        ir[$kind.noop]=$(instructions "$d" "$WORK/callgrind.$kind.noop" "$PLINTH" plan --no-color)
        no_changes "$d"
    done
    for fig in plan apply noop; do
        echo "| $(figure_name "$fig") | $(millions "${ir[flat.$fig]}") | $(millions "${ir[modules.$fig]}") | $(ratio "${ir[modules.$fig]}" "${ir[flat.$fig]}") |"
    done
    echo
    echo "Profiles: $WORK/callgrind.{flat,modules}.{plan,apply,noop} (callgrind_annotate FILE)."
fi

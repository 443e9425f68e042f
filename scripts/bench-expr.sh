#!/usr/bin/env bash
# The expression-language benchmark (issue 14, item 7): the same layered DAG of N core:data
# resources written plainly (`cargo xtask gen-scale`) and with locals, for-expressions,
# conditionals and functions in every resource (`--expressive`). For each: a plan on an
# empty state, an apply, and the no-op plan after it (which must say "No changes"). Prints
# a Markdown table of medians over RUNS runs and the expressive/plain ratio of each figure.
#
#   scripts/bench-expr.sh                  # N = 10,000, 3 runs
#   N=1000 RUNS=1 scripts/bench-expr.sh    # quicker
#   PLINTH=/path/to/plinth scripts/bench-expr.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-10000}"
RUNS="${RUNS:-3}"
LAYERS="${LAYERS:-10}"
SEED="${SEED:-1}"
WORK="${BENCH_DIR:-$(mktemp -d -t plinth-bench-expr.XXXXXX)}"
mkdir -p "$WORK"
log() { echo "bench-expr: $*" >&2; }

if [[ -z "${PLINTH:-}" ]]; then
    log "building release binary"
    (cd "$ROOT" && cargo build --release --quiet --package plinth)
    PLINTH="$ROOT/target/release/plinth"
fi
(cd "$ROOT" && cargo build --quiet --package xtask)
XTASK="$ROOT/target/debug/xtask"

# measure FILE DIR CMD... : runs CMD in DIR, appends its wall time in ms to FILE.
measure() {
    local file="$1" dir="$2" start end
    shift 2
    start=$(date +%s%N)
    (cd "$dir" && "$@" >"$dir/last.out" 2>"$dir/last.err") ||
        { log "failed in $dir:"; tail -5 "$dir/last.err" >&2; exit 1; }
    end=$(date +%s%N)
    echo "$(((end - start) / 1000000))" >>"$file"
}
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.3f", ms/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

for kind in plain expressive; do
    flag=""
    [[ "$kind" == expressive ]] && flag="--expressive"
    "$XTASK" gen-scale --resources "$N" --layers "$LAYERS" --seed "$SEED" $flag \
        --out "$WORK/gen-$kind" >/dev/null
    rm -f "$WORK/$kind".{plan,apply,noop}
    for r in $(seq "$RUNS"); do
        d="$WORK/run-$kind-$r"
        rm -rf "$d" && mkdir -p "$d" && cp "$WORK/gen-$kind/main.toml" "$d/"
        log "$kind run $r: plan (empty state)"
        measure "$WORK/$kind.plan" "$d" "$PLINTH" plan --no-color
        log "$kind run $r: apply"
        measure "$WORK/$kind.apply" "$d" "$PLINTH" apply --auto-approve --no-color
        log "$kind run $r: plan (no-op)"
        measure "$WORK/$kind.noop" "$d" "$PLINTH" plan --no-color
        grep -q "No changes" "$d/last.out" ||
            { log "the plan after apply is not empty ($d/last.out)"; exit 1; }
    done
done

echo "N = $N core:data resources, $LAYERS layers, seed $SEED, median of $RUNS runs ($(nproc) cores)"
echo
echo "| figure | plain (s) | expressive (s) | ratio |"
echo "|---|---|---|---|"
for fig in plan apply noop; do
    p=$(median "$WORK/plain.$fig")
    e=$(median "$WORK/expressive.$fig")
    name=$fig
    [[ $fig == plan ]] && name="plan, empty state"
    [[ $fig == noop ]] && name="plan after apply (no-op)"
    echo "| $name | $(secs "$p") | $(secs "$e") | $(ratio "$e" "$p") |"
done

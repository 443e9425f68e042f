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
BENCH_NAME=bench-expr
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_binaries

for kind in plain expressive; do
    flag=""
    [[ "$kind" == expressive ]] && flag="--expressive"
    "$XTASK" gen-scale --resources "$N" --layers "$LAYERS" --seed "$SEED" $flag \
        --out "$WORK/gen-$kind" >/dev/null
    rm -f "$WORK/$kind".{plan,apply,noop}
    for r in $(seq "$RUNS"); do
        d="$WORK/run-$kind-$r"
        rm -rf "$d" && mkdir -p "$d" && cp "$WORK/gen-$kind"/*.toml "$d/"
        measure_cycle "$WORK" "$kind" "$d" "$r"
    done
done

echo "N = $N core:data resources, $LAYERS layers, seed $SEED, median of $RUNS runs ($(nproc) cores)"
echo
echo "| figure | plain (s) | expressive (s) | ratio |"
echo "|---|---|---|---|"
for fig in plan apply noop; do
    p=$(median "$WORK/plain.$fig")
    e=$(median "$WORK/expressive.$fig")
    echo "| $(figure_name "$fig") | $(secs "$p") | $(secs "$e") | $(ratio "$e" "$p") |"
done

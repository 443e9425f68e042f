# Helpers shared by scripts/bench-expr.sh and scripts/bench-modules.sh (sourced, not run).
# The sourcing script sets ROOT (the repository) and BENCH_NAME (the prefix of its log lines)
# first; bench_binaries then sets PLINTH and XTASK.

log() { echo "$BENCH_NAME: $*" >&2; }

# bench_binaries : builds the release plinth unless PLINTH is set, and xtask unless XTASK is.
bench_binaries() {
    if [[ -z "${PLINTH:-}" ]]; then
        log "building release binary"
        (cd "$ROOT" && cargo build --release --quiet --package plinth)
        PLINTH="$ROOT/target/release/plinth"
    fi
    if [[ -z "${XTASK:-}" ]]; then
        (cd "$ROOT" && cargo build --quiet --package xtask)
        XTASK="$ROOT/target/debug/xtask"
    fi
}

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

# measure_cycle WORK KIND DIR RUN : the three workloads in DIR (plan on an empty state, apply,
# no-op plan), their wall times appended to WORK/KIND.{plan,apply,noop}.
measure_cycle() {
    local work="$1" kind="$2" dir="$3" run="$4"
    log "$kind run $run: plan (empty state)"
    measure "$work/$kind.plan" "$dir" "$PLINTH" plan --no-color
    log "$kind run $run: apply"
    measure "$work/$kind.apply" "$dir" "$PLINTH" apply --auto-approve --no-color
    log "$kind run $run: plan (no-op)"
    measure "$work/$kind.noop" "$dir" "$PLINTH" plan --no-color
    no_changes "$dir"
}

median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.3f", ms/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

# no_changes DIR : fails unless the last plan run in DIR said "No changes".
no_changes() {
    grep -q "No changes" "$1/last.out" ||
        { log "the plan after apply is not empty ($1/last.out)"; exit 1; }
}

# figure_name FIG : the table label of plan, apply or noop.
figure_name() {
    case $1 in
    plan) echo "plan, empty state" ;;
    noop) echo "plan after apply (no-op)" ;;
    *) echo "$1" ;;
    esac
}

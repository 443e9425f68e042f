#!/usr/bin/env bash
# The flagship apply on the simulated cloud with a latency profile (default: realistic, as
# long as Azure takes: an AKS create is minutes), compared with its critical path. Results go
# in BENCHMARKS.md by hand.
#
#   scripts/bench-flagship.sh [instant|demo|realistic]
set -euo pipefail
profile="${1:-realistic}"
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PLINTH_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
fi
bin="${PLINTH_BIN:-$root/target/release/plinth}"
work="$(mktemp -d)"
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r "$root/examples/aks-keda-workload-identity" "$work/flagship"
"$bin" sim serve --addr 127.0.0.1:0 --latency "$profile" --world "$work/world.json" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
# Readiness: the simulator prints its URL once it listens.
until [ -s "$work/sim.out" ]; do
  kill -0 "$sim_pid" || { cat "$work/sim.err"; exit 1; }
  sleep 0.1
done
url="$(head -n1 "$work/sim.out")"
echo "simulated cloud: $url ($profile)"
start=$(date +%s%3N)
"$bin" apply "$work/flagship" --sim "$url" --auto-approve --json >"$work/apply.jsonl"
end=$(date +%s%3N)
python3 "$root/scripts/critical_path.py" --wall-ms "$((end - start))" <"$work/apply.jsonl"
start=$(date +%s%3N)
"$bin" destroy "$work/flagship" --sim "$url" --auto-approve --json >"$work/destroy.jsonl"
end=$(date +%s%3N)
echo "destroy wall time: $(( (end - start) / 1000 )) s"

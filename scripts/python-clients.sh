#!/usr/bin/env bash
# Installs one of the pinned Python clients of tools/python/ (Microsoft's Azure CLI, or its
# Python SDKs) into a virtualenv cached under the cargo target directory, and prints the
# virtualenv's path. The tests call it (tests/common/python.rs) and .ci/run starts it early,
# in parallel with the build, so that the install does not add to the suite's time.
#
#   scripts/python-clients.sh azure-cli     # -> target/python/azure-cli-<digest>
#   scripts/python-clients.sh azure-sdk
#
# The venv's name carries a digest of its requirements file, so a changed pin installs anew.
# One install at a time per venv (flock): a second caller waits for the first and uses its
# venv. It is built in a temporary directory and renamed into place, so nobody ever sees half
# of one. Exit status 3 (with the reason on stderr) when PyPI cannot be reached: the only
# reason a test may skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${1:?usage: python-clients.sh azure-cli|azure-sdk}"
reqs="$root/tools/python/$name.txt"
[ -f "$reqs" ] || { echo "no requirements file $reqs (known: azure-cli, azure-sdk)" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-$root/target}"
digest="$(sha256sum "$reqs" | cut -c1-12)"
venv="$target/python/$name-$digest"
mkdir -p "$target/python"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || {
    echo "python3 is not installed (apt-get install python3 python3-venv)" >&2; exit 2; }

exec 9>"$venv.lock"
flock 9
if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
    echo "$venv"
    exit 0
fi
if ! "$python" - <<'PY' >/dev/null 2>&1
import urllib.request
urllib.request.urlopen('https://pypi.org/simple/pip/', timeout=20)
PY
then
    echo "PyPI (https://pypi.org) cannot be reached to install $(grep -v '^#' "$reqs" | xargs)" >&2
    exit 3
fi
building="$venv.building-$$"
rm -rf "$building"
trap 'rm -rf "$building"' EXIT
"$python" -m venv "$building"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$building/bin/pip" install --quiet -r "$reqs" >&2
# A virtualenv names its own path in its scripts: point them at the final place first.
grep -rlF "$building" "$building/bin" "$building/pyvenv.cfg" 2>/dev/null \
    | while read -r f; do sed -i "s#$building#$venv#g" "$f"; done
touch "$building/.complete"
rm -rf "$venv"
mv "$building" "$venv"
trap - EXIT
echo "$venv"

#!/usr/bin/env bash
# Runs Azurite's blob service (the Azure Storage emulator) for trying the azure-blob backend
# by hand, and prints the connection string to export. Stops on Ctrl-C.
#
#   scripts/azurite.sh            # port 10000, data in ./.azurite (kept between runs)
#   PORT=10010 scripts/azurite.sh
#
# Then, in another shell:
#   export AZURE_STORAGE_CONNECTION_STRING='<printed below>'
#   plinth state migrate     # or plinth apply, with [backend] type = "azure-blob"
# The container named in [backend] must exist; create it with the Azure CLI:
#   az storage container create --name tfstate --connection-string "$AZURE_STORAGE_CONNECTION_STRING"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-10000}"
DATA="${DATA:-$PWD/.azurite}"
BIN="$ROOT/tools/azurite/node_modules/.bin/azurite-blob"
if [ ! -x "$BIN" ]; then
    command -v npm >/dev/null || { echo "npm is needed to install Azurite (Node.js 18+)" >&2; exit 1; }
    npm ci --prefix "$ROOT/tools/azurite" --no-audit --no-fund
fi
mkdir -p "$DATA"
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
echo "AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$PORT/devstoreaccount1;'"
exec "$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" --location "$DATA" --disableTelemetry --skipApiVersionCheck --loose

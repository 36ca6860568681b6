#!/bin/sh
# build.sh OUTDIR - builds the dashboard bundle (what txw-gateway serves)
# Installs the npm packages dashboard/package-lock.json pins when needed,
# then bundles with esbuild (dashboard/build.mjs). Run from the repo root.
set -eu
OUT=${1:?usage: sh dashboard/build.sh OUTDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/npm_deps.sh" "$ROOT/dashboard"
node "$ROOT/dashboard/build.mjs" "$OUT"

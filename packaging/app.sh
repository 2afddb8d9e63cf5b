#!/usr/bin/env bash
# Builds the packages and installs them the way a user's project gets them: tarballs, no repository.
#
#   packaging/app.sh pack DIR      clean build (tsc -b), `npm pack` of every package into DIR/packages, and
#                                  DIR/package.json + DIR/package-lock.json depending on those tarballs
#   packaging/app.sh install DIR   `npm ci --omit=dev` in DIR: the built packages and their runtime deps
#
# The Dockerfile runs `pack` in its build stage and `install` in its runtime stage; the consumer test
# (packaging/test/consumer.test.ts) runs both, so the image's steps are exercised by `npm test`.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$dir" ] || { [ "$command" != pack ] && [ "$command" != install ]; }; then
  echo "usage: packaging/app.sh pack|install DIR" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
npm_flags=(--no-audit --no-fund --loglevel=error)

case "$command" in
  pack)
    mkdir -p "$dir/packages"
    dir="$(cd "$dir" && pwd)"
    cd "$root"
    # A clean build: a stale file in dist/ (from a deleted source) must not be published.
    rm -rf packages/*/dist
    node_modules/.bin/tsc -b tsconfig.build.json
    npm pack --workspaces --pack-destination "$dir/packages" --json "${npm_flags[@]}" > "$dir/packages/pack.json"
    # The app depends on every tarball, and on effect (the packages' peer) at the range core asks for.
    node --input-type=module - "$dir" <<'JS'
import { readFileSync, writeFileSync } from "node:fs"
const dir = process.argv[2]
const packed = JSON.parse(readFileSync(`${dir}/packages/pack.json`, "utf8"))
const core = JSON.parse(readFileSync("packages/core/package.json", "utf8"))
const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:packages/${p.filename}`]))
dependencies.effect = core.peerDependencies.effect
const app = { name: "switchyard-app", version: "0.0.0", private: true, type: "module", dependencies }
writeFileSync(`${dir}/package.json`, JSON.stringify(app, null, 2) + "\n")
JS
    rm "$dir/packages/pack.json"
    cd "$dir"
    npm install --package-lock-only "${npm_flags[@]}"
    ;;
  install)
    cd "$dir"
    npm ci --omit=dev "${npm_flags[@]}"
    ;;
esac

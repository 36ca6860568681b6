#!/bin/sh
# npm_deps.sh - installs the npm packages each folder's lockfile pins
# Runs `npm ci` in every folder given that has a package-lock.json and whose
# node_modules is missing or older than the lockfile. Browsers are never
# downloaded: tests drive Debian's /usr/bin/chromium.
set -eu
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1
for dir in "$@"; do
    [ -f "$dir/package-lock.json" ] || continue
    if [ ! -d "$dir/node_modules" ] || [ -n "$(find "$dir/package-lock.json" -newer "$dir/node_modules")" ]; then
        echo "npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) && touch "$dir/node_modules"
    fi
done

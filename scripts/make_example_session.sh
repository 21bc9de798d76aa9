#!/usr/bin/env bash
# Rebuilds sessions/beach: paints the example photo, creates the session and records two edits.
# Run from the repository root: bash scripts/make_example_session.sh
set -euo pipefail
cargo build --quiet --no-default-features --example make_example_image --bin zedit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/debug/examples/make_example_image "$tmp/beach.png" >/dev/null
rm -rf sessions/beach
zedit=target/debug/zedit
$zedit --sessions sessions new "$tmp/beach.png" --name beach
$zedit --sessions sessions edit beach "warm afternoon light" --op relight --seed 1
$zedit --sessions sessions edit beach "brighter" --op relight --amount 0.3 --seed 2
$zedit --sessions sessions log beach

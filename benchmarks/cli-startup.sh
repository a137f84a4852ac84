#!/usr/bin/env bash
# Whole-process start-up of the containers command line against bubblewrap, in one hyperfine run (as root):
#   containers run --host-rootfs -- true   vs   bwrap --ro-bind / / --unshare-all --proc /proc --dev /dev true
# and containers ps / version against /bin/true. Prints hyperfine's table with ratios and writes it to
# benchmarks/results/cli-startup.md.
# Usage: benchmarks/cli-startup.sh [path/to/containers]   (default: artifacts/bin/linux-x64/containers, from build/publish.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-artifacts/bin/linux-x64/containers}
[ -x "$cli" ] || { echo "no binary at $cli: run build/publish.sh first" >&2; exit 2; }
command -v hyperfine >/dev/null && command -v bwrap >/dev/null || build/prereqs.sh --bench
mkdir -p benchmarks/results

# bwrap binds / first: a later --ro-bind / / would cover the new /proc. -N: no shell between hyperfine and the command.
hyperfine -N --warmup 10 --runs "${RUNS:-100}" --export-markdown benchmarks/results/cli-startup.md \
  -n bwrap 'bwrap --ro-bind / / --unshare-all --proc /proc --dev /dev true' \
  -n 'containers run' "$cli run --host-rootfs -- true" \
  -n /bin/true '/bin/true' \
  -n 'containers version' "$cli version" \
  -n 'containers ps' "$cli ps"

#!/usr/bin/env bash
# Whole-process start-up of the containers command line against bubblewrap, in one hyperfine run (as root):
#   containers run --host-rootfs -- true   vs   bwrap --ro-bind / / --unshare-all --proc /proc --dev /dev true
# and containers ps / version against /bin/true. Prints hyperfine's table, then each command's mean wall and CPU
# (user + system, children included) time with the ratio of run to bwrap, and the load average before and after;
# writes both to benchmarks/results/cli-startup.md. Run it at normal priority: a niced run measures the machine's
# other work instead. On a busy machine wall time is mostly waiting for a CPU; compare ratios within one run.
# Usage: benchmarks/cli-startup.sh [path/to/containers]   (default: artifacts/bin/linux-x64/containers, from build/publish.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-artifacts/bin/linux-x64/containers}
[ -x "$cli" ] || { echo "no binary at $cli: run build/publish.sh first" >&2; exit 2; }
command -v hyperfine >/dev/null && command -v bwrap >/dev/null && command -v jq >/dev/null || build/prereqs.sh --bench
mkdir -p benchmarks/results
out=benchmarks/results/cli-startup.md
json=$(mktemp)
trap 'rm -f "$json"' EXIT

before=$(cut -d' ' -f1-3 /proc/loadavg)
# bwrap binds / first: a later --ro-bind / / would cover the new /proc. -N: no shell between hyperfine and the command.
hyperfine -N --warmup 10 --runs "${RUNS:-100}" --export-markdown "$out" --export-json "$json" \
  -n bwrap 'bwrap --ro-bind / / --unshare-all --proc /proc --dev /dev true' \
  -n 'containers run' "$cli run --host-rootfs -- true" \
  -n /bin/true '/bin/true' \
  -n 'containers version' "$cli version" \
  -n 'containers ps' "$cli ps"
after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo
  echo "| Command | Wall (mean) | CPU (user + system, mean) |"
  echo "|:---|---:|---:|"
  jq -r '.results[] | "| `\(.command)` | \(.mean * 1000 | . * 10 | round / 10) ms | \((.user + .system) * 1000 | . * 10 | round / 10) ms |"' "$json"
  jq -r '(.results | map({key: .command, value: .}) | from_entries) as $r
    | "\n`containers run` / bwrap: wall \($r["containers run"].mean / $r.bwrap.mean | . * 100 | round / 100)×, CPU \(($r["containers run"].user + $r["containers run"].system) / ($r.bwrap.user + $r.bwrap.system) | . * 100 | round / 100)×"' "$json"
  echo
  echo "Load average before: $before; after: $after ($(nproc) CPUs)."
} | tee -a "$out"

#!/usr/bin/env bash
# The first RunAsync in a fresh process, three ways: JIT, ReadyToRun and native AOT. Publishes each once, runs each
# N times (default 20), interleaved so that load on the machine hits all three alike, and prints the medians in
# microseconds: the first call, a second call in the same process, and the process's age when the first call began.
# Usage (as root): benchmarks/FirstCall/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
out=$(mktemp -d /tmp/containers-firstcall.XXXXXX)
trap 'rm -rf "$out"' EXIT

publish() { # name, extra properties
  local name=$1; shift
  dotnet publish benchmarks/FirstCall -c Release -r linux-x64 -o "$out/$name" "$@" >"$out/$name.log" \
    || { cat "$out/$name.log" >&2; exit 1; }
}
publish jit --self-contained false
publish r2r --self-contained false -p:PublishReadyToRun=true
publish aot -p:PublishAot=true

for ((i = 0; i < runs; i++)); do
  for variant in jit r2r aot; do
    "$out/$variant/FirstCall" >>"$out/$variant.txt"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf '%-10s %14s %14s %14s\n' variant "first call µs" "second call µs" "startup µs"
for variant in jit r2r aot; do
  printf '%-10s %14s %14s %14s\n' "$variant" \
    "$(cut -d' ' -f1 "$out/$variant.txt" | median)" \
    "$(cut -d' ' -f2 "$out/$variant.txt" | median)" \
    "$(cut -d' ' -f3 "$out/$variant.txt" | median)"
done
echo "($runs processes each, $(nproc) CPUs, $(uname -r))"

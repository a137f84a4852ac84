#!/usr/bin/env bash
# The seeded import fuzzer, for longer runs than CI's (CI runs cases 0-299 inside build/test.sh).
#   build/fuzz.sh [N] [--first K] [--out DIR]   run N cases (default 5000) starting at case K (default 300)
#   build/fuzz.sh --case K [--out DIR]          run case K alone (to reproduce a failure)
# Every case is generated from its number alone. Each failing case is written to DIR/case-K/ (default
# /tmp/containers-fuzz-failures): the source as imported, what was mutated, and what went wrong.
# Run as root to exercise a privileged store (owners, device nodes); as another user it tests a rootless store.
set -euo pipefail
cd "$(dirname "$0")/.."

count=5000 first=300 out=/tmp/containers-fuzz-failures
while [ $# -gt 0 ]; do
  case "$1" in
    --first) first=$2; shift 2 ;;
    --case) first=$2; count=1; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *[!0-9]*) echo "build/fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) count=$1; shift ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/Containers.FuzzTests -c Release -v quiet -nologo
mkdir -p "$out"
out=$(cd "$out" && pwd)
results=$(mktemp -d /tmp/containers-fuzz-results.XXXXXX)
echo "fuzzing cases $first..$((first + count - 1)); failing cases go to $out"
status=0
(cd tests/Containers.FuzzTests/bin/Release/net10.0 &&
  CONTAINERS_FUZZ_FIRST=$first CONTAINERS_FUZZ_CASES=$count CONTAINERS_FUZZ_OUT=$out \
    ./Containers.FuzzTests -noColor -xml "$results/fuzz.xml" -class Containers.FuzzTests.ImportFuzzTests) >"$results/fuzz.log" 2>&1 || status=1
grep -E '^\s+\S+\s+Total:' "$results/fuzz.log" || tail -20 "$results/fuzz.log"
failed=$(grep -o 'result="Fail"[^>]*' "$results/fuzz.xml" 2>/dev/null | wc -l || true)
if [ "$status" -ne 0 ]; then
  echo "$failed failing case(s); reproducers:"
  ls -d "$out"/case-* 2>/dev/null || true
  echo "full log: $results/fuzz.log"
fi
exit $status

#!/usr/bin/env bash
# The kernel's floor under ContainerStart on this machine (benchmarks/floor/floor.c): plain vfork+exec, the same
# isolation in C, and that isolation exec'd through containers-init, in turns. Needs root, gcc and a build of
# src/Containers (for containers-init). Usage: benchmarks/floor.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
case $(uname -m) in aarch64) rid=linux-arm64 ;; *) rid=linux-x64 ;; esac
init=src/Containers/obj/native/Release/$rid/containers-init
[ -f "$init" ] || { echo "no containers-init: dotnet build src/Containers -c Release first" >&2; exit 2; }
work=$(mktemp -d /dev/shm/containers-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -Wextra -o "$work/floor" benchmarks/floor/floor.c
root="$work/root"
mkdir -p "$root/usr" "$root/proc" "$root/etc"
cp /etc/ld.so.cache "$root/etc/"
for link in bin sbin lib lib64; do [ -e "/usr/$link" ] && ln -s "usr/$link" "$root/$link"; done
"$work/floor" "$root" "$init" "${1:-500}"

#!/usr/bin/env bash
# The kernel's floor under ContainerStart on this machine (benchmarks/floor/floor.c): plain vfork+exec, the same
# isolation in C, and that isolation exec'd through containers-init, in turns. Needs root, gcc and a build of
# src/Containers (for containers-init). On a cgroup v1 host it also times that start with limits in new cgroups, as
# ContainerStartWithLimits, made below this shell's cgroup in each hierarchy the runtime uses. Usage:
# benchmarks/floor.sh [ROUNDS]
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
# v1 hierarchies (one directory per mount, as the runtime's driver): the mount point plus this shell's path in it.
parents=()
declare -A seen=()
while IFS=: read -r _ controllers path; do
    for c in ${controllers//,/ }; do
        case $c in memory|cpu|cpuacct|cpuset|blkio|pids|devices|freezer) ;; *) continue ;; esac
        mount=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk -v c="$c" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $1 }')
        [ -n "$mount" ] && [ -z "${seen[$mount]:-}" ] || continue
        seen[$mount]=1
        parents+=("$mount${path%/}")
    done
done < /proc/self/cgroup
"$work/floor" "$root" "$init" "${1:-500}" "${parents[@]}"

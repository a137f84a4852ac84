#!/usr/bin/env bash
# Publishes the containers command line as one Native AOT binary per architecture into artifacts/bin/<rid>/containers.
# linux-x64 always (on an x64 host); linux-arm64 too when the cross toolchain is installed (aarch64-linux-gnu-gcc and
# an arm64 sysroot) or the host is arm64. Needs clang and zlib1g-dev (build/prereqs.sh installs them).
# Usage: build/publish.sh [RID...]     e.g. build/publish.sh linux-x64
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

host=$(uname -m)
if [ $# -gt 0 ]; then
  rids=("$@")
elif [ "$host" = aarch64 ]; then
  rids=(linux-arm64)
else
  rids=(linux-x64)
  if command -v aarch64-linux-gnu-gcc >/dev/null && [ -d /usr/aarch64-linux-gnu/lib ]; then
    rids+=(linux-arm64)
  else
    echo "publish: skipping linux-arm64: no cross toolchain (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2
  fi
fi

for rid in "${rids[@]}"; do
  out=artifacts/bin/$rid
  extra=()
  if [ "$rid" = linux-arm64 ] && [ "$host" != aarch64 ]; then
    # clang links with --target=aarch64-linux-gnu, which finds Debian's cross gcc, libc and ld by themselves.
    extra=(-p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  echo "== publish $rid"
  dotnet publish src/Containers.Cli -c Release -r "$rid" -p:PublishAot=true "${extra[@]}" -o "artifacts/publish/$rid"
  mkdir -p "$out"
  cp "artifacts/publish/$rid/Containers.Cli" "$out/containers"
  echo "$out/containers ($(du -h "$out/containers" | cut -f1))"
done

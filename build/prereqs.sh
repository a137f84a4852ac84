#!/usr/bin/env bash
# Installs what building and testing need on Debian 12 / Ubuntu 22.04+ (as root): a C compiler for the native shim
# and the real tools the tests make their fixtures with.
# Usage: build/prereqs.sh [--tests] [--publish] [--bench]
#   --publish  what a Native AOT publish of the command line needs (clang, zlib1g-dev; the arm64 cross toolchain)
#   --tests    the test fixtures' tools, tmux for the terminal tests, qemu for the cgroup v2 guest (build/v2guest.sh),
#              qemu-user-static (the packaged arm64 shim is run under it), and --publish (CI tests the native binary
#              and packs both architectures' shims)
#   --bench    hyperfine, bubblewrap and jq for benchmarks/cli-startup.sh
set -euo pipefail

packages=(gcc libc6-dev)
publish=(clang zlib1g-dev)
emulate=()
if [ "$(uname -m)" = x86_64 ]; then
  publish+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu)
  emulate=(qemu-user-static)
elif [ "$(uname -m)" = aarch64 ]; then
  publish+=(gcc-x86-64-linux-gnu libc6-dev-amd64-cross)
fi
for option in "$@"; do
  case "$option" in
    --tests) packages+=(tar gzip zstd pigz busybox-static umoci skopeo uidmap iproute2 util-linux docker-registry apache2-utils openssl
                        tmux qemu-system-x86 "${publish[@]}" "${emulate[@]}") ;;
    --publish) packages+=("${publish[@]}") ;;
    --bench) packages+=(hyperfine bubblewrap jq) ;;
    *) echo "build/prereqs.sh: unknown option '$option' (use --tests, --publish, --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "the .NET 10 SDK is missing: install the package dotnet-sdk-10.0 (https://dot.net/install)" >&2
  exit 2
fi

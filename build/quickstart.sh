#!/usr/bin/env bash
# Runs samples/Quickstart: a container on the host's own /usr, /bin, /lib and /etc (read-only), no image needed.
# Run as root, or as any user where unprivileged user namespaces are enabled (then the container is rootless).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then build/prereqs.sh; fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run -c Release --project samples/Quickstart

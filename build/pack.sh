#!/usr/bin/env bash
# Packs the library (Containers: .nupkg with the native shim for linux-x64 and linux-arm64, and a .snupkg with its
# SourceLinked symbols) and the command line as a .NET tool (Containers.Cli, command `containers`) into
# artifacts/packages. Fails when either architecture's shim cannot be built: install the cross compiler first
# (build/prereqs.sh --publish).
# Usage: build/pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/packages
mkdir -p "$out"
for project in src/Containers src/Containers.Cli; do
  dotnet pack "$project" -c Release -o "$out" -p:ContinuousIntegrationBuild=true
done
ls -l "$out"

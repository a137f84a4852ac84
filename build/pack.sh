#!/usr/bin/env bash
# Packs the library (Containers: .nupkg with the native shim for linux-x64 and linux-arm64, and a .snupkg with its
# SourceLinked symbols) and the command line as a .NET tool (Containers.Cli, command `containers`, with the shim of
# both architectures too) into artifacts/packages. Fails when either architecture's shim cannot be built: install
# the cross compiler first (build/prereqs.sh --publish).
# The packages name the project's address (project and repository URL, the links of their READMEs, SourceLink):
# --repository-url URL, else the git remote `origin`, as https. Without either the pack fails rather than ship
# packages that point nowhere.
# Usage: build/pack.sh [--repository-url URL]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

url=
while [ $# -gt 0 ]; do
  case $1 in
    --repository-url) url=${2:?--repository-url needs a URL}; shift 2 ;;
    --repository-url=*) url=${1#*=}; shift ;;
    *) echo "pack: unknown argument '$1' (usage: build/pack.sh [--repository-url URL])" >&2; exit 2 ;;
  esac
done

# https://host/path from the remote forms git accepts (https, http, ssh://, git://, user@host:path), without a
# trailing .git and without credentials a CI remote may carry (https://user:token@host/...).
https_url() {
  local u=$1 rest
  case $u in
    https://* | http://* | git://*) rest=${u#*://} ;;
    ssh://*) rest=${u#ssh://}; rest=${rest#*@}; rest=${rest%%/*}; rest=${rest%%:*}/${u#ssh://*/} ;;
    *@*:*) rest=${u#*@}; rest=${rest%%:*}/${rest#*:} ;;
    *) return 1 ;;
  esac
  rest=${rest#*@}
  rest=${rest%/}
  rest=${rest%.git}
  case $rest in */*) ;; *) return 1 ;; esac
  echo "https://$rest"
}

if [ -z "$url" ]; then
  remote=$(git remote get-url origin 2>/dev/null || true)
  [ -n "$remote" ] || { echo "pack: the packages need the project's address and this clone has no remote 'origin': give it with --repository-url https://host/owner/containers" >&2; exit 2; }
  url=$(https_url "$remote") || { echo "pack: the remote 'origin' ($remote) is no URL of a host: give the project's address with --repository-url https://host/owner/containers" >&2; exit 2; }
else
  given=$url
  url=$(https_url "$given") || { echo "pack: --repository-url '$given' is not a URL (https://host/owner/containers)" >&2; exit 2; }
fi
echo "pack: project address $url"

out=artifacts/packages
mkdir -p "$out"
for project in src/Containers src/Containers.Cli; do
  dotnet pack "$project" -c Release -o "$out" -p:ContinuousIntegrationBuild=true "-p:ContainersRepositoryUrl=$url"
done
ls -l "$out"

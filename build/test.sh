#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds, runs the unit tests, the integration tests as root,
# and the integration tests again as an unprivileged user (the rootless pass). A skipped test fails the run unless
# build/expected-skips declares its skip. Ends with one summary line:
#   tests: N passed, N failed, N skipped
# Run it as root on Debian 12 or Ubuntu 22.04+ (it installs packages with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "build/test.sh: run as root (sudo build/test.sh): it installs packages and tests namespaces, mounts and cgroups" >&2
  exit 2
fi

build/prereqs.sh --tests

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! { dotnet restore Containers.sln && dotnet build Containers.sln -c Release --no-restore; }; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

results=$(mktemp -d /tmp/containers-test-results.XXXXXX)
chmod 755 "$results"
status=0

run_pass() { # name, directory, executable, [user], [extra runner arguments...]
  local name=$1 dir=$2 exe=$3 user=${4:-}
  shift $(($# < 4 ? $# : 4))
  echo "== $name"
  if [ -z "$user" ]; then
    (cd "$dir" && timeout 1500 "./$exe" -noColor -xml "$results/$name.xml" "$@") || status=1
  else
    (cd "$dir" && timeout 1500 runuser -u "$user" -- env HOME="$results/home" XDG_RUNTIME_DIR="$results/home/run" \
        XDG_DATA_HOME="$results/home/data" "./$exe" -noColor -xml "$results/$name.xml") || status=1
  fi
}

bin=bin/Release/net10.0
run_pass unit tests/Containers.Tests/$bin Containers.Tests
run_pass integration-root tests/Containers.IntegrationTests/$bin Containers.IntegrationTests
# The seeded import fuzzer, cases 0-299 (build/fuzz.sh runs more): one test per case, counted like the others.
run_pass fuzz tests/Containers.FuzzTests/$bin Containers.FuzzTests

# The command-line tests again, against the Native AOT binary (AOT-only failures are real ones).
passes=4
if build/publish.sh linux-x64; then
  passes=5
  install -m 755 artifacts/bin/linux-x64/containers "$results/containers"
  export CONTAINERS_CLI="$results/containers"
  run_pass integration-cli-native tests/Containers.IntegrationTests/$bin Containers.IntegrationTests "" \
    -namespace Containers.IntegrationTests.Cli
  unset CONTAINERS_CLI
else
  echo "native publish failed" >&2
  status=1
fi

# The cgroup v2 tests (trait Category=CgroupV2) in a v2 guest: this host may be v1. The guest boots Debian's kernel
# under qemu (TCG) with this machine's filesystem shared read-only; build/v2guest.sh and docs/testing.md say more.
passes=$((passes + 1))
echo "== integration-cgroupv2"
(cd tests/Containers.IntegrationTests/$bin && "$OLDPWD/build/v2guest.sh" --out "$results" --timeout 1200 -- \
  ./Containers.IntegrationTests -noColor -xml "$results/integration-cgroupv2.xml" -trait "Category=CgroupV2") || status=1

# The rootless pass: an unprivileged user with subordinate id ranges, running a copy of the integration tests.
user=containers-test
id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
grep -q "^$user:" /etc/subuid || echo "$user:1000000:65536" >>/etc/subuid
grep -q "^$user:" /etc/subgid || echo "$user:1000000:65536" >>/etc/subgid
rootless=$results/rootless
cp -r tests/Containers.IntegrationTests/$bin "$rootless"
mkdir -p "$results/home/run" "$results/home/data"
chmod 700 "$results/home/run"
chown -R "$user:" "$rootless" "$results/home"
chmod 777 "$results"
run_pass integration-rootless "$rootless" Containers.IntegrationTests "$user"

# The cgroup v2 limit tests again in the guest, unprivileged, in a cgroup delegated to the user as systemd's
# Delegate=yes does (build/v2guest.sh --user): rootless cgroup v2.
passes=$((passes + 1))
echo "== integration-cgroupv2-rootless"
# The SIGKILLed-host test starts a second .NET process (minutes under TCG); the root pass runs it.
(cd "$rootless" && "$OLDPWD/build/v2guest.sh" --user "$user" --out "$results" --timeout 900 -- \
  sh -c 'mkdir -p /tmp/home/run /tmp/home/data && chmod 700 /tmp/home/run &&
    HOME=/tmp/home XDG_RUNTIME_DIR=/tmp/home/run XDG_DATA_HOME=/tmp/home/data exec ./Containers.IntegrationTests "$@"' sh \
  -noColor -xml "$results/integration-cgroupv2-rootless.xml" -class Containers.IntegrationTests.Cgroups.CgroupV2RootlessTests \
  -method- '*.Cgroups_of_a_SIGKILLed_host_are_removed_by_the_next_runtime_open') || status=1

# The same limits once more, unprivileged, in a real systemd user service: the guest boots systemd, which starts the
# user's manager (user@UID.service, Delegate=pids memory cpu) and the command in a service of it (Delegate=yes). The
# tests of those three controllers run, and one of a controller it lacks; the command first checks that it is where
# systemd put it.
passes=$((passes + 1))
echo "== integration-cgroupv2-systemd"
(cd "$rootless" && "$OLDPWD/build/v2guest.sh" --user "$user" --systemd --out "$results" --timeout 900 -- \
  sh -c 'grep -q "^0::/user.slice/user-[0-9]*.slice/user@[0-9]*.service/" /proc/self/cgroup ||
      { echo "not in a systemd user service: $(cat /proc/self/cgroup)"; exit 1; }
    mkdir -p /tmp/home/data && HOME=/tmp/home XDG_DATA_HOME=/tmp/home/data exec ./Containers.IntegrationTests "$@"' sh \
  -noColor -xml "$results/integration-cgroupv2-systemd.xml" -class Containers.IntegrationTests.Cgroups.CgroupV2RootlessTests \
  -method '*.Memory_past_the_limit_is_OOM_killed_and_the_result_says_so' -method '*.Memory_below_the_limit_lives' \
  -method '*.A_fork_loop_stops_at_the_pids_limit_and_the_container_stays_manageable' \
  -method '*.A_busy_loop_under_cpus_0_2_is_throttled' -method '*.A_paused_container_gets_no_CPU_until_resumed' \
  -method '*.An_update_throttles_a_running_container' -method '*.No_cgroup_is_left_after_a_run_a_delete_or_a_kill' \
  -method '*.A_limit_on_a_controller_the_delegation_lacks_is_refused_naming_the_field_before_anything_is_created') || status=1

passed=0 failed=0 skipped=0
for f in "$results"/*.xml; do
  [ -f "$f" ] || continue
  a=$(grep -o '<assembly [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$a"); passed=$((passed + ${p:-0}))
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$a"); failed=$((failed + ${x:-0}))
  e=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$a"); failed=$((failed + ${e:-0}))
  s=$(sed -n 's/.* skipped="\([0-9]*\)".*/\1/p' <<<"$a"); skipped=$((skipped + ${s:-0}))
done
[ "$(ls "$results"/*.xml 2>/dev/null | wc -l)" -eq "$passes" ] || { echo "a test pass produced no results" >&2; status=1; }
[ "$failed" -eq 0 ] || status=1

# A skip is a failure unless build/expected-skips declares it: a missing tool must not turn CI quietly green.
rules=()
while IFS= read -r line; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  rules+=("$line")
done <build/expected-skips
unexpected=0
for f in "$results"/*.xml; do
  [ -f "$f" ] || continue
  pass=$(basename "$f" .xml)
  # One line per skipped test: full name, a tab, the reason (XML entities decoded, line breaks flattened).
  while IFS=$'\t' read -r name reason; do
    expected=0
    for rule in "${rules[@]}"; do
      rule_pass=$(sed 's/ *|.*//' <<<"$rule")
      match=$(awk -F ' [|] ' '{ gsub(/^ +| +$/, "", $2); print $2 }' <<<"$rule")
      [ "$rule_pass" = "*" ] || [ "$rule_pass" = "$pass" ] || continue
      case "$match" in
        reason=*) [[ "$reason" == "${match#reason=}"* ]] && expected=1 ;;
        test=*) [[ "$name" == ${match#test=} ]] && expected=1 ;;
      esac
      [ "$expected" -eq 1 ] && break
    done
    if [ "$expected" -eq 0 ]; then
      echo "undeclared skip in $pass: $name: $reason" >&2
      unexpected=$((unexpected + 1))
    fi
  done < <(perl -0777 -ne '
    while (/<test\b([^>]*?)(?:\/>|>(.*?)<\/test>)/gs) {
      my ($attributes, $body) = ($1, $2 // "");
      next unless $attributes =~ /\bresult="Skip"/;
      my ($name) = $attributes =~ /\bname="([^"]*)"/;
      my ($reason) = $body =~ /<reason><!\[CDATA\[(.*?)\]\]><\/reason>/s;
      for ($name, $reason) { $_ //= ""; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/\x27/g; s/&amp;/&/g; s/[\t\r\n]+/ /g; }
      print "$name\t$reason\n";
    }' "$f")
done
if [ "$unexpected" -gt 0 ]; then
  echo "$unexpected test(s) skipped for a reason build/expected-skips does not declare: install what they need or declare the skip with its reason" >&2
  status=1
fi
# CI shows the end of the log: name every failed test there, with the first lines of its message.
if [ "$failed" -gt 0 ]; then
  echo "failed tests:"
  for f in "$results"/*.xml; do
    [ -f "$f" ] || continue
    perl -0777 -ne '
      my $pass = $ARGV; $pass =~ s{.*/}{}; $pass =~ s{\.xml$}{};
      while (/<test\b([^>]*?)(?:\/>|>(.*?)<\/test>)/gs) {
        my ($attributes, $body) = ($1, $2 // "");
        next unless $attributes =~ /\bresult="Fail"/;
        my ($name) = $attributes =~ /\bname="([^"]*)"/;
        my ($message) = $body =~ /<message><!\[CDATA\[(.*?)\]\]><\/message>/s;
        my ($trace) = $body =~ /<stack-trace><!\[CDATA\[(.*?)\]\]><\/stack-trace>/s;
        $message //= ""; $trace //= "";
        my @lines = grep { /\S/ } split /\n/, $message;
        my @frames = map { /^\s*at (\S+?)\(.* in .*\/([^\/]+\.cs:line \d+)/ ? "$1 ($2)" : () } split /\n/, $trace;
        print "  [$pass] $name\n";
        print "      $_\n" for @lines[0 .. ($#lines < 5 ? $#lines : 5)];
        print "      at $_\n" for @frames[0 .. ($#frames < 2 ? $#frames : 2)];
      }' "$f"
  done
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status

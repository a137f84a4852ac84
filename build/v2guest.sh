#!/usr/bin/env bash
# Runs a command in a cgroup v2 guest: Debian's kernel (linux-image-amd64, unpacked, never installed) under qemu with
# TCG, booted with a busybox-static initramfs. The guest's root is this machine's filesystem, shared read-only over
# 9p with a tmpfs overlay on top (so the build, .NET and the test tools are where they are here), and the output
# directory is shared writable at the same path. cgroup2 alone is mounted at /sys/fs/cgroup with every controller
# enabled below the root, and the command runs in its own cgroup, /v2guest.scope. The kernel has psi=1 and eight
# 2 MiB huge pages (hugepages=8) for the hugetlb tests.
#
# Usage: build/v2guest.sh [--out DIR] [--timeout SECONDS] [--memory SIZE] [--user NAME] -- COMMAND [ARGUMENT...]
#   --out DIR          a directory the guest can write (created; default: a new one under /tmp, owned by --user). The
#                      command runs in the current directory with this shell's exported environment.
#   --timeout SECONDS  hard limit on each boot of the guest (default 900); the guest is killed past it
#   --memory SIZE      the guest's memory (qemu -m; default 2G)
#   --user NAME        run the command as this user (of this machine's /etc/passwd), with its cgroup delegated to
#                      it as systemd's Delegate=yes does (the cgroup and its cgroup.procs, cgroup.subtree_control and
#                      cgroup.threads owned by the user)
#   --systemd          with --user: boot systemd instead, and run the command in a service of the user's own
#                      manager (user@UID.service), in the cgroup systemd delegates to it (build/v2guest/systemd.sh)
# The command's environment has CONTAINERS_TEST_TIME_FACTOR=5 unless this shell exports another value: the test
# suite stretches its timeouts by that much, as TCG runs code many times slower than the host (docs/testing.md).
# Exits with the command's status, or 124 when the guest timed out, 125 when it did not run the command.
# Needs root (qemu's 9p export of / reads every file), qemu-system-x86 and busybox-static (build/prereqs.sh --tests).
# The kernel and initramfs are cached in artifacts/v2guest (remove it to rebuild). KVM is never used: TCG only.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

out= timeout=900 memory=2G user=root systemd=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --systemd) systemd=1; shift ;;
    --) shift; break ;;
    *) echo "build/v2guest.sh: unknown option '$1' (usage: build/v2guest.sh [--out DIR] [--timeout SECONDS] -- COMMAND...)" >&2
       exit 2 ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "build/v2guest.sh: no command (usage: build/v2guest.sh [--out DIR] [--timeout SECONDS] -- COMMAND...)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build/v2guest.sh: run as root: qemu exports this machine's / to the guest" >&2
  exit 2
fi
for tool in qemu-system-x86_64 busybox; do
  command -v "$tool" >/dev/null || { echo "build/v2guest.sh: '$tool' is missing (build/prereqs.sh --tests installs it)" >&2; exit 2; }
done
busybox=$(command -v busybox)
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build/v2guest.sh: $busybox is not statically linked: install busybox-static" >&2
  exit 2
fi

id -u "$user" >/dev/null 2>&1 || { echo "build/v2guest.sh: no user '$user' here" >&2; exit 2; }
if [ -z "$out" ]; then
  out=$(mktemp -d /tmp/v2guest.XXXXXX)
  chown "$user" "$out"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The kernel command line carries these paths: words without spaces.
for path in "$out" "$repo"; do
  [[ "$path" != *[[:space:]]* ]] || { echo "build/v2guest.sh: '$path' has a space: the guest cannot be given it" >&2; exit 2; }
done

# The kernel and the initramfs, built once per kernel version and guest script.
cache=$repo/artifacts/v2guest
# bfq: the I/O scheduler whose io.bfq.weight the block I/O weight test shares a loop device by.
modules=(9p 9pnet_virtio virtio_pci overlay loop bfq)
stamp=$({ cat "$repo/build/v2guest/init"; echo "${modules[*]}"; } | sha256sum | cut -c1-16)
if [ ! -f "$cache/$stamp/ready" ]; then
  rm -rf "$cache"
  mkdir -p "$cache/$stamp/deb"
  package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
  if [ -z "$package" ]; then
    apt-get update -qq
    package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
  fi
  echo "v2guest: preparing $package"
  # apt downloads as _apt into the current directory: give it one it may write.
  chown _apt "$cache/$stamp/deb" 2>/dev/null || true
  (cd "$cache/$stamp/deb" && apt-get download -qq "$package" 2>/dev/null) ||
    { apt-get update -qq && (cd "$cache/$stamp/deb" && apt-get download -qq "$package"); }
  kernel=$cache/$stamp/kernel
  dpkg -x "$cache/$stamp/deb"/*.deb "$kernel"
  version=$(ls "$kernel/lib/modules")
  busybox depmod -b "$kernel" "$version"
  initramfs=$cache/$stamp/initramfs
  mkdir -p "$initramfs/bin" "$initramfs/lib/modules"
  install -m 755 "$busybox" "$initramfs/bin/busybox"
  install -m 755 "$repo/build/v2guest/init" "$initramfs/init"
  # Each wanted module after the modules it depends on (modules.dep lists a module's whole dependency chain).
  : >"$initramfs/modules.list"
  dep=$kernel/lib/modules/$version/modules.dep
  add_module() { # relative path of a .ko
    grep -qxF "$1" "$initramfs/modules.list" && return
    local needed
    for needed in $(awk -F': *' -v m="$1" '$1 == m { print $2 }' "$dep" | tr ' ' '\n' | tac); do
      add_module "$needed"
    done
    mkdir -p "$initramfs/lib/modules/$(dirname "$1")"
    cp "$kernel/lib/modules/$version/$1" "$initramfs/lib/modules/$1"
    echo "$1" >>"$initramfs/modules.list"
  }
  for module in "${modules[@]}"; do
    path=$(awk -F: -v m="$module" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); if (n == m) { print $1; exit } }' "$dep")
    if [ -z "$path" ] && grep -q "/$module\.ko" "$kernel/lib/modules/$version/modules.builtin" 2>/dev/null; then
      continue # built into this kernel
    fi
    [ -n "$path" ] || { echo "build/v2guest.sh: the kernel has no module $module" >&2; exit 1; }
    add_module "$path"
  done
  (cd "$initramfs" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$cache/$stamp/initramfs.cpio.gz")
  cp "$kernel/boot/vmlinuz-$version" "$cache/$stamp/vmlinuz"
  rm -rf "$cache/$stamp/deb" "$kernel" "$initramfs"
  touch "$cache/$stamp/ready"
fi

# The command, as this shell would run it: its directory, its exported environment, its arguments.
mkdir -p "$out/.v2guest"
rm -f "$out/.v2guest/status"
{
  export -p
  # The guest's console is a serial line, not this terminal.
  echo 'export TERM=dumb'
  # Emulated instructions: the tests' hang guards (timeouts, deadlines) stretch by this much.
  echo "export CONTAINERS_TEST_TIME_FACTOR=${CONTAINERS_TEST_TIME_FACTOR:-5}"
  printf 'cd %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$out/.v2guest/command.sh"
chmod 755 "$out/.v2guest"
chmod 644 "$out/.v2guest/command.sh"

# A TCG guest now and then hangs in early boot (RCU stalls, the timer interrupt never comes): stage2 marks the boot
# in the output share, and a guest without that mark after $boot_wait seconds is killed and booted again, twice at most.
boot_wait=${V2GUEST_BOOT_WAIT:-180}
started=$EPOCHREALTIME
set +e
for attempt in 1 2 3; do
  rm -f "$out/.v2guest/booted"
  timeout --kill-after=10 "$timeout" qemu-system-x86_64 -accel tcg -m "$memory" -smp 2 -nographic -nic none -no-reboot \
    -kernel "$cache/$stamp/vmlinuz" -initrd "$cache/$stamp/initramfs.cpio.gz" \
    -append "console=ttyS0 psi=1 hugepages=8 ${V2GUEST_KERNEL_ARGS:-quiet} panic=-1 v2guest.out=$out v2guest.user=$user v2guest.systemd=$systemd v2guest.stage2=$repo/build/v2guest/stage2.sh" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=out,path="$out",security_model=none,multidevs=remap \
    -device virtio-9p-pci,fsdev=out,mount_tag=out </dev/null &
  guest=$!
  waited=0
  while [ ! -f "$out/.v2guest/booted" ] && [ "$waited" -lt "$boot_wait" ] && kill -0 "$guest" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
  done
  if [ ! -f "$out/.v2guest/booted" ] && [ "$attempt" -lt 3 ] && kill -0 "$guest" 2>/dev/null; then
    echo "v2guest: the guest has not booted after ${boot_wait}s; killing it and booting again" >&2
    kill "$guest"
    wait "$guest"
    continue
  fi
  wait "$guest"
  qemu=$?
  break
done
set -e
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if [ "$qemu" -eq 124 ] || [ "$qemu" -eq 137 ]; then
  echo "v2guest: timed out after ${timeout}s" >&2
  exit 124
fi
if [ ! -f "$out/.v2guest/status" ]; then
  echo "v2guest: the guest stopped without running the command (qemu exited $qemu)" >&2
  exit 125
fi
status=$(cat "$out/.v2guest/status")
echo "v2guest: the command exited $status; the guest ran ${elapsed} s" >&2
exit "$status"

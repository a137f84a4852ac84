# The guest's second stage, PID 1 in the overlay root (run by the host's /bin/busybox sh): runs the command that
# build/v2guest.sh wrote into the output share, in a cgroup of its own, writes its exit status next to it and
# powers the guest off.
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
out=$(arg v2guest.out)
user=$(arg v2guest.user)
# The host's boot watchdog (build/v2guest.sh) waits for this mark.
: >"$out/.v2guest/booted"
if [ "$(arg v2guest.systemd)" = 1 ]; then
  exec /bin/busybox sh "$(dirname "$0")/systemd.sh"
fi
hostname v2guest
ip link set lo up 2>/dev/null
# As under systemd, the command runs in a cgroup of its own below the root (PID 1 stays in the root): what it
# manages goes below that cgroup, which holds a process, so the no-internal-processes rule applies as on a host.
mkdir /sys/fs/cgroup/v2guest.scope
echo "v2guest: booted in $(cut -d' ' -f1 /proc/uptime) s (guest clock); running the command" >/dev/console
scope=/sys/fs/cgroup/v2guest.scope
if [ "$user" != root ]; then
  # Delegation as systemd does it: the user owns the cgroup and the files that manage its subtree.
  chown "$user" "$scope" "$scope/cgroup.procs" "$scope/cgroup.subtree_control" "$scope/cgroup.threads"
  # setpriv execs the command as the user (runuser would stay in the cgroup as a root process the user's cgroup
  # could never hand its controllers down past: the no-internal-processes rule).
  run="/usr/bin/setpriv --reuid=$user --regid=$user --init-groups --"
fi
/bin/bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' command "$scope" $run \
  /bin/bash "$out/.v2guest/command.sh" </dev/null >/dev/console 2>&1
status=$?
echo "v2guest: the command ended at $(cut -d' ' -f1 /proc/uptime) s (guest clock)" >/dev/console
echo $status >"$out/.v2guest/status"
sync
poweroff -f

# The guest's second stage, PID 1 in the overlay root (run by the host's /bin/busybox sh): runs the command that
# build/v2guest.sh wrote into the output share, in a cgroup of its own, writes its exit status next to it and
# powers the guest off.
out=$(sed -n 's/.*v2guest\.out=\([^ ]*\).*/\1/p' /proc/cmdline)
hostname v2guest
ip link set lo up 2>/dev/null
# As under systemd, the command runs in a cgroup of its own below the root (PID 1 stays in the root): what it
# manages goes below that cgroup, which holds a process, so the no-internal-processes rule applies as on a host.
mkdir /sys/fs/cgroup/v2guest.scope
echo "v2guest: booted in $(cut -d' ' -f1 /proc/uptime) s (guest clock); running the command" >/dev/console
/bin/bash -c 'echo $$ >/sys/fs/cgroup/v2guest.scope/cgroup.procs && exec /bin/bash "$1"' command \
  "$out/.v2guest/command.sh" </dev/null >/dev/console 2>&1
status=$?
echo "v2guest: the command ended at $(cut -d' ' -f1 /proc/uptime) s (guest clock)" >/dev/console
echo $status >"$out/.v2guest/status"
sync
poweroff -f

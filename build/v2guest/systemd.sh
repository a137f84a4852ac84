# The guest's second stage under systemd (build/v2guest.sh --systemd), PID 1 in the overlay root until it execs
# systemd: the command runs as the user in a service of the user's own systemd manager (user@UID.service), whose
# cgroup systemd delegates (Debian's user@.service: Delegate=pids memory cpu; the service: Delegate=yes), as on a
# desktop or a server with lingering. A system service waits for the command's status, copies it where
# build/v2guest.sh reads it and powers the guest off. Writes go to the overlay's tmpfs, never to the host.
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
out=$(arg v2guest.out)
user=$(arg v2guest.user)
uid=$(id -u "$user")
here=$(dirname "$0")
mkdir -p "$out/.v2guest-user"
rm -f "$out/.v2guest-user/status" "$out/.v2guest-user/output"
chown "$user" "$out/.v2guest-user"
hostname v2guest

# Only what the command needs: no fstab mounts (the root is already up), and the user's units without the system's
# default dependencies (sysinit.target would start udev, journald's and the rest of a full boot).
: >/etc/fstab
system=/etc/systemd/system
mkdir -p "$system/user@.service.d" "$system/user-runtime-dir@.service.d" /etc/systemd/user/default.target.wants
for unit in user@ user-runtime-dir@; do
  printf '[Unit]\nDefaultDependencies=no\n[Service]\nStandardOutput=tty\nStandardError=tty\nTTYPath=/dev/console\n' >"$system/$unit.service.d/v2guest.conf"
done
# pam_systemd, which would set the manager's XDG_RUNTIME_DIR, asks logind too.
printf 'Environment=XDG_RUNTIME_DIR=/run/user/%%i\n' >>"$system/user@.service.d/v2guest.conf"
# The user's runtime directory without logind (systemd-user-runtime-dir asks it over the system bus for the size):
# a directory on /run's tmpfs, the user's own, as logind's tmpfs would be.
cat >>"$system/user-runtime-dir@.service.d/v2guest.conf" <<UNIT
ExecStart=
ExecStart=/bin/sh -c 'mkdir -p -m 700 /run/user/%i && chown %i /run/user/%i'
ExecStop=
ExecStop=/bin/rm -rf /run/user/%i
UNIT
cat >"$system/v2guest.target" <<UNIT
[Unit]
Description=v2guest: the command in a user's systemd service
Requires=v2guest.service
After=v2guest.service
UNIT
cat >"$system/v2guest.service" <<UNIT
[Unit]
Description=v2guest: start the user's manager, wait for the command, power off
DefaultDependencies=no
Wants=user@$uid.service
After=user@$uid.service

[Service]
Type=oneshot
ExecStart=/bin/busybox sh $here/systemd-wait.sh $out $uid
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
UNIT
cat >/etc/systemd/user/v2guest-command.service <<UNIT
[Unit]
Description=v2guest: the command

[Service]
Type=oneshot
Delegate=yes
ExecStart=/bin/bash $out/.v2guest/command.sh
ExecStopPost=/bin/sh -c 'echo \$EXIT_STATUS >$out/.v2guest-user/status'
StandardOutput=append:$out/.v2guest-user/output
StandardError=append:$out/.v2guest-user/output
UNIT
ln -s ../v2guest-command.service /etc/systemd/user/default.target.wants/v2guest-command.service
echo "v2guest: booted in $(cut -d' ' -f1 /proc/uptime) s (guest clock); starting systemd" >/dev/console
exec /lib/systemd/systemd --unit=v2guest.target

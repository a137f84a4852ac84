# Run by v2guest.service (build/v2guest/systemd.sh): shows the user's command's output on the console as it comes,
# waits for its exit status, copies it where build/v2guest.sh reads it, and powers the guest off.
out=$1
uid=$2
user=$out/.v2guest-user
: >>"$user/output"
tail -f "$user/output" &
while [ ! -s "$user/status" ]; do
  if systemctl --quiet is-failed "user@$uid.service"; then
    echo "v2guest: the user's manager failed to start (user@$uid.service)"
    echo 125 >"$user/status"
  fi
  sleep 1
done
sleep 1
kill $!
echo "v2guest: the command ended at $(cut -d' ' -f1 /proc/uptime) s (guest clock)"
cp "$user/status" "$out/.v2guest/status"
sync
systemctl poweroff --force --force

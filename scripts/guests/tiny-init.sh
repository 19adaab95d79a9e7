#!/bin/sh
# /init of the qlaunch tiny test guest: prints markers on the console and does what the qlaunch.* kernel options ask.
#
# Options (read from /proc/cmdline): qlaunch.mount=DEV, qlaunch.net=1, qlaunch.fetch=URL, qlaunch.ip=ADDR/PREFIX,
# qlaunch.ping=ADDR, qlaunch.hold=1, qlaunch.shell=1 (debug: a shell on the console instead of powering off).
# See scripts/guests/README.md.

/bin/busybox mount -t devtmpfs dev /dev
# The kernel found no /dev/console in the archive, so this is the first moment output can go anywhere.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin HOME=/
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /tmp /mnt /run

# Build time wrote the modules and their dependencies in load order; a missing one only costs its feature.
while read -r module; do
  insmod "/lib/modules/$module" 2>/dev/null || echo "tiny-init: insmod $module failed"
done </lib/modules/load-order

MOUNT='' NET='' FETCH='' IP_ADDR='' PING='' HOLD='' SHELL_ON_CONSOLE=''
# shellcheck disable=SC2013 # words are wanted: the command line is space-separated.
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    qlaunch.mount=*) MOUNT="${arg#*=}" ;;
    qlaunch.net=*) NET="${arg#*=}" ;;
    qlaunch.fetch=*) FETCH="${arg#*=}" ;;
    qlaunch.ip=*) IP_ADDR="${arg#*=}" ;;
    qlaunch.ping=*) PING="${arg#*=}" ;;
    qlaunch.hold=*) HOLD="${arg#*=}" ;;
    qlaunch.shell=*) SHELL_ON_CONSOLE="${arg#*=}" ;;
  esac
done

echo QLAUNCH-TINY-READY

# Devices can lag a module's probe by a moment; $1 = path, $2 = tenths of a second to wait.
wait_for() {
  n=0
  while [ ! -e "$1" ] && [ "$n" -lt "$2" ]; do
    usleep 100000
    n=$((n + 1))
  done
  [ -e "$1" ]
}

mount_disk() {
  wait_for "$MOUNT" 50
  for fstype in ext4 vfat iso9660; do
    if mount -t "$fstype" -o ro "$MOUNT" /mnt 2>/dev/null; then
      echo "QLAUNCH-MOUNT-OK $MOUNT $fstype"
      ls -la /mnt
      if [ -f /mnt/run.sh ]; then
        (cd /mnt && sh ./run.sh)
        echo "QLAUNCH-RUN-EXIT $?"
      fi
      return 0
    fi
  done
  echo "QLAUNCH-MOUNT-FAIL $MOUNT"
}

bring_up_net() {
  ip link set lo up
  if wait_for /sys/class/net/eth0 50 && ip link set eth0 up &&
    udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /etc/tiny-udhcpc.sh >/dev/null 2>&1; then
    echo "QLAUNCH-NET-OK $(cat /run/ip)"
    if [ -n "$FETCH" ]; then
      # timeout(1), not wget -T: Debian's busybox-static 1.35 wget segfaults with -T.
      if timeout 15 wget -q -O - "$FETCH"; then echo QLAUNCH-FETCH-OK; else echo QLAUNCH-FETCH-FAIL; fi
    fi
  else
    echo QLAUNCH-NET-FAIL
  fi
}

# The second NIC (eth1: the first one after user networking) gets a static address, for private networks.
set_static_ip() {
  ip link set lo up
  if wait_for /sys/class/net/eth1 50 && ip addr add "$IP_ADDR" dev eth1 && ip link set eth1 up &&
    wait_until_up eth1 50; then
    echo "QLAUNCH-IP-OK eth1 $IP_ADDR"
  else
    echo "QLAUNCH-IP-FAIL eth1 $IP_ADDR"
  fi
}

# $1 = interface, $2 = tenths of a second to wait for its carrier (virtio-net reports it at once, but not before up).
wait_until_up() {
  n=0
  while [ "$(cat "/sys/class/net/$1/operstate" 2>/dev/null)" != up ] && [ "$n" -lt "$2" ]; do
    usleep 100000
    n=$((n + 1))
  done
  [ "$(cat "/sys/class/net/$1/operstate" 2>/dev/null)" = up ]
}

# Up to 5 echoes within 10 s; the first can be lost to ARP while a peer is slow (TCG), so any reply is success.
ping_peer() {
  if ping -c 5 -w 10 "$PING"; then
    echo "QLAUNCH-PING-OK $PING"
  else
    echo "QLAUNCH-PING-FAIL $PING"
  fi
}

# Blocks until the power button (ACPI "Power Button" on x86, gpio-keys on arm virt) sends an input event.
hold_until_power_button() {
  mkfifo /run/power
  # Read-write open: never blocks, and the readers below can write to it.
  exec 9<>/run/power
  found=''
  for name_file in /sys/class/input/event*/device/name; do
    case "$(cat "$name_file" 2>/dev/null)" in
      'Power Button' | gpio-keys*)
        event="${name_file%/device/name}"
        event="/dev/input/${event##*/}"
        wait_for "$event" 20 || continue
        # Opened here, before HOLDING is printed, so a press sent right after the marker is not lost.
        exec 8<"$event"
        (dd bs=256 count=1 <&8 >/dev/null 2>&1 && echo "$event" >&9) &
        exec 8<&-
        found=1
        ;;
    esac
  done
  if [ -z "$found" ]; then
    echo 'tiny-init: no power button input device found; holding forever'
  fi
  echo QLAUNCH-HOLDING
  read -r _ <&9
  echo QLAUNCH-POWERDOWN
}

[ -n "$MOUNT" ] && mount_disk
[ "$NET" = 1 ] && bring_up_net
# Before hold, so a holding guest already answers on its address.
[ -n "$IP_ADDR" ] && set_static_ip
[ -n "$PING" ] && ping_peer
if [ "$SHELL_ON_CONSOLE" = 1 ]; then
  setsid cttyhack sh
elif [ "$HOLD" = 1 ]; then
  hold_until_power_button
else
  echo QLAUNCH-POWEROFF
fi
sync
umount /mnt 2>/dev/null
poweroff -f
# PID 1 must never exit (the kernel would panic); poweroff -f does not return unless it failed.
while :; do sleep 3600; done

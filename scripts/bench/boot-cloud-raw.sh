#!/usr/bin/env bash
# The baseline for boot-cloud: what qlaunch run IMAGE -- true does, by hand: qemu-img overlay, cloud-localds seed,
# raw qemu with a fixed forward, an SSH poll loop, cloud-init status --wait, power off, clean up.
# Usage: boot-cloud-raw.sh DISK KERNEL INITRD APPEND USER
set -euo pipefail
disk=$1 kernel=$2 initrd=$3 append=$4 user=$5
dir=$(mktemp -d)
trap 'kill "$qemu" 2>/dev/null || true; rm -rf "$dir"' EXIT
qemu-img create -q -f qcow2 -b "$disk" -F qcow2 "$dir/disk.qcow2"
ssh-keygen -q -t ed25519 -N '' -f "$dir/key"
printf 'instance-id: iid-%s\nlocal-hostname: raw\npublic-keys:\n  - %s\n' "$RANDOM" "$(cat "$dir/key.pub")" > "$dir/meta-data"
printf '#cloud-config\n{}\n' > "$dir/user-data"
cloud-localds "$dir/seed.iso" "$dir/user-data" "$dir/meta-data"
port=$((20000 + RANDOM % 10000))
qemu-system-x86_64 -nodefaults -no-user-config -display none -machine q35 -accel tcg,thread=multi,tb-size=256 \
  -cpu max -smp 2 -m 1024M -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
  -drive "if=virtio,format=qcow2,file=$dir/disk.qcow2" -drive "if=virtio,format=raw,readonly=on,file=$dir/seed.iso" \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0 \
  -kernel "$kernel" -initrd "$initrd" -append "$append" -serial null &
qemu=$!
ssh_=(ssh -i "$dir/key" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
  -o ConnectTimeout=5 -o LogLevel=ERROR "$user@127.0.0.1")
delay=0.25
until "${ssh_[@]}" true 2>/dev/null; do sleep "$delay"; delay=$(awk "BEGIN{d=$delay*2; print (d>2)?2:d}"); done
"${ssh_[@]}" cloud-init status --wait >/dev/null
"${ssh_[@]}" true
"${ssh_[@]}" sudo poweroff || true
wait "$qemu" || true

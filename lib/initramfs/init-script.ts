// The /init of a rootfs guest (pure: a plan in, a busybox sh script out): load the modules, mount the host's
// directory read-only under a tmpfs overlay, bring up the guest's mounts and network, run the command, report its
// exit status on a virtio port and power off.

import { shellWord } from '../shell-word.js';

export interface RootfsShare {
  /** The mount tag (9p) or tag (virtiofs) QEMU gives the share. */
  tag: string;
  transport: '9p' | 'virtiofs';
}

export interface InitPlan {
  /** Module files in /lib/modules, in load order. */
  modules: readonly string[];
  root: RootfsShare;
  /** The guest's other mounts, at their guest paths in the new root. */
  mounts: readonly (RootfsShare & { guest: string; writable: boolean })[];
  /** Bring up eth0 on QEMU's user network (10.0.2.15, gateway .2, DNS .3). */
  network: boolean;
  /** argv of the command; run in the new root with a clean environment. */
  command: readonly string[];
}

/** The virtio-serial port the exit status is written to; the host end is a file. */
export const STATUS_PORT = 'org.qlaunch.status';

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// 9p: the Linux protocol, large messages (the default 8 KiB makes reads crawl).
const mountArgs = (share: RootfsShare, writable: boolean): string =>
  share.transport === '9p'
    ? `-t 9p -o trans=virtio,version=9p2000.L,msize=524288,${writable ? 'rw' : 'ro'} ${share.tag}`
    : `-t virtiofs -o ${writable ? 'rw' : 'ro'} ${share.tag}`;

export function initScript(plan: InitPlan): string {
  const lines = [
    '#!/bin/busybox sh',
    '# qlaunch rootfs guest: generated for one run.',
    '/bin/busybox --install -s /bin',
    'export PATH=/bin',
    'mount -t devtmpfs devtmpfs /dev',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'status() {',
    `  for port in /sys/class/virtio-ports/*; do`,
    `    [ "$(cat "$port/name" 2>/dev/null)" = ${STATUS_PORT} ] && echo "$1" > "/dev/\${port##*/}"`,
    '  done',
    '}',
    // A step that fails ends the guest with a line that says which; the host finds no status and says so.
    'fail() { echo "qlaunch-init: $*" >&2; poweroff -f; sleep 5; exit 1; }',
    ...plan.modules.map((m) => `insmod /lib/modules/${m} || fail "cannot load module ${m}"`),
    'mkdir -p /lower /rw /newroot',
    `mount ${mountArgs(plan.root, false)} /lower || fail "cannot mount the root share (${plan.root.transport})"`,
    'mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir /rw/upper /rw/work',
    'mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||',
    '  fail "cannot mount the tmpfs overlay on the root share"',
    'mount -t proc proc /newroot/proc',
    'mount -t sysfs sysfs /newroot/sys',
    'mount -t devtmpfs devtmpfs /newroot/dev',
    'mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/tmp /newroot/run',
    'mount -t devpts -o gid=5,mode=620 devpts /newroot/dev/pts',
    'mount -t tmpfs tmpfs /newroot/dev/shm',
    'mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp',
    'mount -t tmpfs -o mode=0755 tmpfs /newroot/run',
    // A home of its own: the host's /root is not QEMU's to read over 9p, and what is written there is the run's.
    'mkdir -p /newroot/root && mount -t tmpfs -o mode=0700 tmpfs /newroot/root',
    ...plan.mounts.flatMap((m) => {
      const at = shellWord(`/newroot${m.guest}`);
      return [
        `mkdir -p ${at}`,
        `mount ${mountArgs(m, m.writable)} ${at} || fail ${shellWord(`cannot mount ${m.guest}`)}`,
      ];
    }),
    'ip link set lo up',
    ...(plan.network
      ? [
          'if ip link set eth0 up 2>/dev/null; then',
          '  ip addr add 10.0.2.15/24 dev eth0',
          '  ip route add default via 10.0.2.2',
          // A symlink (to systemd-resolved's file, say) would point into the host's tree: replace it.
          '  rm -f /newroot/etc/resolv.conf && echo "nameserver 10.0.2.3" > /newroot/etc/resolv.conf',
          'fi',
        ]
      : []),
    'hostname qlaunch',
    // The command's output is the console's: newlines as written, not turned into CR LF.
    'stty -onlcr 2>/dev/null',
    `set -- ${plan.command.map(shellWord).join(' ')}`,
    // busybox runs its own applet for a bare name (sh, df, …): the command is found in the new root, by path.
    'find_command() {',
    '  case "$1" in */*) echo "$1"; return 0 ;; esac',
    `  for dir in ${GUEST_PATH.split(':').join(' ')}; do`,
    '    chroot /newroot test -f "$dir/$1" -a -x "$dir/$1" && { echo "$dir/$1"; return 0; }',
    '  done',
    '  return 1',
    '}',
    'if program=$(find_command "$1"); then',
    '  shift',
    `  env -i HOME=/root TERM=linux PATH=${GUEST_PATH} chroot /newroot "$program" "$@"`,
    '  status $?',
    'else',
    '  echo "qlaunch: $1: command not found in the root" >&2',
    '  status 127',
    'fi',
    // The power-off's own line ("reboot: Power down") is not the command's output.
    'echo 0 > /proc/sys/kernel/printk',
    'poweroff -f',
  ];
  return `${lines.join('\n')}\n`;
}

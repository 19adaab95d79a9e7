// The names of the files in a guest's directory — a throwaway run's or a named instance's — in one place.

/** Every file qlaunch puts in a run or instance directory; nothing else writes names into one. */
export const GUEST_FILES = {
  // The guest's disks and identity, made before it boots:
  overlay: 'disk.qcow2',
  seed: 'seed.iso',
  key: 'id_ed25519',
  knownHosts: 'known_hosts',
  nvram: 'nvram.fd',
  // An instance's record and lock:
  config: 'instance.json',
  lockKey: 'lock.key',
  // Which machine type and QEMU saved each internal snapshot:
  snapshotOrigins: 'snapshots.json',
  // While QEMU runs (or after it crashed):
  pid: 'qemu.pid',
  runtime: 'runtime.json',
  qmp: 'qmp.sock',
  guestAgent: 'qga.sock',
  serial: 'serial.sock',
  // A clone's logged-in SSH connection, which its SSH commands ride.
  sshControl: 'ssh.sock',
  // A guest with a screen: its VNC server (a unix socket, never a TCP port).
  vnc: 'vnc.sock',
  // Logs, kept across boots:
  console: 'console.log',
  qemuLog: 'qemu.log',
  virtiofsdLog: 'virtiofsd.log',
  log: 'qlaunch.log',
} as const;

/** The socket of the virtiofsd serving mount `tag`, in the run's or instance's runtime directory (short: 108 bytes). */
export const virtiofsSocketName = (tag: string): string => `vfs-${tag}.sock`;

/** Every name `virtiofsSocketName` gives. */
export const VIRTIOFS_SOCKET = /^vfs-m\d+\.sock$/;

// The names of the files in a warm image's directory, in one place.

/** Every file a warm image holds; nothing else writes names into one. */
export const WARM_FILES = {
  /** What the image is and how to restore it (JSON). */
  record: 'warm.json',
  /** The guest's disk as it was saved: a read-only qcow2 layer on the base image. */
  layer: 'layer.qcow2',
  /** Guest RAM (sparse; clones map it copy-on-write). */
  ram: 'ram.bin',
  /** Device state: the migration stream without RAM. */
  state: 'state.bin',
  /** The NoCloud seed the guest booted with: its disk is part of the device tree. */
  seed: 'seed.iso',
  /** The SSH client key the guest accepts. */
  key: 'id_ed25519',
} as const;

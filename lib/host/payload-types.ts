// The shape of a KVM probe payload: guest code QEMU can run, the serial markers it writes, how it ends.

import type { Arch } from '../arch/table.js';

export interface PayloadStage {
  /** The byte the code writes to its serial port on reaching this stage. */
  marker: string;
  /** What reaching it proves, for the verdict's reason: "real mode", "long mode with paging". */
  name: string;
}

export interface ProbePayload {
  arch: Arch;
  /** Builds the image (firmware or kernel) QEMU loads; hand-assembled, no committed blobs. */
  image: () => Uint8Array;
  memoryMiB: number;
  /** QEMU options that load the image from `file` and wire up the completion signal. */
  loadArgs: (file: string) => string[];
  /** Markers in the order the code writes them to the serial console (QEMU's stdout). */
  stages: readonly PayloadStage[];
  /** QEMU's exit status once the code has run to its end. */
  exitStatus: number;
}

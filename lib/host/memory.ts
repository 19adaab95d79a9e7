// Guest memory against the host's: a size the host cannot give is refused when the guest is described, not when
// QEMU fails to allocate it at start.

import { totalmem } from 'node:os';
import { ErrorCode, QlaunchError } from '../errors.js';

const gib = (mib: number): string => `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GiB`;

/** The problem with giving a guest `memoryMiB` on a host with `hostMiB` in all (pure), or undefined. */
export function memoryProblem(memoryMiB: number, hostMiB: number): QlaunchError | undefined {
  if (memoryMiB <= hostMiB) return undefined;
  return new QlaunchError(
    ErrorCode.SPEC_INVALID,
    `memory ${memoryMiB >= 1024 ? gib(memoryMiB) : `${memoryMiB} MiB`} is more than this host has (${gib(hostMiB)})`,
    { hint: `give the guest at most ${gib(hostMiB)}, e.g. --memory 2G` },
  );
}

/** Throws when this host does not have `memoryMiB` of memory at all. */
export function checkGuestMemory(memoryMiB: number): void {
  const problem = memoryProblem(memoryMiB, Math.floor(totalmem() / 2 ** 20));
  if (problem) throw problem;
}

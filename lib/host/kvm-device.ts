// Whether the KVM device exists and opens read-write for this user: necessary for KVM, far from sufficient.

import { open } from 'node:fs/promises';
import type { KvmDevice } from './types.js';

export const DEFAULT_KVM_DEVICE = '/dev/kvm';

/** Opens the device read-write (as QEMU will) and closes it again; never throws. */
export async function checkKvmDevice(path: string = DEFAULT_KVM_DEVICE): Promise<KvmDevice> {
  try {
    const handle = await open(path, 'r+');
    await handle.close();
    return { path, exists: true, accessible: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') {
      return {
        path,
        exists: false,
        accessible: false,
        problem: `${path} missing (no KVM module loaded, or no hardware virtualization)`,
      };
    }
    const fix = code === 'EACCES' || code === 'EPERM' ? ' (add the user to the kvm group)' : '';
    return {
      path,
      exists: true,
      accessible: false,
      problem: `${path} not accessible read-write: ${code}${fix}`,
    };
  }
}

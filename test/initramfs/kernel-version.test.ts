// A kernel's release from its image: the tiny guests' real kernels (bzImage, vmlinux, arm64 Image).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { kernelRelease } from '../../lib/initramfs/kernel-version.js';
import { tinyGuest } from '../fixtures/guests.js';

t.setTimeout(600_000);

t.test('an x86_64 bzImage and vmlinux name their release', async (t) => {
  const guest = (await tinyGuest('x86_64')) as unknown as {
    kernel: string;
    bzImage: string;
    kernelVersion: string;
  };
  t.equal(kernelRelease(readFileSync(guest.bzImage)), guest.kernelVersion);
  t.equal(kernelRelease(readFileSync(guest.kernel)), guest.kernelVersion);
});

t.test('an aarch64 kernel names its release', async (t) => {
  const guest = (await tinyGuest('aarch64')) as unknown as { kernel: string; kernelVersion: string };
  t.equal(kernelRelease(readFileSync(guest.kernel)), guest.kernelVersion);
  t.equal(kernelRelease(gzipSync(readFileSync(guest.kernel))), guest.kernelVersion, 'gzip-compressed too');
});

t.test('an image without a banner gives undefined', async (t) => {
  t.equal(kernelRelease(Buffer.alloc(4096)), undefined);
  t.equal(kernelRelease(Buffer.from('Linux version %s (%s)')), undefined);
});

// ELF facts of real binaries: the host's static busybox, a dynamic program, and what is not ELF at all.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { elfFacts } from '../../lib/initramfs/elf.js';

t.test('a static busybox is a static x86_64 program', async (t) => {
  t.same(elfFacts(readFileSync('/usr/bin/busybox')), { arch: 'x86_64', static: true });
});

t.test('a program with a loader is not static', async (t) => {
  t.same(elfFacts(readFileSync(process.execPath)), { arch: 'x86_64', static: false });
});

t.test('another machine is read as such, an unknown one as undefined', async (t) => {
  const bytes = Buffer.from(readFileSync('/usr/bin/busybox'));
  bytes.writeUInt16LE(183, 18);
  t.equal(elfFacts(bytes)?.arch, 'aarch64');
  bytes.writeUInt16LE(243, 18);
  t.equal(elfFacts(bytes)?.arch, 'riscv64');
  bytes.writeUInt16LE(3, 18);
  t.equal(elfFacts(bytes)?.arch, undefined);
});

t.test('what is not a 64-bit little-endian ELF gives undefined', async (t) => {
  t.equal(elfFacts(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80))), undefined);
  t.equal(elfFacts(Buffer.alloc(10)), undefined);
  const thirtyTwo = Buffer.from(readFileSync('/usr/bin/busybox'));
  thirtyTwo[4] = 1;
  t.equal(elfFacts(thirtyTwo), undefined);
});

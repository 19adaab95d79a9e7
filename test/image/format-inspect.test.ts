import t from 'tap';
import {
  bytesToInspect,
  HEAD_BYTES,
  inspectImage,
  isVmdkDescriptor,
} from '../../lib/image/format-inspect.js';
import { rawDisk } from './disks.js';
import { ascii, DATA_FILE_EXTENSION, qcow2Bytes } from './qcow2-bytes.js';

/** The verdict on a file that is `head` followed by zeros, `size` bytes long (the tail is its last sector). */
const verdict = (head: Uint8Array, size = Math.max(head.length, 1 << 20)) => {
  const file = new Uint8Array(Math.min(size, 1 << 21));
  file.set(head.subarray(0, file.length));
  const tail = size <= file.length ? file.subarray(Math.max(0, size - 512), size) : new Uint8Array(512);
  return inspectImage({ head: file.subarray(0, Math.min(size, HEAD_BYTES)), tail, size });
};
const at = (offset: number, bytes: Uint8Array | number[]) => {
  const head = new Uint8Array(4096);
  head.set(bytes, offset);
  return head;
};

t.test('raw: no format claims it', async (t) => {
  t.same(verdict(new Uint8Array(4096)), { ok: true, format: 'raw' }, 'a blank disk');
  t.same(verdict(rawDisk(8)), { ok: true, format: 'raw' }, 'an MBR');
  t.same(verdict(ascii('just notes\n')), { ok: true, format: 'raw' }, 'text is left to the raw checks');
});

t.test('every format recognised by its magic is refused, naming it', async (t) => {
  const cases: [string, Uint8Array, string, RegExp][] = [
    [
      'vmdk sparse',
      ascii('KDMV\x01\0\0\0'),
      'vmdk',
      /it is a vmdk image, which can make QEMU read other files/,
    ],
    ['vmdk ESX sparse', ascii('COWD\x01\0\0\0'), 'vmdk', /vmdk image/],
    ['vhdx', ascii('vhdxfile'), 'vhdx', /it is a vhdx image/],
    ['vpc / vhd', ascii('conectix\0\0\0\x02'), 'vpc', /it is a vpc image/],
    ['qed', ascii('QED\0\x00\x00\x01\x00'), 'qed', /it is a qed image/],
    [
      'luks',
      Uint8Array.from([...ascii('LUKS'), 0xba, 0xbe, 0, 1]),
      'luks',
      /it is a luks image, which is encrypted/,
    ],
    ['vdi', at(0x40, [0x7f, 0x10, 0xda, 0xbe]), 'vdi', /it is a vdi image, which qlaunch does not open/],
    ['parallels', ascii('WithoutFreeSpace'), 'parallels', /parallels image/],
    ['parallels ext', ascii('WithouFreSpacExt'), 'parallels', /parallels image/],
    ['bochs', ascii('Bochs Virtual HD Image\0'), 'bochs', /bochs image/],
    ['cloop', ascii('#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0\n'), 'cloop', /cloop image/],
    ['qcow version 1', Uint8Array.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1]), 'qcow', /qcow \(version 1\)/],
    [
      'vmdk descriptor',
      ascii('# Disk DescriptorFile\nversion=1\nRW 2048 FLAT "/etc/shadow" 0\n'),
      'vmdk',
      /vmdk descriptor/,
    ],
  ];
  for (const [what, head, format, problem] of cases) {
    t.match(verdict(head), { ok: false, format, problem }, what);
  }
  t.match(verdict(ascii('LUKS\xba\xbe')), { ok: true }, 'LUKS as UTF-8 text is not the LUKS magic');
  t.match(verdict(Uint8Array.from([...ascii('LUKS'), 0xba, 0xbe])), { fix: 'decrypt' });
  t.match(verdict(ascii('vhdxfile')), { fix: 'convert' });
});

t.test('a VMDK descriptor as QEMU probes it: comments, blank lines, then version=N', async (t) => {
  t.ok(isVmdkDescriptor(ascii('# Disk DescriptorFile\n')));
  t.ok(isVmdkDescriptor(ascii('# a comment\n   \nversion=1\nCID=1\n')));
  t.ok(isVmdkDescriptor(ascii('#\r\nversion=3\r\n')), 'CRLF');
  t.notOk(isVmdkDescriptor(ascii('# a comment\nversion=4\n')));
  t.notOk(isVmdkDescriptor(ascii('hello\nversion=1\n')), 'version must come first');
  t.notOk(isVmdkDescriptor(ascii('# only comments\n')));
  t.notOk(isVmdkDescriptor(new Uint8Array(512)));
});

t.test('formats marked at the end: a fixed VHD footer, a DMG trailer', async (t) => {
  const withTail = (magic: string, size = 1 << 20) => {
    const tail = new Uint8Array(512);
    tail.set(ascii(magic));
    return inspectImage({ head: new Uint8Array(HEAD_BYTES), tail, size });
  };
  t.match(withTail('conectix'), { ok: false, format: 'vpc', problem: /vpc image \(by its footer\)/ });
  t.match(withTail('koly'), { ok: false, format: 'dmg', problem: /dmg image \(by its footer\)/ });
  t.same(
    inspectImage({ head: ascii('x'), tail: ascii('x'), size: 1 }),
    { ok: true, format: 'raw' },
    'a file shorter than a footer has none',
  );
});

t.test('qcow2 v2 and v3 without backing or data file are accepted', async (t) => {
  t.same(verdict(qcow2Bytes({ version: 2 })), { ok: true, format: 'qcow2' });
  t.same(verdict(qcow2Bytes({ version: 3 })), { ok: true, format: 'qcow2' });
  for (const bit of [0n, 1n, 3n, 4n]) {
    t.same(
      verdict(qcow2Bytes({ incompatible: 1n << bit })),
      { ok: true, format: 'qcow2' },
      `known bit ${bit}`,
    );
  }
});

t.test('qcow2 that reads other files, or that qlaunch cannot vouch for, is refused', async (t) => {
  t.match(verdict(qcow2Bytes({ backing: '/etc/shadow' })), {
    ok: false,
    format: 'qcow2',
    problem: 'it is an overlay on /etc/shadow',
    fix: 'convert',
  });
  t.match(verdict(qcow2Bytes({ version: 2, backing: 'base.img' })), {
    problem: 'it is an overlay on base.img',
  });
  t.match(verdict(qcow2Bytes({ incompatible: 1n << 2n })), {
    ok: false,
    problem: 'it keeps its data in another file, which can make QEMU read other files of this host',
  });
  const named = qcow2Bytes({ extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('/etc/shadow') }] });
  t.match(
    verdict(named),
    { ok: false, problem: /it keeps its data in another file \(\/etc\/shadow\)/ },
    'the extension alone',
  );
  const v2named = qcow2Bytes({
    version: 2,
    extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('/dev/zero') }],
  });
  t.match(verdict(v2named), { ok: false, problem: /\(\/dev\/zero\)/ }, 'in a version 2 header too');
  t.match(verdict(qcow2Bytes({ incompatible: 1n << 5n })), {
    ok: false,
    problem: 'it uses qcow2 features qlaunch does not know (incompatible bits 0x20)',
  });
  t.match(verdict(qcow2Bytes({ incompatible: (1n << 63n) | 1n })), {
    problem: /incompatible bits 0x8000000000000000/,
  });
  t.match(verdict(qcow2Bytes({ cryptMethod: 2 })), { ok: false, problem: 'it is encrypted', fix: 'decrypt' });
  t.match(verdict(qcow2Bytes({ version: 4 })), { ok: false, problem: /header is damaged/, fix: 'recopy' });
  t.match(verdict(qcow2Bytes().subarray(0, 50), 50), { ok: false, problem: /the file ends 50 bytes in/ });
  t.match(
    verdict(Uint8Array.from([0x51, 0x46, 0x49, 0xfb]), 4),
    { ok: false, problem: /header is damaged/ },
    'magic only',
  );
});

t.test('how much to read: the default cluster, more for big clusters, never past the end', async (t) => {
  t.equal(bytesToInspect(new Uint8Array(HEAD_BYTES), 1 << 30), HEAD_BYTES);
  t.equal(bytesToInspect(new Uint8Array(100), 100), 100);
  t.equal(bytesToInspect(qcow2Bytes({ clusterBits: 21 }), 1 << 30), 2 * 1024 * 1024);
  t.equal(bytesToInspect(qcow2Bytes({ clusterBits: 21 }), 300_000), 300_000);
  t.equal(bytesToInspect(qcow2Bytes({ clusterBits: 9 }), 1 << 30), HEAD_BYTES);
  // A 2 MiB-cluster image whose data file extension sits past the first 64 KiB, after 8200 empty extensions.
  const big = new Uint8Array(2 * 1024 * 1024);
  big.set(qcow2Bytes({ clusterBits: 21, length: 4096 }));
  const view = new DataView(big.buffer);
  const filler = 8200;
  for (let i = 0; i < filler; i++) view.setUint32(104 + 8 * i, 0x1234);
  const dataFileAt = 104 + 8 * filler;
  t.ok(dataFileAt > HEAD_BYTES);
  view.setUint32(dataFileAt, DATA_FILE_EXTENSION);
  view.setUint32(dataFileAt + 4, 1);
  big[dataFileAt + 8] = 0x78;
  const tail = new Uint8Array(512);
  t.match(inspectImage({ head: big, tail, size: 1 << 30 }), { ok: false, problem: /another file \(x\)/ });
  t.throws(() => inspectImage({ head: big.subarray(0, HEAD_BYTES), tail, size: 1 << 30 }), /needs/);
});

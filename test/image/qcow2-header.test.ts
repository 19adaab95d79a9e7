import t from 'tap';
import { EXTENSION, parseQcow2Header, qcow2ClusterSize } from '../../lib/image/qcow2-header.js';
import { ascii, BACKING_FORMAT_EXTENSION, DATA_FILE_EXTENSION, qcow2Bytes } from './qcow2-bytes.js';

const parse = (bytes: Uint8Array, size = bytes.length) => parseQcow2Header(bytes, size);

t.test('version 2 and 3 headers: version, cluster size, no backing file, no extensions', async (t) => {
  t.match(parse(qcow2Bytes({ version: 2 })), {
    ok: true,
    header: { version: 2, clusterBits: 16, backingFileOffset: 0n, backingFileSize: 0, extensions: [] },
  });
  t.match(parse(qcow2Bytes({ version: 3 })), {
    ok: true,
    header: { version: 3, incompatibleFeatures: 0n, dataFile: undefined, backingFile: undefined },
  });
  t.equal(qcow2ClusterSize(qcow2Bytes({ clusterBits: 21 })), 2 * 1024 * 1024);
  t.equal(qcow2ClusterSize(qcow2Bytes({ clusterBits: 30 })), undefined, 'an impossible cluster size');
  t.equal(qcow2ClusterSize(new Uint8Array(64)), undefined, 'not qcow2');
});

t.test('the backing file: its offset, size and name', async (t) => {
  const parsed = parse(qcow2Bytes({ backing: '/etc/shadow' }));
  t.match(parsed, { ok: true, header: { backingFileSize: 11, backingFile: '/etc/shadow' } });
  t.ok(parsed.ok && parsed.header.backingFileOffset > 0n);
  const cut = qcow2Bytes({ backing: '/etc/shadow' }).subarray(0, 120);
  t.match(
    parse(cut, 1 << 20),
    { ok: true, header: { backingFileSize: 11, backingFile: undefined } },
    'name out of reach',
  );
});

t.test('header extensions: each type in order; the data file name is read', async (t) => {
  const parsed = parse(
    qcow2Bytes({
      extensions: [
        { type: BACKING_FORMAT_EXTENSION, data: ascii('raw') },
        { type: DATA_FILE_EXTENSION, data: ascii('/dev/zero') },
        { type: EXTENSION.featureNames, data: new Uint8Array(48) },
      ],
    }),
  );
  t.match(parsed, {
    ok: true,
    header: {
      extensions: [BACKING_FORMAT_EXTENSION, DATA_FILE_EXTENSION, EXTENSION.featureNames],
      dataFile: '/dev/zero',
    },
  });
  const v2 = parse(
    qcow2Bytes({ version: 2, extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('x.data') }] }),
  );
  t.match(v2, { ok: true, header: { dataFile: 'x.data' } }, 'version 2 reads extensions from byte 72');
  const longHeader = parse(
    qcow2Bytes({ headerLength: 112, extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('y') }] }),
  );
  t.match(longHeader, { ok: true, header: { dataFile: 'y' } }, 'extensions start at header_length');
  const features = parse(qcow2Bytes({ incompatible: (1n << 2n) | (1n << 40n) }));
  t.match(features, { ok: true, header: { incompatibleFeatures: (1n << 2n) | (1n << 40n) } });
});

t.test('damaged and truncated headers say so', async (t) => {
  const damaged = (bytes: Uint8Array, why: RegExp, size = bytes.length) =>
    t.match(parse(bytes, size), { ok: false, problem: why }, String(why));
  damaged(qcow2Bytes().subarray(0, 40), /damaged \(the file ends 40 bytes in\)/);
  damaged(qcow2Bytes().subarray(0, 90), /damaged \(the file ends 90 bytes in\)/);
  damaged(qcow2Bytes({ version: 4 }), /version 4/);
  damaged(qcow2Bytes({ clusterBits: 8 }), /cluster bits 8/);
  damaged(qcow2Bytes({ clusterBits: 22 }), /cluster bits 22/);
  damaged(qcow2Bytes({ headerLength: 96 }), /header length 96/);
  damaged(qcow2Bytes({ clusterBits: 9, headerLength: 1024, length: 2048 }), /header length 1024/);
  const long = qcow2Bytes({ extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('x') }] });
  new DataView(long.buffer).setUint32(108, 70_000);
  damaged(long, /header extension 0x44415441 is too long/);
  const unended = new Uint8Array(qcow2Bytes({ clusterBits: 9, length: 512 }));
  unended.fill(0x11, 104);
  damaged(unended, /a header extension at byte \d+ runs past the header|is too long/);
  damaged(qcow2Bytes().subarray(0, 108), /the file ends inside its header extensions/);
  const name = qcow2Bytes({
    extensions: [{ type: DATA_FILE_EXTENSION, data: ascii('/a/long/data/file/name') }],
  });
  damaged(name.subarray(0, 120), /the file ends inside its data file name/);
  t.throws(
    () => parse(qcow2Bytes().subarray(0, 108), 1 << 20),
    /needs/,
    'fewer bytes than the contract asks, of a longer file, is a caller bug',
  );
});

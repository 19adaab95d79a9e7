import t from 'tap';
import { terminatorDescriptor, volumeDescriptor } from '../../lib/cidata/iso-descriptors.js';

const fields = {
  volumeId: 'cidata',
  volumeSectors: 30,
  pathTableSize: 10,
  lPathTableSector: 19,
  mPathTableSector: 20,
  rootRecord: new Uint8Array(34).fill(7),
  date: new Date('2024-05-06T07:08:09Z'),
};

t.test('primary volume descriptor', async (t) => {
  const d = Buffer.from(volumeDescriptor({ kind: 'primary', ...fields }));
  t.equal(d.length, 2048);
  t.equal(d[0], 1);
  t.equal(d.subarray(1, 6).toString(), 'CD001');
  t.equal(d[6], 1);
  t.equal(
    d.subarray(40, 72).toString(),
    `cidata${' '.repeat(26)}`,
    'volume id kept as given, like genisoimage',
  );
  t.equal(d.readUInt32LE(80), 30);
  t.equal(d.readUInt32BE(84), 30);
  t.same([...d.subarray(88, 91)], [0, 0, 0], 'no escape sequence');
  t.equal(d.readUInt16LE(128), 2048);
  t.equal(d.readUInt32LE(132), 10);
  t.equal(d.readUInt32LE(140), 19);
  t.equal(d.readUInt32BE(148), 20);
  t.same([...d.subarray(156, 190)], new Array(34).fill(7));
  t.equal(d.subarray(574, 581).toString(), 'QLAUNCH');
  t.equal(d.subarray(813, 829).toString(), '2024050607080900');
  t.equal(d.subarray(847, 863).toString(), '0000000000000000');
  t.equal(d[881], 1);
});

t.test('Joliet supplementary volume descriptor', async (t) => {
  const d = Buffer.from(volumeDescriptor({ kind: 'joliet', ...fields }));
  t.equal(d[0], 2);
  t.same([...d.subarray(88, 91)], [0x25, 0x2f, 0x45]);
  t.equal(d.subarray(40, 52).swap16().toString('utf16le'), 'cidata');
  t.same([...d.subarray(52, 54)], [0, 0x20], 'UCS-2 space padding');
});

t.test('terminator', async (t) => {
  const d = Buffer.from(terminatorDescriptor());
  t.equal(d[0], 255);
  t.equal(d.subarray(1, 6).toString(), 'CD001');
  t.equal(d[6], 1);
});

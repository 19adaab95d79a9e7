import t from 'tap';
import { bootSector } from '../../lib/cidata/fat-boot.js';
import { fatGeometry } from '../../lib/cidata/fat-geometry.js';

t.test('BPB and extended boot record', async (t) => {
  const g = fatGeometry(2048, 512)!;
  const b = Buffer.from(bootSector({ geometry: g, label: 'CIDATA', serial: 0x12345678 }));
  t.same([...b.subarray(0, 3)], [0xeb, 0x3c, 0x90]);
  t.equal(b.subarray(3, 11).toString(), 'MSWIN4.1');
  t.equal(b.readUInt16LE(11), 512);
  t.equal(b[13], g.sectorsPerCluster);
  t.equal(b.readUInt16LE(14), 1);
  t.equal(b[16], 2);
  t.equal(b.readUInt16LE(17), 512);
  t.equal(b.readUInt16LE(19), 2048);
  t.equal(b.readUInt32LE(32), 0);
  t.equal(b[21], 0xf8);
  t.equal(b.readUInt16LE(22), g.fatSectors);
  t.equal(b[38], 0x29);
  t.equal(b.readUInt32LE(39), 0x12345678);
  t.equal(b.subarray(43, 54).toString(), 'CIDATA     ');
  t.equal(b.subarray(54, 62).toString(), 'FAT12   ');
  t.same([...b.subarray(510)], [0x55, 0xaa]);
});

t.test('large volumes use the 32-bit sector count', async (t) => {
  const g = fatGeometry(200_000, 512)!;
  const b = Buffer.from(bootSector({ geometry: g, label: 'X', serial: 1 }));
  t.equal(b.readUInt16LE(19), 0);
  t.equal(b.readUInt32LE(32), 200_000);
  t.equal(b.subarray(54, 62).toString(), 'FAT16   ');
});

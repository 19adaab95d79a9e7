import t from 'tap';
import { clusterBytes, fatGeometry, MAX_FAT_SECTORS } from '../../lib/cidata/fat-geometry.js';

t.test('1 MiB: FAT12 with 512-byte clusters', async (t) => {
  const g = fatGeometry(2048, 512)!;
  t.equal(g.fatBits, 12);
  t.equal(g.sectorsPerCluster, 1);
  t.equal(clusterBytes(g), 512);
  t.equal(g.rootDirSector, 1 + 2 * g.fatSectors);
  t.equal(g.dataSector, g.rootDirSector + 32);
  t.ok(g.fatSectors * 512 * 2 >= (g.clusterCount + 2) * 3, 'the FAT holds every cluster');
  t.equal(g.dataSector + g.clusterCount * g.sectorsPerCluster <= g.totalSectors, true);
});

t.test('cluster counts avoid the FAT12/FAT16 boundary and FAT16 limit', async (t) => {
  for (let sectors = 3000; sectors < 6000; sectors += 7) {
    const g = fatGeometry(sectors, 512)!;
    t.ok(Math.abs(g.clusterCount - 4085) > 16, `${sectors} sectors: ${g.clusterCount} clusters`);
    t.equal(g.fatBits, g.clusterCount < 4085 ? 12 : 16);
  }
  const big = fatGeometry(MAX_FAT_SECTORS, 512)!;
  t.equal(big.fatBits, 16);
  t.ok(big.clusterCount < 65525);
  t.equal(big.sectorsPerCluster, 64);
  t.ok(big.fatSectors * 512 >= (big.clusterCount + 2) * 2);
  const mid = fatGeometry(200_000, 512)!;
  t.equal(mid.sectorsPerCluster, 4, '~100 MiB needs 2 KiB clusters');
});

t.test('too small or too large for FAT16', async (t) => {
  t.equal(fatGeometry(30, 512), undefined, 'no room for a single cluster');
  t.equal(fatGeometry(MAX_FAT_SECTORS * 2, 512), undefined);
});

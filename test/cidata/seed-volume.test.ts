// The seed recogniser: our own ISO 9660 and VFAT seeds, and the ones other tools write, by their first 40 KiB.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { buildSeedImage } from '../../lib/cidata/seed.js';
import { otherVolume, recogniseSeedVolume } from '../../lib/cidata/seed-volume.js';

const FILES = { 'meta-data': 'instance-id: iid-1\n', 'user-data': '#cloud-config\n' };
const head = (image: Uint8Array) => image.subarray(0, 40 * 1024);

t.test('qlaunch’s seeds are recognised from their first 40 KiB', async (t) => {
  t.equal(recogniseSeedVolume(head(buildSeedImage({ files: FILES }))), 'iso9660');
  t.equal(recogniseSeedVolume(head(buildSeedImage({ files: FILES, filesystem: 'vfat' }))), 'vfat');
  t.equal(
    recogniseSeedVolume(head(buildSeedImage({ files: FILES, label: 'CIDATA' }))),
    'iso9660',
    'any case',
  );
});

t.test('other tools’ seeds are recognised; other volumes and data are not', async (t) => {
  const dir = t.testdir({ 'user-data': '#cloud-config\n', tree: { f: 'x' } });
  const out = (name: string) => join(dir, name);
  await execa('cloud-localds', [out('localds.iso'), out('user-data')]);
  await execa('cloud-localds', ['-f', 'vfat', out('localds.img'), out('user-data')]);
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'DEBIAN', '-o', out('other.iso'), out('tree')]);
  await execa('truncate', ['-s', '4M', out('other.img')]);
  await execa('mkfs.vfat', ['-n', 'DATA', out('other.img')]);
  await execa('truncate', ['-s', '40M', out('fat32.img')]);
  await execa('mkfs.vfat', ['-F', '32', '-n', 'CIDATA', out('fat32.img')]);
  const read = (name: string) => head(readFileSync(out(name)));
  t.equal(recogniseSeedVolume(read('localds.iso')), 'iso9660', 'genisoimage -volid cidata');
  t.equal(recogniseSeedVolume(read('localds.img')), 'vfat', 'mkfs.vfat -n cidata');
  t.equal(recogniseSeedVolume(read('fat32.img')), 'vfat', 'FAT32 keeps its label further in');
  t.equal(recogniseSeedVolume(read('other.iso')), undefined);
  t.equal(otherVolume(read('other.iso')), 'iso9660', 'an ISO 9660 volume all the same');
  t.equal(recogniseSeedVolume(read('other.img')), undefined);
  t.equal(otherVolume(read('other.img')), 'vfat');
  for (const data of [new Uint8Array(0), new Uint8Array(64 * 1024), Buffer.from('#cloud-config\ncidata\n')]) {
    t.equal(recogniseSeedVolume(data), undefined);
    t.equal(otherVolume(data), undefined);
  }
  const cut = buildSeedImage({ files: FILES }).subarray(0, 32 * 1024 + 100);
  t.equal(recogniseSeedVolume(cut), undefined, 'a descriptor cut short is not read');
});

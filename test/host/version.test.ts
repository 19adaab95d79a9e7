import t from 'tap';
import { parseQemuVersion } from '../../lib/host/version.js';

t.test('real banners', async (t) => {
  const cases: [string, string, [number, number, number]][] = [
    [
      'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n',
      '7.2.22',
      [7, 2, 22],
    ],
    ['QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1.4)\n', '8.2.2', [8, 2, 2]],
    ['QEMU emulator version 9.1.0\nCopyright (c) 2003-2024 Fabrice Bellard\n', '9.1.0', [9, 1, 0]],
    ['QEMU emulator version 6.2.0 (qemu-kvm-6.2.0-11.module+el8.6.0+14707+5aa4b42d)\n', '6.2.0', [6, 2, 0]],
    ['QEMU emulator version 8.0.50 (v8.0.0-1234-gabcdef0123)\n', '8.0.50', [8, 0, 50]],
    [
      'qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022\n',
      '7.2.22',
      [7, 2, 22],
    ],
    ['\n  QEMU emulator version 2.0\n', '2.0.0', [2, 0, 0]],
  ];
  for (const [output, version, [major, minor, micro]] of cases) {
    const parsed = parseQemuVersion(output);
    t.same(parsed, { version, major, minor, micro, banner: output.trim().split('\n')[0]?.trim() }, version);
  }
});

t.test('the banner is the first line only, without the copyright', async (t) => {
  const parsed = parseQemuVersion(
    'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)\r\nCopyright (c) 2003-2022\r\n',
  );
  t.equal(parsed?.banner, 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)');
});

t.test('output without a version', async (t) => {
  t.equal(parseQemuVersion(''), undefined);
  t.equal(parseQemuVersion('\n\n'), undefined);
  t.equal(parseQemuVersion('qemu-system-x86_64: -version: invalid option\n'), undefined);
  // Only the first line counts: a version further down is not this tool's.
  t.equal(parseQemuVersion('something else\nQEMU emulator version 7.2.0\n'), undefined);
});

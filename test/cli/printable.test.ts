import { PassThrough } from 'node:stream';
import t from 'tap';
import { formatImageTable } from '../../lib/cli/commands/image-format.js';
import { formatInstances } from '../../lib/cli/commands/instance-list.js';
import { reportError } from '../../lib/cli/output.js';
import { printable, printableLines } from '../../lib/cli/printable.js';
import { progressLine } from '../../lib/cli/progress.js';
import { ErrorCode, QlaunchError } from '../../lib/errors.js';

const EVIL = 'evil\x1b[2J\x1b]0;pwned\x07\u202e.qcow2';

t.test(
  'control characters are shown escaped; line breaks only where a message keeps its lines',
  async (t) => {
    t.equal(printable(EVIL), 'evil\\e[2J\\e]0;pwned\\x07\\u{202e}.qcow2');
    t.equal(printable('a\nb\tc\x7f\x9b'), 'a\\nb\\tc\\x7f\\x9b');
    t.equal(printableLines('a\nb\tc\x1b[31m'), 'a\nb\tc\\e[31m');
    t.equal(printable('naïve 名前 ✓'), 'naïve 名前 ✓', 'printable unicode stays');
  },
);

t.test('no escape sequence reaches the terminal from a name, a progress label or an error', async (t) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
  const image = {
    name: 'x',
    format: 'qcow2',
    virtualSize: 1,
    size: 1,
    checksum: 'sha256:00',
    source: `/tmp/${EVIL}`,
    problem: 'bad\nline',
  } as Parameters<typeof formatImageTable>[0][number];
  t.notMatch(formatImageTable([image]).replaceAll('\n', ''), raw, 'image ls');
  t.equal(formatImageTable([image]).trim().split('\n').length, 2, 'one line per image');
  t.notMatch(progressLine(`importing ${EVIL}`, { done: 1, total: 2, elapsedMs: 1 }), raw, 'progress');
  const table = formatInstances([{ name: 'box', error: `config.json: bad\n${EVIL}` }]);
  t.equal(table.trim().split('\n').length, 2, 'a damaged row stays one line');
  t.match(table, /PROBLEM\n/, 'its error in a PROBLEM column, last');
  t.notMatch(table.replaceAll('\n', ''), raw);
  const out = new PassThrough();
  let written = '';
  out.on('data', (d: Buffer) => {
    written += d.toString();
  });
  reportError(new QlaunchError(ErrorCode.IMAGE_INVALID, `${EVIL} is not usable`, { hint: 'x\x1b[1m' }), out);
  t.notMatch(written.replaceAll('\n', ''), raw, 'an error message');
});

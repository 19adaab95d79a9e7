import t from 'tap';
import { unglueTags } from '../../lib/cli/help-text.js';

t.test('tags glued to a description go below it, where they began; other lines are left alone', async (t) => {
  const text = '  --user-data  a file, passed through untouched';
  t.equal(unglueTags(`${text}[string]`), `${text}\n${' '.repeat(text.length)}[string]`);
  const accel = '  --accel  accelerator';
  const tags = '[string] [choices: "auto", "kvm"]';
  t.equal(unglueTags(`${accel}${tags}`), `${accel}\n${' '.repeat(accel.length)}${tags}`, 'all the tags move');
  const fine = [
    '  --port  forward HOST:GUEST[/udp]                [array]',
    '  --json  print JSON                            [boolean]',
    '                                                 [string]',
  ].join('\n');
  t.equal(unglueTags(fine), fine);
});

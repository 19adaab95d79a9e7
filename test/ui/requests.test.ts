// Request bodies: checked before the library sees them; a removal must name the instance again.

import t from 'tap';
import { parseCreate, parsePort, parseRemove, parseSnapshot } from '../../lib/ui/requests.js';

t.test('a create request takes the form’s fields and nothing else', async (t) => {
  const body = {
    name: 'web',
    image: 'debian-12',
    cpus: 2,
    memory: '1G',
    diskSize: '10G',
    ports: ['8080:80'],
  };
  t.same(parseCreate(body), body);
  t.throws(() => parseCreate({ name: 'web', cpus: 1.5 }), { code: 'USAGE', message: /cpus/ });
  t.throws(() => parseCreate({ name: 'web', userData: '/etc/shadow' }), {
    code: 'USAGE',
    message: /userData/,
  });
  t.throws(() => parseCreate([]), { code: 'USAGE', hint: /"name": "web"/ });
});

t.test('a removal is confirmed by the instance’s own name', async (t) => {
  t.same(parseRemove('web', { confirm: 'web' }), { force: false });
  t.same(parseRemove('web', { confirm: 'web', force: true }), { force: true });
  t.throws(() => parseRemove('web', { confirm: 'db' }), {
    code: 'USAGE',
    message: /not removing instance web/,
    hint: /type the instance's name, web/,
  });
  t.throws(() => parseRemove('web', {}), { code: 'USAGE', message: /confirm/ });
});

t.test('a snapshot request names its tag', async (t) => {
  t.same(parseSnapshot({ tag: 'base' }), { tag: 'base' });
  t.throws(() => parseSnapshot({}), { code: 'USAGE', message: /tag/ });
});

t.test('a port request is HOST:GUEST or a guest port', async (t) => {
  t.same(parsePort({ spec: '8080:80' }), { spec: '8080:80' });
  t.same(parsePort({ spec: 80 }), { spec: 80 });
  t.throws(() => parsePort({ spec: '' }), { code: 'USAGE', hint: /8080:80/ });
  t.throws(() => parsePort({ spec: -1 }), { code: 'USAGE' });
});

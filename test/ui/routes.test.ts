// The routing table: each path and method to one operation; anything else is not found or not allowed.

import t from 'tap';
import { route } from '../../lib/ui/routes.js';

t.test('the page, its files and the API', async (t) => {
  t.same(route('GET', '/'), { kind: 'page' });
  t.same(route('HEAD', '/'), { kind: 'page' });
  t.same(route('GET', '/assets/app.js'), { kind: 'static', path: '/assets/app.js' });
  t.same(route('GET', '/vendor/xterm.mjs'), { kind: 'static', path: '/vendor/xterm.mjs' });
  t.same(route('GET', '/api/instances'), { kind: 'list' });
  t.same(route('POST', '/api/instances'), { kind: 'create' });
  t.same(route('GET', '/api/events'), { kind: 'events' });
  t.same(route('DELETE', '/api/instances/web'), { kind: 'remove', name: 'web' });
  t.same(route('GET', '/api/instances/web/console'), { kind: 'console', name: 'web' });
  for (const action of ['start', 'stop', 'force-stop', 'restart', 'pause', 'resume']) {
    t.same(route('POST', `/api/instances/web/${action}`), { kind: 'action', name: 'web', action });
  }
  t.same(route('GET', '/api/instances/web/ports'), { kind: 'ports', name: 'web' });
  for (const source of ['console', 'qemu', 'qlaunch']) {
    t.same(route('GET', `/api/instances/web/logs/${source}`), { kind: 'logs', name: 'web', source });
  }
  t.same(route('POST', '/api/instances/web/ports'), { kind: 'port-add', name: 'web' });
  t.same(route('DELETE', '/api/instances/web/ports/udp/5353'), {
    kind: 'port-remove',
    name: 'web',
    protocol: 'udp',
    hostPort: 5353,
  });
  t.same(route('GET', '/api/instances/web/snapshots'), { kind: 'snapshots', name: 'web' });
  t.same(route('POST', '/api/instances/web/snapshots'), { kind: 'snapshot-save', name: 'web' });
  t.same(route('DELETE', '/api/instances/web/snapshots/s1'), {
    kind: 'snapshot-delete',
    name: 'web',
    tag: 's1',
  });
  t.same(route('POST', '/api/instances/web/snapshots/s1/load'), {
    kind: 'snapshot-load',
    name: 'web',
    tag: 's1',
  });
});

t.test('names are decoded; the library judges them', async (t) => {
  t.same(route('DELETE', '/api/instances/Bad%20Name'), { kind: 'remove', name: 'Bad Name' });
  t.same(route('DELETE', '/api/instances/a%2Fb'), { kind: 'not-found' }, 'no slash smuggled into a name');
  t.same(route('DELETE', '/api/instances/%E0%A4%A'), { kind: 'not-found' }, 'bad escapes');
  t.same(route('DELETE', '/api/instances/'), { kind: 'not-found' });
});

t.test('unknown paths and wrong methods', async (t) => {
  t.same(route('GET', '/etc/passwd'), { kind: 'not-found' });
  t.same(route('GET', '/assets/../server.js'), { kind: 'not-found' });
  t.same(route('GET', '/api/instances/web/reboot'), { kind: 'not-found' });
  t.same(route('GET', '/api/instances/web/snapshots/s1/nope'), { kind: 'not-found' });
  t.same(route('DELETE', '/api/instances/web/ports/sctp/80'), { kind: 'not-found' });
  t.same(route('DELETE', '/api/instances/web/ports/tcp/x80'), { kind: 'not-found' });
  t.same(route('DELETE', '/api/instances/web/ports/tcp'), { kind: 'not-found' });
  t.same(route('GET', '/api/instances/web/logs/etc-passwd'), { kind: 'not-found' }, 'only the three logs');
  t.same(route('GET', '/api/instances/web/logs'), { kind: 'not-found' });
  t.same(route('POST', '/api/instances/web/console/x'), { kind: 'not-found' });
  t.same(route('GET', '/api/instances/web/start'), { kind: 'method-not-allowed', allow: 'POST' });
  t.same(route('PUT', '/api/instances'), { kind: 'method-not-allowed', allow: 'GET, POST' });
  t.same(route('POST', '/'), { kind: 'method-not-allowed', allow: 'GET' });
});

t.test("an instance's screen: a still, read only", async (t) => {
  t.same(route('GET', '/api/instances/desk/screen'), { kind: 'screen', name: 'desk' });
  t.same(route('POST', '/api/instances/desk/screen'), { kind: 'method-not-allowed', allow: 'GET' });
  t.same(route('GET', '/api/instances/desk/screen/x'), { kind: 'not-found' });
});

t.test("noVNC's modules, and nothing beside them", async (t) => {
  t.same(route('GET', '/vendor/novnc/core/rfb.js'), { kind: 'novnc', file: 'core/rfb.js' });
  t.same(route('GET', '/vendor/novnc/vendor/pako/lib/zlib/inflate.js'), {
    kind: 'novnc',
    file: 'vendor/pako/lib/zlib/inflate.js',
  });
  for (const bad of [
    '/vendor/novnc/core/../package.json',
    '/vendor/novnc/core/../../../etc/passwd.js',
    '/vendor/novnc/package.json',
    '/vendor/novnc/app/ui.js',
    '/vendor/novnc/core/%2e%2e/x.js',
  ]) {
    t.same(route('GET', bad), { kind: 'not-found' }, bad);
  }
  t.same(route('GET', '/api/instances/desk/vnc'), { kind: 'vnc', name: 'desk' });
});

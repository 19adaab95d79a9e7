// The server on a real tiny guest, through the library: the gate on the page, the API and the console websocket;
// the actions; the list pushed as it changes; one console shown to two viewers at once.

import { request } from 'node:http';
import t from 'tap';
import WebSocket from 'ws';
import { Instance } from '../../lib/instance/instance.js';
import { serveUi } from '../../lib/ui/server.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';
import { handshake, http } from '../fixtures/ui-client.js';

t.setTimeout(300_000);

/** A console viewer: everything it received as text, and a wait for a pattern in it. */
function viewer(url: string, headers: Record<string, string>) {
  const ws = new WebSocket(url, { headers });
  const seen = { text: '', notices: [] as { type: string; message: string }[] };
  ws.on('message', (data: Buffer, binary) => {
    if (binary) seen.text += data.toString('utf8');
    else seen.notices.push(JSON.parse(data.toString('utf8')));
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async (pattern: RegExp, what: () => string = () => seen.text): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!pattern.test(what())) {
      if (Date.now() > deadline)
        throw new Error(`${pattern} never came; got ${JSON.stringify(what().slice(-300))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { ws, seen, opened, until };
}

t.test('the gate, the actions, the pushed list and a shared console', async (t) => {
  const root = instanceTempDir(t);
  const machine = await tinyMachineFile(root, {
    name: 'shell',
    append: 'qlaunch.shell=1',
    ready: 'QLAUNCH-TINY-READY',
  });
  await Instance.create({ name: 'box', machine, accel: 'tcg' }, { root });
  const server = await serveUi({ root });
  t.teardown(() => server.close());
  t.notOk(server.exposed);
  const { url } = server;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  const token = new URL(url).searchParams.get('token') ?? '';
  const base = `http://127.0.0.1:${server.port}`;
  const host = `127.0.0.1:${server.port}`;
  const wsBase = `ws://${host}`;
  const bearer = { Authorization: `Bearer ${token}` };

  // Without the token: 401 for the page, the API and the websocket; a wrong one: 403.
  for (const path of ['/', '/api/instances', '/api/events', '/assets/app.js']) {
    const reply = await http(base, 'GET', path);
    t.equal(reply.status, 401, `${path} without the token`);
    t.match(JSON.parse(reply.body), { code: 'UI_UNAUTHORIZED', hint: /\?token=/ });
    t.notMatch(reply.body, token, 'the token is never echoed');
  }
  t.equal((await http(base, 'GET', '/api/instances', { Authorization: 'Bearer wrong' })).status, 403);
  t.equal((await http(base, 'POST', '/api/instances/box/start')).status, 401);
  t.equal((await http(base, 'GET', '/?token=wrong')).status, 403);
  const consoleUrl = `${wsBase}/api/instances/box/console`;
  t.equal(await handshake(consoleUrl, { Origin: base }), 401, 'websocket without the token');
  t.equal(await handshake(consoleUrl, { Origin: base, Cookie: 'qlaunch_ui=wrong' }), 403);

  // The URL's token becomes an HttpOnly, SameSite=Strict cookie, and the browser goes on to / without it.
  const first = await http(base, 'GET', `/?token=${token}`);
  t.equal(first.status, 303);
  t.equal(first.headers.location, '/');
  const setCookie = String(first.headers['set-cookie']);
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Strict/);
  const cookie = setCookie.split(';')[0] ?? '';
  const page = await http(base, 'GET', '/', { Cookie: cookie });
  t.equal(page.status, 200);
  t.match(page.body, /<script type="module" src="\/assets\/app\.js"><\/script>/);
  t.match(String(page.headers['content-security-policy']), /default-src 'self'; script-src 'self'/);
  t.notMatch(page.body, /<script>/, 'no inline script');
  for (const path of ['/assets/app.js', '/assets/app.css', '/vendor/xterm.mjs', '/vendor/addon-fit.mjs']) {
    t.equal((await http(base, 'GET', path, { Cookie: cookie })).status, 200, path);
  }

  // A foreign Host (DNS rebinding) or Origin is refused, token or not.
  t.equal(
    (await http(base, 'GET', '/api/instances', { ...bearer, Host: `rebound.example:${server.port}` })).status,
    403,
  );
  t.equal(
    (await http(base, 'POST', '/api/instances/box/start', { ...bearer, Origin: 'http://evil.example' }))
      .status,
    403,
  );
  t.equal(
    await handshake(consoleUrl, { Origin: 'http://evil.example', Cookie: cookie }),
    403,
    'foreign Origin',
  );
  t.equal(await handshake(consoleUrl, { Cookie: cookie }), 403, 'no Origin');
  t.equal(
    await handshake(consoleUrl, {
      Origin: `http://rebound.example:${server.port}`,
      Host: `rebound.example:${server.port}`,
      Cookie: cookie,
    }),
    403,
    'foreign Host on a websocket',
  );

  // The list, pushed: first as it is, then on each change.
  const events: { state: string; startedAt?: string }[][] = [];
  const stream = request(new URL('/api/events', base), { headers: bearer });
  stream.on('response', (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        if (data) events.push(JSON.parse(data));
        buffer = buffer.slice(end + 2);
      }
    });
  });
  stream.on('error', () => {});
  stream.end();
  t.teardown(() => stream.destroy());
  const pushed = async (state: string) => {
    const deadline = Date.now() + 30_000;
    while (events.at(-1)?.[0]?.state !== state) {
      if (Date.now() > deadline)
        throw new Error(`no list with box ${state} was pushed: ${JSON.stringify(events.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return events.at(-1)?.[0];
  };
  t.match(await pushed('stopped'), {
    name: 'box',
    state: 'stopped',
    arch: 'x86_64',
    cpus: 1,
    memoryMiB: 256,
  });

  const started = await http(base, 'POST', '/api/instances/box/start', { ...bearer, Origin: base });
  t.equal(started.status, 200, started.body);
  t.match(JSON.parse(started.body), { started: true, pid: Number });
  t.match(await pushed('running'), { state: 'running', startedAt: String });
  const listed = JSON.parse((await http(base, 'GET', '/api/instances', bearer)).body);
  t.same(
    listed,
    JSON.parse(JSON.stringify(await Instance.list({ root }))),
    'the API lists what the library lists',
  );

  // Two viewers of one console: what one types, the guest answers to both.
  const headers = { Origin: base, Cookie: cookie };
  const a = viewer(consoleUrl, headers);
  const b = viewer(consoleUrl, headers);
  await Promise.all([a.opened, b.opened]);
  await a.until(/QLAUNCH-TINY-READY/);
  t.match(a.seen.text, /QLAUNCH-TINY-READY/, 'the console log’s tail came first');
  const mark = `ui${process.pid}`;
  await new Promise((resolve) => setTimeout(resolve, 300));
  a.ws.send(`echo ${mark}-$((6*7))\n`);
  await a.until(new RegExp(`${mark}-42`));
  await b.until(new RegExp(`${mark}-42`));
  t.pass('both viewers saw the guest’s answer (the sum only the guest computes)');
  b.ws.send(`echo ${mark}-from-b-$((5+5))\n`);
  await a.until(new RegExp(`${mark}-from-b-10`));

  // The last viewer gone, the serial socket is let go; a new viewer connects again and is answered.
  a.ws.close();
  b.ws.close();
  await Promise.all([a, b].map(({ ws }) => new Promise((resolve) => ws.once('close', resolve))));
  const again = viewer(consoleUrl, headers);
  await again.until(/attached/, () => JSON.stringify(again.seen.notices));
  again.ws.send(`echo ${mark}-again-$((2+3))\n`);
  await again.until(new RegExp(`${mark}-again-5`));
  const c = viewer(consoleUrl, headers);
  await c.until(/attached/, () => JSON.stringify(c.seen.notices));
  t.pass('a viewer that left and new ones are served');

  // Pause and resume: QEMU's state, pushed.
  t.equal((await http(base, 'POST', '/api/instances/box/pause', { ...bearer, Origin: base })).status, 200);
  t.match(await pushed('paused'), { state: 'paused' });
  t.equal((await http(base, 'POST', '/api/instances/box/resume', { ...bearer, Origin: base })).status, 200);
  await pushed('running');

  // Errors come as the library gives them.
  const bad = await http(base, 'POST', '/api/instances', bearer, { name: 'Bad Name', machine });
  t.equal(bad.status, 400);
  t.match(JSON.parse(bad.body), { code: 'INSTANCE_NAME_INVALID', message: /Bad Name/, hint: /lower-case/ });
  const running = await http(base, 'DELETE', '/api/instances/box', bearer, { confirm: 'box' });
  t.equal(running.status, 409);
  t.match(JSON.parse(running.body), { code: 'INSTANCE_RUNNING', hint: /force/ });
  const unconfirmed = await http(base, 'DELETE', '/api/instances/box', bearer, {
    confirm: 'bo',
    force: true,
  });
  t.equal(unconfirmed.status, 400);
  t.match(JSON.parse(unconfirmed.body), { code: 'USAGE', hint: /type the instance's name, box/ });
  t.match(JSON.parse((await http(base, 'GET', '/nope', bearer)).body), { code: 'UI_NOT_FOUND' });
  const wrongMethod = await http(base, 'GET', '/api/instances/box/start', bearer);
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.allow, 'POST');
  const missing = await http(base, 'POST', '/api/instances/nobox/start', bearer);
  t.equal(missing.status, 404);
  t.match(JSON.parse(missing.body), { code: 'INSTANCE_NOT_FOUND', message: /no instance named nobox/ });

  // A forced stop: the viewers are told the console closed, and the list says stopped.
  const stopped = await http(base, 'POST', '/api/instances/box/force-stop', { ...bearer, Origin: base });
  t.equal(stopped.status, 200, stopped.body);
  t.match(JSON.parse(stopped.body), { how: 'quit', was: 'running' });
  await again.until(/closed/, () => JSON.stringify(again.seen.notices));
  await c.until(/closed/, () => JSON.stringify(c.seen.notices));
  t.match(c.seen.notices.at(-1), { type: 'closed', message: /box's console closed/ });
  await pushed('stopped');
  const late = viewer(consoleUrl, headers);
  await late.until(/INSTANCE_NOT_RUNNING/, () => JSON.stringify(late.seen.notices));

  const removed = await http(base, 'DELETE', '/api/instances/box', bearer, { confirm: 'box' });
  t.equal(removed.status, 200, removed.body);
  t.same(await Instance.names({ root }), []);
  await server.close();
  t.equal(await handshake(consoleUrl, headers), 0, 'closed: nothing answers');
});

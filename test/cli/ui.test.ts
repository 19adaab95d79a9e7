// `qlaunch ui` from the command line: the URL on stdout, a warning when other machines may reach it, and clear
// errors for a bad or taken port.

import { createServer } from 'node:net';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { http } from '../fixtures/ui-client.js';

t.setTimeout(60_000);

/** Run `qlaunch ui ARGS` until it prints its URL; returns the URL, what it said, and a way to stop it. */
async function serve(t: { teardown: (fn: () => void) => void }, args: string[]) {
  const home = shortTempDir(t);
  const ui = execa(process.execPath, [cliPath, 'ui', ...args], {
    env: { ...process.env, QLAUNCH_HOME: home },
    reject: false,
  });
  t.teardown(() => {
    ui.kill('SIGKILL');
  });
  let stderr = '';
  ui.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    ui.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(http:\/\/\S+)\n/m.exec(out)?.[1];
      if (line) resolve(line);
    });
    void ui.then(() => reject(new Error(`qlaunch ui exited: ${stderr}`)));
  });
  return { url, said: () => stderr, ui };
}

t.test('on loopback: the URL, no warning, and SIGTERM ends it cleanly', async (t) => {
  const { url, said, ui } = await serve(t, []);
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  const reply = await http(new URL(url).origin, 'GET', '/api/instances', {
    Authorization: `Bearer ${new URL(url).searchParams.get('token')}`,
  });
  t.equal(reply.status, 200);
  t.same(JSON.parse(reply.body), [], 'no instances yet');
  ui.kill('SIGTERM');
  const ended = await ui;
  t.equal(ended.exitCode, 0);
  t.notMatch(said(), /warning/);
  t.match(said(), /stopped serving/);
  t.notMatch(said(), new URL(url).searchParams.get('token') ?? '', 'the token is only on the URL line');
});

t.test('--listen on every interface warns that other machines may reach it', async (t) => {
  const { url, said } = await serve(t, ['--listen', '0.0.0.0']);
  t.match(url, /^http:\/\/0\.0\.0\.0:\d+\//);
  t.match(said(), /warning: serving on 0\.0\.0\.0, which other machines may reach/);
});

t.test('a bad --port is a usage error; a taken one says how to fix it', async (t) => {
  const env = { ...process.env, QLAUNCH_HOME: shortTempDir(t) };
  const bad = await execa(process.execPath, [cliPath, 'ui', '--port', '70000'], { env, reject: false });
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /--port 70000 is not a port \(1 to 65535\)/);
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const busy = await execa(process.execPath, [cliPath, 'ui', '--port', String(port)], { env, reject: false });
  t.equal(busy.exitCode, 1);
  t.match(busy.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  t.match(busy.stderr, /fix: another program has that port/);
});

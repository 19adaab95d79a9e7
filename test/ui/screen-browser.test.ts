// A guest's screen in the page (headless chromium): the still from screendump, then the live screen through noVNC
// over the server's websocket to the instance's VNC socket; the websocket refused without the token or the origin.

import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { serveUi } from '../../lib/ui/server.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';
import { handshake } from '../fixtures/ui-client.js';

t.setTimeout(300_000);

const chromium = [process.env.QLAUNCH_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && existsSync(path),
);

t.test(
  'the still and the live screen of a guest with --display vnc',
  { skip: chromium ? false : 'no chromium binary (apt-get install chromium, or scripts/setup --tests)' },
  async (t) => {
    const root = instanceTempDir(t);
    // The kernel's messages go to the screen as well: something to see.
    const machine = await tinyMachineFile(root, {
      append: 'qlaunch.hold=1 console=tty0 console=ttyS0 loglevel=7',
    });
    const desk = await Instance.create({ name: 'desk', machine, accel: 'tcg', display: 'vnc' }, { root });
    await desk.start();
    const server = await serveUi({ root });
    t.teardown(() => server.close());
    const base = `http://127.0.0.1:${server.port}`;
    const vncUrl = `ws://127.0.0.1:${server.port}/api/instances/desk/vnc`;
    t.equal(await handshake(vncUrl, { Origin: base }), 401, 'the screen websocket without the token');
    const token = new URL(server.url).searchParams.get('token') ?? '';
    t.equal(
      await handshake(vncUrl, { Origin: 'http://evil.example', Cookie: `qlaunch_ui=${token}` }),
      403,
      'from another origin',
    );

    const browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      defaultViewport: { width: 1280, height: 900, deviceScaleFactor: 1 },
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error}`));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForSelector('tr[data-name="desk"][data-state="running"]', { timeout: 60_000 });

    await page.click('tr[data-name="desk"] button[data-action="screen"]');
    // Browser-side code as text: the tests compile without the DOM's types.
    await page.waitForFunction(
      "(() => { const i = document.querySelector('#screen-image'); return i && i.complete && i.naturalWidth > 0; })()",
      { timeout: 60_000 },
    );
    const still = (await page.evaluate(
      "(() => { const i = document.querySelector('#screen-image'); return [i.naturalWidth, i.naturalHeight]; })()",
    )) as number[];
    t.ok((still[0] ?? 0) >= 640, `the still is the screen (${still.join('×')})`);

    await page.click('#screen-live-button');
    await page.waitForSelector('#screen-live[data-state="connected"] canvas', { timeout: 60_000 });
    // The framebuffer arrives after the handshake: wait until the canvas holds more than one colour.
    const colours = await page.waitForFunction(
      `(() => {
        const canvas = document.querySelector('#screen-live canvas');
        if (!canvas || canvas.width === 0) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const seen = new Set();
        for (let i = 0; i < data.length && seen.size < 8; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        return seen.size > 1 ? seen.size : 0;
      })()`,
      { timeout: 60_000, polling: 250 },
    );
    t.ok(Number(await colours.jsonValue()) > 1, 'the live screen shows the guest (not blank)');
    t.same(problems, [], 'no script errors');

    await page.click('#screen-close');
    await desk.stop({ force: true });
  },
);

// `qlaunch ui` in a real browser (Debian's chromium, headless): the page lists a running tiny guest, its console
// answers what is typed, stop and create work from the page, errors show with their fix; without the token, or
// from another Host or Origin, nothing is served.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import puppeteer, { type Page } from 'puppeteer-core';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { cliPath } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';
import { handshake, http } from '../fixtures/ui-client.js';

t.setTimeout(300_000);

const chromium = [process.env.QLAUNCH_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && existsSync(path),
);
const VIEWPORT = { width: 1280, height: 900 };

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature) || bytes.toString('latin1', 12, 16) !== 'IHDR')
    return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const rowState = (page: Page, name: string, state: string) =>
  page.waitForSelector(`tr[data-name="${name}"][data-state="${state}"]`, { timeout: 120_000 });

t.test(
  'the page drives real instances',
  { skip: chromium ? false : 'no chromium binary (apt-get install chromium, or scripts/setup --tests)' },
  async (t) => {
    const home = instanceTempDir(t);
    const root = join(home, 'instances');
    const shell = await tinyMachineFile(home, {
      name: 'shell',
      append: 'qlaunch.shell=1',
      ready: 'QLAUNCH-TINY-READY',
    });
    // The holding guest has a disk, for snapshots.
    const disk = join(home, 'blank.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    const holding = join(home, 'holding.yaml');
    writeFileSync(holding, `${readFileSync(await tinyMachineFile(home), 'utf8')}image:\n  path: ${disk}\n`);
    const box = await Instance.create({ name: 'box', machine: shell, accel: 'tcg' }, { root });
    const holder = await Instance.create({ name: 'holder', machine: holding, accel: 'tcg' }, { root });
    await box.start();
    await holder.start();

    const ui = execa(process.execPath, [cliPath, 'ui'], {
      env: { ...process.env, QLAUNCH_HOME: home },
      reject: false,
    });
    t.teardown(async () => {
      ui.kill('SIGTERM');
      await ui;
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      ui.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(out)?.[1];
        if (line) resolve(line);
      });
      void ui.then((result) => reject(new Error(`qlaunch ui exited: ${result.stderr}`)));
    });
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const base = new URL(url).origin;
    const port = new URL(url).port;

    // Without the token, or from elsewhere: refused.
    t.equal((await http(base, 'GET', '/')).status, 401, 'the page without the token');
    t.equal((await http(base, 'GET', '/api/instances')).status, 401, 'the API without the token');
    const consoleUrl = `ws://127.0.0.1:${port}/api/instances/box/console`;
    t.equal(await handshake(consoleUrl, { Origin: base }), 401, 'the console websocket without the token');
    t.equal((await http(base, 'GET', '/api/instances', { Cookie: 'qlaunch_ui=guess' })).status, 403);

    const browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      // Root in a container has no user namespaces for chromium's sandbox.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      defaultViewport: { ...VIEWPORT, deviceScaleFactor: 1 },
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error}`));
    page.on('console', (message) => {
      // Failed loads are judged below, by URL.
      if (message.type() === 'error' && !/^Failed to load resource/.test(message.text()))
        problems.push(message.text());
    });
    const failed: string[] = [];
    page.on('response', (reply) => {
      if (reply.status() >= 400)
        failed.push(`${reply.request().method()} ${new URL(reply.url()).pathname} ${reply.status()}`);
    });

    const response = await page.goto(url, { waitUntil: 'load' });
    t.equal(response?.status(), 200);
    t.equal(page.url(), `${base}/`, 'the token left the address bar');
    const cookies = await browser.cookies();
    t.match(cookies, [{ name: 'qlaunch_ui', httpOnly: true, sameSite: 'Strict' }]);

    // The cookie the browser holds does not open the API under another Host, nor the console from another Origin.
    const cookie = `qlaunch_ui=${cookies[0]?.value}`;
    t.equal(
      (await http(base, 'GET', '/api/instances', { Cookie: cookie, Host: `evil.example:${port}` })).status,
      403,
    );
    t.equal(await handshake(consoleUrl, { Cookie: cookie, Origin: 'http://evil.example' }), 403);

    await rowState(page, 'box', 'running');
    await rowState(page, 'holder', 'running');
    t.pass('both instances listed as running');
    const boxRow = await page.$eval('tr[data-name="box"]', (row) => row.textContent ?? '');
    t.match(boxRow, /x86_64/);
    t.match(boxRow, /256 MiB/);

    // The console: the log's tail, then what the guest answers to what is typed.
    await page.click('tr[data-name="box"] button[data-action="console"]');
    const screenText = (text: string) =>
      page.waitForFunction(
        `document.querySelector('.xterm-rows')?.textContent?.includes(${JSON.stringify(text)})`,
        {
          timeout: 30_000,
        },
      );
    await screenText('QLAUNCH-TINY-READY');
    const mark = `hi${process.pid}`;
    await page.click('#terminal');
    await page.keyboard.type(`echo ${mark}-$((6*7))\n`);
    await screenText(`${mark}-42`);
    t.pass('the guest answered on screen');

    // Snapshots from the page: save one (RAM too, as it runs), load it, delete it; a bad tag shows the fix.
    await page.click('tr[data-name="holder"] button[data-action="snapshots"]');
    await page.waitForSelector('#snapshots-empty:not([hidden])');
    await page.type('#snapshot-save input[name="tag"]', 'base');
    await page.click('#snapshot-save button[type="submit"]');
    await page.waitForSelector('#snapshot-list tr[data-tag="base"]', { timeout: 60_000 });
    t.match(await page.$eval('#snapshot-list tr[data-tag="base"]', (row) => row.textContent ?? ''), /MiB/);
    t.match(await holder.listSnapshots(), [{ tag: 'base' }]);
    await page.click('#snapshot-list tr[data-tag="base"] button[data-snapshot-action="load"]');
    await page.waitForSelector(
      '#snapshot-list tr[data-tag="base"] button[data-snapshot-action="load"]:not([disabled])',
      {
        timeout: 60_000,
      },
    );
    await page.type('#snapshot-save input[name="tag"]', '1234');
    await page.click('#snapshot-save button[type="submit"]');
    await page.waitForSelector('#error:not([hidden])');
    t.match(await page.$eval('#error', (box) => box.textContent ?? ''), /snapshot tag "1234" is all digits/);
    await page.click('#error .error-dismiss');
    await page.click('#snapshot-list tr[data-tag="base"] button[data-snapshot-action="delete"]');
    await page.waitForSelector('#snapshots-empty:not([hidden])', { timeout: 60_000 });
    t.same(await holder.listSnapshots(), [], 'deleted');
    await rowState(page, 'holder', 'running');

    // A forward added from the page (a guest port: QEMU picks the host port), shown, then removed.
    page.once('dialog', (dialog) => void dialog.accept('80'));
    await page.click('tr[data-name="holder"] button[data-action="add-port"]');
    const forward = await page.waitForSelector('tr[data-name="holder"] .forward[data-guest-port="80"]', {
      timeout: 30_000,
    });
    t.match(await forward?.evaluate((node) => node.textContent), /^127\.0\.0\.1:\d+→80/);
    const added = (await holder.listPorts()).find((p) => p.guestPort === 80);
    t.match(added, { hostAddress: '127.0.0.1', guestPort: 80, protocol: 'tcp' }, 'QEMU has it');
    await page.click(`tr[data-name="holder"] button[data-port="tcp/${added?.hostPort}"]`);
    await page.waitForFunction(
      `!document.querySelector('tr[data-name="holder"] .forward[data-guest-port="80"]')`,
      {
        timeout: 30_000,
      },
    );
    t.notOk(
      (await holder.listPorts()).some((p) => p.guestPort === 80),
      'and no longer',
    );

    // Logs: the console's, then qlaunch's journal of what it did.
    await page.click('tr[data-name="holder"] button[data-action="logs"]');
    await page.waitForSelector('#log-text[data-source="console"]');
    t.match(await page.$eval('#log-text', (pre) => pre.textContent ?? ''), /QLAUNCH-HOLDING/);
    await page.click('#logs button[data-source="qlaunch"]');
    await page.waitForSelector('#log-text[data-source="qlaunch"]');
    t.match(await page.$eval('#log-text', (pre) => pre.textContent ?? ''), /"msg":"snapshot saved"/);

    // Stop from the page: the guest powers off and the row says so.
    await page.click('tr[data-name="holder"] button[data-action="stop"]');
    await rowState(page, 'holder', 'stopped');
    t.match(await holder.status(), { state: 'stopped' });

    // Create from the form; a bad name shows the library's message and fix.
    await page.type('#create input[name="name"]', 'made');
    await page.type('#create input[name="machine"]', holding);
    await page.click('#create button[type="submit"]');
    await rowState(page, 'made', 'stopped');
    t.match(await (await Instance.open('made', { root })).status(), { state: 'stopped' });
    await page.type('#create input[name="name"]', 'Bad Name');
    await page.type('#create input[name="machine"]', holding);
    await page.click('#create button[type="submit"]');
    await page.waitForSelector('#error:not([hidden])');
    const shown = await page.$eval('#error', (box) => box.textContent ?? '');
    t.match(shown, /instance name "Bad Name" is not allowed/);
    t.match(shown, /fix: use 1 to 63 lower-case letters/);

    const shot = join(home, 'page.png');
    await page.screenshot({ path: shot });
    const png = readFileSync(shot);
    t.ok(png.length > 1000, 'the screenshot is not empty');
    t.same(pngSize(png), VIEWPORT, 'a PNG of the viewport’s size');
    t.same(problems, [], 'no script error and nothing refused by the CSP');
    t.same(
      failed,
      ['POST /api/instances/holder/snapshots 400', 'POST /api/instances 400'],
      'the failed requests are the bad tag and the bad create',
    );

    // Ctrl-C (or SIGTERM) ends it cleanly, though a page and a console are still connected.
    ui.kill('SIGINT');
    const ended = await ui;
    t.equal(ended.exitCode, 0, ended.stderr);
    t.match(ended.stderr, /stopped serving/);
  },
);

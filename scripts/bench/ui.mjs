#!/usr/bin/env node
// Benchmark: `qlaunch ui` with 10 instances listed (one running tiny guest with a shell on its console): page load
// to the full list, and a console keystroke to its echo — over the raw serial socket, through the server's
// websocket, and typed in headless chromium. Targets: list ≤ 300 ms; browser echo ≤ raw echo + 50 ms.
// Run: npm run build && QLAUNCH_TINY_X86_64=manifest.json node scripts/bench/ui.mjs [runs]

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import WebSocket from 'ws';

const runs = Number(process.argv[2] ?? 20);
const cli = fileURLToPath(new URL('../../dist/bin/qlaunch.js', import.meta.url));
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const manifest = process.env.QLAUNCH_TINY_X86_64;
if (!chromium || !manifest) {
  console.error(
    'ui bench: needs chromium (apt-get install chromium) and QLAUNCH_TINY_X86_64 (source the test env)',
  );
  process.exit(2);
}
const tiny = JSON.parse(readFileSync(manifest, 'utf8'));
const home = mkdtempSync(join(tmpdir(), 'qlb-'));
const env = { ...process.env, QLAUNCH_HOME: home };
const q = (...args) =>
  execFileSync(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;

const machine = join(home, 'shell.yaml');
writeFileSync(
  machine,
  [
    'name: shell',
    'arch: x86_64',
    'memory: 256M',
    `kernel: ${tiny.kernel}`,
    `initrd: ${tiny.initrd}`,
    `append: ${tiny.append} qlaunch.shell=1`,
    'readiness: { serial: QLAUNCH-TINY-READY }',
    '',
  ].join('\n'),
);
for (let i = 0; i < 10; i++) q('create', `vm${i}`, '--machine', machine, '--accel', 'tcg');
q('start', 'vm0');
const serial = join(home, 'instances', 'vm0', 'serial.sock');

// A keystroke's echo: write one letter, wait for it to come back; Ctrl-U clears the line after each run.
async function rawEcho() {
  const socket = connect(serial);
  await new Promise((resolve) => socket.once('connect', resolve));
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const back = new Promise((resolve) => socket.once('data', resolve));
    socket.write('x');
    await back;
    times.push(performance.now() - started);
    socket.write('\x15');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
  return times;
}

const ui = spawn(process.execPath, [cli, 'ui'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => {
  let out = '';
  ui.stdout.on('data', (chunk) => {
    out += chunk;
    const line = /^(http:\/\/\S+)\n/m.exec(out)?.[1];
    if (line) resolve(line);
  });
});
const { origin } = new URL(url);
const token = new URL(url).searchParams.get('token');
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  defaultViewport: { width: 1280, height: 900 },
});
try {
  const raw = await rawEcho();

  const ws = new WebSocket(`${origin.replace('http', 'ws')}/api/instances/vm0/console`, {
    headers: { Origin: origin, Cookie: `qlaunch_ui=${token}` },
  });
  await new Promise((resolve) => ws.on('message', (_data, binary) => !binary && resolve()));
  const viaWs = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const back = new Promise((resolve) => ws.once('message', resolve));
    ws.send('x');
    await back;
    viaWs.push(performance.now() - started);
    ws.send('\x15');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  ws.close();

  const page = await browser.newPage();
  await page.goto(url);
  const loads = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`${origin}/`);
    await page.waitForFunction(`document.querySelectorAll('#instances tbody tr').length === 10`, {
      polling: 'mutation',
    });
    // performance.now() counts from the navigation's start.
    loads.push(await page.evaluate('performance.now()'));
  }
  await page.click('tr[data-name="vm0"] button[data-action="console"]');
  await page.waitForFunction(
    // The shell's prompt (the log's older lines may have scrolled out of view).
    `document.querySelector('.xterm-rows')?.textContent?.includes('#')`,
  );
  await page.click('#terminal');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const count = `document.querySelector('.xterm-rows').textContent.split('x').length`;
  const typed = [];
  for (let i = 0; i < runs; i++) {
    const before = await page.evaluate(count);
    const started = performance.now();
    await page.keyboard.type('x');
    await page.waitForFunction(`${count} > ${before}`, { polling: 'mutation' });
    typed.push(performance.now() - started);
    await page.keyboard.down('Control');
    await page.keyboard.press('u');
    await page.keyboard.up('Control');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  console.log(`ui bench: ${runs} runs, 10 instances listed (1 running), medians`);
  console.log(`  page load to the full list: ${ms(median(loads))} (target ≤ 300 ms)`);
  console.log(`  keystroke to echo, raw serial socket:    ${ms(median(raw))} (the guest's own time)`);
  console.log(`  keystroke to echo, server websocket:     ${ms(median(viaWs))}`);
  console.log(`  keystroke to echo, typed in chromium:    ${ms(median(typed))} (target ≤ raw + 50 ms)`);
} finally {
  await browser.close();
  ui.kill('SIGTERM');
  await new Promise((resolve) => ui.once('exit', resolve));
  q('stop', '--force', 'vm0');
  rmSync(home, { recursive: true, force: true });
}

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { downloadFile, fetchText } from '../../lib/image/download.js';
import { checkDownloadUrl } from '../../lib/image/download-url.js';
import { imageServer } from './image-server.js';

const BODY = Buffer.concat([Buffer.alloc(200_000, 1), Buffer.alloc(300_000), Buffer.alloc(100_000, 2)]);
const SHA256 = createHash('sha256').update(BODY).digest('hex');

t.test('a download streams to the file, hashed, with progress; redirects are followed', async (t) => {
  const server = await imageServer(t, {
    '/img/disk.qcow2': { body: BODY },
    '/old/disk.qcow2': { redirect: '/img/disk.qcow2' },
    '/chunked': { body: BODY, length: false },
  });
  const dir = t.testdir();
  const progress: { received: number; total: number | undefined }[] = [];
  const got = await downloadFile(server.url('/old/disk.qcow2'), join(dir, 'a'), {
    algorithm: 'sha256',
    onProgress: (p) => progress.push(p),
  });
  t.same(got, {
    bytes: BODY.length,
    checksum: { algorithm: 'sha256', hex: SHA256 },
    finalUrl: server.url('/img/disk.qcow2'),
  });
  t.ok(readFileSync(join(dir, 'a')).equals(BODY));
  t.same(progress.at(-1), { received: BODY.length, total: BODY.length });
  t.ok(
    progress.every((p, i) => i === 0 || p.received > progress[i - 1]!.received),
    'progress only grows',
  );

  const chunked = await downloadFile(server.url('/chunked'), join(dir, 'b'), { algorithm: 'sha512' });
  t.equal(chunked.checksum.hex, createHash('sha512').update(BODY).digest('hex'), 'no Content-Length is fine');
});

t.test('HTTP errors name the status and the URL; nothing is left', async (t) => {
  const server = await imageServer(t, {
    '/broken': { status: 503, body: 'busy' },
    '/moved': { redirect: '/gone' },
  });
  const dir = t.testdir();
  await t.rejects(downloadFile(server.url('/nope.qcow2'), join(dir, 'x'), { algorithm: 'sha256' }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: `GET ${server.url('/nope.qcow2')} failed: HTTP 404 Not Found`,
    hint: /check the URL/,
  });
  await t.rejects(downloadFile(server.url('/broken'), join(dir, 'x'), { algorithm: 'sha256' }), {
    message: /failed: HTTP 503 Service Unavailable$/,
    hint: /try again later/,
  });
  await t.rejects(downloadFile(server.url('/moved'), join(dir, 'x'), { algorithm: 'sha256' }), {
    message: `GET ${server.url('/moved')} (redirected to ${server.url('/gone')}) failed: HTTP 404 Not Found`,
  });
  t.same(readdirSync(dir), []);
});

t.test('a connection dropped mid-body fails and leaves no file', async (t) => {
  const server = await imageServer(t, {
    '/drop': { body: BODY, dropAfter: 100_000 },
    '/drop-chunked': { body: BODY, dropAfter: 100_000, length: false },
  });
  const dir = t.testdir();
  await t.rejects(downloadFile(server.url('/drop'), join(dir, 'x'), { algorithm: 'sha256' }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: new RegExp(`^download of ${server.url('/drop')} broke off after \\d+ of ${BODY.length} bytes`),
  });
  await t.rejects(downloadFile(server.url('/drop-chunked'), join(dir, 'x'), { algorithm: 'sha256' }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: /broke off after \d+ bytes/,
  });
  t.same(readdirSync(dir), []);
});

t.test('aborting a download mid-body fails with IMAGE_ABORTED and leaves no file', async (t) => {
  const server = await imageServer(t, { '/stall': { body: BODY, stallAfter: 50_000 } });
  const dir = t.testdir();
  const controller = new AbortController();
  void server.stalled.then(() => setTimeout(() => controller.abort(), 50));
  await t.rejects(
    downloadFile(server.url('/stall'), join(dir, 'x'), { algorithm: 'sha256', signal: controller.signal }),
    { code: 'IMAGE_ABORTED', message: `download of ${server.url('/stall')} aborted` },
  );
  t.notOk(existsSync(join(dir, 'x')));
  const before = new AbortController();
  before.abort();
  await t.rejects(
    downloadFile(server.url('/stall'), join(dir, 'y'), { algorithm: 'sha256', signal: before.signal }),
    {
      code: 'IMAGE_ABORTED',
    },
  );
});

t.test(
  'a server that stops sending fails after the stall bound, reported while it lasts; nothing is left',
  async (t) => {
    const server = await imageServer(t, {
      '/half': { body: BODY, stallAfter: BODY.length / 2 },
      '/silent': { silent: true },
    });
    const dir = t.testdir();
    const stalls: number[] = [];
    await t.rejects(
      downloadFile(server.url('/half'), join(dir, 'x'), {
        algorithm: 'sha256',
        stallTimeout: 2500,
        onProgress: (p) => p.stalledMs !== undefined && stalls.push(p.stalledMs),
      }),
      {
        code: 'IMAGE_DOWNLOAD_STALLED',
        message: new RegExp(
          `^download of ${server.url('/half')} stalled: nothing arrived for 2\\.5 s after ${BODY.length / 2} of ${BODY.length} bytes$`,
        ),
        hint: /--stall-timeout SECONDS \(stallTimeout in the library\)/,
      },
    );
    t.ok(stalls.length > 0 && stalls.every((ms) => ms >= 1000), 'the stall was reported while it lasted');
    await t.rejects(
      downloadFile(server.url('/silent'), join(dir, 'y'), { algorithm: 'sha256', stallTimeout: 300 }),
      { code: 'IMAGE_DOWNLOAD_STALLED', message: /stalled: nothing arrived for 0\.3 s$/ },
      'no response at all is a stall too',
    );
    await t.rejects(fetchText(server.url('/silent'), { stallTimeout: 300 }), {
      code: 'IMAGE_DOWNLOAD_STALLED',
    });
    t.same(readdirSync(dir), []);
  },
);

t.test('redirects are followed up to a bound; a redirect to another scheme is refused', async (t) => {
  const server = await imageServer(t, {
    '/loop': { redirect: '/loop' },
    '/ftp': { redirect: 'ftp://mirror/x.img' },
  });
  const dir = t.testdir();
  await t.rejects(downloadFile(server.url('/loop'), join(dir, 'x'), { algorithm: 'sha256' }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: `GET ${server.url('/loop')} was redirected more than 10 times`,
  });
  t.equal(server.hits('/loop'), 11);
  await t.rejects(downloadFile(server.url('/ftp'), join(dir, 'x'), { algorithm: 'sha256' }), {
    message: /^'ftp:\/\/mirror\/x\.img' is not an http:\/\/ or https:\/\/ URL/,
  });
  t.same(readdirSync(dir), []);
});

t.test('unreachable hosts and non-http URLs are clear errors', async (t) => {
  const dir = t.testdir();
  // A port that was just free: nothing listens there, so the connection is refused at once.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const url = `http://127.0.0.1:${port}/x.img`;
  await t.rejects(downloadFile(url, join(dir, 'x'), { algorithm: 'sha256' }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    message: `cannot fetch ${url}: connect ECONNREFUSED 127.0.0.1:${port}`,
  });
  t.throws(() => checkDownloadUrl('file:///tmp/x.qcow2'), {
    code: 'IMAGE_DOWNLOAD_FAILED',
    hint: /qlaunch image import/,
  });
  t.throws(() => checkDownloadUrl('not a url'), { message: "'not a url' is not an http:// or https:// URL" });
  t.equal(checkDownloadUrl('https://example.org/a.img').hostname, 'example.org');
});

t.test('fetchText reads small files and refuses big ones', async (t) => {
  const server = await imageServer(t, {
    '/SHA256SUMS': { body: 'abc  x.img\n' },
    '/big': { body: Buffer.alloc(5000, 0x41) },
    '/cut': { body: Buffer.alloc(5000, 0x41), dropAfter: 100 },
  });
  t.equal(await fetchText(server.url('/SHA256SUMS')), 'abc  x.img\n');
  await t.rejects(fetchText(server.url('/big'), { maxBytes: 1000 }), {
    code: 'IMAGE_CHECKSUM_INVALID',
    message: `${server.url('/big')} is larger than 1000 bytes`,
  });
  await t.rejects(fetchText(server.url('/cut')), { code: 'IMAGE_DOWNLOAD_FAILED', message: /broke off/ });
  await t.rejects(fetchText(server.url('/none')), { message: /HTTP 404/ });
});

t.test(
  'https: a server whose CA is in the system bundle (SSL_CERT_FILE) is trusted; otherwise refused',
  async (t) => {
    const dir = t.testdir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_, res) =>
      res.writeHead(200, { 'content-length': BODY.length }).end(BODY),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/disk.img`;
    const saved = process.env['SSL_CERT_FILE'];
    t.teardown(() => {
      if (saved === undefined) delete process.env['SSL_CERT_FILE'];
      else process.env['SSL_CERT_FILE'] = saved;
    });
    delete process.env['SSL_CERT_FILE'];
    await t.rejects(downloadFile(url, join(dir, 'x'), { algorithm: 'sha256' }), {
      code: 'IMAGE_DOWNLOAD_FAILED',
      message: new RegExp(`^cannot fetch ${url}: self[- ]signed certificate`),
    });
    process.env['SSL_CERT_FILE'] = cert;
    const got = await downloadFile(url, join(dir, 'x'), { algorithm: 'sha256' });
    t.equal(got.checksum.hex, SHA256);
  },
);

t.test('a download that fails before reading the body still closes the connection', async (t) => {
  const dir = t.testdir({ taken: 'already here' });
  let closed: () => void = () => {};
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = createHttpServer((req, res) => {
    req.socket.on('close', () => closed());
    res.writeHead(200, { 'content-length': BODY.length }).write(BODY.subarray(0, 1000));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk.img`;
  await t.rejects(downloadFile(url, join(dir, 'taken'), { algorithm: 'sha256' }), {
    cause: { code: 'EEXIST' },
  });
  await connectionClosed;
  t.pass('the server saw the connection closed');
});

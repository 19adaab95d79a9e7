// A user's own user-data checked as cloud-init reads it: bytes, gzip, headers; refusals describe, never quote.
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { checkUserData, YAML_CHECK_BYTES } from '../../lib/cidata/user-data.js';

t.test('a user’s user-data: kinds recognised, problems named', async (t) => {
  t.equal(checkUserData('#cloud-config\nhostname: x\n', 'u'), 'cloud-config');
  t.equal(checkUserData('#cloud-config\n', 'u'), 'cloud-config', 'an empty cloud-config is fine');
  t.equal(checkUserData('#!/bin/sh\necho hi\n', 'u'), 'script');
  t.equal(checkUserData('Content-Type: multipart/mixed; boundary="x"\n', 'u'), 'multipart');
  t.equal(checkUserData('MIME-Version: 1.0\n', 'u'), 'multipart');
  t.equal(checkUserData('#cloud-boothook\n', 'u'), 'boothook');
  t.equal(checkUserData('#include\nhttp://x\n', 'u'), 'include');
  t.equal(checkUserData('## template: jinja\n#cloud-config\n', 'u'), 'jinja');
  t.throws(() => checkUserData('hostname: x\n', 'ud.yaml'), {
    code: 'SEED_INVALID',
    message: /ud\.yaml is not user-data.*YAML without the #cloud-config line/,
    hint: /#cloud-config/,
  });
  t.throws(() => checkUserData('#cloud-config\nusers: [a, b\n', 'ud.yaml'), {
    code: 'SEED_INVALID',
    message: /ud\.yaml is not valid YAML at line \d+/,
  });
  t.throws(() => checkUserData('#cloud-config\n- a\n- b\n', 'ud.yaml'), { message: /not a mapping/ });
  t.equal(checkUserData('#cloud-config', 'x'), 'cloud-config', 'a first line without newline');
});

t.test('headers as cloud-init matches them: longest first, any case, after leading whitespace', async (t) => {
  t.equal(checkUserData('#cloud-config-archive\n- x\n', 'u'), 'cloud-config-archive');
  t.equal(checkUserData('#part-handler\ndef list_types(): pass\n', 'u'), 'part-handler');
  t.equal(checkUserData('#include-once\nhttp://x\n', 'u'), 'include');
  t.equal(checkUserData('\n\n  #Cloud-Config\nhostname: x\n', 'u'), 'cloud-config');
  t.equal(checkUserData('#cloud-config # mine\nhostname: x\n', 'u'), 'cloud-config');
  t.equal(
    checkUserData('#!/bin/sh\n# MIME-Version: 1.0\n', 'u'),
    'multipart',
    'cloud-init parses anything naming MIME-Version in its first 4 KiB as MIME',
  );
});

t.test('bytes: a script that is not UTF-8 passes; gzip is looked into, within a bound', async (t) => {
  const latin1 = Uint8Array.from([...Buffer.from('#!/bin/sh\necho caf'), 0xe9, 0x0a]);
  t.equal(checkUserData(latin1, 'u'), 'script');
  t.equal(checkUserData(gzipSync('#cloud-config\nhostname: x\n'), 'u'), 'cloud-config');
  t.equal(checkUserData(gzipSync('#!/bin/sh\necho hi\n'), 'u'), 'script');
  t.throws(() => checkUserData(gzipSync('#cloud-config\nusers: [a, b\n'), 'u.gz'), {
    message: /u\.gz is not valid YAML/,
  });
  // A gzip bomb: 1 GiB of text after its header; only the start is ever inflated.
  const bomb = gzipSync(
    Buffer.concat([Buffer.from('#cloud-config\nx: '), Buffer.alloc(YAML_CHECK_BYTES * 4, 0x61)]),
  );
  t.equal(checkUserData(bomb, 'u.gz'), 'cloud-config', 'a large gzip cloud-config: header checked');
  const noHeader = gzipSync(Buffer.alloc(YAML_CHECK_BYTES * 4, 0x61));
  t.throws(() => checkUserData(noHeader, 'n.gz'), {
    message: /n\.gz .*gzip-compressed text whose first line/,
  });
  t.throws(() => checkUserData(gzipSync(''), 'e.gz'), { message: /it is gzip-compressed nothing/ });
  t.throws(() => checkUserData(gzipSync('#!/bin/sh\n').subarray(0, 15), 'cut.gz'), {
    message: /cut\.gz .*gzip data that does not decompress/,
  });
  t.throws(() => checkUserData(Uint8Array.from([...Buffer.from('#cloud-config\nx: caf'), 0xe9]), 'l.yaml'), {
    message: /l\.yaml is a cloud-config that is not valid UTF-8/,
  });
});

t.test(
  'a refusal says what the file seems to be and what the first line should be, quoting nothing',
  async (t) => {
    const secret = 'root:$y$j9T$Zq5sEcReThAsH$abcdefghijklmnop:19700:0:99999:7:::\n';
    const cases: [string | Uint8Array, RegExp][] = [
      [secret, /it is text whose first line is not a cloud-init header$/],
      ['# my notes\nhostname: x\n', /it is text whose first line is a comment, not a cloud-init header$/],
      ['', /it is empty$/],
      ['\n \n', /it is only blank lines$/],
      [Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff), /it is binary data, not text$/],
      [`\ufeff#cloud-config\n`, /it is text with a byte order mark before its header/],
      [Uint8Array.of(0xff, 0xfe, 0x23, 0, 0x21, 0), /it is UTF-16 text; cloud-init reads UTF-8/],
    ];
    for (const [data, message] of cases) {
      const error = t.throws(() => checkUserData(data, 'f'), { code: 'SEED_INVALID', message }) as
        | Error
        | undefined;
      t.match((error as { hint?: string })?.hint, /#cloud-config.*#!.*multipart MIME/);
      t.notMatch(error?.message, /root|Zq5s|notes|hostname/, 'no content in the message');
    }
  },
);

t.test('a YAML alias bomb in a cloud-config is refused, not expanded', async (t) => {
  const levels = Array.from({ length: 12 }, (_, i) => {
    const name = String.fromCharCode(98 + i);
    const prev = String.fromCharCode(97 + i);
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`;
  });
  const bomb = `#cloud-config\na: &a [x, x, x, x, x, x, x, x, x]\n${levels.join('\n')}\n`;
  t.throws(() => checkUserData(bomb, 'bomb.yaml'), {
    code: 'SEED_INVALID',
    message: /bomb\.yaml has too many YAML aliases/,
    hint: /without nested aliases/,
  });
  t.equal(
    checkUserData('#cloud-config\na: &a [1]\nb: *a\n', 'ok.yaml'),
    'cloud-config',
    'a few aliases are fine',
  );
});

// `--mount HOST[:GUEST][:OPTIONS]` and mount objects: defaults, every form, and what is refused.
import t from 'tap';
import { mountTag, normalizeMounts, parseMountOption } from '../../lib/machine/mounts.js';

t.test('defaults: the guest path is the host path, read-only, type auto', async (t) => {
  t.same(parseMountOption('/srv/data', '/cwd'), {
    host: '/srv/data',
    guest: '/srv/data',
    writable: false,
    type: 'auto',
  });
  t.same(parseMountOption('./src', '/work'), {
    host: '/work/src',
    guest: '/work/src',
    writable: false,
    type: 'auto',
  });
});

t.test('every form of HOST[:GUEST][:OPTIONS]', async (t) => {
  t.same(parseMountOption('./src:/src:rw,type=9p', '/w'), {
    host: '/w/src',
    guest: '/src',
    writable: true,
    type: '9p',
  });
  t.same(parseMountOption('src:/src', '/w'), {
    host: '/w/src',
    guest: '/src',
    writable: false,
    type: 'auto',
  });
  t.same(parseMountOption('src:rw', '/w'), { host: '/w/src', guest: '/w/src', writable: true, type: 'auto' });
  t.same(parseMountOption('src:type=virtiofs,ro', '/w'), {
    host: '/w/src',
    guest: '/w/src',
    writable: false,
    type: 'virtiofs',
  });
  t.same(parseMountOption('/a/:/b/c/', '/w'), { host: '/a', guest: '/b/c', writable: false, type: 'auto' });
});

t.test('bad mount text is refused naming the form', async (t) => {
  const bad = (text: string, message: RegExp) =>
    t.throws(
      () => parseMountOption(text, '/w'),
      { code: 'SPEC_INVALID', message, hint: /HOST\[:GUEST\]\[:OPTIONS\]/ },
      text,
    );
  bad(':/src', /is not HOST\[:GUEST\]\[:OPTIONS\]/);
  bad('a:/b:rw:x', /is not HOST/);
  bad('a:/b:rw,ro', /gives ro\/rw twice/);
  bad('a:/b:rwx', /option 'rwx' is not known/);
  t.throws(() => parseMountOption('a:/b:type=nfs', '/w'), {
    code: 'SPEC_INVALID',
    message: /mount type 'nfs' is not known/,
  });
  t.throws(() => normalizeMounts([{ host: 'a', guest: 'rel' }], '/w'), {
    message: /not an absolute directory/,
  });
  t.throws(() => normalizeMounts([{ host: 'a', guest: '/' }], '/w'), {
    message: /not an absolute directory/,
  });
  t.throws(() => parseMountOption('./my dir', '/w'), {
    message: /guest path '\/w\/my dir' holds a blank/,
    hint: /my dir:\/mydir/,
  });
  t.same(parseMountOption('./my dir:/mydir', '/w').host, '/w/my dir', 'a host path may hold one');
});

t.test('a guest path or host directory given twice is refused', async (t) => {
  t.throws(() => normalizeMounts(['/a:/x', '/b:/x/'], '/'), {
    code: 'SPEC_INVALID',
    message: 'guest path /x is mounted twice',
  });
  t.throws(() => normalizeMounts(['/a:/x', { host: '/a/', guest: '/y' }], '/'), {
    message: 'host directory /a is mounted twice',
  });
  t.same(normalizeMounts(undefined, '/'), []);
});

t.test('tags are short and by position (9p allows 31 bytes)', async (t) => {
  t.equal(mountTag(0), 'm0');
  t.equal(mountTag(12), 'm12');
});

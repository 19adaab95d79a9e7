// The rootfs guest's /init: valid busybox sh for any command and guest path, each word passed as it was given.
import { execa } from 'execa';
import t from 'tap';
import { initScript } from '../../lib/initramfs/init-script.js';

const plan = {
  modules: ['9pnet.ko', '9p.ko', 'overlay.ko'],
  root: { tag: 'm0', transport: '9p' as const },
  mounts: [
    { tag: 'm1', transport: 'virtiofs' as const, guest: "/srv/it's here", writable: true },
    { tag: 'm2', transport: '9p' as const, guest: '/data', writable: false },
  ],
  network: true,
  command: ['printf', '%s|', "it's", 'two words', '$HOME', '`id`', ''],
};

t.test('the script parses as busybox sh', async (t) => {
  const result = await execa('busybox', ['sh', '-n'], { input: initScript(plan), reject: false });
  t.equal(result.exitCode, 0, result.stderr);
});

t.test('modules load in order, then root, overlay, mounts, network and the command', async (t) => {
  const lines = initScript(plan).split('\n');
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
  t.ok(at('insmod /lib/modules/9pnet.ko') < at('insmod /lib/modules/9p.ko'));
  t.ok(at('insmod /lib/modules/overlay.ko') < at('/lower'));
  t.match(
    lines[at('/lower ||')],
    /^mount -t 9p -o trans=virtio,version=9p2000\.L,msize=524288,ro m0 \/lower/,
  );
  t.match(lines.join('\n'), /mount -t virtiofs -o rw m1 '\/newroot\/srv\/it'\\''s here'/);
  t.match(
    lines.join('\n'),
    /mount -t 9p -o trans=virtio,version=9p2000\.L,msize=524288,ro m2 \/newroot\/data/,
  );
  t.ok(at('ip route add default via 10.0.2.2') > 0);
  t.ok(at('status $?') > at('chroot /newroot "$program"'));
  t.ok(at('chroot /newroot "$program"') > at('ip link set lo up'));
});

t.test("the command's words reach it unchanged", async (t) => {
  const script = initScript(plan);
  const line = script.split('\n').find((l) => l.startsWith('set -- ')) ?? '';
  // The same words set as the script sets them, run on the host.
  const result = await execa('busybox', ['sh', '-c', `${line}; "$@"`]);
  t.equal(result.stdout, "it's|two words|$HOME|`id`||");
});

t.test('without a network no address is set', async (t) => {
  t.notMatch(initScript({ ...plan, network: false }), /10\.0\.2\.15/);
});

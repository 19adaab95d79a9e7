// `--network bridge:BR`: qemu-bridge-helper's ACL read as the helper reads it, and the refusals before QEMU starts
// (no such bridge, the ACL denies it, no helper, a helper that is not setuid for a user), each naming the fix.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bridgeAllowed, parseBridgeAcl } from '../../lib/network/bridge-acl.js';
import { checkBridges } from '../../lib/network/bridge-check.js';

t.test('the ACL: allow, deny, all, comments; deny wins', async (t) => {
  const rules = parseBridgeAcl('# lab bridges\nallow br0\n\nallow  virbr1\ndeny virbr1\nbogus line here\n');
  t.ok(bridgeAllowed('br0', rules));
  t.notOk(bridgeAllowed('virbr1', rules), 'a deny beats an allow');
  t.notOk(bridgeAllowed('br9', rules), 'not allowed: denied');
  t.ok(bridgeAllowed('br9', parseBridgeAcl('allow all')));
  t.notOk(bridgeAllowed('br0', parseBridgeAcl('allow all\ndeny all')));
  t.same(parseBridgeAcl('include /etc/qemu/alice.conf'), [{ kind: 'include', path: '/etc/qemu/alice.conf' }]);
});

/** A fake host: /sys/class/net with `bridges`, a helper (setuid or not), an ACL with `acl`. */
function fakeHost(t: Test, acl: string | undefined, setuid = true) {
  const dir = t.testdir();
  const sysNet = join(dir, 'net');
  mkdirSync(join(sysNet, 'br0', 'bridge'), { recursive: true });
  mkdirSync(join(sysNet, 'eth0'), { recursive: true });
  const helper = join(dir, 'qemu-bridge-helper');
  writeFileSync(helper, '#!/bin/sh\n');
  chmodSync(helper, setuid ? 0o4755 : 0o755);
  const aclPath = join(dir, 'bridge.conf');
  if (acl !== undefined) writeFileSync(aclPath, acl);
  return { sysNet, helpers: [join(dir, 'missing-helper'), helper], acl: aclPath, helper };
}

const nic = (bridge: string) => ({ bridge, mac: '02:00:00:00:00:01' });

t.test('an allowed bridge: the helper found goes into each NIC', async (t) => {
  const host = fakeHost(t, `allow br0\ninclude ${join('/nonexistent', 'x.conf')}\n`);
  t.same(await checkBridges([nic('br0')], { ...host, uid: 1000 }), [{ ...nic('br0'), helper: host.helper }]);
  t.same(await checkBridges([], { ...host, uid: 1000 }), [], 'no bridges, nothing checked');
});

t.test('refusals, each naming the fix', async (t) => {
  const host = fakeHost(t, 'allow br0\n');
  await t.rejects(checkBridges([nic('br7')], { ...host, uid: 1000 }), {
    code: 'NETWORK_BRIDGE_NOT_FOUND',
    message: 'there is no bridge br7 on this host',
    hint: /ip -br link show type bridge/,
  });
  await t.rejects(checkBridges([nic('eth0')], { ...host, uid: 1000 }), {
    code: 'NETWORK_BRIDGE_NOT_FOUND',
    message: /no bridge eth0/,
  });
  const denies = fakeHost(t, 'allow virbr0\n');
  await t.rejects(checkBridges([nic('br0')], { ...denies, uid: 1000 }), {
    code: 'NETWORK_BRIDGE_DENIED',
    message: /may not use bridge br0: .*bridge\.conf does not allow it/,
    hint: /add the line `allow br0` to .*bridge\.conf/,
  });
  // The helper checks its ACL for root too: root is refused the same way.
  await t.rejects(checkBridges([nic('br0')], { ...denies, uid: 0 }), { code: 'NETWORK_BRIDGE_DENIED' });
  const none = fakeHost(t, undefined);
  await t.rejects(checkBridges([nic('br0')], { ...none, uid: 1000 }), {
    code: 'NETWORK_BRIDGE_DENIED',
    message: /there is no .*bridge\.conf/,
  });
  const plain = fakeHost(t, 'allow br0\n', false);
  await t.rejects(checkBridges([nic('br0')], { ...plain, uid: 1000 }), {
    code: 'NETWORK_BRIDGE_DENIED',
    message: /is not setuid root/,
    hint: /chmod u\+s/,
  });
  t.ok(await checkBridges([nic('br0')], { ...plain, uid: 0 }), 'root needs no setuid helper');
  await t.rejects(checkBridges([nic('br0')], { ...host, helpers: ['/nonexistent/helper'], uid: 1000 }), {
    code: 'NETWORK_BRIDGE_DENIED',
    message: /qemu-bridge-helper is not installed/,
  });
});

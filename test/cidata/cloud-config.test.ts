import t from 'tap';
import { parse } from 'yaml';
import {
  buildCloudConfig,
  buildMetaData,
  buildNetworkConfig,
  checkYamlMapping,
  newInstanceId,
} from '../../lib/cidata/cloud-config.js';

t.test('meta-data: a fresh instance id each time, hostname and public keys', async (t) => {
  const a = parse(buildMetaData());
  const b = parse(buildMetaData());
  t.match(a['instance-id'], /^iid-[0-9a-f-]{36}$/);
  t.not(a['instance-id'], b['instance-id'], 'a new instance id for every new instance');
  t.same(parse(buildMetaData({ instanceId: 'iid-1', hostname: 'web', publicKeys: ['ssh-ed25519 AAAA x'] })), {
    'instance-id': 'iid-1',
    'local-hostname': 'web',
    'public-keys': ['ssh-ed25519 AAAA x'],
  });
  t.not(newInstanceId(), newInstanceId());
});

t.test('cloud-config from options is YAML that round-trips, with awkward strings intact', async (t) => {
  const tricky = 'line one\nkey: "quoted" # not a comment\n- not a list\n';
  const text = buildCloudConfig({
    user: 'dev',
    sshAuthorizedKeys: ['ssh-ed25519 AAAAC3 dev@host'],
    password: 'p@ss: word',
    hostname: 'box',
    writeFiles: [
      { path: '/etc/motd', content: tricky, permissions: '0644' },
      { path: '/x', content: '', owner: 'root:root' },
    ],
    runcmd: ['echo hi > /dev/console', ['touch', '/tmp/a b']],
    bootcmd: [['echo', 'boot']],
    packages: ['curl'],
    sshGenkeytypes: ['ed25519'],
  });
  t.ok(text.startsWith('#cloud-config\n'));
  const config = parse(text);
  t.same(config.users, [
    {
      name: 'dev',
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
      groups: ['sudo'],
      shell: '/bin/bash',
      lock_passwd: false,
      plain_text_passwd: 'p@ss: word',
      ssh_authorized_keys: ['ssh-ed25519 AAAAC3 dev@host'],
    },
  ]);
  t.equal(config.write_files[0].content, tricky);
  t.same(config.write_files[1], { path: '/x', content: '', owner: 'root:root' });
  t.same(config.runcmd, ['echo hi > /dev/console', ['touch', '/tmp/a b']]);
  t.same(config.bootcmd, [['echo', 'boot']]);
  t.equal(config.hostname, 'box');
  t.equal(config.ssh_pwauth, true);
  t.same(config.packages, ['curl']);
  t.same(config.ssh_genkeytypes, ['ed25519']);
});

t.test('cloud-config for the image default user', async (t) => {
  const config = parse(buildCloudConfig({ sshAuthorizedKeys: ['ssh-ed25519 K'], password: 'pw' }));
  t.same(config.ssh_authorized_keys, ['ssh-ed25519 K']);
  t.same(config.chpasswd, { expire: false, users: [{ name: 'default', password: 'pw', type: 'text' }] });
  t.same(parse(buildCloudConfig({})), {}, 'nothing asked, nothing set');
  t.equal(parse(buildCloudConfig({ user: 'u' })).users[0].lock_passwd, true);
});

t.test('network-config v2 matches the NIC by MAC', async (t) => {
  t.same(parse(buildNetworkConfig('52:54:00:AB:CD:EF')), {
    version: 2,
    ethernets: { primary: { match: { macaddress: '52:54:00:ab:cd:ef' }, dhcp4: true } },
  });
});

t.test(
  'network-config v2: each private NIC by its MAC, a static address, no gateway or DNS, never waited for',
  async (t) => {
    const text = buildNetworkConfig('52:54:00:AB:CD:EF', [
      { mac: '02:AA:BB:CC:DD:01', address: '10.66.0.2', prefix: 24 },
      { mac: '02:aa:bb:cc:dd:02', address: '192.168.7.10', prefix: 29 },
    ]);
    const config = parse(text);
    t.same(config, {
      version: 2,
      ethernets: {
        primary: { match: { macaddress: '52:54:00:ab:cd:ef' }, dhcp4: true },
        private0: {
          match: { macaddress: '02:aa:bb:cc:dd:01' },
          dhcp4: false,
          dhcp6: false,
          addresses: ['10.66.0.2/24'],
          optional: true,
        },
        private1: {
          match: { macaddress: '02:aa:bb:cc:dd:02' },
          dhcp4: false,
          dhcp6: false,
          addresses: ['192.168.7.10/29'],
          optional: true,
        },
      },
    });
    for (const key of ['gateway4', 'routes', 'nameservers']) {
      t.notOk(text.includes(key), `no ${key} anywhere`);
    }
    t.same(checkYamlMapping(text, 'network-config', 'network-config'), config, 'our own check accepts it');
    t.equal(
      buildNetworkConfig('52:54:00:ab:cd:ef', []),
      buildNetworkConfig('52:54:00:ab:cd:ef'),
      'none given: as before',
    );
  },
);

t.test(
  'a NIC on a host bridge: DHCP by its MAC, routes ranked below the first NIC, never waited for',
  async (t) => {
    const text = buildNetworkConfig('52:54:00:ab:cd:ef', [], ['02:AA:00:00:00:09']);
    t.same(parse(text).ethernets.bridge0, {
      match: { macaddress: '02:aa:00:00:00:09' },
      dhcp4: true,
      'dhcp4-overrides': { 'route-metric': 200 },
      optional: true,
    });
    t.same(parse(text).ethernets.primary, { match: { macaddress: '52:54:00:ab:cd:ef' }, dhcp4: true });
  },
);

t.test('checkYamlMapping returns the parsed mapping', async (t) => {
  t.same(checkYamlMapping('a: 1\n', 's', 'thing'), { a: 1 });
  t.same(checkYamlMapping('', 's', 'thing'), {});
});

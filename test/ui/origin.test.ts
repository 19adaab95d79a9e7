// Host and Origin checks: only the address served (or localhost) with its port; a websocket only from the page.

import t from 'tap';
import { hostAllowed, isLoopback, originAllowed, parseHost, urlHost } from '../../lib/ui/origin.js';

const loopback = { address: '127.0.0.1', port: 8123 };

t.test('Host headers are parsed, IPv6 literals too', async (t) => {
  t.same(parseHost('127.0.0.1:8123'), { hostname: '127.0.0.1', port: 8123 });
  t.same(parseHost('[::1]:80'), { hostname: '::1', port: 80 });
  t.same(parseHost('Example.COM'), { hostname: 'example.com', port: undefined });
  t.equal(parseHost('a:b:c'), undefined);
  t.equal(parseHost(''), undefined);
});

t.test('the served address or localhost, on the served port, is this server', async (t) => {
  t.ok(hostAllowed('127.0.0.1:8123', loopback));
  t.ok(hostAllowed('localhost:8123', loopback));
  t.notOk(hostAllowed('127.0.0.1:8124', loopback), 'another port');
  t.notOk(hostAllowed('127.0.0.1', loopback), 'no port');
  t.notOk(hostAllowed('evil.example:8123', loopback), 'a DNS name pointed at 127.0.0.1 (rebinding)');
  t.notOk(hostAllowed('127.0.0.2:8123', loopback));
  t.notOk(hostAllowed(undefined, loopback));
  t.ok(hostAllowed('[::1]:8123', { address: '::1', port: 8123 }));
});

t.test('listening everywhere, any IP literal is this server, no DNS name is', async (t) => {
  const everywhere = { address: '0.0.0.0', port: 9000 };
  t.ok(hostAllowed('192.168.1.20:9000', everywhere));
  t.ok(hostAllowed('[fe80::1]:9000', { address: '::', port: 9000 }));
  t.notOk(hostAllowed('attacker.example:9000', everywhere));
  t.notOk(hostAllowed('192.168.1.20:9001', everywhere));
});

t.test('an Origin is the page’s own only when it is http:// and the Host asked', async (t) => {
  t.ok(originAllowed('http://127.0.0.1:8123', '127.0.0.1:8123'));
  t.notOk(originAllowed('http://evil.example', '127.0.0.1:8123'));
  t.notOk(originAllowed('https://127.0.0.1:8123', '127.0.0.1:8123'));
  t.notOk(originAllowed('null', '127.0.0.1:8123'));
  t.notOk(originAllowed(undefined, '127.0.0.1:8123'));
  t.notOk(originAllowed('http://127.0.0.1:8123', undefined));
});

t.test('loopback addresses and URL hosts', async (t) => {
  t.ok(isLoopback('127.0.0.1'));
  t.ok(isLoopback('127.1.2.3'));
  t.ok(isLoopback('::1'));
  t.ok(isLoopback('localhost'));
  t.notOk(isLoopback('0.0.0.0'));
  t.notOk(isLoopback('192.168.1.2'));
  t.equal(urlHost('::1', 80), '[::1]:80');
  t.equal(urlHost('127.0.0.1', 80), '127.0.0.1:80');
});

// The gate every request passes: Host first, then the URL token (a redirect setting the cookie), then the token,
// then the Origin of a websocket or a write.

import t from 'tap';
import { COOKIE_NAME } from '../../lib/ui/auth.js';
import { type GateInput, gate } from '../../lib/ui/gate.js';

const token = 'secret-token';
const served = { address: '127.0.0.1', port: 8123 };
const host = '127.0.0.1:8123';
const cookie = `${COOKIE_NAME}=${token}`;
const request = (input: Partial<GateInput>): GateInput => ({
  method: 'GET',
  pathname: '/',
  host,
  websocket: false,
  ...input,
});

t.test('the URL token becomes the cookie, and the browser goes on to the URL without it', async (t) => {
  t.same(gate(request({ queryToken: token }), served, token), {
    kind: 'redirect',
    location: '/',
    setCookie: `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/`,
  });
  t.match(gate(request({ queryToken: 'guess' }), served, token), {
    kind: 'refuse',
    error: { code: 'UI_FORBIDDEN', message: /wrong token/ },
  });
});

t.test('without the token, the page, the API and websockets are refused', async (t) => {
  for (const input of [
    request({}),
    request({ pathname: '/api/instances' }),
    request({ pathname: '/api/instances/x/console', websocket: true, origin: `http://${host}` }),
    request({ pathname: '/api/instances/x/console', queryToken: token, websocket: true }),
  ]) {
    t.match(
      gate(input, served, token),
      { kind: 'refuse', error: { code: 'UI_UNAUTHORIZED' } },
      input.pathname,
    );
  }
  t.match(gate(request({ cookie: `${COOKIE_NAME}=x` }), served, token), {
    kind: 'refuse',
    error: { code: 'UI_FORBIDDEN' },
  });
});

t.test('with the token, reads pass; a foreign Host is refused even with it', async (t) => {
  t.same(gate(request({ cookie }), served, token), { kind: 'allow' });
  t.same(gate(request({ authorization: `Bearer ${token}`, pathname: '/api/instances' }), served, token), {
    kind: 'allow',
  });
  t.match(gate(request({ cookie, host: 'rebound.example:8123' }), served, token), {
    kind: 'refuse',
    error: { code: 'UI_FORBIDDEN', message: /Host/, hint: /http:\/\/127\.0\.0\.1:8123\// },
  });
  t.match(gate(request({ queryToken: token, host: 'rebound.example:8123' }), served, token), {
    kind: 'refuse',
  });
});

t.test('a websocket needs the page’s Origin; a write may not come from another', async (t) => {
  const ws = { pathname: '/api/instances/x/console', websocket: true, cookie };
  t.same(gate(request({ ...ws, origin: `http://${host}` }), served, token), { kind: 'allow' });
  t.match(gate(request({ ...ws, origin: 'http://evil.example' }), served, token), {
    kind: 'refuse',
    error: { code: 'UI_FORBIDDEN', message: /evil\.example/ },
  });
  t.match(gate(request(ws), served, token), { kind: 'refuse', error: { code: 'UI_FORBIDDEN' } });
  const write = { method: 'POST', pathname: '/api/instances', cookie };
  t.same(gate(request({ ...write, origin: `http://${host}` }), served, token), { kind: 'allow' });
  t.same(gate(request(write), served, token), { kind: 'allow' }, 'a non-browser client sends no Origin');
  t.match(gate(request({ ...write, origin: 'http://evil.example' }), served, token), { kind: 'refuse' });
});

// The token check: bearer or cookie, none is 401, a wrong one 403; the cookie is HttpOnly and SameSite=Strict.

import t from 'tap';
import { authorize, COOKIE_NAME, cookieValue, newToken, sameToken, tokenCookie } from '../../lib/ui/auth.js';

const token = newToken();

t.test('a token is 32 random bytes, URL-safe, and never the same twice', async (t) => {
  t.match(token, /^[A-Za-z0-9_-]{43}$/);
  t.not(newToken(), token);
});

t.test('the token is accepted as a bearer header or as the cookie', async (t) => {
  t.same(authorize({ authorization: `Bearer ${token}` }, token), { ok: true });
  t.same(authorize({ authorization: `bearer ${token}` }, token), { ok: true });
  t.same(authorize({ cookie: `other=1; ${COOKIE_NAME}=${token}; x=y` }, token), { ok: true });
});

t.test('no token is 401, a wrong or mangled one 403', async (t) => {
  t.match(authorize({}, token), { ok: false, status: 401 });
  t.match(authorize({ cookie: 'other=1', authorization: 'Basic abc' }, token), { ok: false, status: 401 });
  t.match(authorize({ authorization: 'Bearer nope' }, token), { ok: false, status: 403 });
  t.match(authorize({ cookie: `${COOKIE_NAME}=${token}x` }, token), { ok: false, status: 403 });
  t.match(authorize({ cookie: `${COOKIE_NAME}=${token.slice(1)}` }, token), { ok: false, status: 403 });
  t.notOk(sameToken('', token));
});

t.test('cookies are read by exact name', async (t) => {
  t.equal(cookieValue(`x${COOKIE_NAME}=a; ${COOKIE_NAME}=b`, COOKIE_NAME), 'b');
  t.equal(cookieValue(undefined, COOKIE_NAME), undefined);
  t.equal(cookieValue('=a; b', COOKIE_NAME), undefined);
});

t.test('the cookie cannot be read by scripts nor sent by other sites', async (t) => {
  const cookie = tokenCookie(token);
  t.match(cookie, new RegExp(`^${COOKIE_NAME}=${token};`));
  t.match(cookie, /; HttpOnly/);
  t.match(cookie, /; SameSite=Strict/);
  t.match(cookie, /; Path=\//);
});

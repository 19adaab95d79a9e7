import t from 'tap';
import { checkDownloadUrl } from '../../lib/image/download-url.js';

t.test('URLs qlaunch cannot download are refused by name, saying what is wrong', async (t) => {
  const cases: [string, RegExp, RegExp][] = [
    ['http://', /^'http:\/\/' is not a valid URL: it names no host$/, /whole URL/],
    ['https://user:SECRET@', /^'https:\/\/\*\*\*@' is not a valid URL: it names no host$/, /whole URL/],
    ['http://a b/x.qcow2', /^'http:\/\/a b\/x\.qcow2' is not a valid URL: it contains a space$/, /%20/],
    [
      'http://[::1:18081/x',
      /^'http:\/\/\[::1:18081\/x' is not a valid URL: the \[ of its IPv6/,
      /\[::1\]:8080/,
    ],
    [
      'http://host:80a/x',
      /^'http:\/\/host:80a\/x' is not a valid URL: its port '80a' is not a number$/,
      /digits/,
    ],
    ['http://host:70000/x', /its port 70000 is above 65535$/, /port/],
    [
      'http://ho\u0001st/x',
      /^"http:\/\/ho\\u0001st\/x" is not a valid URL: it contains a control character$/,
      /copied whole/,
    ],
    [
      'ftp://mirror/x.qcow2',
      /^'ftp:\/\/mirror\/x\.qcow2' is not an http:\/\/ or https:\/\/ URL: qlaunch does not download over ftp:$/,
      /image import/,
    ],
    [
      'file:///tmp/x.qcow2',
      /does not download over file:$/,
      /^add a local file with `qlaunch image import FILE`$/,
    ],
    ['not a url', /^'not a url' is not an http:\/\/ or https:\/\/ URL$/, /https:\/\//],
  ];
  for (const [url, message, hint] of cases) {
    t.throws(() => checkDownloadUrl(url), { code: 'IMAGE_DOWNLOAD_FAILED', message, hint }, url);
  }
  t.throws(() => checkDownloadUrl('http://u:PASSWORD@host/x?sig=TOKEN'), {
    message: 'http://***@host/x?sig=*** carries a user name and password, which qlaunch does not send',
  });
  t.equal(checkDownloadUrl('https://example.org/a.img').hostname, 'example.org');
  t.equal(checkDownloadUrl('http://[::1]:18081/x').port, '18081');
  t.equal(checkDownloadUrl('https://host/a b.img').pathname, '/a%20b.img', 'a space in the path is encoded');
});

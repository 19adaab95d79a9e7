import t from 'tap';
import { shownUrl } from '../../lib/image/url-text.js';

t.test('credentials and query values are hidden; the rest of the URL stays', async (t) => {
  t.equal(shownUrl('https://example.org/img/disk.qcow2'), 'https://example.org/img/disk.qcow2');
  t.equal(shownUrl('https://user:s3cret@example.org/d.qcow2'), 'https://***@example.org/d.qcow2');
  t.equal(
    shownUrl('https://example.org/d.qcow2?token=abc123&X-Amz-Signature=ffff'),
    'https://example.org/d.qcow2?token=***&X-Amz-Signature=***',
  );
  t.equal(shownUrl('http://bad url//user:pw@x'), 'http://bad url//***@x', 'not a URL: still no password');
  t.notMatch(shownUrl('https://u:pw@h/p?k=v'), /pw|=v/);
});

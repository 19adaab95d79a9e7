// --open: the opener for each platform.

import t from 'tap';
import { openerFor } from '../../lib/ui/open-browser.js';

t.test('each platform’s opener', async (t) => {
  t.equal(openerFor('linux'), 'xdg-open');
  t.equal(openerFor('darwin'), 'open');
  t.equal(openerFor('win32'), 'explorer');
});

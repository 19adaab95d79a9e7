import t from 'tap';
import { parseImageInfo, parseImageInfoOutput } from '../../lib/image/qemu-img-info.js';

t.test('qemu-img info output parses into typed facts, chain included', async (t) => {
  const chain = parseImageInfoOutput(
    JSON.stringify([
      {
        filename: 'top.qcow2',
        format: 'qcow2',
        'virtual-size': 1024,
        'actual-size': 200,
        'cluster-size': 65536,
        'backing-filename': 'base.qcow2',
        'full-backing-filename': '/x/base.qcow2',
        'backing-filename-format': 'qcow2',
        'dirty-flag': false,
        'format-specific': { type: 'qcow2', data: { corrupt: true } },
      },
      { filename: '/x/base.qcow2', format: 'raw', 'virtual-size': 1024, encrypted: true },
    ]),
    'top.qcow2',
  );
  t.match(chain, {
    filename: 'top.qcow2',
    format: 'qcow2',
    virtualSize: 1024,
    actualSize: 200,
    clusterSize: 65536,
    backingFilename: 'base.qcow2',
    fullBackingFilename: '/x/base.qcow2',
    backingFormat: 'qcow2',
    dirty: false,
    corrupt: true,
    encrypted: false,
  });
  t.equal(chain.backingChain.length, 1);
  t.match(chain.backingChain[0], { format: 'raw', encrypted: true, corrupt: false, actualSize: undefined });
  t.same(parseImageInfoOutput('{"format":"raw","virtual-size":5}', 'f').backingChain, []);
  t.equal(parseImageInfo({ format: 'raw', 'virtual-size': 5 }, 'given').filename, 'given');
  t.throws(() => parseImageInfo({ format: 'raw' }, 'f'), { code: 'IMAGE_TOOL_FAILED' });
  t.throws(() => parseImageInfo(null, 'f'), { code: 'IMAGE_TOOL_FAILED' });
  t.throws(() => parseImageInfoOutput('nope', 'f'), {
    code: 'IMAGE_TOOL_FAILED',
    message: /printed no JSON for f/,
  });
});

// How lib/ may depend on itself: data flows one way, down the layers below; a folder imports only folders
// under it, so no folder import cycle can form. `npx depcruise lib bin` (part of scripts/lint) enforces it.

// Lowest first: each folder may import the ones before it (and lib/*.ts, the shared leaves), never after.
const layers = [
  'arch',
  'qmp',
  'qga',
  'cidata',
  'host',
  'initramfs',
  'image',
  'machine',
  'network',
  'qemu',
  'cloud',
  'guest',
  'instance',
  'export',
  'ui',
  'cli',
];

const above = (layer) => layers.slice(layers.indexOf(layer) + 1);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a module import cycle: break it by moving the shared part down a layer',
      from: {},
      to: { circular: true },
    },
    ...layers.slice(0, -1).map((layer) => ({
      name: `${layer}-imports-upward`,
      severity: 'error',
      comment: `lib/${layer}/ may only import the layers below it (${layers.slice(0, layers.indexOf(layer)).join(', ') || 'none'}) and lib/*.ts`,
      from: { path: `^lib/${layer}/` },
      to: { path: `^lib/(${above(layer).join('|')})/` },
    })),
    {
      name: 'leaves-import-no-folder',
      severity: 'error',
      comment:
        'lib/*.ts (errors, logger, …) are leaves every folder uses; only lib/index.ts re-exports the folders',
      from: { path: '^lib/[^/]+\\.ts$', pathNot: '^lib/index\\.ts$' },
      to: { path: '^lib/[^/]+/' },
    },
    {
      name: 'only-bin-imports-cli',
      severity: 'error',
      comment: 'the CLI is the top: the library never reaches into it',
      from: { path: '^lib/', pathNot: '^lib/cli/' },
      to: { path: '^lib/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

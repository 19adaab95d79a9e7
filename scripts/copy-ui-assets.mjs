// Part of `npm run build`: the web page's static files (lib/ui/assets) go next to the compiled server in dist.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../lib/ui/assets', import.meta.url));
const to = fileURLToPath(new URL('../dist/lib/ui/assets', import.meta.url));
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });

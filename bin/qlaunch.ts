#!/usr/bin/env node
// qlaunch's command-line entry: answers --version without loading anything, otherwise hands over to lib/cli.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import('../lib/cli/main.js');
  process.exitCode = await main(args);
}

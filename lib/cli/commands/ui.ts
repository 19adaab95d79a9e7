// `ui`: a local web page for the instances, served until Ctrl-C; the URL with its token goes to stdout.

import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { checked } from '../option-values.js';
import { reportError } from '../output.js';
import { instanceOptions, say } from './instance-common.js';

interface UiArgs {
  port?: number | undefined;
  listen?: string | undefined;
  open?: boolean | undefined;
  'log-level'?: string | undefined;
}

/** A TCP port: 1 to 65535. */
function checkPort(value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new QlaunchError(ErrorCode.USAGE, `--port ${value} is not a port (1 to 65535)`, {
      hint: 'e.g. --port 8080, or leave it out for a free port',
    });
  }
}

export const uiCommand = (setExit: (code: number) => void): CommandModule<object, UiArgs> => ({
  command: 'ui',
  describe: 'serve a web page to see, start, stop and type into your instances (until Ctrl-C)',
  builder: (y) =>
    y
      .option('port', {
        type: 'number',
        describe: 'the port to serve on (default: a free one)',
        coerce: checked(checkPort),
      })
      .option('listen', {
        type: 'string',
        describe:
          'the address to serve on (default 127.0.0.1; any other lets other machines try to reach it)',
      })
      .option('open', { type: 'boolean', describe: 'open the page in a browser, when there is one' })
      .example('$0 ui', 'print the page’s URL (with its token) and serve it until Ctrl-C')
      .example('$0 ui --port 8080 --open', 'on port 8080, opened in the browser'),
  handler: async (args) => {
    try {
      const { serveUi } = await import('../../ui/server.js');
      const server = await serveUi({
        ...(await instanceOptions(args)),
        port: args.port,
        listen: args.listen,
      });
      if (server.exposed) {
        say(
          `warning: serving on ${server.address}, which other machines may reach; anyone with the URL's token controls your instances`,
        );
      }
      process.stdout.write(`${server.url}\n`);
      say('serving the page; stop with Ctrl-C');
      if (args.open) {
        const { openBrowser } = await import('../../ui/open-browser.js');
        if (!(await openBrowser(server.url))) say('no browser could be opened here: open the URL above');
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      say('stopped serving');
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});

// Help text after yargs lays it out: an option's tags put back on a line of their own where cliui glued them on.

// cliui 8 right-aligns an option's tags ([string], [default: …]) on the description's last line when they fit, even
// when that line ends exactly where the tags begin: "passed through untouched[string]".
const GLUED =
  /^(.*?\S)(\[(?:string|boolean|number|array|count|required|deprecated|choices: |default: ).*\])$/;

/** `help` with each glued line split as cliui splits one that does not fit: tags below, still right-aligned (pure). */
export function unglueTags(help: string): string {
  return help
    .split('\n')
    .flatMap((line) => {
      const glued = GLUED.exec(line);
      if (!glued) return [line];
      const [, text = '', tags = ''] = glued;
      return [text, `${' '.repeat([...text].length)}${tags}`];
    })
    .join('\n');
}

// Reading machine-file YAML: parsing with positions, finding the line a field is on, and problems as one error.

import {
  type CST,
  type Document,
  isMap,
  isSeq,
  LineCounter,
  Parser,
  parseDocument,
  type YAMLError,
} from 'yaml';
import { ErrorCode, QlaunchError } from '../errors.js';

type Path = readonly PropertyKey[];

/** One thing wrong with a machine file. */
export interface MachineProblem {
  /** Field path, e.g. `images.aarch64.url` or `ports[1]`; '' for the file as a whole. */
  field: string;
  line?: number | undefined;
  column?: number | undefined;
  message: string;
  hint?: string | undefined;
}

/** Problems as one error: the file, then each field with its line; the first problem's fix as the hint. */
export function machineFileError(source: string, problems: readonly MachineProblem[]): QlaunchError {
  const render = (p: MachineProblem) => {
    const where =
      p.line === undefined
        ? ''
        : p.column === undefined
          ? `line ${p.line}`
          : `line ${p.line}, column ${p.column}`;
    const label = p.field && where ? `${p.field} (${where})` : p.field || where;
    return label ? `${label}: ${p.message}` : p.message;
  };
  const shownProblems = problems.slice(0, 10);
  const message =
    problems.length === 1
      ? `${source}: ${render(problems[0]!)}`
      : [
          `${source}: ${problems.length} problems`,
          ...shownProblems.map((p) => `  - ${render(p)}${p.hint ? ` (${p.hint})` : ''}`),
          ...(problems.length > shownProblems.length
            ? [`  - … and ${problems.length - shownProblems.length} more`]
            : []),
        ].join('\n');
  return new QlaunchError(ErrorCode.MACHINE_INVALID, message, { hint: problems[0]?.hint });
}

/** How deep mappings and lists may nest: real machine files need a handful; yaml's recursion overflows near 1000. */
export const MAX_NESTING = 64;

/** YAML (or JSON) text as data, with what `locate` needs; syntax errors as a MACHINE_INVALID error. */
export function parseMachineYaml(
  text: string,
  source: string,
): { doc: Document; lines: LineCounter; data: unknown } {
  checkNesting(text, source);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // yaml often reports one mistake twice at the same place; once is enough.
    const problems = doc.errors.map(problemFromYamlError);
    throw machineFileError(
      source,
      problems.filter((p, i) => problems.findIndex((q) => q.line === p.line && q.column === p.column) === i),
    );
  }
  try {
    return { doc, lines, data: doc.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    // Unresolvable or runaway aliases: yaml checks these only while building the value.
    throw machineFileError(source, [aliasProblem(error as Error)]);
  }
}

function aliasProblem(error: Error): MachineProblem {
  const unresolved = /^Unresolved alias.*: (.*)$/.exec(error.message);
  if (unresolved) {
    return {
      field: '',
      message: `invalid YAML: the alias *${unresolved[1]} names no anchor set before it`,
      hint: `set &${unresolved[1]} on a value above this alias, or write the value out in place of *${unresolved[1]}`,
    };
  }
  return {
    field: '',
    message: 'invalid YAML: its aliases (*NAME) expand to more than 100 copies',
    hint: 'write the values out instead of repeating them through anchors and aliases (&NAME, *NAME)',
  };
}

/** Refuse nesting deeper than MAX_NESTING before yaml recurses into it (its CST parser does not recurse). */
function checkNesting(text: string, source: string): void {
  const pending: { token: CST.Token | undefined; depth: number }[] = [];
  for (const token of new Parser().parse(text)) pending.push({ token, depth: 0 });
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    if (token === undefined) continue;
    if (token.type === 'document') pending.push({ token: token.value, depth });
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth >= MAX_NESTING) {
        const line = text.slice(0, token.offset).split('\n').length;
        throw machineFileError(source, [
          {
            field: '',
            line,
            message: `is nested more than ${MAX_NESTING} mappings or lists deep`,
            hint: 'a machine file needs a few levels: look for unclosed brackets or runaway indentation there',
          },
        ]);
      }
      for (const item of token.items) {
        pending.push({ token: 'key' in item ? (item.key ?? undefined) : undefined, depth: depth + 1 });
        pending.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
}

const position = (lines: LineCounter, offset: number) => {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
};

/** Where a field is written: the line of its key (or list item), or of the nearest enclosing one that exists. */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: Path,
): { line: number; column: number } | undefined {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    let offset: number | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
      offset = (pair?.key as { range?: [number, number, number] } | null)?.range?.[0];
    } else if (isSeq(parent) && typeof last === 'number') {
      offset = (parent.items[last] as { range?: [number, number, number] } | null)?.range?.[0];
    }
    if (offset !== undefined) return position(lines, offset);
  }
  const start = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
  return start === undefined ? undefined : position(lines, start);
}

// What to do about each kind of syntax error yaml reports; the rest get the general advice.
const YAML_FIXES: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'indent with spaces: YAML does not allow tabs there',
  BAD_INDENT:
    'indent the fields of one mapping (or the items of one list) by the same number of spaces, and close each { or [ you open',
  DUPLICATE_KEY: 'write each field once: remove or merge the second one',
  MISSING_CHAR: 'close the quote or bracket opened before this point',
  BAD_SCALAR_START: 'quote the value ("…") : it starts with a character YAML reserves',
  MULTILINE_IMPLICIT_KEY: 'put the key on one line, or add the ": " after it that is missing',
  BLOCK_AS_IMPLICIT_KEY: 'start the nested mapping on its own line, indented under its key',
  BAD_ALIAS: 'give the anchor or alias a name, e.g. &base and *base, or quote the value',
  RESOURCE_EXHAUSTION: `nest mappings and lists at most ${MAX_NESTING} deep`,
};
const GENERAL_FIX = 'fix the YAML there: indent with spaces, and quote text that holds ": " or " #"';

/** A YAML syntax error as a problem: yaml's first sentence in our words where it has its own, its position given separately. */
export function problemFromYamlError(error: YAMLError): MachineProblem {
  const [start] = error.linePos ?? [];
  const yamlText = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  // yaml's own messages for these speak to a programmer using yaml (parseAllDocuments(), stack sizes).
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'a second YAML document starts here (after --- or ...)'
      : error.code === 'RESOURCE_EXHAUSTION'
        ? 'is nested too deep to read'
        : yamlText;
  const hint =
    error.code === 'MULTIPLE_DOCS'
      ? 'a machine file is one document: remove the --- or ... line and what follows, or merge it into the first'
      : (YAML_FIXES[error.code] ?? GENERAL_FIX);
  return { field: '', line: start?.line, column: start?.col, message: `invalid YAML: ${message}`, hint };
}

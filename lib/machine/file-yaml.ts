// Reading machine-file YAML: parsing with positions, finding the line a field is on, and problems as one error.

import { type Document, isMap, isSeq, LineCounter, parseDocument, type YAMLError } from 'yaml';
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

/** YAML (or JSON) text as data, with what `locate` needs; syntax errors as a MACHINE_INVALID error. */
export function parseMachineYaml(
  text: string,
  source: string,
): { doc: Document; lines: LineCounter; data: unknown } {
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
    throw machineFileError(source, [{ field: '', message: `invalid YAML: ${(error as Error).message}` }]);
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

/** A YAML syntax error as a problem: yaml's first sentence, its position given separately. */
export function problemFromYamlError(error: YAMLError): MachineProblem {
  const [start] = error.linePos ?? [];
  const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return {
    field: '',
    line: start?.line,
    column: start?.col,
    message: `invalid YAML: ${message}`,
    hint: 'fix the YAML there: indent with spaces, and quote text that holds ": " or " #"',
  };
}

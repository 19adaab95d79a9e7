// Turning zod issues into problems a person can fix: the field, what is wrong with it, and what to write instead.

import { z } from 'zod';
import { fixes } from './file-schema.js';
import type { MachineProblem } from './file-yaml.js';
import { didYouMean } from './suggest.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];
type Schema = z.core.$ZodType;

/** `images.aarch64.url`, `ports[1]`. */
export const fieldText = (path: Path): string =>
  path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`))
    .join('');

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const seg of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[seg];
  }
  return value;
}

/** What a value that `shown` cannot quote is: a list, a mapping, or nothing. */
const kindOf = (value: unknown): string =>
  Array.isArray(value) ? 'a list' : value !== null && typeof value === 'object' ? 'a mapping' : 'nothing';

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

const clip = (text: string): string => {
  const line = text.split('\n')[0]!;
  return line.length > 60 || line !== text ? `${line.slice(0, 60)}…` : line;
};

/** A scalar as it appears in a message: '2G', 4, true (long or multi-line text clipped). */
const shown = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? `'${clip(value)}'`
    : typeof value === 'number' || typeof value === 'boolean'
      ? `${value}`
      : undefined;

// zod's own messages start like this; messages the schema wrote are predicates such as "is not a size …".
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized)/;

function unwrap(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault)
    s = s.unwrap() as Schema;
  return s;
}

/** The schema of the field at `path`; through a union, the first form that has that field. */
function schemaAt(schema: Schema | undefined, path: Path): Schema | undefined {
  let s = schema;
  for (const [i, seg] of path.entries()) {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject) s = inner.shape[seg as string] as Schema | undefined;
    else if (inner instanceof z.ZodArray) s = inner.element as Schema;
    else if (inner instanceof z.ZodRecord) s = inner.valueType as Schema;
    else if (inner instanceof z.ZodUnion) {
      const rest = path.slice(i);
      return (inner.options as Schema[]).map((option) => schemaAt(option, rest)).find((found) => found);
    } else return undefined;
  }
  return s;
}

const fixOf = (schema: Schema | undefined): string | undefined => {
  const inner = unwrap(schema);
  return (schema && fixes.get(schema)?.fix) ?? (inner && fixes.get(inner)?.fix);
};

/** What to write for the field at `path`, or for its nearest parent that says. */
function hintAt(schema: Schema | undefined, path: Path): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const text = fixOf(schemaAt(schema, path.slice(0, n)));
    if (text) return text;
  }
  return undefined;
}

const keysOf = (schema: Schema | undefined): string[] => {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape).filter((key) => key !== '$schema') : [];
};

export interface Scope {
  data: unknown;
  /** The schema the issues' paths are relative to, and where that is in the file. */
  schema: Schema | undefined;
  base: Path;
  /** The enclosing field's fix, for fields whose own schema says nothing. */
  outerHint: string | undefined;
}

/** A problem before it is located: with the field's path in the data. */
export type FieldProblem = Omit<MachineProblem, 'line' | 'column'> & { path: Path };

/** Every problem in `issues`, one per field (a union's issues come from the form the value was meant to be). */
export function problemsFromIssues(issues: readonly Issue[], scope: Scope): FieldProblem[] {
  return issues.flatMap((issue) => problemsFromIssue(issue, scope));
}

function problemsFromIssue(issue: Issue, scope: Scope): FieldProblem[] {
  const rel = issue.path as Path;
  const path = [...scope.base, ...rel];
  const value = valueAt(scope.data, path);
  const hint = hintAt(scope.schema, rel) ?? scope.outerHint;
  const problem = (message: string, fixHint = hint, at: Path = path): FieldProblem => ({
    path: at,
    field: fieldText(at),
    message,
    hint: fixHint,
  });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysOf(schemaAt(scope.schema, rel));
      return issue.keys.map((key) =>
        problem(
          'is not a field qlaunch knows',
          didYouMean(key, known) || `the fields here are: ${known.join(', ')}`,
          [...path, key],
        ),
      );
    }
    case 'invalid_union':
      return unionProblems(issue, path, value, { ...scope, outerHint: hint }, rel);
    case 'invalid_type':
      if (value === undefined) return [problem('is missing')];
      return [
        problem(
          `should be ${EXPECTED[issue.expected] ?? issue.expected}, not ${shown(value) ?? kindOf(value)}`,
        ),
      ];
    case 'invalid_value': {
      const values = issue.values.map(String);
      const near = typeof value === 'string' ? didYouMean(value, values) : '';
      return [problem(`${shown(value) ?? kindOf(value)} is not one of ${values.join(', ')}`, near || hint)];
    }
    default: {
      const custom = issue.code === 'custom' ? (issue.params?.['hint'] as string | undefined) : undefined;
      const message = ZOD_DEFAULT.test(issue.message) ? 'is not valid here' : issue.message;
      const subject = shown(value);
      return [problem(subject ? `${subject} ${message}` : message, custom ?? hint)];
    }
  }
}

/** A union error: report the branch the value was written for (its type matches, its keys are there), or say none fits. */
function unionProblems(
  issue: z.core.$ZodIssueInvalidUnion,
  path: Path,
  value: unknown,
  scope: Scope,
  rel: Path,
): FieldProblem[] {
  const options = (unwrap(schemaAt(scope.schema, rel)) as z.ZodUnion | undefined)?.options as
    | Schema[]
    | undefined;
  const wrongType = (e: Issue) => e.code === 'invalid_type' && e.path.length === 0;
  const missingKey = (e: Issue) =>
    e.code !== 'unrecognized_keys' && e.path.length === 1 && valueAt(value, e.path as Path) === undefined;
  const claims = issue.errors
    .map((errors, index) => ({ errors, index }))
    .filter(({ errors }) => !errors.some((e) => wrongType(e) || missingKey(e)));
  if (claims.length === 1) {
    const { errors, index } = claims[0]!;
    return problemsFromIssues(errors, { ...scope, schema: options?.[index], base: path });
  }
  const field = fieldText(path);
  if (value === undefined) return [{ path, field, message: 'is missing', hint: scope.outerHint }];
  if (issue.errors.every((errors) => errors.some(wrongType))) {
    const expected = issue.errors
      .flatMap((errors) => errors.filter(wrongType))
      .map((e) => EXPECTED[(e as z.core.$ZodIssueInvalidType).expected] ?? '');
    const wanted = [...new Set(expected)].join(' or ');
    return [
      {
        path,
        field,
        message: `should be ${wanted}, not ${shown(value) ?? kindOf(value)}`,
        hint: scope.outerHint,
      },
    ];
  }
  const keys = value && typeof value === 'object' ? Object.keys(value) : [];
  const has = keys.length > 0 ? `has ${keys.join(', ')}, which is` : 'is';
  return [{ path, field, message: `${has} none of the forms it can take`, hint: scope.outerHint }];
}

// What the page may send (pure): each body checked before the library sees it, with errors naming the field.

import { z } from 'zod';
import { ErrorCode, QlaunchError } from '../errors.js';

const createSchema = z.strictObject({
  name: z.string(),
  image: z.string().min(1).optional(),
  machine: z.string().min(1).optional(),
  arch: z.string().min(1).optional(),
  cpus: z.int().positive().optional(),
  memory: z.string().min(1).optional(),
  diskSize: z.string().min(1).optional(),
  ports: z.array(z.string().min(1)).optional(),
});

export type CreateRequest = z.infer<typeof createSchema>;

const removeSchema = z.strictObject({ confirm: z.string(), force: z.boolean().optional() });
const portSchema = z.strictObject({ spec: z.union([z.string().min(1), z.int().positive()]) });
const snapshotSchema = z.strictObject({ tag: z.string(), replace: z.boolean().optional() });

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string, example: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  throw new QlaunchError(ErrorCode.USAGE, `the ${what} request is not valid: ${problems}`, {
    hint: `send JSON like ${example}`,
  });
}

export const parseCreate = (body: unknown): CreateRequest =>
  parse(createSchema, body, 'create', '{"name": "web", "image": "debian-12", "cpus": 2, "memory": "1G"}');

export const parseSnapshot = (body: unknown): z.infer<typeof snapshotSchema> =>
  parse(snapshotSchema, body, 'snapshot', '{"tag": "before-upgrade"}');

export const parsePort = (body: unknown): z.infer<typeof portSchema> =>
  parse(portSchema, body, 'port', '{"spec": "8080:80"} (HOST:GUEST), or {"spec": 80} for a free host port');

/** A removal names the instance again in `confirm`: a stray or replayed request cannot delete a disk. */
export function parseRemove(name: string, body: unknown): { force: boolean } {
  const { confirm, force } = parse(removeSchema, body, 'remove', `{"confirm": "${name}"}`);
  if (confirm !== name) {
    throw new QlaunchError(
      ErrorCode.USAGE,
      `not removing instance ${name}: the confirmation names "${confirm}"`,
      {
        hint: `type the instance's name, ${name}, to confirm`,
      },
    );
  }
  return { force: force ?? false };
}

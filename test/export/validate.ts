// Checks exported manifests against the vendored target schemas (see schema/README.md).

import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

const here = new URL('./schema/', import.meta.url);
const json = (name: string) => JSON.parse(readFileSync(new URL(name, here), 'utf8'));

const virtualMachine = z.fromJSONSchema(json('kubevirt-vm.schema.json'));
const core = json('k8s-core.schema.json');
const coreKinds: Record<string, z.ZodType> = Object.fromEntries(
  ['Service', 'Secret'].map((kind) => [kind, z.fromJSONSchema({ ...core, $ref: `#/definitions/${kind}` })]),
);

/** Every problem in a KubeVirt manifest: each YAML document checked against its kind's schema. */
export function kubevirtProblems(text: string): string[] {
  const problems: string[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) problems.push(`document ${i}: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as { kind?: string } | null;
    const schema = object?.kind === 'VirtualMachine' ? virtualMachine : coreKinds[object?.kind ?? ''];
    if (!schema) {
      problems.push(`document ${i}: no schema for kind ${object?.kind}`);
      continue;
    }
    const checked = schema.safeParse(object);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        problems.push(`${object?.kind} ${issue.path.join('.')}: ${issue.message}`);
      }
    }
  }
  return problems;
}

const nomad = json('nomad-job-fields.json') as {
  structs: Record<string, string[]>;
  qemuTaskConfig: { name: string; type: string; required: boolean }[];
};

const qemuTypes: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  'list(string)': (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  'list(map(number))': (v) =>
    Array.isArray(v) &&
    v.every((m) => m && typeof m === 'object' && Object.values(m).every((n) => Number.isInteger(n))),
};

/** Every problem in a Nomad job (API JSON): unknown fields per struct, and the qemu config's fields and types. */
export function nomadProblems(text: string): string[] {
  const problems: string[] = [];
  const check = (what: string, value: unknown, struct: string) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${what}: is not an object`);
      return;
    }
    for (const key of Object.keys(value)) {
      if (!nomad.structs[struct]!.includes(key)) problems.push(`${what}.${key}: not a field of ${struct}`);
    }
  };
  const root = JSON.parse(text) as { Job?: Record<string, unknown> };
  if (Object.keys(root).join() !== 'Job') problems.push('the top level is not { Job }');
  const job = root.Job ?? {};
  check('Job', job, 'Job');
  for (const [g, group] of ((job['TaskGroups'] as Record<string, unknown>[]) ?? []).entries()) {
    check(`TaskGroups[${g}]`, group, 'TaskGroup');
    for (const [n, net] of ((group['Networks'] as Record<string, unknown>[]) ?? []).entries()) {
      check(`Networks[${n}]`, net, 'NetworkResource');
      for (const list of ['ReservedPorts', 'DynamicPorts']) {
        for (const port of (net[list] as unknown[]) ?? []) check(`${list}[]`, port, 'Port');
      }
    }
    for (const [k, task] of ((group['Tasks'] as Record<string, unknown>[]) ?? []).entries()) {
      check(`Tasks[${k}]`, task, 'Task');
      check(`Tasks[${k}].Resources`, task['Resources'], 'Resources');
      for (const artifact of (task['Artifacts'] as unknown[]) ?? [])
        check('Artifacts[]', artifact, 'TaskArtifact');
      if (task['Driver'] !== 'qemu') problems.push(`Tasks[${k}].Driver is not qemu`);
      const config = (task['Config'] ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(config)) {
        const field = nomad.qemuTaskConfig.find((f) => f.name === key);
        if (!field) problems.push(`Config.${key}: not a qemu driver option`);
        else if (!qemuTypes[field.type]!(value)) problems.push(`Config.${key}: is not ${field.type}`);
      }
      for (const field of nomad.qemuTaskConfig) {
        if (field.required && !(field.name in config)) problems.push(`Config.${field.name}: is missing`);
      }
    }
  }
  return problems;
}

import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ErrorCode } from '../../../lib/errors.js';
import {
  deleteSnapshot,
  listSnapshots,
  loadSnapshot,
  saveSnapshot,
  snapshotNodes,
} from '../../../lib/guest/snapshot/snapshot.js';
import { QmpClient } from '../../../lib/qmp/index.js';
import { type Json, replyTo, startFakeServer } from '../../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let sockets = 0;

interface Node {
  'node-name': string;
  drv: string;
  ro: boolean;
  snapshots: Json[];
}

interface Model {
  /** Whether query-commands lists the snapshot jobs (QEMU 6.0+). */
  lists: boolean;
  /** Whether the job commands exist at all (a QEMU could list them and still refuse). */
  jobs: boolean;
  /** Set: loading fails with this message and leaves the VM paused, as QEMU does. */
  loadError?: string;
  status: string;
  nodes: Node[];
  /** HMP savevm/delvm answer success but change nothing (a QEMU that misreports). */
  hmpNoop?: boolean;
  /** query-named-block-nodes refuses `flat` (QEMU before 5.0). */
  noFlat?: boolean;
}

/**
 * Just enough of QEMU's snapshot behaviour: block queries, the jobs (concluding at once) and HMP's savevm/loadvm/
 * delvm on every writable disk. Every command name received is recorded.
 */
async function fakeQemu(t: Test, model: Model) {
  const seen: string[] = [];
  const jobs: Json[] = [];
  let nextId = 1;
  const take = (tag: string, nodes: Node[]) => {
    for (const node of nodes) {
      node.snapshots = node.snapshots.filter((s) => s['name'] !== tag);
      node.snapshots.push({
        name: tag,
        id: String(nextId++),
        'vm-state-size': 4096,
        'date-sec': 1,
        'date-nsec': 0,
        'vm-clock-sec': 1,
        'vm-clock-nsec': 0,
      });
    }
  };
  const drop = (tag: string, nodes: Node[]) => {
    for (const node of nodes) node.snapshots = node.snapshots.filter((s) => s['name'] !== tag);
  };
  const writable = () => model.nodes.filter((n) => !n.ro);
  const byName = (names: unknown) => model.nodes.filter((n) => (names as string[]).includes(n['node-name']));
  const fake = await startFakeServer(join(dir, `f${sockets++}.sock`), {
    onCommand: (command, conn) => {
      const name = command['execute'] as string;
      const args = (command['arguments'] ?? {}) as Json;
      seen.push(name === 'human-monitor-command' ? `hmp ${args['command-line']}` : name);
      const reply = (value: unknown = {}) => conn.send(replyTo(command, value));
      const info = (n: Node) => ({
        'node-name': n['node-name'],
        drv: n.drv,
        ro: n.ro,
        image: n.snapshots.length ? { snapshots: n.snapshots } : {},
      });
      if (name === 'query-commands') {
        const names = [
          'query-status',
          ...(model.lists ? ['snapshot-save', 'snapshot-load', 'snapshot-delete'] : []),
        ];
        reply(names.map((n) => ({ name: n })));
      } else if (name === 'query-status')
        reply({ status: model.status, running: model.status === 'running' });
      else if (name === 'query-block') reply(model.nodes.map((n) => ({ device: '', inserted: info(n) })));
      else if (name === 'query-named-block-nodes') {
        if (model.noFlat && 'flat' in args) {
          conn.send({
            error: { class: 'GenericError', desc: "Parameter 'flat' is unexpected" },
            id: command['id'],
          });
        } else reply(model.nodes.map(info));
      } else if (name === 'query-jobs') reply(jobs);
      else if (name === 'job-dismiss') {
        jobs.splice(
          jobs.findIndex((j) => j['id'] === args['id']),
          1,
        );
        reply();
      } else if (name.startsWith('snapshot-') && model.jobs) {
        const job: Json = { id: args['job-id'], type: name, status: 'concluded' };
        if (name === 'snapshot-save') take(args['tag'] as string, byName(args['devices']));
        if (name === 'snapshot-delete') drop(args['tag'] as string, byName(args['devices']));
        if (name === 'snapshot-load' && model.loadError !== undefined) {
          job['error'] = model.loadError;
          model.status = 'restore-vm';
        }
        jobs.push(job);
        reply();
      } else if (name === 'human-monitor-command') {
        const [verb, quoted] = (args['command-line'] as string).split(' ');
        const tag = JSON.parse(quoted ?? '""') as string;
        if (verb === 'savevm' && !model.hmpNoop) take(tag, writable());
        if (verb === 'delvm' && !model.hmpNoop) drop(tag, writable());
        if (verb === 'loadvm' && model.loadError !== undefined) {
          model.status = 'paused';
          return reply(`Error: ${model.loadError}\r\n`);
        }
        reply('');
      } else
        conn.send({
          error: { class: 'CommandNotFound', desc: `The command ${name} has not been found` },
          id: command['id'],
        });
    },
  });
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  return { qmp, seen };
}

const disks = (): Node[] => [
  { 'node-name': 'disk0', drv: 'qcow2', ro: false, snapshots: [] },
  { 'node-name': 'disk1', drv: 'raw', ro: true, snapshots: [] },
];

t.test('a QEMU without the snapshot jobs (before 6.0) gets HMP, found by asking once', async (t) => {
  const { qmp, seen } = await fakeQemu(t, { lists: false, jobs: false, status: 'running', nodes: disks() });
  t.same(await snapshotNodes(qmp), ['disk0'], 'the read-only raw seed is left out');
  await saveSnapshot(qmp, { tag: 'base' });
  await loadSnapshot(qmp, { tag: 'base' });
  await deleteSnapshot(qmp, { tag: 'base' });
  t.same(await listSnapshots(qmp, 'disk0'), []);
  t.same(
    seen.filter((s) => s.startsWith('hmp') || s === 'query-commands' || s.startsWith('snapshot-')),
    ['query-commands', 'hmp savevm "base"', 'hmp loadvm "base"', 'hmp delvm "base"'],
  );
});

t.test('a job command that turns out missing falls back to HMP under auto, not when forced', async (t) => {
  const { qmp, seen } = await fakeQemu(t, { lists: true, jobs: false, status: 'running', nodes: disks() });
  await saveSnapshot(qmp, { tag: 'base' });
  t.same(
    seen.filter((s) => s.startsWith('hmp') || s.startsWith('snapshot-')),
    ['snapshot-save', 'hmp savevm "base"'],
  );
  await t.rejects(loadSnapshot(qmp, { tag: 'base', method: 'job' }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /^loading snapshot 'base' failed: .*CommandNotFound/,
  });
});

t.test('replace with jobs: the old snapshot is deleted first, then saved', async (t) => {
  const { qmp, seen } = await fakeQemu(t, { lists: true, jobs: true, status: 'running', nodes: disks() });
  const first = await saveSnapshot(qmp, { tag: 'base' });
  const second = await saveSnapshot(qmp, { tag: 'base', replace: true });
  t.not(second.id, first.id);
  t.same(
    seen.filter((s) => s.startsWith('snapshot-')),
    ['snapshot-save', 'snapshot-delete', 'snapshot-save'],
  );
});

for (const method of ['job', 'hmp'] as const) {
  t.test(`${method}: a load that fails part-way says the VM is left paused`, async (t) => {
    const model: Model = { lists: true, jobs: true, status: 'running', nodes: disks() };
    const { qmp } = await fakeQemu(t, model);
    await saveSnapshot(qmp, { tag: 'base', method });
    model.loadError = 'Error -22 while loading VM state';
    const error = await loadSnapshot(qmp, { tag: 'base', method }).catch((e: unknown) => e);
    t.match(error, {
      code: ErrorCode.VM_SNAPSHOT,
      message:
        /^loading snapshot 'base' failed: Error -22 while loading VM state; the VM is left paused \((restore-vm|paused)\)$/,
      hint: /load a snapshot that works, then resume it/,
    });
  });
}

t.test('a paused VM that fails to load is not called "left paused" (it was already)', async (t) => {
  const model: Model = { lists: true, jobs: true, status: 'paused', nodes: disks() };
  const { qmp } = await fakeQemu(t, model);
  await saveSnapshot(qmp, { tag: 'base' });
  model.loadError = 'boom';
  await t.rejects(loadSnapshot(qmp, { tag: 'base' }), { message: "loading snapshot 'base' failed: boom" });
});

t.test('nodes are checked before QEMU is asked', async (t) => {
  const { qmp, seen } = await fakeQemu(t, { lists: true, jobs: true, status: 'running', nodes: disks() });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', nodes: ['disk0', 'disk1'] }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /disk1 is a read-only raw disk, which cannot hold snapshots/,
  });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', nodes: ['disk0'], vmstateNode: 'disk1' }), {
    message: /VM state node disk1 is not one of the snapshot's nodes/,
  });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', nodes: [] }), { message: /no writable qcow2 disk/ });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', nodes: ['disk0', 'disk0'] }), { message: /not distinct/ });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', timeout: 0 }), { message: /`timeout` option/ });
  await t.rejects(saveSnapshot(qmp, { tag: 'base', method: 'fast' as 'job' }), {
    message: /`method` option/,
  });
  await t.rejects(listSnapshots(qmp, 'disk7'), { message: /no block node 'disk7' \(it has disk0, disk1\)/ });
  t.notOk(
    seen.some((s) => s.startsWith('snapshot-')),
    'no job was started',
  );
});

t.test('a disk-only snapshot is refused for a live load, naming the offline revert', async (t) => {
  const nodes = disks();
  nodes[0]!.snapshots.push({ name: 'cold', id: '1', 'vm-state-size': 0 });
  const { qmp } = await fakeQemu(t, { lists: true, jobs: true, status: 'running', nodes });
  await t.rejects(loadSnapshot(qmp, { tag: 'cold' }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /disk-only/,
    hint: /loadSnapshotOffline with diskOnly/,
  });
});

t.test('a QEMU that goes away mid-operation is a VM_SNAPSHOT error naming the operation', async (t) => {
  const fake = await startFakeServer(join(dir, `f${sockets++}.sock`), {
    onCommand: (command, conn) => {
      if (command['execute'] === 'query-block') conn.socket.destroy();
      else conn.send(replyTo(command, []));
    },
  });
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  await t.rejects(saveSnapshot(qmp, { tag: 'base' }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /^saving snapshot 'base' failed: .*closed/,
  });
});

t.test('an abort before QEMU answers is VM_ABORTED', async (t) => {
  const { qmp } = await fakeQemu(t, { lists: true, jobs: true, status: 'running', nodes: disks() });
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await t.rejects(saveSnapshot(qmp, { tag: 'base', signal: controller.signal }), {
    code: ErrorCode.VM_ABORTED,
  });
});

t.test('an old QEMU without flat block queries is asked again without it', async (t) => {
  const nodes = disks();
  nodes[0]!.snapshots.push({ name: 'base', id: '1', 'vm-state-size': 1 });
  const { qmp, seen } = await fakeQemu(t, {
    lists: false,
    jobs: false,
    status: 'running',
    nodes,
    noFlat: true,
  });
  t.same(
    (await listSnapshots(qmp, 'disk0')).map((s) => s.tag),
    ['base'],
  );
  t.same(seen, ['query-named-block-nodes', 'query-named-block-nodes']);
});

t.test('success reported but nothing changed: said, not trusted', async (t) => {
  const nodes = disks();
  nodes[0]!.snapshots.push({ name: 'old', id: '1', 'vm-state-size': 1 });
  const { qmp } = await fakeQemu(t, { lists: false, jobs: false, status: 'running', nodes, hmpNoop: true });
  await t.rejects(saveSnapshot(qmp, { tag: 'base' }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /QEMU reported success but disk0 holds no snapshot 'base'/,
  });
  await t.rejects(deleteSnapshot(qmp, { tag: 'old' }), {
    message: /QEMU reported success but disk0 still holds it/,
  });
});

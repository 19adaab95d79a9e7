// A running VM's block nodes as far as snapshots care: which disks can hold them, and what each one holds.

import { ErrorCode, QlaunchError } from '../../errors.js';
import { type QmpClient, QmpCommandError } from '../../qmp/index.js';
import { parseSnapshotList, type SnapshotInfo } from './snapshot-info.js';

/** What `query-named-block-nodes` and `query-block` say about one block node (the fields used here). */
export interface BlockNodeInfo {
  'node-name': string;
  drv: string;
  ro: boolean;
  image?: { snapshots?: unknown };
}

declare module '../../qmp/commands.js' {
  interface QmpCommandMap {
    'query-named-block-nodes': { args: { flat?: boolean | undefined } | undefined; result: BlockNodeInfo[] };
    'query-block': { args: undefined; result: Array<{ device: string; inserted?: BlockNodeInfo }> };
  }
}

/** Bounds for the queries of one operation. */
export interface QueryBounds {
  /** Epoch ms. */
  deadline: number;
  signal: AbortSignal | undefined;
  /** For messages: "saving snapshot 'base'". */
  what: string;
}

/** Snapshots per node (node name → its snapshots, oldest first). */
export type NodeSnapshots = Map<string, SnapshotInfo[]>;

export const timed = (bounds: Pick<QueryBounds, 'deadline' | 'signal'>) => ({
  timeout: Math.max(1, bounds.deadline - Date.now()),
  signal: bounds.signal,
});

/** The VM's writable qcow2 disks, by node name: what takes part in a snapshot unless the caller says otherwise. */
export async function snapshotNodes(
  qmp: QmpClient,
  options: { timeout?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<string[]> {
  const blocks = await qmp.execute('query-block', undefined, options);
  return blocks.flatMap((block) => {
    const node = block.inserted;
    return node !== undefined && !node.ro && node.drv === 'qcow2' ? [node['node-name']] : [];
  });
}

/** Snapshots per node, read in one query; an unknown node is an error, and so (with `writable`) a read-only one. */
export async function readSnapshots(
  qmp: QmpClient,
  nodes: readonly string[],
  bounds: QueryBounds,
  writable = false,
): Promise<NodeSnapshots> {
  const all = await namedNodes(qmp, bounds);
  const result: NodeSnapshots = new Map();
  for (const node of nodes) {
    const info = all.find((n) => n['node-name'] === node);
    if (info === undefined) {
      const names = all.map((n) => n['node-name']).join(', ') || 'none';
      throw new QlaunchError(
        ErrorCode.VM_SNAPSHOT,
        `${bounds.what}: the VM has no block node '${node}' (it has ${names})`,
        {
          hint: 'qlaunch names its disks disk0, disk1, … in the order of the spec',
        },
      );
    }
    if (writable && (info.ro || info.drv !== 'qcow2')) {
      throw new QlaunchError(
        ErrorCode.VM_SNAPSHOT,
        `${bounds.what}: ${node} is a ${info.ro ? 'read-only ' : ''}${info.drv} disk, which cannot hold snapshots`,
        { hint: 'leave it out of `nodes`: only writable qcow2 disks take part' },
      );
    }
    result.set(node, parseSnapshotList(info.image?.snapshots, node));
  }
  return result;
}

async function namedNodes(qmp: QmpClient, bounds: QueryBounds): Promise<BlockNodeInfo[]> {
  try {
    // flat (QEMU 5.0+) leaves out the backing chain nested in every node, which can be long.
    return await qmp.execute('query-named-block-nodes', { flat: true }, timed(bounds));
  } catch (error) {
    if (!(error instanceof QmpCommandError) || error.errorClass !== 'GenericError') throw error;
    return qmp.execute('query-named-block-nodes', undefined, timed(bounds));
  }
}

/** The nodes that hold a snapshot named `tag`. */
export const nodesWith = (snapshots: NodeSnapshots, tag: string): string[] =>
  [...snapshots].filter(([, list]) => list.some((s) => s.tag === tag)).map(([node]) => node);

export const findSnapshot = (snapshots: NodeSnapshots, node: string, tag: string): SnapshotInfo | undefined =>
  snapshots.get(node)?.find((s) => s.tag === tag);

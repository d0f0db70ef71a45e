/**
 * The node: composition of store, engine, HTTP and mesh.
 *
 * @example
 * ```ts
 * import { loadConfig } from '../config/index.ts'
 * import { startNode } from './index.ts'
 * const node = await startNode(loadConfig({ flags: { dataDir: './.gkm', mesh: false } }))
 * await node.api.push([{ event_type: 'persona_update', target_id: 'p1', payload: { op: 'set', fields: { name: 'Ada' } } }], { kind: 'local', id: 'example' })
 * await node.stop()
 * ```
 */

export { checkStore, repairStore, restoreStore } from '../store/maintenance.ts'
export { loadOrCreateIdentity } from '../util/identity-file.ts'
export { createLogger, type Logger, netLogger, silentLogger } from './log.ts'
export { createNodeMetrics, type NodeMetrics } from './metrics.ts'
export {
  type HeadlessNode,
  type RunningNode,
  readMembersFile,
  type StartOptions,
  startNode,
  VERSION,
} from './start.ts'
export { SyncNode } from './sync-node.ts'

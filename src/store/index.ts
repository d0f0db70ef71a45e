/**
 * Durable storage of a node: the core's `Store` port (src/core/ports.ts) over LevelDB, and an
 * in-memory twin for tests and the simulator. Both are the same `LevelStore` code; they pass
 * one conformance suite (test/compliance/store-suite.ts). Key layout: keys.ts and
 * docs/STORAGE.md.
 *
 * @example
 * ```ts
 * import { createLevelStore } from './src/store/index.ts'
 *
 * const store = createLevelStore(join(dataDir, 'db')) // a new store only where there is none
 * await store.open()
 * const { seqs } = await store.commit({
 *   events: [{ signed: event.signed, signature: event.signature }],
 *   targets: [], conflicts: [], equivocations: [], audit: [], meta: {},
 * })
 * // resolved => written with fsync: safe to acknowledge the event
 * const page = await store.readLog(0, 500) // [{ seq: 1, event }]
 * await store.close()
 * ```
 * (run by test/unit/store/index-example.test.ts)
 *
 * Errors are named (errors.ts): StorageWriteError (nothing written, do not ack),
 * StorageCorruptionError (a value on disk does not decode; the key is in the message),
 * StorageFormatError (another format version), and misuse errors for refused requests.
 */
import { LevelStore } from './level-store.ts'

export { AUDIT_GENESIS_HASH, auditHash, findAuditBreak } from './audit-chain.ts'
export { metaOnlyBatch } from './commit-plan.ts'
export { FORMAT_VERSION, READ_LIMIT_MAX } from './constants.ts'
export * from './errors.ts'
export { type LevelDatabase, LevelStore } from './level-store.ts'
export { checkStore, repairStore, restoreStore } from './maintenance.ts'
export { createMemoryStore } from './memory-store.ts'

/** A LevelDB store in `dir` (created, with parents, only where no store is). Call open() before use. */
export function createLevelStore(dir: string): LevelStore {
  return new LevelStore(dir)
}

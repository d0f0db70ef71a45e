/**
 * Worker side of the Yjs guard (`yjs-guard.ts`): applies one untrusted update at a time to a
 * fresh Y.Doc. The main thread owns every bound (the timer, `resourceLimits`, the queue); this
 * file only answers "did it apply?" and, for a merge, the resulting state.
 *
 * Protocol (structured clone, one request in flight per worker):
 *   worker → main  `{ type: 'ready' }` once yjs is loaded, so start-up is not charged to a check;
 *   main → worker  `GuardRequest`, the byte buffers transferred, not copied;
 *   worker → main  `GuardReply` with the same `id`.
 * A worker that hangs is terminated by the main thread; one that exceeds its heap is killed by V8
 * (ERR_WORKER_OUT_OF_MEMORY). Either way the main thread replaces it.
 */
import { parentPort } from 'node:worker_threads'
import * as Y from 'yjs'

export type GuardRequest = {
  readonly id: number
  readonly kind: 'check' | 'merge'
  readonly update: ArrayBuffer
  /** merge only: the target's current state, one v1 update. */
  readonly base?: ArrayBuffer
}

export type GuardReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly state?: ArrayBuffer }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly detail: string }

/** `Y.encodeStateAsUpdate(new Y.Doc())`: two zero varints (no structs, empty delete set). */
const EMPTY_UPDATE = new Uint8Array([0, 0])

/**
 * `Y.applyUpdate`, but with the decoder in our hands so that we can see where parsing stopped.
 * Yjs ignores bytes after the delete set; a buffer with trailing bytes is not one v1 update (two
 * of the crafted v2 payloads in yjs's tests/limits.tests.js parse as an empty v1 update followed
 * by garbage and would otherwise be accepted).
 */
function applyStrict(doc: Y.Doc, bytes: Uint8Array): void {
  // The shape of lib0's `Decoder` (two public fields); lib0 is not a direct dependency.
  const decoder = { arr: bytes, pos: 0 }
  Y.readUpdate(decoder, doc, 'yjs-guard')
  if (decoder.pos !== bytes.length) {
    throw new Error(`${bytes.length - decoder.pos} bytes after the end of the update`)
  }
}

/**
 * The second decoder of yjs (the lazy struct reader behind mergeUpdates, diffUpdate and
 * encodeStateVectorFromUpdate) is where the known hangs live (yjs/yjs#687). An accepted update
 * has passed both decoders, each under the bounds.
 */
function lazyPass(bytes: Uint8Array): void {
  Y.mergeUpdates([EMPTY_UPDATE, bytes])
}

function handle(req: GuardRequest): GuardReply {
  try {
    const update = new Uint8Array(req.update)
    const doc = new Y.Doc()
    if (req.base !== undefined) applyStrict(doc, new Uint8Array(req.base))
    // Missing dependencies are fine: yjs keeps such structs in store.pendingStructs and the
    // update is valid; it integrates once the update it depends on arrives.
    applyStrict(doc, update)
    lazyPass(update)
    if (req.kind === 'check') return { type: 'result', id: req.id, ok: true }
    // Encoding also merges pending structs (a second lazy pass over base and update together).
    const state = Y.encodeStateAsUpdate(doc)
    const own = state.byteOffset === 0 && state.byteLength === state.buffer.byteLength
    return {
      type: 'result',
      id: req.id,
      ok: true,
      state: (own ? state : state.slice()).buffer as ArrayBuffer,
    }
  } catch (err) {
    // yjs's own message; capped, since a reply should not grow with hostile input.
    const detail = (err instanceof Error ? err.message : String(err)).slice(0, 200)
    return { type: 'result', id: req.id, ok: false, detail }
  }
}

const port = parentPort
if (port === null) throw new Error('yjs-guard-worker.ts must run in a worker thread')
port.on('message', (req: GuardRequest) => {
  const reply = handle(req)
  port.postMessage(reply, reply.type === 'result' && reply.ok && reply.state ? [reply.state] : [])
})
port.postMessage({ type: 'ready' } satisfies GuardReply)

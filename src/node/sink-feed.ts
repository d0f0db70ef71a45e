/**
 * The node's change feed as the adapters read it (src/adapters ChangeFeed): log pages straight
 * from the store, each entry's type and target decoded from its signed bytes, the merged state
 * through SyncApi.state, and a wake-up from the node's subscription to committed events.
 */
import type { ChangeFeed } from '../adapters/index.ts'
import type { SyncApi } from '../core/api.ts'
import { readTypeAndTarget } from '../core/event-codec.ts'
import type { Store } from '../core/ports.ts'

export function sinkFeed(store: Store, api: SyncApi): ChangeFeed {
  return {
    async read(afterSeq, limit, types) {
      const rows = await store.readLog(afterSeq, limit, types.length === 4 ? undefined : types)
      return rows.map((r) => ({ seq: r.seq, ...readTypeAndTarget(r.event.signed) }))
    },
    lastSeq: () => store.lastSeq(),
    state: (type, targetId) => api.state(type, targetId),
    watch(listener) {
      // Only the newest sequence matters to a runner: the subscription starts at the head (no
      // replay) and each committed event just moves the number.
      let unsubscribe: (() => void) | undefined
      let closed = false
      void store.lastSeq().then((seq) => {
        if (closed) return
        unsubscribe = api.subscribe(seq, (c) => listener(c.seq))
      })
      return () => {
        closed = true
        unsubscribe?.()
      }
    },
  }
}

/**
 * The wire form of N gossiped events, as the cost benches feed them to a receiver: a writer
 * node's API (either code's: the benches load this checkout's and a base checkout's) makes N
 * local writes, one per push, to 256 targets, and its change feed hands back each event's
 * signed bytes and signature, what a peer's gossip would carry.
 */
export type WireEvent = { signed: Uint8Array; signature: Uint8Array }

export async function gossipWire(
  // biome-ignore lint/suspicious/noExplicitAny: either version of the node's API
  api: any,
  count: number,
): Promise<WireEvent[]> {
  const wire: WireEvent[] = []
  const off = api.subscribe(0, (c: { event: WireEvent }) =>
    wire.push({ signed: c.event.signed, signature: c.event.signature }),
  )
  try {
    for (let i = 0; i < count; i++)
      await api.push(
        [
          {
            event_type: 'persona_update',
            target_id: `bench-${i % 256}`,
            payload: { op: 'set', fields: { bench: 1, k: i, sent: 1_700_000_000_000 + i } },
          },
        ],
        { kind: 'local', id: 'bench' },
      )
    for (let waited = 0; wire.length < count && waited < 5_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20))
  } finally {
    off()
  }
  if (wire.length < count) throw new Error(`the writer's change feed gave ${wire.length} of ${count}`)
  return wire
}

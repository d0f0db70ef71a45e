/**
 * Per-arrival data of a real-node run: for each acknowledged event, when the writer sent it, its
 * origin, and its delay to every other node; and a breakdown of the slow arrivals (by time in the
 * run, by receiving node, by origin), so a propagation tail can be traced to its cause rather than
 * only measured. Pure: the driver hands in what it observed.
 */

/** Events recorded at most. Beyond it every k-th event is kept (k = the stride, the smallest
 *  that fits), so the record still spans the whole run. 20,000 events × 10 nodes is ~1 MB of
 *  JSON: the steady scenarios (600 events) are recorded whole; the 10-minute nemesis run
 *  (30,000 events) is thinned to every 2nd. */
export const ARRIVAL_EVENTS_MAX = 20_000

/** The first this-many ms of the writes are the start-up: the writes begin once every node has
 *  a few peers (driver.ts), while the rest of the mesh is still connecting and each new
 *  connection runs its first reconciliation session. The propagation figures are given over
 *  all arrivals, and apart for the events sent in this window and after it. 10 s: one
 *  reconciliation interval. */
export const STARTUP_WINDOW_MS = 10_000

/** Width of the "by time in the run" buckets of the slow-arrival breakdown. */
export const SLOW_BUCKET_MS = 5_000

/** An arrival is slow above this: 100 ms (the LAN target) plus four one-way delays of the
 *  profile (WAN: 50 ms each way, so 300 ms; a gossip hop with a retransmission stays below). */
export function slowThresholdMs(profileDelayMs: number): number {
  return 100 + 4 * profileDelayMs
}

export interface ObservedEvent {
  /** writer's send time of the push, ms since the writes started */
  sentMs: number
  origin: number
  /** first seen in the origin's change feed, ms since the writes started (undefined: never) */
  originSeenMs: number | undefined
  /** per node: first seen in its change feed, ms since the writes started (undefined: never) */
  seenMs: ReadonlyArray<number | undefined>
}

export interface SlowBreakdown {
  thresholdMs: number
  /** slow arrivals / all arrivals */
  count: number
  of: number
  /** events with at least one slow arrival */
  events: number
  bucketMs: number
  /** per SLOW_BUCKET_MS of send time: [slow, all] arrivals */
  byTime: Array<{ fromMs: number; slow: number; all: number }>
  /** per receiving node: [slow, all] */
  byNode: Array<{ node: number; slow: number; all: number }>
  /** per origin node: [slow, all] */
  byOrigin: Array<{ node: number; slow: number; all: number }>
  /** how many events had k slow arrivals (index k = 1..nodes-1; index 0 unused, 0) */
  slowPerEvent: number[]
  /** the slowest arrivals (at most 20): event index, receiving node, delay */
  worst: Array<{ event: number; node: number; origin: number; sentMs: number; delayMs: number }>
}

export interface ArrivalRecord {
  /** what the arrays mean, so the JSON reads without this file */
  about: string
  eventsTotal: number
  /** every `stride`-th acknowledged event (in order of sending) is recorded */
  stride: number
  eventsMax: number
  nodes: number
  /** per recorded event: send time (ms since the writes started, 0.1 ms) */
  sentMs: number[]
  /** per recorded event: origin node */
  origin: number[]
  /** per recorded event: origin's feed showed it, ms after the send (null: never) */
  originLagMs: Array<number | null>
  /** per recorded event, per node: delay from the origin's feed to this node's (0.1 ms); null
   *  for the origin itself and for a node that never showed it */
  delayMs: Array<Array<number | null>>
  slow: SlowBreakdown
}

const r1 = (x: number) => Math.round(x * 10) / 10

/** Delays (origin feed → node feed) of one event; null for the origin and for a node that never
 *  showed it. The origin's own feed time falls back to `fallbackFrom` (the write's answer). */
export function delaysOf(e: ObservedEvent, fallbackFrom: number): Array<number | null> {
  const from = e.originSeenMs ?? fallbackFrom
  return e.seenMs.map((at, j) => (j === e.origin || at === undefined ? null : Math.max(0, at - from)))
}

export function recordArrivals(
  events: readonly ObservedEvent[],
  delays: ReadonlyArray<ReadonlyArray<number | null>>,
  nodes: number,
  thresholdMs: number,
  eventsMax = ARRIVAL_EVENTS_MAX,
): ArrivalRecord {
  const stride = Math.max(1, Math.ceil(events.length / eventsMax))
  const rec: ArrivalRecord = {
    about:
      'Per-arrival data. Arrays indexed by recorded event (every `stride`-th acknowledged event, in order of sending). ' +
      'sentMs: when the writer sent the push, ms since the writes started; origin: the node written to; ' +
      "originLagMs: send → the origin's change feed showing it; delayMs[e][n]: the origin's feed → node n's feed " +
      '(null: the origin itself, or never shown). slow: breakdown of all arrivals (not only recorded ones) above thresholdMs.',
    eventsTotal: events.length,
    stride,
    eventsMax,
    nodes,
    sentMs: [],
    origin: [],
    originLagMs: [],
    delayMs: [],
    slow: breakdown(events, delays, nodes, thresholdMs),
  }
  for (let i = 0; i < events.length; i += stride) {
    const e = events[i]
    rec.sentMs.push(r1(e.sentMs))
    rec.origin.push(e.origin)
    rec.originLagMs.push(e.originSeenMs === undefined ? null : r1(e.originSeenMs - e.sentMs))
    rec.delayMs.push(delays[i].map((d) => (d === null ? null : r1(d))))
  }
  return rec
}

export function breakdown(
  events: readonly ObservedEvent[],
  delays: ReadonlyArray<ReadonlyArray<number | null>>,
  nodes: number,
  thresholdMs: number,
): SlowBreakdown {
  const byNode = Array.from({ length: nodes }, (_, node) => ({ node, slow: 0, all: 0 }))
  const byOrigin = Array.from({ length: nodes }, (_, node) => ({ node, slow: 0, all: 0 }))
  const byTime: SlowBreakdown['byTime'] = []
  const slowPerEvent = new Array<number>(Math.max(1, nodes)).fill(0)
  const worst: SlowBreakdown['worst'] = []
  let count = 0
  let of = 0
  let slowEvents = 0
  events.forEach((e, i) => {
    const b = Math.max(0, Math.floor(e.sentMs / SLOW_BUCKET_MS))
    while (byTime.length <= b) byTime.push({ fromMs: byTime.length * SLOW_BUCKET_MS, slow: 0, all: 0 })
    let k = 0
    delays[i].forEach((d, n) => {
      if (d === null) return
      of++
      byTime[b].all++
      byNode[n].all++
      byOrigin[e.origin].all++
      if (d <= thresholdMs) return
      count++
      k++
      byTime[b].slow++
      byNode[n].slow++
      byOrigin[e.origin].slow++
      worst.push({ event: i, node: n, origin: e.origin, sentMs: r1(e.sentMs), delayMs: r1(d) })
      worst.sort((x, y) => y.delayMs - x.delayMs)
      if (worst.length > 20) worst.pop()
    })
    if (k > 0) {
      slowEvents++
      slowPerEvent[Math.min(k, slowPerEvent.length - 1)]++
    }
  })
  return {
    thresholdMs,
    count,
    of,
    events: slowEvents,
    bucketMs: SLOW_BUCKET_MS,
    byTime,
    byNode,
    byOrigin,
    slowPerEvent,
    worst,
  }
}

/** The delays of the events sent before / from `STARTUP_WINDOW_MS` on. */
export function splitAtStartup(
  events: readonly ObservedEvent[],
  delays: ReadonlyArray<ReadonlyArray<number | null>>,
  windowMs = STARTUP_WINDOW_MS,
): { startup: number[]; after: number[] } {
  const startup: number[] = []
  const after: number[] = []
  events.forEach((e, i) => {
    const into = e.sentMs < windowMs ? startup : after
    for (const d of delays[i]) if (d !== null) into.push(d)
  })
  return { startup, after }
}

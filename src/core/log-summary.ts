/**
 * The log phase's decisions (docs/PROTOCOL.md "Log phase"), pure: a node's summary of one
 * author log, and from both sides' summaries what to fetch, what to push, and whether the two
 * nodes hold exactly the same logs. The libp2p adapter (src/net/protocols/log-phase.ts) moves
 * the frames; the simulator can drive the same decisions.
 */
import { fromHex, toHex } from '../util/bytes.ts'
import { LOG_SUMMARY_HOLES_MAX, type LogRange, type LogSummary } from '../wire/index.ts'
import { recordRoot } from './log-book.ts'
import type { LogRecord } from './ports.ts'

/** A node's summary of one log: its prefix, end, root, fork flag and first hole runs. */
export function toSummary(r: LogRecord, fetching = false): LogSummary {
  const runs = r.holes ?? []
  const listed = runs.slice(0, LOG_SUMMARY_HOLES_MAX)
  return {
    author: fromHex(r.author)!,
    log: fromHex(r.log)!,
    contiguous: BigInt(r.contiguous),
    end: BigInt(r.end),
    root: fromHex(recordRoot(r))!,
    forked: r.forkAt !== undefined,
    holes: listed.flatMap(([a, b]) => [BigInt(a), BigInt(b)]),
    holesMore: r.holesUnknown === true || runs.length > listed.length,
    fetching,
  }
}

type Run = readonly [bigint, bigint]

/** Runs of positions a summary says its sender lacks below `upTo`: its listed holes, what lies
 *  past its end, and (with `holes_more`) everything past its last listed run. */
function lacking(l: LogSummary | undefined, upTo: bigint): Run[] {
  if (l === undefined) return upTo > 0n ? [[0n, upTo]] : []
  const runs: Run[] = []
  for (let i = 0; i < l.holes.length; i += 2) runs.push([l.holes[i], l.holes[i + 1]])
  // With `holes_more`, what it lacks past the last listed run is not known here: the range
  // phase finds it.
  if (upTo > l.end) runs.push([l.end, upTo])
  return runs.filter(([a, b]) => a < upTo && b > a).map(([a, b]) => [a, b < upTo ? b : upTo] as Run)
}

export interface LogPlan {
  /** Ranges this side lacks and the peer holds. */
  readonly fetch: LogRange[]
  /** Ranges the peer lacks and this side holds. */
  readonly push: LogRange[]
  /** Both hold exactly the same positions of the same logs, without holes or forks. */
  readonly consistent: boolean
}

/** What to fetch and push, from both sides' summaries. */
export function planLogs(
  mine: readonly LogSummary[],
  theirs: readonly LogSummary[],
  complete: boolean,
): LogPlan {
  const byKey = (l: LogSummary) => `${toHex(l.author)}/${toHex(l.log)}`
  const m = new Map(mine.map((l) => [byKey(l), l]))
  const t = new Map(theirs.map((l) => [byKey(l), l]))
  const fetch: LogRange[] = []
  const push: LogRange[] = []
  let consistent = complete && m.size === t.size
  for (const [k, their] of t) {
    const my = m.get(k)
    // What this side lacks below the peer's end; the peer serves what it holds of it.
    for (const [from, to] of lacking(my, their.end))
      fetch.push({ author: their.author, log: their.log, from, to })
    if (
      my === undefined ||
      my.holes.length > 0 ||
      their.holes.length > 0 ||
      my.holesMore ||
      their.holesMore ||
      my.contiguous !== my.end ||
      their.contiguous !== their.end ||
      my.contiguous !== their.contiguous ||
      my.forked ||
      their.forked ||
      Buffer.compare(my.root, their.root) !== 0
    )
      consistent = false
  }
  for (const [k, my] of m) {
    const their = t.get(k)
    // A log the peer is fetching from someone else right now would reach it twice.
    if (their?.fetching === true) continue
    for (const [from, to] of lacking(their, my.end)) push.push({ author: my.author, log: my.log, from, to })
  }
  return { fetch, push, consistent }
}

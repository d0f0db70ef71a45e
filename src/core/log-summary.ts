/**
 * The log phase's decisions (docs/PROTOCOL.md "Log phase"), pure: a node's summary of one
 * author log, and from both sides' summaries what to fetch, what to push, and whether the two
 * nodes hold exactly the same logs. The libp2p adapter (src/net/protocols/log-phase.ts) moves
 * the frames; the simulator can drive the same decisions.
 */
import { fromHex, toHex } from '../util/bytes.ts'
import { LOG_RANGE_RUNS_MAX, LOG_SUMMARY_HOLES_MAX, type LogRange, type LogSummary } from '../wire/index.ts'
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

export type Run = readonly [bigint, bigint]

/** Runs of positions a summary says its sender lacks below `upTo`: its holes (the exact ones
 *  when the caller knows them, else the listed ones), and what lies past its end. With
 *  `holes_more` and no exact list, what it lacks past its last listed run is not known here: the
 *  range phase finds it. */
function lacking(l: LogSummary | undefined, upTo: bigint, exact?: readonly Run[]): Run[] {
  if (l === undefined) return upTo > 0n ? [[0n, upTo]] : []
  const runs: Run[] = []
  if (exact !== undefined) runs.push(...exact)
  else for (let i = 0; i < l.holes.length; i += 2) runs.push([l.holes[i], l.holes[i + 1]])
  if (upTo > l.end) runs.push([l.end, upTo])
  return runs.filter(([a, b]) => a < upTo && b > a).map(([a, b]) => [a, b < upTo ? b : upTo] as Run)
}

/** A log's runs as LogRanges: the first run in from/to, the next ones in `runs` (at most
 *  LOG_RANGE_RUNS_MAX besides the first a range). */
export function rangesOf(author: Uint8Array, log: Uint8Array, runs: readonly Run[]): LogRange[] {
  const out: LogRange[] = []
  for (let i = 0; i < runs.length; i += LOG_RANGE_RUNS_MAX + 1) {
    const part = runs.slice(i, i + LOG_RANGE_RUNS_MAX + 1)
    out.push({
      author,
      log,
      from: part[0][0],
      to: part[0][1],
      runs: part.slice(1).flat(),
    })
  }
  return out
}

/** The runs of a LogRange, in order. */
export function runsOf(r: LogRange): Run[] {
  const out: Run[] = [[r.from, r.to]]
  for (let i = 0; i + 1 < r.runs.length; i += 2) out.push([r.runs[i], r.runs[i + 1]])
  return out
}

/** Positions a LogRange covers. */
export const rangeSpan = (r: LogRange): number => runsOf(r).reduce((n, [a, b]) => n + Number(b - a), 0)

export interface LogPlan {
  /** Ranges this side lacks and the peer holds. */
  readonly fetch: LogRange[]
  /** Ranges the peer lacks and this side holds. */
  readonly push: LogRange[]
  /** Both hold exactly the same positions of the same logs, without holes or forks. */
  readonly consistent: boolean
}

/** The key planLogs' `exact` holes are given by: author hex / log hex. */
export const logKey = (l: { author: Uint8Array; log: Uint8Array }): string =>
  `${toHex(l.author)}/${toHex(l.log)}`

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
/** A log's map key inside planLogs: the author's length, then author and log bytes. */
const rawKey = (l: { author: Uint8Array; log: Uint8Array }): string =>
  String.fromCharCode(l.author.length) + latin1(l.author) + latin1(l.log)

/** What to fetch and push, from both sides' summaries; `exact`: this side's hole runs of logs
 *  whose summary lists only some (read from its store), by logKey. */
export function planLogs(
  mine: readonly LogSummary[],
  theirs: readonly LogSummary[],
  complete: boolean,
  exact?: ReadonlyMap<string, readonly Run[]>,
): LogPlan {
  // Keyed by the raw bytes (latin1 views: no hex string per log; a thousand logs a session).
  const m = new Map(mine.map((l) => [rawKey(l), l]))
  const t = new Map(theirs.map((l) => [rawKey(l), l]))
  const fetch: LogRange[] = []
  const push: LogRange[] = []
  let consistent = complete && m.size === t.size
  for (const [k, their] of t) {
    const my = m.get(k)
    // What this side lacks below the peer's end; the peer serves what it holds of it.
    const ex = exact === undefined || exact.size === 0 ? undefined : exact.get(logKey(their))
    fetch.push(...rangesOf(their.author, their.log, lacking(my, their.end, ex)))
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
    push.push(...rangesOf(my.author, my.log, lacking(their, my.end)))
  }
  return { fetch, push, consistent }
}

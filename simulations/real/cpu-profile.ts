/**
 * Reading the nodes' CPU profiles of a run (`--cpu-prof`): what a node spent its CPU on in a
 * window of the run's time. A V8 `.cpuprofile` holds a call tree and one sample per tick (the
 * tree node on the CPU, and the time since the previous sample, µs, on CLOCK_MONOTONIC — the
 * clock of the result's `writesStartedAtMonotonicUs`).
 *
 * `npx node simulations/real/cpu-profile.ts <result.json> <from-s> <to-s> [top]` prints, for the
 * run's profiles together, the CPU used in that window (seconds since the writes started;
 * negative = before them) by function (self time) and by the product's own functions on the
 * stack (inclusive time); with a fifth argument, a period in seconds, the window folded by phase
 * in that period (0.5 s bins): what recurs every period at the same moment.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
    readonly children?: readonly number[]
  }>
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface WindowCpu {
  /** Sampled time in the window, µs (idle excluded). */
  readonly busyUs: number
  /** Self time per function (`name file:line`), µs. */
  readonly self: Map<string, number>
  /** Inclusive time per function of the product's own code (a `src/` URL), µs: each sample
   *  counts once for every distinct such function on its stack. */
  readonly inclusive: Map<string, number>
}

const IDLE = new Set(['(idle)', '(program)'])

function frameName(f: { functionName: string; url: string; lineNumber: number }): string {
  const file =
    f.url === ''
      ? ''
      : ` ${f.url.includes('/src/') ? f.url.slice(f.url.lastIndexOf('/src/') + 1) : basename(f.url)}:${f.lineNumber + 1}`
  return `${f.functionName || '(anonymous)'}${file}`
}

/** The product functions (under `/src/`) on a sample's stack, each once, leaf first. */
function productFrames(
  nodeId: number,
  byId: ReadonlyMap<number, CpuProfile['nodes'][number]>,
  parent: ReadonlyMap<number, number>,
): string[] {
  const names: string[] = []
  const seen = new Set<string>()
  for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id)!.callFrame
    if (!f.url.includes('/src/')) continue
    const name = frameName(f)
    if (seen.has(name)) continue
    seen.add(name)
    names.push(name)
  }
  return names
}

/** The CPU one profile used between two CLOCK_MONOTONIC times (µs). A sample's time is charged
 *  to the tree node that was on the CPU when it was taken (the delta before it). */
export function windowCpu(p: CpuProfile, fromUs: number, toUs: number, into?: WindowCpu): WindowCpu {
  const out: WindowCpu = into ?? { busyUs: 0, self: new Map(), inclusive: new Map() }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  let at = p.startTime
  let busy = out.busyUs
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    at += dt
    if (at < fromUs || at >= toUs) continue
    const node = byId.get(p.samples[i])
    if (node === undefined || IDLE.has(node.callFrame.functionName)) continue
    busy += dt
    const leaf = frameName(node.callFrame)
    out.self.set(leaf, (out.self.get(leaf) ?? 0) + dt)
    for (const name of productFrames(node.id, byId, parent))
      out.inclusive.set(name, (out.inclusive.get(name) ?? 0) + dt)
  }
  return { ...out, busyUs: busy }
}

/**
 * What recurs with a period: the busy time (and each product function's inclusive time) of the
 * samples between `fromUs` and `toUs`, by their phase in `periodUs` counted from `originUs`, in
 * bins of `binUs`. A cost that comes every period at the same moment on every node (a timer the
 * nodes started together) fills a few bins and leaves the others empty.
 */
export function foldCpu(
  p: CpuProfile,
  o: { originUs: number; periodUs: number; binUs: number; fromUs: number; toUs: number },
  into?: { total: number[]; inclusive: Map<string, number[]> },
): { total: number[]; inclusive: Map<string, number[]> } {
  const bins = Math.round(o.periodUs / o.binUs)
  const out = into ?? { total: new Array<number>(bins).fill(0), inclusive: new Map<string, number[]>() }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  let at = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    at += dt
    if (at < o.fromUs || at >= o.toUs) continue
    const node = byId.get(p.samples[i])
    if (node === undefined || IDLE.has(node.callFrame.functionName)) continue
    const phase = (((at - o.originUs) % o.periodUs) + o.periodUs) % o.periodUs
    const b = Math.min(bins - 1, Math.floor(phase / o.binUs))
    out.total[b] += dt
    for (const name of productFrames(node.id, byId, parent)) {
      let row = out.inclusive.get(name)
      if (row === undefined) {
        row = new Array<number>(bins).fill(0)
        out.inclusive.set(name, row)
      }
      row[b] += dt
    }
  }
  return out
}

const top = (m: Map<string, number>, n: number): Array<[string, number]> =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n)

if (import.meta.main) {
  const [resultFile, fromS, toS, topN, foldS] = process.argv.slice(2)
  if (resultFile === undefined || fromS === undefined || toS === undefined) {
    console.error('usage: cpu-profile.ts <result.json> <from-s> <to-s> [top] [fold-period-s]')
    process.exit(2)
  }
  const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { writesStartedAtMonotonicUs: number }
  const dir = resultFile.replace(/\.json$/, '-prof')
  const from = r.writesStartedAtMonotonicUs + Number(fromS) * 1e6
  const to = r.writesStartedAtMonotonicUs + Number(toS) * 1e6
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  if (foldS !== undefined) {
    // by phase in the period, 0.5 s bins, from the start of the writes; the functions whose
    // time is most uneven over the bins first
    const o = {
      originUs: r.writesStartedAtMonotonicUs,
      periodUs: Number(foldS) * 1e6,
      binUs: 5e5,
      fromUs: from,
      toUs: to,
    }
    let f: ReturnType<typeof foldCpu> | undefined
    for (const x of files) f = foldCpu(JSON.parse(readFileSync(join(dir, x), 'utf8')) as CpuProfile, o, f)
    if (f === undefined) throw new Error(`no .cpuprofile in ${dir}`)
    const row = (a: number[]) => a.map((x) => (x / 1e3).toFixed(0).padStart(6)).join('')
    const spread = (a: number[]) => Math.max(...a) - [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
    console.log(`phase (s)  ${f.total.map((_, i) => (i * 0.5).toFixed(1).padStart(6)).join('')}`)
    console.log(`all (ms)   ${row(f.total)}`)
    for (const [k, a] of [...f.inclusive]
      .sort((x, y) => spread(y[1]) - spread(x[1]))
      .slice(0, Number(topN ?? 25)))
      console.log(`           ${row(a)}  ${k}`)
    process.exit(0)
  }
  let w: WindowCpu | undefined
  for (const f of files)
    w = windowCpu(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, from, to, w)
  if (w === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  const n = Number(topN ?? 25)
  const wallS = (to - from) / 1e6
  console.log(
    `${files.length} profiles, ${fromS}..${toS} s: ${(w.busyUs / 1e6).toFixed(2)} CPU-s (${(w.busyUs / 1e6 / wallS).toFixed(2)} CPUs)`,
  )
  console.log('self:')
  for (const [k, v] of top(w.self, n)) console.log(`  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`)
  console.log('inclusive (src/):')
  for (const [k, v] of top(w.inclusive, n)) console.log(`  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`)
}

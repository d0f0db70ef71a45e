/**
 * The HTML report of a real-node run: one self-contained file (inline CSS and SVG, no scripts, no
 * external assets): the verdict and the reproduce command, the figures, convergence over time
 * with the faults shaded, the faults on a timeline, the propagation histogram, bytes per node.
 */
import type { RealRunResult } from './result.ts'

const W = 860
const H = 220
const PAD = { l: 56, r: 16, t: 14, b: 34 }
const KIND_COLORS: Record<string, string> = {
  partition: '#dc2626',
  'one-way': '#ea580c',
  'links-down': '#ca8a04',
  crash: '#111827',
  pause: '#9333ea',
  skew: '#0891b2',
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function fmtBytes(b: number): string {
  if (b < 1024) return `${Math.round(b)} B`
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`
  return `${(b / 1024 / 1024).toFixed(1)} MB`
}

function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function frame(
  inner: string,
  yTicks: Array<[number, string]>,
  xTicks: Array<[number, string]>,
  xLabel: string,
): string {
  const ih = H - PAD.t - PAD.b
  let g = ''
  for (const [y, label] of yTicks)
    g += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end" class="ax">${esc(label)}</text>`
  for (const [x, label] of xTicks)
    g += `<text x="${x}" y="${PAD.t + ih + 16}" text-anchor="middle" class="ax">${esc(label)}</text>`
  g += inner
  g += `<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 4}" text-anchor="middle" class="ax">${esc(xLabel)}</text>`
  g += `<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${ih}" fill="none" stroke="#d1d5db"/>`
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${g}</svg>`
}

function timeAxis(xMaxS: number): { X: (s: number) => number; ticks: Array<[number, string]> } {
  const iw = W - PAD.l - PAD.r
  const X = (s: number) => PAD.l + (xMaxS === 0 ? 0 : (s / xMaxS) * iw)
  const step = niceMax(xMaxS / 8)
  const ticks: Array<[number, string]> = []
  for (let x = 0; x <= xMaxS + 1e-9; x += step) ticks.push([X(x), `${+x.toFixed(1)}`])
  return { X, ticks }
}

function convergence(r: RealRunResult, xMaxS: number): string {
  const ih = H - PAD.t - PAD.b
  const { X, ticks } = timeAxis(xMaxS)
  const Y = (v: number) => PAD.t + ih - v * ih
  let g = ''
  for (const f of r.faults)
    if (f.kind !== 'skew')
      g += `<rect x="${X(f.fromMs / 1000)}" y="${PAD.t}" width="${Math.max(1, X(f.toMs / 1000) - X(f.fromMs / 1000))}" height="${ih}" fill="${KIND_COLORS[f.kind] ?? '#6b7280'}" opacity="0.08"><title>${esc(f.label)}</title></rect>`
  const line = (pts: Array<[number, number]>, color: string) =>
    pts.length === 0
      ? ''
      : `<path d="${pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('')}" fill="none" stroke="${color}" stroke-width="2"/>`
  g += line(
    r.samples.map((s) => [s.t / 1000, s.complete]),
    '#2563eb',
  )
  g += line(
    r.samples.map((s) => [s.t / 1000, s.meanShare]),
    '#16a34a',
  )
  const marks: Array<[number, string]> = [[r.healAtMs / 1000, 'heal']]
  if (r.convergedAtMs !== null) marks.push([r.convergedAtMs / 1000, 'converged'])
  marks.forEach(([x, label], i) => {
    g += `<line x1="${X(x)}" x2="${X(x)}" y1="${PAD.t}" y2="${PAD.t + ih}" stroke="#111827" stroke-dasharray="4 3"/><text x="${X(x) > W - 120 ? X(x) - 4 : X(x) + 4}" y="${PAD.t + 11 + 13 * i}" text-anchor="${X(x) > W - 120 ? 'end' : 'start'}" class="ax">${label}</text>`
  })
  const yt: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((v) => [Y(v), `${v * 100}%`])
  return `${frame(g, yt, ticks, 'seconds since the writes started')}<div class="legend"><span class="lg"><i style="background:#2563eb"></i>live nodes holding every event</span><span class="lg"><i style="background:#16a34a"></i>mean share of the events a live node holds</span></div>`
}

/** The nodes' CPU use and the host's busy share over the run (0..1 of the host's CPUs). */
function cpuChart(r: RealRunResult, xMaxS: number): string {
  const ih = H - PAD.t - PAD.b
  const { X, ticks } = timeAxis(xMaxS)
  const Y = (v: number) => PAD.t + ih - Math.min(1, v) * ih
  const cpus = Math.max(1, r.load.cpus)
  const line = (pts: Array<[number, number]>, color: string) =>
    pts.length === 0
      ? ''
      : `<path d="${pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('')}" fill="none" stroke="${color}" stroke-width="2"/>`
  const g =
    line(
      r.samples.map((s) => [s.t / 1000, s.hostBusy ?? 0]),
      '#dc2626',
    ) +
    line(
      r.samples.map((s) => [s.t / 1000, (s.nodesCpu ?? 0) / cpus]),
      '#2563eb',
    )
  const yt: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((v) => [Y(v), `${v * 100}%`])
  return `${frame(g, yt, ticks, 'seconds since the writes started')}<div class="legend"><span class="lg"><i style="background:#2563eb"></i>the run's node processes (share of ${cpus} CPUs)</span><span class="lg"><i style="background:#dc2626"></i>host busy (any process)</span></div>`
}

function timeline(r: RealRunResult, xMaxS: number): string {
  const kinds = [...new Set(r.faults.map((f) => f.kind))]
  if (kinds.length === 0) return '<p>No faults injected.</p>'
  const { X, ticks } = timeAxis(xMaxS)
  const lane = 22
  const h = PAD.t + kinds.length * lane + 24
  let g = ''
  kinds.forEach((k, i) => {
    const y = PAD.t + i * lane
    g += `<text x="${PAD.l - 6}" y="${y + 15}" text-anchor="end" class="ax">${esc(k)}</text>`
    for (const f of r.faults.filter((x) => x.kind === k))
      g += `<rect x="${X(f.fromMs / 1000)}" y="${y + 3}" width="${Math.max(2, X(f.toMs / 1000) - X(f.fromMs / 1000))}" height="${lane - 6}" fill="${KIND_COLORS[k] ?? '#6b7280'}" opacity="0.7"><title>${esc(`${f.label}: ${(f.fromMs / 1000).toFixed(1)}–${(f.toMs / 1000).toFixed(1)} s`)}</title></rect>`
  })
  for (const [x, label] of ticks)
    g += `<text x="${x}" y="${h - 6}" text-anchor="middle" class="ax">${label}</text>`
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" role="img">${g}</svg>`
}

function bars(
  items: Array<{ label: string; values: number[] }>,
  names: string[],
  colors: string[],
  fmt: (v: number) => string,
): string {
  const iw = W - PAD.l - PAD.r
  const ih = H - PAD.t - PAD.b
  const max = niceMax(Math.max(1, ...items.map((b) => b.values.reduce((a, c) => a + c, 0))))
  const bw = iw / Math.max(1, items.length)
  let g = ''
  items.forEach((b, i) => {
    let y = PAD.t + ih
    b.values.forEach((v, k) => {
      const hh = (v / max) * ih
      y -= hh
      g += `<rect x="${(PAD.l + i * bw + bw * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${hh.toFixed(1)}" fill="${colors[k]}"><title>${esc(`${b.label}: ${names[k]} ${fmt(v)}`)}</title></rect>`
    })
  })
  const yt: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((v) => [PAD.t + ih - v * ih, fmt(v * max)])
  const xt: Array<[number, string]> = items.map((b, i) => [PAD.l + i * bw + bw / 2, b.label])
  const legend = names
    .map((n, k) => `<span class="lg"><i style="background:${colors[k]}"></i>${esc(n)}</span>`)
    .join('')
  return `${frame(g, yt, xt, '')}<div class="legend">${legend}</div>`
}

/** Dots drawn at most in the arrivals chart, besides the slow ones (~100 bytes each). */
const SCATTER_DOTS_MAX = 20_000

/** Every recorded arrival: delay (log scale) against the event's send time, slow ones in red. */
function scatter(r: RealRunResult, xMaxS: number): string {
  const a = r.arrivals
  const ih = H - PAD.t - PAD.b
  const { X, ticks } = timeAxis(xMaxS)
  let maxD = 1
  for (const row of a.delayMs) for (const d of row) if (d !== null && d > maxD) maxD = d
  const top = Math.log10(niceMax(maxD))
  const Y = (d: number) => PAD.t + ih - (Math.log10(Math.max(1, d)) / Math.max(1, top)) * ih
  let dots = ''
  // Every slow arrival is drawn; the others thinned to about SCATTER_DOTS_MAX in all (the file
  // stays a few MB for the 10-minute runs).
  let arrivals = 0
  for (const row of a.delayMs) for (const d of row) if (d !== null) arrivals++
  const every = Math.max(1, Math.ceil(arrivals / SCATTER_DOTS_MAX))
  let k = 0
  a.delayMs.forEach((row, e) => {
    for (const [n, d] of row.entries()) {
      if (d === null) continue
      const slow = d > a.slow.thresholdMs
      if (!slow && k++ % every !== 0) continue
      dots += `<circle cx="${X(a.sentMs[e] / 1000).toFixed(1)}" cy="${Y(d).toFixed(1)}" r="${slow ? 2.2 : 1.2}" fill="${slow ? '#dc2626' : '#2563eb'}" opacity="${slow ? 0.85 : 0.25}">${slow ? `<title>${esc(`${d} ms: n${a.origin[e]} → n${n}, sent at ${(a.sentMs[e] / 1000).toFixed(2)} s`)}</title>` : ''}</circle>`
    }
  })
  const y = Y(a.slow.thresholdMs)
  dots += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="4 3"/>`
  const yt: Array<[number, string]> = []
  for (let k = 0; k <= top; k++) yt.push([Y(10 ** k), `${10 ** k} ms`])
  return frame(dots, yt, ticks, 'send time, seconds since the writes started')
}

function slowTable(title: string, rows: Array<{ label: string; slow: number; all: number }>): string {
  const cells = rows
    .map(
      (x) =>
        `<td title="${esc(`${x.slow} of ${x.all}`)}"${x.slow > 0 ? ' class="bad"' : ''}>${x.slow}<br><small>/${x.all}</small></td>`,
    )
    .join('')
  return `<tr><th>${esc(title)}</th>${cells}</tr><tr><td></td>${rows.map((x) => `<td><small>${esc(x.label)}</small></td>`).join('')}</tr>`
}

/** Per node: slow arrivals next to its commits and the events reconciliation had to bring. */
function nodeTable(r: RealRunResult): string {
  const rows = r.nodeCounters
    .map((c) => {
      const b = r.arrivals.slow.byNode[c.node]
      return `<tr><td>n${c.node}</td><td>${b?.slow ?? 0} / ${b?.all ?? 0}</td><td>${c.commits}</td><td>${c.commitsOver100ms}</td><td>${c.commitsOver1s}</td><td>${c.reconcileFetched}</td><td>${c.reconcileReceived}</td><td>${c.sessions}</td></tr>`
    })
    .join('')
  return `<p>Per receiving node, with its own counters (<code>/metrics</code> at the end): group commits, those over 0.1 s and 1 s; events fetched by reconciliation (they had not come by a direct stream or gossip) and received in peers' reconciliation pushes or catch-up; sessions.</p><table><tr><th>node</th><th>slow / arrivals</th><th>commits</th><th>&gt;0.1 s</th><th>&gt;1 s</th><th>fetched by reconciliation</th><th>received by reconciliation</th><th>sessions</th></tr>${rows}</table>`
}

function slowSection(r: RealRunResult, xMaxS: number): string {
  const a = r.arrivals
  const b = a.slow
  const pct = b.of === 0 ? 0 : (100 * b.count) / b.of
  const per = b.slowPerEvent
    .map((n, k) => (k === 0 || n === 0 ? '' : `${n} with ${k}`))
    .filter((x) => x !== '')
    .join(', ')
  const worst = b.worst
    .map(
      (w) =>
        `<tr><td>${w.delayMs}</td><td>n${w.origin} → n${w.node}</td><td>${(w.sentMs / 1000).toFixed(2)} s</td><td>${w.event}</td></tr>`,
    )
    .join('')
  return `<h2>Each arrival, and the slow ones</h2><p>${b.count} of ${b.of} arrivals (${pct.toFixed(2)} %) took more than ${b.thresholdMs} ms, in ${b.events} events${per === '' ? '' : ` (slow arrivals per event: ${per})`}. ${a.stride > 1 ? `The chart shows every ${a.stride}th of ${a.eventsTotal} events (at most ${a.eventsMax} recorded); the counts are over all.` : `All ${a.eventsTotal} acknowledged events are recorded.`} The chart draws every slow arrival and at most ${SCATTER_DOTS_MAX} of the others (evenly thinned).</p>${scatter(r, xMaxS)}
<table>${slowTable(
    `by send time (${b.bucketMs / 1000} s)`,
    b.byTime.map((x) => ({ label: `${x.fromMs / 1000}s`, slow: x.slow, all: x.all })),
  )}</table>
<table>${slowTable(
    'by receiving node',
    b.byNode.map((x) => ({ label: `n${x.node}`, slow: x.slow, all: x.all })),
  )}${slowTable(
    'by origin',
    b.byOrigin.map((x) => ({ label: `n${x.node}`, slow: x.slow, all: x.all })),
  )}</table>
${nodeTable(r)}
${worst === '' ? '' : `<p>The slowest:</p><table><tr><th>ms</th><th>origin → node</th><th>sent at</th><th>event #</th></tr>${worst}</table>`}`
}

export function renderRealReport(r: RealRunResult): string {
  const xMaxS = Math.max(1, ...r.samples.map((s) => s.t / 1000))
  const p = r.propagation
  const card = (k: string, v: string) =>
    `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`
  const prof =
    r.profile.delayMs > 0
      ? `${r.profile.name}: ${r.profile.delayMs} ms each way, ${r.profile.lossPerMille / 10} % loss, ${r.profile.rateMbit} Mbit/s`
      : `${r.profile.name}: bridge, no shaping`
  const hist = bars(
    r.propagationHistogram.map((b) => ({
      label: b.toMs < 0 ? `≥${b.fromMs}` : `<${b.toMs}`,
      values: [b.count],
    })),
    ['arrivals (origin → other node), ms buckets'],
    ['#2563eb'],
    (v) => `${Math.round(v)}`,
  )
  const bytes = bars(
    r.bytesPerNode.map((b) => ({ label: `n${b.node}`, values: [b.sent, b.received] })),
    ['mesh bytes sent', 'mesh bytes received'],
    ['#2563eb', '#16a34a'],
    fmtBytes,
  )
  const rows = r.statesAtEnd
    .map(
      (s) =>
        `<tr><td>n${s.node}</td><td>${s.events}</td><td><code>${esc(s.stateHash.slice(0, 16))}</code></td><td>${s.conflictsOpen}</td></tr>`,
    )
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gkm-sync real nodes: ${esc(r.scenario)} seed ${r.seed}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:900px;color:#111827}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.ok{color:#15803d}.bad{color:#b91c1c}.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;min-width:150px}
.k{color:#6b7280;font-size:12px}.v{font-size:18px;font-weight:600}.ax{font-size:11px;fill:#4b5563}.legend{font-size:12px;color:#374151}.lg{margin-right:14px}
.lg i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}code{background:#f3f4f6;padding:1px 4px;border-radius:3px}table{border-collapse:collapse}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}</style></head><body>
<h1>Real nodes: ${esc(r.scenario)} — <span class="${r.passed ? 'ok' : 'bad'}">${r.passed ? 'passed' : 'FAILED'}</span></h1>
<p>${esc(r.description)}. ${r.nodes} node processes in network namespaces, profile ${esc(prof)}; ${r.rate} events/s for ${r.writeMs / 1000} s; clocks: ${esc(r.clock)}. Reproduce: <code>${esc(r.command)}</code> (the seed fixes the fault plan and the writes; real time and TCP do the rest).</p>
<div class="cards">${card('converged after the heal', r.convergedAfterHealMs === null ? 'not converged' : `${(r.convergedAfterHealMs / 1000).toFixed(2)} s`)}${card('propagation p50 / p99', `${p.p50} / ${p.p99} ms`)}${card(`p99 after the first ${r.startupWindowMs / 1000} s`, `${r.propagationAfterStartup.p99} ms`)}${card('on every node p99', `${r.everyNode.p99} ms`)}${card('writes acknowledged', `${r.writes.acked} of ${r.writes.planned}`)}${card('acknowledged lost', r.checks.find((c) => c.name === 'no acknowledged event lost')?.ok ? '0' : 'some')}${card('restarts (kill -9)', String(r.restarts))}${card('mesh bytes / node', fmtBytes(r.bytesPerNode.reduce((a, b) => a + b.sent, 0) / Math.max(1, r.bytesPerNode.length)))}${card('load average', `${r.load.loadavgStart[0]} → ${r.load.loadavgEnd[0]} (${r.load.cpus} CPUs)`)}</div>
<h2>Checks</h2><ul>${r.checks.map((c) => `<li class="${c.ok ? 'ok' : 'bad'}">${esc(c.name)}: ${esc(c.detail)}</li>`).join('')}</ul>
<h2>Convergence over time</h2>${convergence(r, xMaxS)}
<h2>CPU over the run</h2><p>From /proc every 0.5 s: the CPU time the run's nodes used, and how busy the host was (the nodes, the driver and any other work on the machine). A host busy near 100 % while the nodes use a fraction of it is other work holding the CPUs.</p>${cpuChart(r, xMaxS)}
<h2>Faults on a timeline</h2>${timeline(r, xMaxS)}
<h2>Propagation delay</h2><p>From the event appearing in its origin's change feed to appearing in another node's (both read by the driver on the hub): p50 ${p.p50} ms, p90 ${p.p90} ms, p99 ${p.p99} ms, max ${p.max} ms over ${p.count} arrivals; on every node: p50 ${r.everyNode.p50} ms, p99 ${r.everyNode.p99} ms, max ${r.everyNode.max} ms. Apart: the events sent in the first ${r.startupWindowMs / 1000} s of the writes (start-up: the mesh still connecting) p50 ${r.propagationStartup.p50} ms, p90 ${r.propagationStartup.p90} ms, p99 ${r.propagationStartup.p99} ms over ${r.propagationStartup.count} arrivals; those sent after it p50 ${r.propagationAfterStartup.p50} ms, p90 ${r.propagationAfterStartup.p90} ms, p99 ${r.propagationAfterStartup.p99} ms over ${r.propagationAfterStartup.count}.</p>${hist}
${slowSection(r, xMaxS)}
<h2>Bytes per node</h2><p>libp2p's global counters (all mesh protocols), summed over each process's lives${r.proxyBytes > 0 ? `; the delay proxy carried ${fmtBytes(r.proxyBytes)}` : ''}.</p>${bytes}
<h2>State at the end</h2><table><tr><th>node</th><th>events</th><th>state hash</th><th>conflicts open</th></tr>${rows}</table>
<h2>Writes</h2><p>${r.writes.planned} planned, ${r.writes.sent} sent, ${r.writes.acked} acknowledged, ${r.writes.failed} refused or no live node, ${r.writes.unanswered} unanswered (timeout: a paused or killed node). Writes began ${(r.startupMs / 1000).toFixed(1)} s after the nodes started, once the mesh was formed (${esc(r.gate ?? 'every node had 4 peers')}${r.fourPeersMs != null ? `; every node had 4 peers at ${(r.fourPeersMs / 1000).toFixed(1)} s` : ''}); wall time ${(r.wallMs / 1000).toFixed(1)} s.</p>
</body></html>
`
}

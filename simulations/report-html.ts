/**
 * The HTML report of a run: one self-contained file (inline CSS and SVG, no scripts, no external
 * assets) with the verdict, convergence over time, conflicts, propagation delays, bytes per node
 * and the faults on a timeline.
 */
import type { RunResult } from './runner.ts'

const W = 860
const H = 240
const PAD = { l: 56, r: 16, t: 14, b: 34 }
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04']

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function fmtBytes(b: number): string {
  if (b < 1024) return `${Math.round(b)} B`
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`
  if (b < 1024 ** 3) return `${(b / 1024 / 1024).toFixed(1)} MB`
  return `${(b / 1024 ** 3).toFixed(2)} GB`
}

function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

interface Series {
  name: string
  points: Array<[number, number]>
  color?: string
}

interface Band {
  from: number
  to: number
  label: string
  color: string
}

function lineChart(o: {
  series: Series[]
  xMax: number
  yMax: number
  yFmt: (v: number) => string
  xLabel: string
  bands?: Band[]
  vlines?: Array<{ x: number; label: string }>
}): string {
  const iw = W - PAD.l - PAD.r
  const ih = H - PAD.t - PAD.b
  const X = (x: number) => PAD.l + (o.xMax === 0 ? 0 : (x / o.xMax) * iw)
  const Y = (y: number) => PAD.t + ih - (o.yMax === 0 ? 0 : (y / o.yMax) * ih)
  let g = ''
  for (const b of o.bands ?? [])
    g += `<rect x="${X(b.from).toFixed(1)}" y="${PAD.t}" width="${Math.max(1, X(b.to) - X(b.from)).toFixed(1)}" height="${ih}" fill="${b.color}" opacity="0.10"><title>${esc(b.label)}</title></rect>`
  for (let i = 0; i <= 4; i++) {
    const v = (o.yMax * i) / 4
    g += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e5e7eb"/><text x="${PAD.l - 6}" y="${Y(v) + 4}" text-anchor="end" class="ax">${esc(o.yFmt(v))}</text>`
  }
  const step = niceMax(o.xMax / 8)
  for (let x = 0; x <= o.xMax + 1e-9; x += step)
    g += `<line x1="${X(x)}" x2="${X(x)}" y1="${PAD.t + ih}" y2="${PAD.t + ih + 4}" stroke="#9ca3af"/><text x="${X(x)}" y="${PAD.t + ih + 16}" text-anchor="middle" class="ax">${+x.toFixed(2)}</text>`
  g += `<text x="${PAD.l + iw / 2}" y="${H - 4}" text-anchor="middle" class="ax">${esc(o.xLabel)}</text>`
  ;(o.vlines ?? []).forEach((v, i) => {
    g += `<line x1="${X(v.x)}" x2="${X(v.x)}" y1="${PAD.t}" y2="${PAD.t + ih}" stroke="#111827" stroke-dasharray="4 3"/><text x="${X(v.x) > W - 140 ? X(v.x) - 4 : X(v.x) + 4}" y="${PAD.t + 11 + 13 * i}" text-anchor="${X(v.x) > W - 140 ? 'end' : 'start'}" class="ax" fill="#111827">${esc(v.label)}</text>`
  })
  o.series.forEach((s, i) => {
    if (s.points.length === 0) return
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`)
      .join('')
    g += `<path d="${d}" fill="none" stroke="${s.color ?? COLORS[i % COLORS.length]}" stroke-width="2"/>`
  })
  g += `<rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="none" stroke="#d1d5db"/>`
  const legend = o.series
    .map(
      (s, i) =>
        `<span class="lg"><i style="background:${s.color ?? COLORS[i % COLORS.length]}"></i>${esc(s.name)}</span>`,
    )
    .join('')
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${g}</svg><div class="legend">${legend}</div>`
}

function barChart(
  bars: Array<{ label: string; values: number[] }>,
  names: string[],
  fmt: (v: number) => string,
): string {
  const iw = W - PAD.l - PAD.r
  const ih = H - PAD.t - PAD.b
  const max = niceMax(Math.max(1, ...bars.map((b) => b.values.reduce((a, c) => a + c, 0))))
  const bw = iw / Math.max(1, bars.length)
  let g = ''
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    const y = PAD.t + ih - (v / max) * ih
    g += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end" class="ax">${esc(fmt(v))}</text>`
  }
  const every = Math.ceil(bars.length / 12)
  bars.forEach((b, i) => {
    let y = PAD.t + ih
    b.values.forEach((v, k) => {
      const h = (v / max) * ih
      y -= h
      g += `<rect x="${(PAD.l + i * bw + bw * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, bw * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[k]}"><title>${esc(`${b.label}: ${names[k]} ${fmt(v)}`)}</title></rect>`
    })
    if (i % every === 0)
      g += `<text x="${PAD.l + i * bw + bw / 2}" y="${PAD.t + ih + 16}" text-anchor="middle" class="ax">${esc(b.label)}</text>`
  })
  g += `<rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="none" stroke="#d1d5db"/>`
  const legend = names
    .map((n, k) => `<span class="lg"><i style="background:${COLORS[k]}"></i>${esc(n)}</span>`)
    .join('')
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${g}</svg><div class="legend">${legend}</div>`
}

const KIND_COLORS: Record<string, string> = {
  partition: '#dc2626',
  'one-way partition': '#ea580c',
  flapping: '#ca8a04',
  crash: '#9333ea',
  churn: '#0891b2',
  loss: '#4b5563',
  'clock skew': '#2563eb',
  'clock jump': '#1d4ed8',
  offline: '#6b7280',
  ban: '#111827',
}

function timeline(r: RunResult, xMax: number): string {
  const kinds = [...new Set(r.marks.map((m) => m.kind))]
  if (kinds.length === 0) return '<p class="muted">No faults in this scenario.</p>'
  const lane = 22
  const h = PAD.t + kinds.length * lane + PAD.b
  const iw = W - 150 - PAD.r
  const X = (x: number) => 150 + (Math.min(x, xMax) / xMax) * iw
  let g = ''
  kinds.forEach((k, i) => {
    const y = PAD.t + i * lane
    g += `<text x="144" y="${y + 15}" text-anchor="end" class="ax">${esc(k)}</text><line x1="150" x2="${W - PAD.r}" y1="${y + lane}" y2="${y + lane}" stroke="#f3f4f6"/>`
    for (const m of r.marks.filter((x) => x.kind === k)) {
      const x0 = X(m.atMs / 1000)
      const x1 = Math.max(x0 + 2, X(m.untilMs / 1000))
      g += `<rect x="${x0.toFixed(1)}" y="${y + 4}" width="${(x1 - x0).toFixed(1)}" height="${lane - 8}" rx="3" fill="${KIND_COLORS[k] ?? '#6b7280'}" opacity="0.55"><title>${esc(`${m.label}: ${(m.atMs / 1000).toFixed(1)}–${(m.untilMs / 1000).toFixed(1)} s`)}</title></rect>`
    }
  })
  const yb = PAD.t + kinds.length * lane
  const step = niceMax(xMax / 8)
  for (let x = 0; x <= xMax + 1e-9; x += step)
    g += `<text x="${X(x)}" y="${yb + 16}" text-anchor="middle" class="ax">${+x.toFixed(2)}</text>`
  g += `<line x1="${X(r.healAtMs / 1000)}" x2="${X(r.healAtMs / 1000)}" y1="${PAD.t}" y2="${yb}" stroke="#111827" stroke-dasharray="4 3"/>`
  g += `<text x="${150 + iw / 2}" y="${yb + 30}" text-anchor="middle" class="ax">simulated seconds (dashed: heal)</text>`
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" role="img">${g}</svg>`
}

export function renderReport(r: RunResult): string {
  const xMax = r.endedAtMs / 1000
  const bands: Band[] = r.marks
    .filter((m) => m.kind !== 'ban' && m.kind !== 'clock skew')
    .map((m) => ({
      from: m.atMs / 1000,
      to: m.untilMs / 1000,
      label: m.label,
      color: KIND_COLORS[m.kind] ?? '#6b7280',
    }))
  const vlines = [{ x: r.healAtMs / 1000, label: 'heal' }]
  if (r.convergedAtMs !== null) vlines.push({ x: r.convergedAtMs / 1000, label: 'converged' })
  if (r.settledAtMs !== null && r.settledAtMs !== r.convergedAtMs)
    vlines.push({ x: r.settledAtMs / 1000, label: 'resolutions spread' })
  const conv = lineChart({
    series: [
      {
        name: 'live honest nodes holding every event (%)',
        points: r.samples.map((s) => [s.t / 1000, s.live === 0 ? 0 : (100 * s.complete) / s.live]),
      },
      { name: 'mean share of events held (%)', points: r.samples.map((s) => [s.t / 1000, 100 * s.coverage]) },
    ],
    xMax,
    yMax: 100,
    yFmt: (v) => `${v}%`,
    xLabel: 'simulated seconds',
    bands,
    vlines,
  })
  const cmax = niceMax(Math.max(1, ...r.samples.map((s) => s.conflictsRaised)))
  const conflicts = lineChart({
    series: [
      {
        name: 'raised (cumulative)',
        points: r.samples.map((s) => [s.t / 1000, s.conflictsRaised]),
        color: COLORS[2],
      },
      {
        name: 'resolved or superseded (cumulative)',
        points: r.samples.map((s) => [s.t / 1000, s.conflictsResolved]),
        color: COLORS[1],
      },
      { name: 'open', points: r.samples.map((s) => [s.t / 1000, s.conflictsOpen]), color: COLORS[4] },
    ],
    xMax,
    yMax: cmax,
    yFmt: (v) => (Number.isInteger(v) ? `${v}` : v.toFixed(1)),
    xLabel: 'simulated seconds',
    vlines,
  })
  const conflictsSection = r.oracle
    ? `${conflicts}<p class="muted">From the shipped ingest fed every valid event as it was written (the mesh's global view).</p>`
    : '<p class="muted">The conflicts timeline was not computed (<code>--no-oracle</code>); the open and resolved conflicts at the end are in the state table below.</p>'
  const hist = r.delays.histogram
  const delayBars = barChart(
    hist.map(([ms, n]) => ({
      label: ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`,
      values: [n],
    })),
    ['event arrivals at a node, by delay after the write'],
    (v) => `${Math.round(v)}`,
  )
  const per = [...r.bytesPerNode.perNode].sort((a, b) => a[0] + a[1] - (b[0] + b[1]))
  const stride = Math.max(1, Math.ceil(per.length / 100))
  const bytesBars = barChart(
    per.filter((_, i) => i % stride === 0).map((v, i) => ({ label: `${i * stride}`, values: [v[0], v[1]] })),
    ['gossip (sent + received)', 'reconciliation (sent + received)'],
    fmtBytes,
  )
  const verdict = r.passed
    ? '<div class="verdict ok">PASSED</div>'
    : `<div class="verdict bad">FAILED</div><ul class="fail">${r.failures.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`
  const card = (k: string, v: string, sub = '') =>
    `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="s">${esc(sub)}</div></div>`
  const c = r.counters
  const states = r.states
    .map(
      (s) =>
        `<tr><td>${s.nodes}</td><td>${s.events}</td><td><code>${s.stateHash.slice(0, 16)}…</code></td><td>${s.openConflicts}</td><td>${s.resolvedConflicts}</td><td>${s.records.open} / ${s.records.resolved} / ${s.records.superseded}</td></tr>`,
    )
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gkm-sync simulation: ${esc(r.scenario)} seed ${r.seed}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111827;background:#f9fafb;margin:0}
main{max-width:920px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.muted,.desc{color:#4b5563}.desc{margin:0 0 14px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px;margin:14px 0}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:10px 12px}
.card .k{font-size:12px;color:#6b7280}.card .v{font-size:20px;font-weight:600}.card .s{font-size:12px;color:#6b7280}
.verdict{display:inline-block;font-weight:700;padding:4px 10px;border-radius:6px;margin:6px 0}
.ok{background:#dcfce7;color:#166534}.bad{background:#fee2e2;color:#991b1b}
.fail{color:#991b1b}
code{background:#f3f4f6;padding:1px 5px;border-radius:4px;font-size:12.5px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;font-size:13px}
.ax{font-size:11px;fill:#4b5563}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin-top:4px;font-size:12px;color:#374151}
.lg i{display:inline-block;width:12px;height:3px;margin-right:5px;vertical-align:middle}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:10px}
</style></head><body><main>
<h1>Simulation: ${esc(r.scenario)}</h1>
<p class="desc">${esc(r.description)}</p>
${verdict}
<p class="muted">Reproduce: <code>${esc(r.command)}</code></p>
<div class="cards">
${card('converged after the heal', r.convergeAfterHealMs === null ? 'no' : `${(r.convergeAfterHealMs / 1000).toFixed(2)} s`, `budget ${r.budgetMs / 1000} s, heal at ${r.healAtMs / 1000} s${r.settledAtMs !== null && r.settledAtMs !== r.convergedAtMs ? `; with resolutions ${(r.settledAtMs / 1000).toFixed(1)} s` : ''}`)}
${card('nodes / events', `${r.nodes} / ${r.events.toLocaleString('en')}`, `seed ${r.seed}`)}
${card('propagation p50 / p99', `${r.delays.p50} / ${r.delays.p99} ms`, `max ${r.delays.max} ms over ${r.delays.count.toLocaleString('en')} arrivals`)}
${card('bytes per node (mean)', fmtBytes(r.bytesPerNode.gossip.mean + r.bytesPerNode.reconcile.mean), `gossip ${fmtBytes(r.bytesPerNode.gossip.mean)}, reconcile ${fmtBytes(r.bytesPerNode.reconcile.mean)}`)}
${card('sessions', c.sessions.toLocaleString('en'), `${c.sessionsFailed} failed, ${c.rounds} rounds`)}
${card('acknowledged events lost', `${r.acknowledged.lost}`, `of ${r.acknowledged.total.toLocaleString('en')}${r.acknowledged.leftWithAuthor > 0 ? `; ${r.acknowledged.leftWithAuthor} left with their author` : ''}`)}
${
  r.oracle
    ? card(
        'conflicts raised / closed',
        `${r.conflicts.raised} / ${r.conflicts.resolved + r.conflicts.superseded}`,
        `${r.conflicts.resolved} resolved, ${r.conflicts.superseded} superseded, ${r.conflicts.openAtEnd} open at the end`,
      )
    : card(
        'conflicts open at the end',
        `${r.conflicts.openAtEnd}`,
        `${r.states[0]?.resolvedConflicts ?? 0} resolved (timeline off)`,
      )
}
${card('time to reach every node', `p50 ${r.fullDelays.p50} ms`, `p99 ${r.fullDelays.p99} ms, ${r.fullDelays.count.toLocaleString('en')} events`)}
</div>
<section><h2>Convergence over time</h2>${conv}<p class="muted">Shaded: fault windows. A node is complete when it holds every event some live honest node holds.</p></section>
<section><h2>Faults injected</h2>${timeline(r, xMax)}</section>
<section><h2>Propagation delay</h2>${delayBars}
<table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
<tr><td>write → stored on a node</td><td>${r.delays.count.toLocaleString('en')}</td><td>${r.delays.p50} ms</td><td>${r.delays.p90} ms</td><td>${r.delays.p99} ms</td><td>${r.delays.max} ms</td></tr>
<tr><td>write → on every live honest node</td><td>${r.fullDelays.count.toLocaleString('en')}</td><td>${r.fullDelays.p50} ms</td><td>${r.fullDelays.p90} ms</td><td>${r.fullDelays.p99} ms</td><td>${r.fullDelays.max} ms</td></tr></table></section>
<section><h2>Conflicts</h2>${conflictsSection}</section>
<section><h2>Bytes per node</h2>${bytesBars}<p class="muted">Nodes sorted by total bytes; gossip mean ${fmtBytes(r.bytesPerNode.gossip.mean)} (max ${fmtBytes(r.bytesPerNode.gossip.max)}), reconciliation mean ${fmtBytes(r.bytesPerNode.reconcile.mean)} (max ${fmtBytes(r.bytesPerNode.reconcile.max)}).</p></section>
<section><h2>State at the end</h2><table><tr><th>nodes</th><th>events</th><th>state hash</th><th>open conflicts</th><th>resolved</th><th>records open / resolved / superseded</th></tr>${states}</table>
<p class="muted">One row per distinct event set among live honest nodes, computed by the shipped ingest (a second time in shuffled order to check that state is a function of the set).</p></section>
<section><h2>Counters</h2><table>${Object.entries(c)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v.toLocaleString('en')}</td></tr>`)
    .join('')}</table></section>
</main></body></html>
`
}

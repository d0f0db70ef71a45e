// Status and health, peers, the latest audit entries.
import { api } from './api.js'
import { $, AuthError, clear, el, short, state, timeOfMs } from './dom.js'

const AUDIT_SHOWN = 25

export async function loadStatus() {
  const [health, status] = await Promise.all([
    api('GET', '/health').catch((err) => {
      if (err instanceof AuthError) throw err
      return { ok: false }
    }),
    api('GET', '/status'),
  ])
  state.me = status
  const h = $('health')
  h.textContent = health?.ok ? 'healthy' : 'unhealthy'
  h.className = `badge ${health?.ok ? 'good' : 'bad'}`
  clear($('node-line'), `node ${short(status.node_id)} · v${status.version}`)
  const facts = [
    ['Node id', status.node_id],
    ['Public key', status.public_key],
    ['Version', status.version],
    ['Started', timeOfMs(Date.parse(status.started_at))],
    ['Events', status.events],
    ['Targets', status.targets],
    ['Open conflicts', status.conflicts_open],
    ['Last sequence', status.last_seq],
    ['Clock (HLC)', status.hlc],
    ['Members', status.members],
    ['State hash', status.state_hash],
    ['Ingest queue', status.ingest_queue ?? 0],
  ]
  clear(
    $('status'),
    facts.map(([k, v]) =>
      el('div', { class: 'fact' }, el('dt', { text: k }), el('dd', { text: String(v ?? '') })),
    ),
  )
}

export async function loadPeers() {
  const p = await api('GET', '/peers')
  const rows = p.peers ?? []
  $('peers-count').textContent = p.mesh
    ? `${rows.filter((r) => r.connected).length} connected / ${rows.length}`
    : 'mesh off'
  if (!p.mesh) {
    clear(
      $('peers'),
      el(
        'tr',
        {},
        el('td', { colspan: 5, class: 'muted', text: 'This node runs without the mesh (--no-mesh).' }),
      ),
    )
    return
  }
  if (rows.length === 0) {
    clear($('peers'), el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No peers yet.' })))
    return
  }
  clear(
    $('peers'),
    rows.map((r) =>
      el(
        'tr',
        { class: 'peer' },
        el('td', { class: 'mono', title: r.peerId, text: short(r.peerId) }),
        el(
          'td',
          {},
          el('span', {
            class: `badge ${r.connected ? 'good' : 'idle'}`,
            text: r.connected ? 'connected' : 'not connected',
          }),
        ),
        el('td', { text: syncText(r) }),
        el('td', { text: r.score === undefined ? '' : Number(r.score).toFixed(1) }),
        el('td', { class: 'mono small' }, (r.addrs ?? []).slice(0, 3).join('\n')),
      ),
    ),
  )
}

/** How far this node is from a peer: when a reconciliation last found nothing missing either
 *  way, else what the last one found (or the catch-up cursor of a node without reconciliation). */
function syncText(r) {
  if (r.inSyncAsOf !== undefined) return `in sync as of ${new Date(r.inSyncAsOf).toLocaleTimeString()}`
  const last = r.lastReconcile
  if (last !== undefined) {
    if (last.error !== undefined) return `last reconciliation failed: ${last.error}`
    return `${last.need} to fetch, ${last.have} to send (${new Date(last.at).toLocaleTimeString()})`
  }
  if (r.lastSeq !== undefined) return `pulled to seq ${r.lastSeq}`
  return 'not yet'
}

export async function loadAudit() {
  const { records } = await api('GET', `/audit?order=newest&limit=${AUDIT_SHOWN}`)
  if (records.length === 0) {
    clear($('audit'), el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No audit entries yet.' })))
    return
  }
  clear(
    $('audit'),
    records.map((r) =>
      el(
        'tr',
        {},
        el('td', { text: r.seq }),
        el('td', { class: 'nowrap', text: timeOfMs(r.atMs) }),
        el('td', {}, el('span', { class: 'tag', text: r.op })),
        el('td', { class: 'mono small', text: r.origin }),
        el('td', {}, el('code', { class: 'preview', text: JSON.stringify(r.detail).slice(0, 240) })),
      ),
    ),
  )
}

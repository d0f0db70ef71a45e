// gkm-sync web console: plain browser JavaScript, no build step. Every value shown comes from
// the node's API and is put on the page with textContent (never as HTML), so target ids and
// values, which are user data, cannot inject markup or script. The Content-Security-Policy the
// node sends allows only this file as script.

const TOKEN_KEY = 'gkm-sync-token'
const AUDIT_SHOWN = 25
const CONFLICTS_SHOWN = 50
const HISTORY_PAGE = 50
const STATUS_REFRESH_MS = 10_000

const $ = (id) => document.getElementById(id)

/** Builds an element; strings become text nodes, never markup. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') node.className = v
    else if (k === 'text') node.textContent = v
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    node.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return node
}

function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false))
}

const short = (hex) =>
  typeof hex === 'string' && hex.length > 16 ? `${hex.slice(0, 12)}…` : String(hex ?? '')
const json = (v) => (v === undefined ? 'undefined' : JSON.stringify(v, null, 2))
const timeOfHlc = (hlc) => {
  const wall = Number(String(hlc).split(':')[0])
  return Number.isFinite(wall)
    ? new Date(wall).toISOString().replace('T', ' ').replace('Z', ' UTC')
    : String(hlc)
}
const timeOfMs = (ms) =>
  Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : ''

class AuthError extends Error {}

const state = { me: undefined, conflictFilter: 'open', history: undefined }

async function api(method, path, body) {
  const headers = { accept: 'application/json' }
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let data
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = { error: 'bad_answer', message: text.slice(0, 200) }
  }
  if (res.status === 401) {
    showLogin(data?.message ?? 'this node needs a token')
    throw new AuthError(data?.message ?? 'unauthorized')
  }
  if (!res.ok) {
    const err = new Error(`${data?.error ?? res.status}: ${data?.message ?? res.statusText}`)
    err.status = res.status
    throw err
  }
  return data
}

// --- sign-in ---------------------------------------------------------------------------------

function showLogin(message) {
  $('main').hidden = true
  $('login').hidden = false
  $('logout').hidden = true
  $('health').hidden = true
  $('node-line').textContent = 'not signed in'
  $('login-error').textContent = sessionStorage.getItem(TOKEN_KEY) ? message : ''
  $('token').focus()
}

function showMain() {
  $('login').hidden = true
  $('main').hidden = false
  $('health').hidden = false
  $('logout').hidden = !sessionStorage.getItem(TOKEN_KEY)
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  sessionStorage.setItem(TOKEN_KEY, $('token').value)
  $('token').value = ''
  void refreshAll()
})

$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY)
  showLogin('')
})

// --- banner ----------------------------------------------------------------------------------

function banner(kind, ...parts) {
  const b = $('banner')
  b.className = `banner ${kind}`
  clear(b, parts)
  b.hidden = false
}

function failure(what, err) {
  if (err instanceof AuthError) return
  banner('bad', `${what} failed: ${err.message}`)
}

// --- status, health, peers ---------------------------------------------------------------------

async function loadStatus() {
  const [health, status] = await Promise.all([
    api('GET', '/health').catch((err) => {
      if (err instanceof AuthError) throw err
      return { ok: false }
    }),
    api('GET', '/status'),
  ])
  state.me = status
  showMain()
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

async function loadPeers() {
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
        el('td', { text: r.lastSeq === undefined ? 'not yet' : `seq ${r.lastSeq}` }),
        el('td', { text: r.score === undefined ? '' : Number(r.score).toFixed(1) }),
        el('td', { class: 'mono small' }, (r.addrs ?? []).slice(0, 3).join('\n')),
      ),
    ),
  )
}

// --- conflicts ---------------------------------------------------------------------------------

async function loadConflicts() {
  const { conflicts } = await api(
    'GET',
    `/sync/conflicts?status=${state.conflictFilter}&limit=${CONFLICTS_SHOWN}`,
  )
  $('conflicts-count').textContent = state.conflictFilter === 'open' ? String(conflicts.length) : ''
  if (conflicts.length === 0) {
    clear(
      $('conflicts'),
      el('p', {
        class: 'muted empty',
        text: `No ${state.conflictFilter === 'all' ? '' : `${state.conflictFilter} `}conflicts.`,
      }),
    )
    return
  }
  clear($('conflicts'), conflicts.map(conflictCard))
}

function conflictCard(c) {
  const id = c.id ?? c.conflict_id
  const sides = c.sides ?? []
  const card = el('article', {
    class: `conflict ${c.status}`,
    'data-conflict-id': id,
    'data-target': c.target,
  })
  const head = el(
    'header',
    { class: 'conflict-head' },
    el(
      'div',
      {},
      el('span', { class: 'target', text: c.target }),
      el('span', { class: 'muted', text: ` · ${c.type} · ${c.cell}` }),
    ),
    el('span', { class: `badge status ${c.status === 'open' ? 'warn' : 'good'}`, text: c.status }),
  )
  const sideList = el(
    'div',
    { class: 'sides' },
    sides.map((s) => {
      const mine = state.me && s.author === state.me.public_key
      // While open, the last-write-wins side is the value in effect; once resolved the
      // resolution's value is (shown in the history and the state).
      const inEffect = c.status === 'open' && s.digest === c.winner
      return el(
        'div',
        { class: `side${inEffect ? ' winner' : ''}`, 'data-author': s.author },
        el(
          'div',
          { class: 'side-meta' },
          el('span', { class: 'author mono', title: s.author, text: short(s.author) }),
          mine
            ? el('span', { class: 'tag', text: 'this node' })
            : el('span', { class: 'tag other', text: 'other node' }),
          inEffect
            ? el('span', { class: 'tag win', title: 'last write wins until resolved', text: 'in effect' })
            : null,
        ),
        el('div', { class: 'muted small', text: `${timeOfHlc(s.hlc)} · hlc ${s.hlc} · ${short(s.digest)}` }),
        el('pre', { class: 'value', text: s.deleted ? '(deleted)' : json(s.value) }),
      )
    }),
  )
  card.append(head, sideList)
  if (c.status === 'open') card.append(resolveControls(c, id, sides))
  else
    card.append(
      el(
        'p',
        { class: 'muted small resolved-by' },
        c.resolvedBy ? `resolved by event ${short(c.resolvedBy)}` : 'superseded by later writes',
        c.closedAtMs ? ` · ${timeOfMs(c.closedAtMs)}` : '',
      ),
    )
  card.append(
    el('button', {
      type: 'button',
      class: 'link',
      text: 'History of this target',
      onclick: () => openHistory(c.type, c.target),
    }),
  )
  return card
}

function resolveControls(c, id, sides) {
  const winner = sides.find((s) => s.digest === c.winner) ?? sides[0]
  const area = el('textarea', { class: 'merge-value', rows: 3, 'aria-label': 'merged value (JSON)' })
  area.value = winner && !winner.deleted ? JSON.stringify(winner.value) : ''
  const absent = el('input', { type: 'checkbox', class: 'merge-deleted' })
  const mergeBox = el(
    'div',
    { class: 'merge', hidden: true },
    el('label', { class: 'small', text: 'Merged value, as JSON (e.g. "Ada" or {"a":1})' }),
    area,
    el('label', { class: 'small check' }, absent, ' resolve to absent (delete the field)'),
    el('button', {
      type: 'button',
      class: 'apply-merge',
      text: 'Apply merge',
      onclick: () => {
        if (absent.checked) return resolve(id, 'manual_merge', { deleted: true })
        let value
        try {
          value = JSON.parse(area.value)
        } catch (err) {
          banner('bad', `The merged value is not JSON: ${err.message}`)
          return
        }
        return resolve(id, 'manual_merge', { value })
      },
    }),
  )
  return el(
    'div',
    { class: 'actions' },
    el('button', {
      type: 'button',
      class: 'prefer-local',
      text: 'Keep this node’s',
      onclick: () => resolve(id, 'prefer_local'),
    }),
    el('button', {
      type: 'button',
      class: 'prefer-remote',
      text: 'Keep the other node’s',
      onclick: () => resolve(id, 'prefer_remote'),
    }),
    el('button', {
      type: 'button',
      class: 'ghost manual-merge',
      text: 'Merge by hand…',
      onclick: () => {
        mergeBox.hidden = !mergeBox.hidden
      },
    }),
    mergeBox,
  )
}

async function resolve(conflictId, strategy, extra = {}) {
  try {
    const r = await api('POST', '/sync/resolve-conflict', {
      conflictId,
      resolutionStrategy: strategy,
      ...extra,
    })
    const ev = r.event
    const st = await api(
      'GET',
      `/state/${encodeURIComponent(ev.event_type)}/${encodeURIComponent(ev.target_id)}`,
    )
    banner(
      'good resolved-result',
      el('strong', { text: `Resolved (${strategy}). ` }),
      `Resolution event ${short(ev.digest)} written. `,
      el('span', { text: `${ev.target_id} is now: ` }),
      el('code', { class: 'result-value', text: JSON.stringify(st.value) }),
    )
    await Promise.all([loadConflicts(), loadStatus(), loadAudit()])
    if (state.history?.target === ev.target_id && state.history?.type === ev.event_type) await loadHistory()
  } catch (err) {
    failure('Resolving', err)
  }
}

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab)
    state.conflictFilter = tab.dataset.status
    loadConflicts().catch((err) => failure('Loading conflicts', err))
  })
}

// --- history and rollback ----------------------------------------------------------------------

function openHistory(type, target) {
  $('history-type').value = type
  $('history-target').value = target
  state.history = { type, target }
  loadHistory().catch((err) => failure('Loading history', err))
  $('history-card').scrollIntoView({ behavior: 'smooth', block: 'start' })
}

$('history-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  openHistory($('history-type').value, $('history-target').value)
})

async function loadHistory(cursor) {
  const { type, target } = state.history
  const base = `/state/${encodeURIComponent(type)}/${encodeURIComponent(target)}`
  const page = await api(
    'GET',
    `${base}/history?limit=${HISTORY_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  )
  if (!cursor) {
    let current
    try {
      current = await api('GET', base)
    } catch (err) {
      if (err.status !== 404) throw err
    }
    clear(
      $('history-state'),
      current === undefined
        ? el('p', { class: 'muted', text: `No events for ${type} “${target}” on this node.` })
        : el(
            'div',
            { class: 'current' },
            el('div', {
              class: 'small muted',
              text: `Current value · ${current.events} events · ${current.open_conflicts.length} open conflicts`,
            }),
            el('pre', { class: 'value current-value', text: json(current.value) }),
          ),
    )
    clear($('history'))
  }
  $('history-table').hidden = page.events.length === 0 && !cursor
  $('history').append(...page.events.map((e) => historyRow(type, target, e)))
  const more = $('history-more')
  more.hidden = !page.has_more
  more.onclick = () => loadHistory(page.next_cursor).catch((err) => failure('Loading history', err))
}

function historyRow(type, target, e) {
  const mine = state.me && e.author === state.me.public_key
  const button = el('button', { type: 'button', class: 'ghost rollback', text: 'Roll back to here' })
  let armed
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = 'Confirm rollback'
      button.classList.add('danger')
      armed = setTimeout(() => {
        armed = undefined
        button.textContent = 'Roll back to here'
        button.classList.remove('danger')
      }, 5000)
      return
    }
    clearTimeout(armed)
    armed = undefined
    try {
      const r = await api('POST', '/sync/rollback', {
        event_type: type,
        target_id: target,
        to_event: e.digest,
      })
      banner(
        'good',
        el('strong', { text: 'Rolled back. ' }),
        `Event ${short(r.event.digest)} restores ${r.cells} cell(s) as of ${short(e.digest)}.`,
      )
      await Promise.all([loadHistory(), loadAudit(), loadStatus()])
    } catch (err) {
      failure('Rollback', err)
    }
  })
  return el(
    'tr',
    { 'data-digest': e.digest },
    el('td', { class: 'nowrap', text: timeOfHlc(e.hlc) }),
    el(
      'td',
      {},
      el('span', { class: 'mono', title: e.author, text: short(e.author) }),
      mine ? el('span', { class: 'tag', text: 'this node' }) : null,
    ),
    el('td', {}, e.op ? el('span', { class: 'tag', text: e.op }) : ''),
    el('td', {}, el('code', { class: 'digest', title: 'select to copy', text: e.digest })),
    el('td', {}, el('code', { class: 'preview', text: e.payload_preview })),
    el('td', {}, button),
  )
}

// --- audit -------------------------------------------------------------------------------------

async function loadAudit() {
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

// --- refresh -----------------------------------------------------------------------------------

async function refreshAll() {
  try {
    await loadStatus()
    await Promise.all([loadPeers(), loadConflicts(), loadAudit()])
  } catch (err) {
    failure('Loading', err)
  }
}

$('refresh').addEventListener('click', () => {
  $('banner').hidden = true
  void refreshAll()
})

// Status, peers and the audit list follow the node; the conflict inbox and history reload on
// demand (so an open merge editor is not redrawn under the user's hands).
setInterval(() => {
  if ($('main').hidden || document.hidden) return
  Promise.all([loadStatus(), loadPeers(), loadAudit()]).catch((err) => failure('Refreshing', err))
}, STATUS_REFRESH_MS)

void refreshAll()

// The conflict inbox: each conflict's sides, and resolving it.
import { api } from './api.js'
import { $, banner, clear, el, failure, json, short, state, timeOfHlc, timeOfMs } from './dom.js'
import { loadHistory, openHistory } from './history.js'
import { loadAudit, loadStatus } from './overview.js'

const CONFLICTS_SHOWN = 50

export async function loadConflicts() {
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

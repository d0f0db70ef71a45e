// A target's history, newest first, with a rollback button on every event.
import { api } from './api.js'
import { $, banner, clear, el, failure, json, short, state, timeOfHlc } from './dom.js'
import { loadAudit, loadStatus } from './overview.js'

const HISTORY_PAGE = 50

export function openHistory(type, target) {
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

export async function loadHistory(cursor) {
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

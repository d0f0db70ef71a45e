// gkm-sync web console: plain browser JavaScript modules, no build step. Every value shown comes
// from the node's API and is put on the page with textContent (never as HTML), so target ids and
// values, which are user data, cannot inject markup or script. The Content-Security-Policy the
// node sends allows only these files as script.
import { TOKEN_KEY } from './api.js'
import { loadConflicts } from './conflicts.js'
import { $, failure } from './dom.js'
import { loadAudit, loadPeers, loadStatus } from './overview.js'

const STATUS_REFRESH_MS = 10_000

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

document.addEventListener('gkm:unauthorized', (ev) => showLogin(ev.detail || 'this node needs a token'))

// --- refresh -----------------------------------------------------------------------------------

async function refreshAll() {
  try {
    await loadStatus()
    showMain()
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

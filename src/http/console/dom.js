// Page helpers: building elements from text, formatting, the result banner.

export const $ = (id) => document.getElementById(id)

/** Builds an element; strings become text nodes, never markup. */
export function el(tag, attrs, ...children) {
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

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false))
}

export const short = (hex) =>
  typeof hex === 'string' && hex.length > 16 ? `${hex.slice(0, 12)}…` : String(hex ?? '')
export const json = (v) => (v === undefined ? 'undefined' : JSON.stringify(v, null, 2))
export const timeOfHlc = (hlc) => {
  const wall = Number(String(hlc).split(':')[0])
  return Number.isFinite(wall)
    ? new Date(wall).toISOString().replace('T', ' ').replace('Z', ' UTC')
    : String(hlc)
}
export const timeOfMs = (ms) =>
  Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : ''

/** Thrown by api() on 401 (the page then asks for the token). */
export class AuthError extends Error {}

/** Shared page state: this node's status, the conflict filter, the target whose history shows. */
export const state = { me: undefined, conflictFilter: 'open', history: undefined }

export function banner(kind, ...parts) {
  const b = $('banner')
  b.className = `banner ${kind}`
  clear(b, parts)
  b.hidden = false
}

export function failure(what, err) {
  if (err instanceof AuthError) return
  banner('bad', `${what} failed: ${err.message}`)
}

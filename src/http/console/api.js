// Calls to the node's API, with the token this tab signed in with.
import { AuthError } from './dom.js'

export const TOKEN_KEY = 'gkm-sync-token'

/** JSON request; throws AuthError on 401 (and tells the page, which shows the sign-in form) and
 *  an Error naming the API's error code otherwise. */
export async function api(method, path, body) {
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
    document.dispatchEvent(new CustomEvent('gkm:unauthorized', { detail: data?.message ?? '' }))
    throw new AuthError(data?.message ?? 'unauthorized')
  }
  if (!res.ok) {
    const err = new Error(`${data?.error ?? res.status}: ${data?.message ?? res.statusText}`)
    err.status = res.status
    throw err
  }
  return data
}

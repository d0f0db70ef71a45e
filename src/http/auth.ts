/** Bearer-token check for the HTTP API. */
import { createHash, timingSafeEqual } from 'node:crypto'
import { UnauthorizedError } from './errors.ts'

/**
 * Returns a check that throws `UnauthorizedError` unless the `Authorization` header carries
 * `Bearer <token>`. Both sides are hashed first, so the comparison takes the same time whatever
 * the length or content of the guess.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => void {
  const expected = sha256(token)
  return (authorization) => {
    const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
    if (m === null)
      throw new UnauthorizedError('this node requires "Authorization: Bearer <token>" (http.token)')
    if (!timingSafeEqual(sha256(m[1]), expected))
      throw new UnauthorizedError('the bearer token is not valid for this node')
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

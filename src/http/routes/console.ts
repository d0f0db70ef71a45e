/**
 * The web console: three static files (src/http/console/) served at `/`, `/console/app.js` and
 * `/console/app.css`. They hold no data, so they are served without the token; every piece of
 * data the page shows comes from the API with `Authorization: Bearer <token>` (the page asks for
 * the token and keeps it in sessionStorage). A strict Content-Security-Policy allows only the
 * node's own script, style and API: no inline script, no other origin, no framing.
 */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

/** The page's policy: its own script and stylesheet, fetches to its own origin, nothing else. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
}

/** Paths the token check lets through: the static files (no data in them). */
export const CONSOLE_PATHS: ReadonlySet<string> = new Set(Object.keys(FILES))

export function registerConsoleRoutes(app: FastifyInstance): void {
  const dir = new URL('../console/', import.meta.url)
  for (const [path, { file, type }] of Object.entries(FILES)) {
    // Read once at start: a few KB, and a missing file fails the start, not a later request.
    const body = readFileSync(new URL(file, dir))
    app.get(path, async (_req, reply) =>
      reply
        .type(type)
        .header('content-security-policy', CONSOLE_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header('cache-control', 'no-cache')
        .send(body),
    )
  }
}

/**
 * The web console: the static files of src/http/console/ served at `/` (index.html) and
 * `/console/<file>` (its stylesheet and script modules). They hold no data, so they are served without the token; every piece of
 * data the page shows comes from the API with `Authorization: Bearer <token>` (the page asks for
 * the token and keeps it in sessionStorage). A strict Content-Security-Policy allows only the
 * node's own script, style and API: no inline script, no other origin, no framing.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { HttpLog } from './context.ts'

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

const JS = 'text/javascript; charset=utf-8'
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  // the page's script: browser modules, app.js imports the others
  ...Object.fromEntries(
    ['app', 'api', 'dom', 'overview', 'conflicts', 'history'].map((m) => [
      `/console/${m}.js`,
      { file: `${m}.js`, type: JS },
    ]),
  ),
}

/** Paths the token check lets through: the static files (no data in them). */
export const CONSOLE_PATHS: ReadonlySet<string> = new Set(Object.keys(FILES))

export function registerConsoleRoutes(app: FastifyInstance, log: HttpLog): void {
  const dir = new URL('../console/', import.meta.url)
  for (const [path, { file, type }] of Object.entries(FILES)) {
    // Read once at start (a few KB). An installation without the files still runs the API; the
    // console's routes then say what is missing.
    const url = new URL(file, dir)
    let body: Buffer
    try {
      body = readFileSync(url)
    } catch (err) {
      const message = `the web console's file ${fileURLToPath(url)} is missing from this installation (${(err as Error).message})`
      log.warn(message)
      app.get(path, async (_req, reply) => reply.code(500).send({ error: 'internal', message }))
      continue
    }
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

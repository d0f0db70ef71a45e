/**
 * A small HTTP client for a running node's API (docs/API.md). Turns every failure into a
 * `RequestFailedError` whose message says what happened and what to try.
 */
import { CliUsageError, RequestFailedError } from './errors.ts'

/** A request that takes longer than this has hung: the node answers in milliseconds. */
const REQUEST_TIMEOUT_MS = 60_000

/** Bytes of an unexpected (non-JSON) answer shown in a message. */
const SNIPPET_CHARS = 200

export const DEFAULT_NODE_URL = 'http://127.0.0.1:7420'

/** `http://host:port`, `https://...`, or a bare `host:port`. */
export function parseNodeUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new CliUsageError(`--node must be a URL such as ${DEFAULT_NODE_URL} (got ${JSON.stringify(text)})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliUsageError(`--node must be an http:// or https:// URL (got ${JSON.stringify(text)})`)
  }
  return url
}

export interface NodeClientInit {
  readonly base: URL
  readonly token?: string
}

export class NodeClient {
  readonly #base: URL
  readonly #token: string | undefined

  constructor(init: NodeClientInit) {
    this.#base = init.base
    this.#token = init.token
  }

  /** A JSON request; resolves with the parsed answer of a 2xx response. */
  async json(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    const res = await this.#send(method, path, body, 'application/json', timeoutMs)
    const text = await res.text()
    try {
      return JSON.parse(text)
    } catch {
      throw new RequestFailedError(
        `the node at ${this.#base.origin} answered with something that is not JSON: ${snippet(text)}`,
        {
          status: res.status,
        },
      )
    }
  }

  /** An NDJSON request: calls `onLine` with each line as it arrives (no overall timeout unless
   *  `timeoutMs`). */
  async ndjson(
    path: string,
    body: unknown,
    onLine: (line: string) => void,
    timeoutMs?: number,
  ): Promise<void> {
    const res = await this.#send('POST', path, body, 'application/x-ndjson', timeoutMs)
    const decoder = new TextDecoder()
    let rest = ''
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        rest += decoder.decode(chunk, { stream: true })
        let nl = rest.indexOf('\n')
        while (nl >= 0) {
          const line = rest.slice(0, nl)
          rest = rest.slice(nl + 1)
          if (line.trim() !== '') onLine(line)
          nl = rest.indexOf('\n')
        }
      }
    } catch (err) {
      throw new RequestFailedError(
        `the connection to ${this.#base.origin} broke during the stream: ${describe(err)}`,
        { cause: err },
      )
    }
    rest += decoder.decode()
    if (rest.trim() !== '') onLine(rest)
  }

  /**
   * A long request with progress (`POST /sync/reconcile`, `POST /admin/backup`, as NDJSON: see
   * src/http/progress-stream.ts): calls `onProgress` with each `progress` line and resolves
   * with the result of the last line. A node that answers plain JSON (an older version) gives
   * its answer as the result, without progress.
   */
  async withProgress(
    path: string,
    body: unknown,
    onProgress: (progress: unknown) => void,
    timeoutMs?: number,
  ): Promise<unknown> {
    let result: unknown
    let failure: { error?: unknown; message?: unknown } | undefined
    let ended = false
    await this.ndjson(
      path,
      body,
      (line) => {
        let value: Record<string, unknown>
        try {
          value = JSON.parse(line) as Record<string, unknown>
        } catch {
          throw new RequestFailedError(
            `the node at ${this.#base.origin} answered with something that is not JSON: ${snippet(line)}`,
          )
        }
        if (value === null || typeof value !== 'object') return
        if ('progress' in value) {
          onProgress(value.progress)
          return
        }
        ended = true
        if (value.done === false) {
          failure = value
          return
        }
        const { done: _done, ...rest } = value
        result = rest
      },
      timeoutMs,
    )
    if (failure !== undefined) {
      const code = typeof failure.error === 'string' ? failure.error : undefined
      const message = typeof failure.message === 'string' ? failure.message : 'the request failed'
      throw new RequestFailedError(`${message}${code === undefined ? '' : ` (${code})`}`, { code })
    }
    if (!ended)
      throw new RequestFailedError(`the node at ${this.#base.origin} ended the answer before its result`)
    return result
  }

  async #send(
    method: string,
    path: string,
    body: unknown,
    accept: string,
    timeoutMs?: number,
  ): Promise<Response> {
    const url = new URL(path, this.#base)
    const headers: Record<string, string> = { accept }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new RequestFailedError(
          `the node at ${this.#base.origin} did not answer within ${(timeoutMs ?? 0) / 1000} s`,
          { cause: err },
        )
      }
      throw new RequestFailedError(
        `cannot reach the node at ${this.#base.origin} (${describe(err)}); is \`gkm-sync start\` running there? (--node URL)`,
        { cause: err },
      )
    }
    if (res.ok) return res
    const text = await res.text().catch(() => '')
    let answer: { error?: unknown; message?: unknown } = {}
    try {
      answer = JSON.parse(text) as typeof answer
    } catch {
      // not our error format: shown as a snippet below
    }
    const code = typeof answer.error === 'string' ? answer.error : undefined
    const message = typeof answer.message === 'string' ? answer.message : snippet(text)
    const hint =
      res.status === 401
        ? '; pass --token or set GKM_HTTP_TOKEN'
        : res.status === 404 && code === 'not_found' && message.startsWith('no route')
          ? '; is the node running a gkm-sync version with this route?'
          : ''
    throw new RequestFailedError(
      `${message} (HTTP ${res.status}${code === undefined ? '' : ` ${code}`})${hint}`,
      {
        status: res.status,
        code,
      },
    )
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return err instanceof Error ? err.message : String(err)
}

function snippet(text: string): string {
  const t = text.trim()
  if (t === '') return '(empty answer)'
  return JSON.stringify(t.length > SNIPPET_CHARS ? `${t.slice(0, SNIPPET_CHARS)}...` : t)
}

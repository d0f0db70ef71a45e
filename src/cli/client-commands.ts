/**
 * Commands that talk to a running node over its HTTP API: push, pull, conflicts, resolve,
 * rollback, status, state, audit, equivocations, peers. Parsing and printing only; the node
 * validates and answers (docs/API.md).
 */

import { readFile } from 'node:fs/promises'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULT_NODE_URL, NodeClient, parseNodeUrl } from './client.ts'
import { CliUsageError, RequestFailedError } from './errors.ts'
import { type CliIo, printJson } from './io.ts'
import { isTty, progressBar, progressLine } from './progress.ts'
import { batches, parseEvents } from './push-input.ts'

interface ClientOptions {
  node?: string
  token?: string
  json?: boolean
}

/** `--node`, `--token`, `--json` on every client command. */
function clientOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--node <url>', `node API address (env GKM_NODE; default ${DEFAULT_NODE_URL})`).argParser(
        notAnOption('--node'),
      ),
    )
    .addOption(
      new Option('--token <token>', 'bearer token of the node API (env GKM_HTTP_TOKEN)').argParser(
        notAnOption('--token'),
      ),
    )
    .option('--json', 'print compact JSON (one line) instead of pretty JSON')
}

/** `--node --json` would otherwise take "--json" as the URL. */
function notAnOption(flag: string): (value: string) => string {
  return (value) => {
    if (value.startsWith('-'))
      throw new InvalidArgumentError(`${flag} needs a value (got the option ${value})`)
    return value
  }
}

/** `--since` is checked here so that a bad one is reported as `--since`, not as the API's
 *  `last_sync_time`. */
function sinceOption(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(Date.parse(value)))
    throw new InvalidArgumentError(
      `not an ISO 8601 time such as 2026-01-01T00:00:00Z (got ${JSON.stringify(value)})`,
    )
  return value
}

function clientFor(io: CliIo, opts: ClientOptions): NodeClient {
  const base = parseNodeUrl(opts.node ?? io.env.GKM_NODE ?? DEFAULT_NODE_URL)
  const token = opts.token ?? (io.env.GKM_HTTP_TOKEN === '' ? undefined : io.env.GKM_HTTP_TOKEN)
  return new NodeClient({ base, token })
}

export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`must be an integer ${min}..${max}`)
    }
    return Number(value)
  }
}

const enc = encodeURIComponent

export function registerClientCommands(program: Command, io: CliIo): void {
  clientOptions(
    program
      .command('push')
      .description(
        'push events to a node (a JSON array, { "events": [...] }, or NDJSON; large files go in several pushes)',
      )
      .argument('<file>', 'file of events, or - for standard input'),
  )
    .addHelpText(
      'after',
      `
Events are local writes (event_type, target_id, payload; optional event_id, timestamp) or
complete signed events. Exit code 2 when any event was rejected (the result lists why).

Example:
  echo '{"event_type":"persona_update","target_id":"p1","payload":{"op":"set","fields":{"name":"Ada"}}}' | gkm-sync push -`,
    )
    .action(async (file: string, opts: ClientOptions) => {
      const client = clientFor(io, opts)
      const name = file === '-' ? 'standard input' : file
      const events = parseEvents(file === '-' ? await readStdin(io) : await readText(file), name)
      const total = {
        accepted: 0,
        duplicates: 0,
        rejected: [] as Array<Record<string, unknown>>,
        digests: [] as string[],
      }
      let sent = 0
      const all = [...batches(events)]
      // Only pushes that take several requests show progress (on stderr: stdout stays JSON).
      const bar = all.length > 1 ? progressBar(io.stderr, 'pushing', isTty(io.stderr)) : undefined
      for (const batch of all) {
        let result: typeof total
        try {
          result = (await client.json('POST', '/sync/push', batch)) as typeof total
        } catch (err) {
          if (sent > 0 && err instanceof RequestFailedError) {
            throw new RequestFailedError(
              `${err.message}; ${sent} of ${events.length} events were pushed before this`,
              {
                status: err.status,
                code: err.code,
                cause: err,
              },
            )
          }
          throw err
        }
        total.accepted += result.accepted
        total.duplicates += result.duplicates
        total.rejected.push(...result.rejected)
        total.digests.push(...result.digests)
        sent += batch.length
        bar?.update(sent, events.length)
      }
      bar?.done()
      printJson(io, total, opts.json === true)
      if (total.rejected.length > 0) {
        throw new RequestFailedError(
          `${total.rejected.length} of ${events.length} events were rejected (see "rejected")`,
        )
      }
    })

  clientOptions(
    program
      .command('pull')
      .description('pull events from a node: one page, or every page with --stream (NDJSON)')
      .option(
        '--since <iso>',
        'events at or after this time (ISO 8601, e.g. 2026-01-01T00:00:00Z)',
        sinceOption,
      )
      .option('--types <list>', 'comma list of event types (vector, persona, document, graph or full names)')
      .option('--cursor <cursor>', 'continue from a previous next_cursor')
      .option('--limit <n>', 'events per page (1..5000)', intOption(1, 5000))
      .option('--stream', 'page through everything, printing one event per line (NDJSON)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  gkm-sync pull --since 2026-01-01T00:00:00Z --types persona,graph
  gkm-sync pull --stream > events.ndjson     # the last line is {"next_cursor": ..., "done": true}`,
    )
    .action(
      async (
        opts: ClientOptions & {
          since?: string
          types?: string
          cursor?: string
          limit?: number
          stream?: boolean
        },
      ) => {
        const client = clientFor(io, opts)
        const body: Record<string, unknown> = {}
        if (opts.since !== undefined) body.last_sync_time = opts.since
        if (opts.types !== undefined)
          body.data_types = opts.types
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== '')
        if (opts.cursor !== undefined) body.cursor = opts.cursor
        if (opts.limit !== undefined) body.limit = opts.limit
        if (opts.stream !== true) {
          printJson(io, await client.json('POST', '/sync/pull', body), opts.json === true)
          return
        }
        let last: { done?: unknown; next_cursor?: unknown; message?: unknown } | undefined
        await client.ndjson('/sync/pull', { ...body, stream: true }, (line) => {
          io.stdout.write(`${line}\n`)
          try {
            last = JSON.parse(line) as typeof last
          } catch {
            last = undefined
          }
        })
        if (last?.done !== true) {
          const resume =
            typeof last?.next_cursor === 'string' ? `; resume with --cursor ${last.next_cursor}` : ''
          const why =
            typeof last?.message === 'string' ? last.message : 'the stream ended before its last line'
          throw new RequestFailedError(`${why}${resume}`)
        }
      },
    )

  clientOptions(
    program
      .command('conflicts')
      .description('list conflicts the node detected')
      .addOption(
        new Option('--status <status>', 'which conflicts')
          .choices(['open', 'resolved', 'superseded', 'all'])
          .default('open'),
      )
      .option('--limit <n>', 'at most this many (1..1000)', intOption(1, 1000)),
  ).action(async (opts: ClientOptions & { status: string; limit?: number }) => {
    const q = new URLSearchParams({ status: opts.status })
    if (opts.limit !== undefined) q.set('limit', String(opts.limit))
    printJson(io, await clientFor(io, opts).json('GET', `/sync/conflicts?${q}`), opts.json === true)
  })

  clientOptions(
    program
      .command('resolve')
      .description('resolve a conflict; the resolution is signed and reaches every node')
      .argument('<conflict-id>', 'id from `gkm-sync conflicts`')
      .addOption(
        new Option('--strategy <strategy>', 'how to resolve')
          .choices(['prefer_local', 'prefer_remote', 'manual_merge'])
          .makeOptionMandatory(),
      )
      .option('--value <json>', 'manual_merge: the merged value, as JSON')
      .option('--deleted', 'manual_merge: resolve to "absent" instead of a value'),
  )
    .addHelpText(
      'after',
      `
Example:
  gkm-sync resolve 3f2a... --strategy manual_merge --value '{"name":"Ada Lovelace"}'`,
    )
    .action(
      async (id: string, opts: ClientOptions & { strategy: string; value?: string; deleted?: boolean }) => {
        const body: Record<string, unknown> = { conflictId: id, resolutionStrategy: opts.strategy }
        if (opts.value !== undefined) {
          try {
            body.value = JSON.parse(opts.value)
          } catch (err) {
            throw new CliUsageError(
              `--value must be JSON (quote strings: '"text"'): ${(err as Error).message}`,
            )
          }
        }
        if (opts.deleted === true) body.deleted = true
        printJson(
          io,
          await clientFor(io, opts).json('POST', '/sync/resolve-conflict', body),
          opts.json === true,
        )
      },
    )

  clientOptions(
    program
      .command('rollback')
      .description('restore a target to an earlier state (a new signed event; history is kept)')
      .argument('<type>', 'event type (vector, persona, document, graph or full name)')
      .argument('<target>', 'target id')
      .option('--to-time <iso>', 'the state as of this time (ISO 8601)')
      .option('--to-event <digest>', 'the state as of this event (its digest)'),
  ).action(
    async (type: string, target: string, opts: ClientOptions & { toTime?: string; toEvent?: string }) => {
      if ((opts.toTime === undefined) === (opts.toEvent === undefined)) {
        throw new CliUsageError('rollback needs exactly one of --to-time ISO or --to-event DIGEST')
      }
      const body: Record<string, unknown> = { event_type: type, target_id: target }
      if (opts.toTime !== undefined) body.to_time = opts.toTime
      if (opts.toEvent !== undefined) body.to_event = opts.toEvent
      printJson(io, await clientFor(io, opts).json('POST', '/sync/rollback', body), opts.json === true)
    },
  )

  clientOptions(
    program.command('status').description("show the node's status: id, counts, state hash, clock"),
  ).action(async (opts: ClientOptions) => {
    const status = (await clientFor(io, opts).json('GET', '/status')) as { storage?: unknown }
    printJson(io, status, opts.json === true)
    // A degraded node (full disk, damaged store) answers, but a script must notice: exit 2.
    if (typeof status?.storage === 'string' && status.storage.startsWith('degraded')) {
      throw new RequestFailedError(`the node is ${status.storage}`)
    }
  })

  clientOptions(
    program
      .command('state')
      .description('show the merged state of one target')
      .argument('<type>', 'event type (vector, persona, document, graph or full name)')
      .argument('<target>', 'target id'),
  ).action(async (type: string, target: string, opts: ClientOptions) => {
    printJson(
      io,
      await clientFor(io, opts).json('GET', `/state/${enc(type)}/${enc(target)}`),
      opts.json === true,
    )
  })

  clientOptions(
    program
      .command('audit')
      .description("show the node's audit log")
      .option('--after <seq>', 'records after this sequence number', intOption(0, Number.MAX_SAFE_INTEGER))
      .option('--limit <n>', 'at most this many (1..1000)', intOption(1, 1000)),
  ).action(async (opts: ClientOptions & { after?: number; limit?: number }) => {
    const q = new URLSearchParams()
    if (opts.after !== undefined) q.set('after', String(opts.after))
    if (opts.limit !== undefined) q.set('limit', String(opts.limit))
    const query = q.size > 0 ? `?${q}` : ''
    printJson(io, await clientFor(io, opts).json('GET', `/audit${query}`), opts.json === true)
  })

  clientOptions(
    program
      .command('equivocations')
      .description(
        'list equivocations: two events one author signed at one position of its log, or under one event_id',
      )
      .option('--limit <n>', 'at most this many (1..1000)', intOption(1, 1000)),
  ).action(async (opts: ClientOptions & { limit?: number }) => {
    const query = opts.limit === undefined ? '' : `?limit=${opts.limit}`
    printJson(io, await clientFor(io, opts).json('GET', `/sync/equivocations${query}`), opts.json === true)
  })

  clientOptions(
    program
      .command('sync')
      .argument('[peer]', 'peer id to reconcile with (default: every connected peer)')
      .description(
        'reconcile now with a peer (or all connected peers) and print what each session found and moved',
      ),
  ).action(async (peer: string | undefined, opts: ClientOptions) => {
    // Progress on stderr (stdout stays the JSON answer), summed over peers: counts while the
    // sets are compared, then a bar once every session knows what it will move.
    const tty = isTty(io.stderr)
    const line = progressLine(io.stderr, 'reconciling', tty)
    const bar = progressBar(io.stderr, 'syncing', tty)
    const sessions = new Map<string, ReconcileProgress>()
    const result = await clientFor(io, opts)
      .withProgress('/sync/reconcile', peer === undefined ? {} : { peer }, (p) => {
        const s = p as ReconcileProgress
        if (typeof s?.peer !== 'string') return
        sessions.set(s.peer, s)
        const all = [...sessions.values()]
        const total = sessionTotal(all)
        if (total === undefined) line.update(describeSessions(all))
        else {
          line.done()
          const done = all.reduce((n, x) => n + (Number(x.fetched) || 0) + (Number(x.sent) || 0), 0)
          bar.update(Math.min(done, total), total, `${Math.min(done, total)} of ${total} events`)
        }
      })
      .finally(() => {
        line.done()
        bar.done()
      })
    printJson(io, result, opts.json === true)
  })

  // The client options on `peers` itself too: `gkm-sync peers --node URL` (list is the default)
  // and `peers --help` lists them.
  const peers = clientOptions(program.command('peers').description("list the node's mesh peers, or add one"))
  const withParent = (opts: ClientOptions): ClientOptions => ({ ...(peers.opts() as ClientOptions), ...opts })
  clientOptions(
    peers.command('list', { isDefault: true }).description('list connected and known peers'),
  ).action(async (own: ClientOptions) => {
    const opts = withParent(own)
    printJson(io, await clientFor(io, opts).json('GET', '/peers'), opts.json === true)
  })
  clientOptions(
    peers
      .command('add')
      .description('dial a peer and remember it')
      .argument('<multiaddr>', 'e.g. /ip4/192.168.1.20/tcp/7421/p2p/12D3KooW...'),
  ).action(async (multiaddr: string, own: ClientOptions) => {
    const opts = withParent(own)
    printJson(io, await clientFor(io, opts).json('POST', '/peers', { multiaddr }), opts.json === true)
  })
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliUsageError(
      code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file} (${code ?? String(err)})`,
    )
  }
}

async function readStdin(io: CliIo): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of io.stdin)
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
  return text + decoder.decode()
}

/** What `POST /sync/reconcile` streams per session (src/net/anti-entropy.ts ReconcileProgress). */
interface ReconcileProgress {
  readonly peer: string
  readonly phase: string
  readonly fetched: number
  readonly sent: number
  readonly to_fetch?: number
  readonly to_send?: number
}

/** Events all sessions will move, once every one of them has compared its sets. */
export function sessionTotal(sessions: readonly ReconcileProgress[]): number | undefined {
  let total = 0
  for (const s of sessions) {
    if (typeof s.to_fetch !== 'number' || typeof s.to_send !== 'number') return undefined
    total += s.to_fetch + s.to_send
  }
  return total
}

/** "2 peers: fetched 4000 events, sent 12 (fetching)". */
export function describeSessions(sessions: readonly ReconcileProgress[]): string {
  const fetched = sessions.reduce((n, s) => n + (Number(s.fetched) || 0), 0)
  const sent = sessions.reduce((n, s) => n + (Number(s.sent) || 0), 0)
  const phases = [...new Set(sessions.map((s) => s.phase))].join(', ')
  const who = sessions.length === 1 ? `peer ${sessions[0].peer.slice(0, 16)}...` : `${sessions.length} peers`
  return `${who}: fetched ${fetched} events, sent ${sent} (${phases})`
}

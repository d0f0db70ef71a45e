/**
 * The one config schema of a node: every field, its type, its range and its message when wrong.
 * Defaults live in defaults.ts; loading and merging (file < environment < flags) in load.ts.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { CONFIG_EVENT_TYPES, LOG_LEVELS, SHORT_EVENT_TYPES, SINK_KINDS } from './defaults.ts'
import type { ConfigIssue } from './errors.ts'

export type ConfigEventType = (typeof CONFIG_EVENT_TYPES)[number]
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A node's configuration, validated and with defaults applied. Paths are absolute. */
export interface GkmConfig {
  /** Directory of the node's store and identity key. */
  dataDir: string
  /** Name of the federation; informational. */
  federation: string
  http: {
    host: string
    /** 0 lets the OS pick a port (tests). */
    port: number
    /** Bearer token required on every route when set; required for a non-loopback host. */
    token?: string
    /** Largest request body, checked before it is parsed. */
    bodyBytesMax: number
  }
  /** Event types this node replicates (spec short names are normalised to full names). */
  dataTypes: ConfigEventType[]
  hlcDriftMaxMs: number
  /** Allow-list of authors: 64-hex Ed25519 public keys, lowercase. Absent: open federation. */
  members?: string[]
  /** A JSON array or text file (one key per line) of members; loaded by the node. */
  membersFile?: string
  ingest: { groupEventsMax: number; queueEventsMax: number; queueBytesMax: number; groupBytesMax: number }
  yjs: { workers: number; timeoutMs: number; memoryMb: number }
  /** Multiaddrs the mesh listens on. */
  listen: string[]
  mdns: { enabled: boolean; interface?: string }
  /** Multiaddrs of peers to dial, or paths of files listing them (see `isMultiaddrText`). */
  bootstrap: string[]
  /** Private-network key file (libp2p pnet). */
  pnetKeyFile?: string
  /** `reconcileIntervalMs`: anti-entropy period (0 = on connect and on demand only);
   *  `gossip`: false sends events by reconciliation only; `targetConnections`: direct
   *  connections to keep by peer exchange (0 = off); `directPeersMax`: direct fan-out (one
   *  stream per peer) while connected peers <= it, gossipsub above (0 = gossip only);
   *  `ingestGatherMs`: how long events arriving at an idle node wait for more before they are
   *  stored together (one group commit; 0 = store at once). */
  mesh: {
    enabled: boolean
    reconcileIntervalMs: number
    gossip: boolean
    targetConnections: number
    directPeersMax: number
    ingestGatherMs: number
  }
  limits: {
    connectionsMax: number
    inboundConnectionThreshold: number
    streamsPerProtocolInbound: number
    streamsPerProtocolOutbound: number
    streamOpensPerPeerPerSecond: number
    frameBytesMax: number
  }
  log: { level: LogLevel }
  /** Application adapters (docs/ADAPTERS.md): each keeps one store in step with the node. */
  sinks: SinkConfig[]
}

/** One sink: `--sink kind=target`, or an entry of the config file's `sinks`. */
export interface SinkConfig {
  kind: (typeof SINK_KINDS)[number]
  /** Connection URL (postgres, mongodb, neo4j) or directory (lancedb). */
  target: string
  /** Name in /status and key of its checkpoint; defaults to the kind. Unique per node. */
  name?: string
  /** Event types it stores (defaults per kind, docs/ADAPTERS.md). */
  types?: ConfigEventType[]
  /** Table/collection prefix (postgres, mongodb); default gkm_. */
  prefix?: string
  /** postgres only: also push the application's direct writes to the sink's tables (outbox). */
  source?: boolean
}

const KiB = 1024
const MiB = 1024 * KiB

/** Multiaddr protocols a listen or bootstrap address may start with. Anything else in
 *  `bootstrap` is a file path. */
const MULTIADDR_RE = /^\/(ip4|ip6|dns|dns4|dns6|dnsaddr|unix|p2p)\/\S+$/

/** True when a `bootstrap` entry is a multiaddr rather than a file path. */
export function isMultiaddrText(text: string): boolean {
  return MULTIADDR_RE.test(text)
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (h.startsWith('::ffff:')) return isIP(h.slice(7)) === 4 && h.slice(7).startsWith('127.')
  return false
}

function intIn(min: number, max: number, unit = ''): z.ZodInt {
  const error = `must be an integer ${min}..${max}${unit === '' ? '' : ` (${unit})`}`
  return z.int({ error }).min(min, { error }).max(max, { error })
}

const bool = z.boolean({ error: 'must be true or false' })
const nonEmpty = (what: string, max = 4096) => {
  const error = `must be ${what} (1..${max} characters)`
  return z.string({ error }).min(1, { error }).max(max, { error })
}
const path = nonEmpty('a path')
const multiaddr = z
  .string({ error: 'must be a multiaddr such as /ip4/0.0.0.0/tcp/7421' })
  .max(1024, { error: 'must be at most 1024 characters' })
  .regex(MULTIADDR_RE, { error: 'must be a multiaddr such as /ip4/0.0.0.0/tcp/7421' })
const typeNames = [...CONFIG_EVENT_TYPES, ...Object.keys(SHORT_EVENT_TYPES)] as [string, ...string[]]

const schema = z.strictObject({
  $schema: z.string().optional(),
  dataDir: path,
  federation: z
    .string({ error: 'must be a name of 1..64 letters, digits, ".", "_" or "-"' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be a name of 1..64 letters, digits, ".", "_" or "-"' }),
  http: z.strictObject({
    host: z
      .string({ error: 'must be an IP address or host name' })
      .regex(/^[^\s/]{1,253}$/, { error: 'must be an IP address or host name' })
      .transform((h) => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h)),
    port: intIn(0, 65535),
    token: z
      .string({ error: 'must be a string' })
      .regex(/^[\x21-\x7e]{16,512}$/, {
        error: 'must be 16..512 visible ASCII characters (e.g. the output of `openssl rand -hex 32`)',
      })
      .optional(),
    bodyBytesMax: intIn(128 * KiB, 1024 * MiB, 'bytes'),
  }),
  dataTypes: z
    .array(
      z.enum(typeNames, {
        error: `must be one of ${CONFIG_EVENT_TYPES.join(', ')} (or ${Object.keys(SHORT_EVENT_TYPES).join(', ')})`,
      }),
      { error: 'must be an array of event types' },
    )
    .min(1, { error: 'must name at least one event type' })
    .transform((names) => {
      const set = new Set(names.map((n) => SHORT_EVENT_TYPES[n] ?? (n as ConfigEventType)))
      return CONFIG_EVENT_TYPES.filter((t) => set.has(t))
    }),
  hlcDriftMaxMs: intIn(0, 86_400_000, 'ms'),
  members: z
    .array(
      z
        .string({ error: 'must be a 64-hex-digit Ed25519 public key' })
        .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be a 64-hex-digit Ed25519 public key' }),
      { error: 'must be an array of 64-hex-digit Ed25519 public keys' },
    )
    .min(1, { error: 'must list at least one key (leave members out for an open federation)' })
    .transform((keys) => [...new Set(keys.map((k) => k.toLowerCase()))])
    .optional(),
  membersFile: path.optional(),
  ingest: z.strictObject({
    groupEventsMax: intIn(1, 100_000, 'events'),
    queueEventsMax: intIn(1, 10_000_000, 'events'),
    queueBytesMax: intIn(1024 * KiB, 4096 * MiB, 'bytes'),
    groupBytesMax: intIn(64 * KiB, 1024 * MiB, 'bytes'),
  }),
  yjs: z.strictObject({
    workers: intIn(1, 64),
    timeoutMs: intIn(1, 60_000, 'ms'),
    memoryMb: intIn(8, 16_384, 'MiB'),
  }),
  listen: z.array(multiaddr, { error: 'must be an array of multiaddrs' }),
  mdns: z.strictObject({
    enabled: bool,
    interface: nonEmpty('an interface name or address', 256).optional(),
  }),
  bootstrap: z.array(nonEmpty('a multiaddr or a file path'), {
    error: 'must be an array of multiaddrs or file paths',
  }),
  pnetKeyFile: path.optional(),
  mesh: z.strictObject({
    enabled: bool,
    reconcileIntervalMs: intIn(0, 3_600_000, 'ms'),
    gossip: bool,
    targetConnections: intIn(0, 1000),
    directPeersMax: intIn(0, 1000),
    ingestGatherMs: intIn(0, 1000, 'ms'),
  }),
  limits: z.strictObject({
    connectionsMax: intIn(1, 100_000),
    inboundConnectionThreshold: intIn(1, 100_000, 'per second per host'),
    streamsPerProtocolInbound: intIn(1, 1024),
    streamsPerProtocolOutbound: intIn(1, 1024),
    streamOpensPerPeerPerSecond: intIn(1, 10_000),
    // One frame must hold at least one maximal event (64 KiB payload plus its envelope).
    frameBytesMax: intIn(128 * KiB, 64 * MiB, 'bytes'),
  }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
  }),
  sinks: z
    .array(
      z.strictObject({
        kind: z.enum(SINK_KINDS, { error: `must be one of ${SINK_KINDS.join(', ')}` }),
        target: nonEmpty('a connection URL or a directory'),
        name: z
          .string({ error: 'must be a name of 1..64 letters, digits, ".", "_" or "-"' })
          .regex(/^[A-Za-z0-9._-]{1,64}$/, {
            error: 'must be a name of 1..64 letters, digits, ".", "_" or "-"',
          })
          .optional(),
        types: z
          .array(z.enum(typeNames, { error: `must be one of ${CONFIG_EVENT_TYPES.join(', ')}` }))
          .min(1, { error: 'must name at least one event type' })
          .transform((names) => {
            const set = new Set(names.map((n) => SHORT_EVENT_TYPES[n] ?? (n as ConfigEventType)))
            return CONFIG_EVENT_TYPES.filter((t) => set.has(t))
          })
          .optional(),
        prefix: z
          .string({ error: 'must be a lower-case identifier of at most 31 characters' })
          .regex(/^[a-z_][a-z0-9_]{0,30}$/, {
            error: 'must be a lower-case identifier of at most 31 characters',
          })
          .optional(),
        source: bool.optional(),
      }),
      { error: 'must be an array of sinks ({ "kind": "postgres", "target": "postgres://..." })' },
    )
    .max(16, { error: 'at most 16 sinks per node' }),
})

// Compile-time check that the schema produces exactly a GkmConfig (plus the ignored $schema).
type SchemaOutput = Omit<z.output<typeof schema>, '$schema'>
const _schemaMatches: [
  SchemaOutput extends GkmConfig ? true : false,
  GkmConfig extends SchemaOutput ? true : false,
] = [true, true]
void _schemaMatches

/** Where a value came from, for messages: `GKM_HTTP`, `--listen`, `/etc/gkm.json`. */
export type SourceOf = (path: readonly PropertyKey[]) => string | undefined

/** Validates a merged raw config (defaults already applied). Returns the config or every issue. */
export function validateConfig(
  raw: unknown,
  sourceOf: SourceOf,
): { config: GkmConfig } | { issues: ConfigIssue[] } {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    return {
      issues: parsed.error.issues.flatMap((issue): ConfigIssue[] => {
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => {
            const path = [...issue.path, key]
            const known = Object.keys(valueAt(CONFIG_SHAPE, issue.path) ?? {})
            const near = closest(key, known)
            const hint = near === undefined ? '' : ` (did you mean "${near}"?)`
            return { path: dotted(path), message: `unknown key${hint}${fromText(sourceOf(path))}` }
          })
        }
        const got = valueAt(raw, issue.path)
        // Never echo a secret back into logs and terminals.
        const shown =
          issue.path.includes('token') && typeof got === 'string' ? `${got.length} characters` : show(got)
        return [
          {
            path: dotted(issue.path),
            message: `${issue.message} (got ${shown}${fromText(sourceOf(issue.path))})`,
          },
        ]
      }),
    }
  }
  const { $schema: _ignored, ...config } = parsed.data
  const issues: ConfigIssue[] = []
  if (config.http.token === undefined && !isLoopbackHost(config.http.host)) {
    issues.push({
      path: 'http.token',
      message: `a bearer token is required when the HTTP API is bound to a non-loopback address (http.host is ${JSON.stringify(config.http.host)}); set GKM_HTTP_TOKEN or http.token`,
    })
  }
  if (config.ingest.queueEventsMax < config.ingest.groupEventsMax) {
    issues.push({
      path: 'ingest.queueEventsMax',
      message: `must be at least ingest.groupEventsMax (${config.ingest.groupEventsMax}) (got ${config.ingest.queueEventsMax})`,
    })
  }
  if (config.ingest.queueBytesMax < config.ingest.groupBytesMax) {
    issues.push({
      path: 'ingest.queueBytesMax',
      message: `must be at least ingest.groupBytesMax (${config.ingest.groupBytesMax}) (got ${config.ingest.queueBytesMax})`,
    })
  }
  return issues.length > 0 ? { issues } : { config }
}

/** Field names of every object in the schema, for "did you mean" hints. */
const CONFIG_SHAPE = shapeOf(schema)

function shapeOf(s: z.ZodType): unknown {
  if (s instanceof z.ZodObject) {
    return Object.fromEntries(Object.entries(s.shape).map(([k, v]) => [k, shapeOf(v as z.ZodType)]))
  }
  if (s instanceof z.ZodOptional) return shapeOf(s.unwrap() as z.ZodType)
  return true
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return v
}

function dotted(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.')
}

function fromText(source: string | undefined): string {
  return source === undefined ? '' : ` from ${source}`
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** The known key closest to a typo, when it is close enough to be the likely intent. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1
  for (const k of known) {
    if (k === '$schema') continue
    const d = editDistance(key.toLowerCase(), k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]
}

/**
 * Loading: defaults < JSON config file < values given in code < environment (`GKM_*`) <
 * command-line flags, then one validation of the merged result. Every value remembers where it
 * came from, so a message can say "from GKM_HTTP" or "from /etc/gkm/node.json".
 *
 * Paths are made absolute: those in the config file relative to the file's directory (so a
 * config can sit next to its data), those from the environment and flags relative to `cwd`.
 */
import { readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { CONFIG_DEFAULTS } from './defaults.ts'
import { ConfigError, type ConfigIssue } from './errors.ts'
import { type GkmConfig, isMultiaddrText, validateConfig } from './schema.ts'

/** Values given on the command line (`gkm-sync start`); each overrides file and environment. */
export interface ConfigFlags {
  /** `--data-dir DIR` */
  dataDir?: string
  /** `--http HOST:PORT` */
  http?: string
  /** `--listen MULTIADDR`, repeatable; replaces the configured list. */
  listen?: readonly string[]
  /** `--bootstrap FILE|MULTIADDR`, repeatable; replaces the configured list. */
  bootstrap?: readonly string[]
  /** `--no-mdns` gives false; leave undefined when the flag is absent. */
  mdns?: boolean
  /** `--no-mesh` gives false; leave undefined when the flag is absent. */
  mesh?: boolean
  /** `--log-level L` */
  logLevel?: string
  /** `--sink KIND=TARGET`, repeatable; added to the configured sinks. */
  sinks?: readonly string[]
}

export interface LoadConfigOptions {
  /** JSON config file; defaults to `env.GKM_CONFIG`. No file: defaults, environment and flags only. */
  file?: string
  /** Config values given in code (tests, embedding): an in-memory config file, laid over the
   *  file and under the environment and flags. Same shape and checks as a file. */
  values?: Readonly<Record<string, unknown>>
  /** Environment to read `GKM_*` (and `GKM_CONFIG`) from. Empty values count as unset. Without
   *  it the environment is not read at all (loadConfig is pure), unless `readEnv` is true. */
  env?: Readonly<Record<string, string | undefined>>
  /** Read `process.env` when no `env` is given (the CLI's behaviour). Default false: an embedding
   *  host's environment never changes a config it did not ask to change. */
  readEnv?: boolean
  flags?: ConfigFlags
  /** Base of relative paths given by the environment and flags; defaults to `process.cwd()`
   *  (read, not changed: paths have to be absolute somewhere). */
  cwd?: string
}

/** Config files are small; a bound keeps a wrong path (a log, a disk image) from being read whole. */
const CONFIG_FILE_BYTES_MAX = 1024 * 1024

/** Path-valued fields, made absolute when loaded. */
const PATH_FIELDS = ['dataDir', 'membersFile', 'pnetKeyFile'] as const

type Json = Record<string, unknown>

/**
 * Builds the node's config. Throws `ConfigError` naming every invalid field, its value and its
 * source. Reads the environment only when given one (`env`) or asked to (`readEnv: true`).
 */
export function loadConfig(opts: LoadConfigOptions = {}): GkmConfig {
  const env = opts.env ?? (opts.readEnv === true ? process.env : {})
  const cwd = opts.cwd ?? process.cwd()
  const issues: ConfigIssue[] = []
  const merged = new Merged(cwd)

  const file = opts.file ?? nonEmpty(env.GKM_CONFIG)
  if (file !== undefined) {
    const filePath = resolve(cwd, expandHome(file))
    const values = readConfigFile(filePath, issues)
    if (values !== undefined) merged.mergeLayer(values, filePath, dirname(filePath))
  }
  if (opts.values !== undefined) {
    // A JSON copy: the caller's objects are never modified, and `undefined` means "not set".
    merged.mergeLayer(JSON.parse(JSON.stringify(opts.values)) as Json, 'loadConfig values', cwd)
  }
  applyEnv(merged, env, issues)
  applyFlags(merged, opts.flags ?? {}, issues)

  const result = validateConfig(merged.values, (path) => merged.sourceOf(path))
  if ('issues' in result) issues.push(...result.issues)
  if (issues.length > 0) throw new ConfigError(issues)
  return (result as { config: GkmConfig }).config
}

function readConfigFile(filePath: string, issues: ConfigIssue[]): Json | undefined {
  let text: string
  try {
    const size = statSync(filePath).size
    if (size > CONFIG_FILE_BYTES_MAX) {
      issues.push({
        path: filePath,
        message: `config file is ${size} bytes; the limit is ${CONFIG_FILE_BYTES_MAX}`,
      })
      return undefined
    }
    text = readFileSync(filePath, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT' ? 'config file not found' : `cannot read the config file (${code ?? String(err)})`
    issues.push({ path: filePath, message: why })
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    issues.push({ path: filePath, message: `config file is not valid JSON: ${(err as Error).message}` })
    return undefined
  }
  if (!isPlainObject(value)) {
    issues.push({
      path: filePath,
      message: 'config file must hold a JSON object ({ "dataDir": ..., "http": {...} })',
    })
    return undefined
  }
  return value
}

function applyEnv(
  merged: Merged,
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
): void {
  const dataDir = nonEmpty(env.GKM_DATA_DIR)
  if (dataDir !== undefined) merged.set(['dataDir'], merged.path(dataDir), 'GKM_DATA_DIR')
  const http = nonEmpty(env.GKM_HTTP)
  if (http !== undefined) setHostPort(merged, http, 'GKM_HTTP', issues)
  const token = nonEmpty(env.GKM_HTTP_TOKEN)
  if (token !== undefined) merged.set(['http', 'token'], token, 'GKM_HTTP_TOKEN')
  const listen = nonEmpty(env.GKM_LISTEN)
  if (listen !== undefined) merged.set(['listen'], commaList(listen), 'GKM_LISTEN')
  const bootstrap = nonEmpty(env.GKM_BOOTSTRAP)
  if (bootstrap !== undefined)
    merged.set(
      ['bootstrap'],
      commaList(bootstrap).map((b) => merged.bootstrapEntry(b)),
      'GKM_BOOTSTRAP',
    )
  const noMdns = nonEmpty(env.GKM_NO_MDNS)
  if (noMdns !== undefined) {
    if (/^(1|true|yes)$/i.test(noMdns)) merged.set(['mdns', 'enabled'], false, 'GKM_NO_MDNS')
    else if (!/^(0|false|no)$/i.test(noMdns)) {
      issues.push({
        path: 'mdns.enabled',
        message: `GKM_NO_MDNS must be 1 (turn mDNS off) or 0 (got ${JSON.stringify(noMdns)})`,
      })
    }
  }
  const level = nonEmpty(env.GKM_LOG_LEVEL)
  if (level !== undefined) merged.set(['log', 'level'], level, 'GKM_LOG_LEVEL')
}

function applyFlags(merged: Merged, flags: ConfigFlags, issues: ConfigIssue[]): void {
  if (flags.dataDir !== undefined) merged.set(['dataDir'], merged.path(flags.dataDir), '--data-dir')
  if (flags.http !== undefined) setHostPort(merged, flags.http, '--http', issues)
  if (flags.listen !== undefined) merged.set(['listen'], [...flags.listen], '--listen')
  if (flags.bootstrap !== undefined) {
    // An empty value (`--bootstrap "$PEER"` with PEER unset) names no peer: it is refused with
    // the flag named (issue: never read it as the working directory, never start without the
    // peer the operator meant to give).
    if (flags.bootstrap.some((b) => b.trim() === '')) {
      issues.push({
        path: '--bootstrap',
        message:
          'is empty: give a multiaddr (/ip4/…/tcp/7421/p2p/12D3KooW…) or a file of them (was the variable holding the address unset?)',
      })
    }
    merged.set(
      ['bootstrap'],
      flags.bootstrap.filter((b) => b.trim() !== '').map((b) => merged.bootstrapEntry(b)),
      '--bootstrap',
    )
  }
  if (flags.mdns !== undefined) merged.set(['mdns', 'enabled'], flags.mdns, '--no-mdns')
  if (flags.mesh !== undefined) merged.set(['mesh', 'enabled'], flags.mesh, '--no-mesh')
  if (flags.logLevel !== undefined) merged.set(['log', 'level'], flags.logLevel, '--log-level')
  if (flags.sinks !== undefined && flags.sinks.length > 0) {
    const configured = Array.isArray(merged.values.sinks) ? merged.values.sinks : []
    const added = flags.sinks.map((text) => {
      const eq = text.indexOf('=')
      const kind = eq < 0 ? text : text.slice(0, eq)
      const target = eq < 0 ? '' : text.slice(eq + 1)
      // A lancedb target is a directory: relative to the working directory like --data-dir.
      return { kind, target: kind === 'lancedb' && target !== '' ? merged.path(target) : target }
    })
    merged.set(['sinks'], [...configured, ...added], '--sink')
  }
}

/** `HOST:PORT`, `[IPv6]:PORT`. A port that is not digits is kept as text so the schema reports it. */
export function parseHostPort(text: string): { host: string; port: number | string } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]*)$/.exec(text.trim())
  if (m === null) return undefined
  const portText = m[3]
  return { host: m[1] ?? m[2], port: /^\d{1,5}$/.test(portText) ? Number(portText) : portText }
}

function setHostPort(merged: Merged, text: string, source: string, issues: ConfigIssue[]): void {
  const hp = parseHostPort(text)
  if (hp === undefined) {
    issues.push({
      path: 'http',
      message: `must be HOST:PORT such as 127.0.0.1:7420 or [::1]:7420 (got ${JSON.stringify(text)} from ${source})`,
    })
    return
  }
  merged.set(['http', 'host'], hp.host, source)
  merged.set(['http', 'port'], hp.port, source)
}

/** The merged raw values and, for each value set above the defaults, its source. */
class Merged {
  readonly values: Json
  private readonly sources = new Map<string, string>()
  private base: string

  constructor(cwd: string) {
    this.base = cwd
    this.values = structuredClone(CONFIG_DEFAULTS) as unknown as Json
    this.values.dataDir = resolve(cwd, CONFIG_DEFAULTS.dataDir)
  }

  /** A path from the current layer, made absolute. */
  path(p: string): string {
    return resolve(this.base, expandHome(p))
  }

  bootstrapEntry(entry: string): string {
    // An empty entry stays empty (the schema names it and its flag), not the current directory.
    return isMultiaddrText(entry) || entry.trim() === '' ? entry : this.path(entry)
  }

  /** Merges a file-shaped layer; its relative paths are resolved against `baseDir`. */
  mergeLayer(layer: Json, source: string, baseDir: string): void {
    const cwd = this.base
    this.base = baseDir
    const values = { ...layer }
    for (const f of PATH_FIELDS)
      if (typeof values[f] === 'string' && values[f] !== '') values[f] = this.path(values[f])
    if (Array.isArray(values.bootstrap)) {
      values.bootstrap = values.bootstrap.map((b) =>
        typeof b === 'string' && b !== '' ? this.bootstrapEntry(b) : b,
      )
    }
    this.mergeInto(this.values, values, [], source)
    this.base = cwd
  }

  set(path: readonly string[], value: unknown, source: string): void {
    let target = this.values
    for (const k of path.slice(0, -1)) {
      if (!isPlainObject(target[k])) target[k] = {}
      target = target[k] as Json
    }
    target[path[path.length - 1]] = value
    this.sources.set(path.join('.'), source)
  }

  sourceOf(path: readonly PropertyKey[]): string | undefined {
    for (let n = path.length; n > 0; n--) {
      const source = this.sources.get(path.slice(0, n).map(String).join('.'))
      if (source !== undefined) return source
    }
    return undefined
  }

  private mergeInto(target: Json, from: Json, at: string[], source: string): void {
    for (const [k, v] of Object.entries(from)) {
      const path = [...at, k]
      if (isPlainObject(v) && Object.hasOwn(target, k) && isPlainObject(target[k])) {
        this.mergeInto(target[k] as Json, v, path, source)
      } else {
        // defineProperty: a "__proto__" key in a file stays a plain (unknown, reported) key.
        Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true })
        this.sources.set(path.join('.'), source)
      }
    }
  }
}

function isPlainObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p
}

/** From a sink's configuration (`--sink kind=target`, config `sinks`) to a Sink. */
import { isEventType } from '../core/types.ts'
import {
  SINK_DEFAULT_TYPES,
  SINK_KINDS,
  SINK_NAME_RE,
  SINK_PREFIX_RE,
  type SinkKind,
  type SinkSpec,
} from './constants.ts'
import { SinkConfigError } from './errors.ts'
import type { Sink, SinkLogger } from './index.ts'
import type { PostgresSource, PushPort } from './postgres/postgres-source.ts'

/** Parses `kind=target` (the `--sink` flag), e.g. `postgres=postgres://app@db/app`, `lancedb=./vectors`. */
export function parseSinkFlag(text: string): SinkSpec {
  const eq = text.indexOf('=')
  const kind = eq < 0 ? text : text.slice(0, eq)
  const target = eq < 0 ? '' : text.slice(eq + 1)
  if (!(SINK_KINDS as readonly string[]).includes(kind))
    throw new SinkConfigError(
      `--sink ${JSON.stringify(text.slice(0, 80))}: the kind must be one of ${SINK_KINDS.join(', ')} (kind=URL or kind=DIR)`,
    )
  if (target === '')
    throw new SinkConfigError(
      `--sink ${kind}=...: give the ${kind === 'lancedb' ? 'directory' : 'connection URL'} after "="`,
    )
  return { kind: kind as SinkKind, target }
}

/** Checks a spec and builds its sink (drivers are loaded only for the kinds in use). */
export async function createSink(spec: SinkSpec): Promise<Sink> {
  const name = spec.name ?? spec.kind
  if (!SINK_NAME_RE.test(name))
    throw new SinkConfigError(`sink name ${JSON.stringify(name)}: 1..64 letters, digits, ".", "_" or "-"`)
  const prefix = spec.prefix ?? 'gkm_'
  if (!SINK_PREFIX_RE.test(prefix))
    throw new SinkConfigError(
      `sink ${name}: prefix ${JSON.stringify(prefix)} must be a lower-case identifier of at most 31 characters`,
    )
  const types = spec.types ?? SINK_DEFAULT_TYPES[spec.kind]
  for (const t of types)
    if (!isEventType(t)) throw new SinkConfigError(`sink ${name}: unknown event type ${JSON.stringify(t)}`)
  const allowed = SINK_DEFAULT_TYPES[spec.kind]
  const extra = types.filter((t) => !allowed.includes(t))
  if (extra.length > 0)
    throw new SinkConfigError(
      `sink ${name}: a ${spec.kind} sink stores ${allowed.join(', ')}, not ${extra.join(', ')}`,
    )
  switch (spec.kind) {
    case 'postgres': {
      const { PostgresSink } = await import('./postgres/postgres-sink.ts')
      return new PostgresSink({ name, types, prefix, connectionString: spec.target })
    }
    case 'lancedb': {
      const { LanceDbSink } = await import('./lancedb/lancedb-sink.ts')
      return new LanceDbSink({ name, types, path: spec.target })
    }
    case 'mongodb': {
      const { MongoDbSink } = await import('./mongodb/mongodb-sink.ts')
      return new MongoDbSink({ name, types, prefix, url: spec.target })
    }
    case 'neo4j': {
      const { Neo4jSink } = await import('./neo4j/neo4j-sink.ts')
      return new Neo4jSink({ name, types, url: spec.target })
    }
  }
}

/** The source of a spec that asks for one (`source: true`, postgres only), else undefined. */
export async function createSource(
  spec: SinkSpec,
  push: PushPort,
  logger: SinkLogger,
): Promise<PostgresSource | undefined> {
  if (spec.source !== true) return undefined
  if (spec.kind !== 'postgres')
    throw new SinkConfigError(`sink ${spec.name ?? spec.kind}: only a postgres sink has a source`)
  const { PostgresSource } = await import('./postgres/postgres-source.ts')
  return new PostgresSource(
    { name: spec.name ?? spec.kind, prefix: spec.prefix ?? 'gkm_', connectionString: spec.target },
    push,
    logger,
  )
}

/**
 * Cypher builders (pure, unit-tested) for graph edges as Neo4j relationships:
 *   (:GkmEntity {id: from})-[:`<label>` {gkm_graph: <graph>, ...properties}]->(:GkmEntity {id: to})
 * An edge is MERGEd by from / label / to within its graph; `SET r = $props` sets its properties
 * and removes the ones it no longer has. Relationship types cannot be parameters in Cypher, so
 * the label is written into the query as a quoted identifier (backticks doubled).
 *
 * Neo4j properties hold primitives and arrays of primitives; other JSON values (objects, null,
 * mixed arrays) are stored as JSON text and their keys listed in `gkm_json`, so reading back
 * gives the same JSON.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts'
import type { EdgeProjection } from '../index.ts'

/** Property names the sink itself uses on every relationship. */
export const RESERVED_PROPS = ['gkm_graph', 'gkm_json'] as const

export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``
}

function isPrimitiveArray(v: JsonValue[]): boolean {
  if (v.length === 0) return false
  const t = typeof v[0]
  return (t === 'string' || t === 'number' || t === 'boolean') && v.every((x) => typeof x === t)
}

/** Properties as Neo4j stores them (with gkm_graph and gkm_json). */
export function encodeProperties(graph: string, props: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = { gkm_graph: graph }
  const json: string[] = []
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v
    else if (Array.isArray(v) && isPrimitiveArray(v)) out[k] = v
    else {
      out[k] = JSON.stringify(v)
      json.push(k)
    }
  }
  if (json.length > 0) out.gkm_json = json.sort()
  return out
}

export function decodeProperties(stored: Record<string, unknown>): JsonObject {
  const json = new Set((stored.gkm_json as string[] | undefined) ?? [])
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(stored)) {
    if ((RESERVED_PROPS as readonly string[]).includes(k)) continue
    out[k] = json.has(k) ? (JSON.parse(v as string) as JsonValue) : (v as JsonValue)
  }
  return out
}

export interface CypherStatement {
  readonly text: string
  readonly params: Record<string, unknown>
}

/**
 * Statements that make graph `graph` in Neo4j equal `edges`: delete its relationships that are
 * not in `edges`, then per label one UNWIND that MERGEs the edges of that label and sets their
 * properties.
 */
export function graphStatements(graph: string, edges: readonly EdgeProjection[]): CypherStatement[] {
  const keep = edges.map((e) => [e.from, e.label, e.to])
  const out: CypherStatement[] = [
    {
      text: 'MATCH (a:GkmEntity)-[r]->(b:GkmEntity) WHERE r.gkm_graph = $graph AND NOT [a.id, type(r), b.id] IN $keep DELETE r',
      params: { graph, keep },
    },
  ]
  const byLabel = new Map<string, Array<{ from: string; to: string; props: Record<string, unknown> }>>()
  for (const e of edges) {
    const list = byLabel.get(e.label) ?? []
    list.push({ from: e.from, to: e.to, props: encodeProperties(graph, e.properties) })
    byLabel.set(e.label, list)
  }
  for (const label of [...byLabel.keys()].sort()) {
    out.push({
      text: `UNWIND $edges AS e MERGE (a:GkmEntity {id: e.from}) MERGE (b:GkmEntity {id: e.to}) MERGE (a)-[r:${quoteIdentifier(label)} {gkm_graph: $graph}]->(b) SET r = e.props`,
      params: { graph, edges: byLabel.get(label) },
    })
  }
  return out
}

export const CHECKPOINT_READ = 'OPTIONAL MATCH (c:GkmCheckpoint {sink: $sink}) RETURN c.seq AS seq'
export const CHECKPOINT_WRITE = 'MERGE (c:GkmCheckpoint {sink: $sink}) SET c.seq = $seq'

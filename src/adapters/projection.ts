/** From a target's merged state (SyncApi.state) to what a sink stores of it. */
import type { EventType, JsonObject, JsonValue } from '../core/types.ts'
import type { EdgeProjection, StateView, TargetProjection } from './index.ts'

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The projection of a target's state, or undefined when the target reads as absent (docs/EVENTS.md
 * gives each type's value shape). Pure: every sink and the conformance suite use it.
 */
export function projectState(
  type: EventType,
  id: string,
  view: StateView | undefined,
): TargetProjection | undefined {
  if (view === undefined) return undefined
  const value = view.value
  const crdt = view.crdt
  switch (type) {
    case 'vector_update': {
      if (!isObject(value) || !Array.isArray(value.values)) return undefined
      return {
        type,
        id,
        values: value.values as number[],
        metadata: isObject(value.metadata) ? value.metadata : {},
      }
    }
    case 'persona_update': {
      const fields = isObject(value) ? value : {}
      const c = crdt === undefined ? null : crdt
      if (Object.keys(fields).length === 0 && c === null) return undefined
      return { type, id, fields, crdt: c }
    }
    case 'document_update': {
      const c = typeof crdt === 'string' ? crdt : null
      const has = isObject(value) && typeof value.content === 'string'
      if (!has && c === null) return undefined
      return {
        type,
        id,
        content: has ? (value.content as string) : null,
        contentType: has ? String(value.content_type ?? 'text/plain') : null,
        crdt: c,
      }
    }
    case 'graph_update': {
      const edges =
        isObject(value) && Array.isArray(value.edges) ? (value.edges as unknown as EdgeProjection[]) : []
      if (edges.length === 0) return undefined
      return {
        type,
        id,
        edges: edges.map((e) => ({ from: e.from, label: e.label, to: e.to, properties: e.properties ?? {} })),
      }
    }
  }
}

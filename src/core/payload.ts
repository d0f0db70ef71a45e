/**
 * Payload schemas of the four event types (docs/EVENTS.md) and their translation into cell
 * writes: the unit of last-write-wins merging and of conflict detection.
 *
 * Cells per type:
 *   vector_update    `value`                          {values, metadata}
 *   document_update  `content`                        {content, content_type}
 *   persona_update   `field:<name>`                   any JSON value
 *   graph_update     `edge:["from","label","to"]`     true (present)
 *                    `prop:["from","label","to","k"]` any JSON value
 * A write without a value (`del`) is a tombstone: the cell reads as absent.
 */
import { fromBase64, utf8 } from '../util/bytes.ts'
import {
  CELLS_PER_EVENT_MAX,
  FIELD_NAME_BYTES_MAX,
  FIELDS_PER_EVENT_MAX,
  GRAPH_ID_BYTES_MAX,
  JSON_DEPTH_MAX,
  VECTOR_DIMENSIONS_MAX,
} from './constants.ts'
import { InvalidPayloadError } from './errors.ts'
import { float32FromBase64 } from './event-codec.ts'
import type { EventType, JsonObject, JsonValue } from './types.ts'

export const RESOLUTION_STRATEGIES = ['prefer_local', 'prefer_remote', 'manual_merge'] as const
export type ResolutionStrategy = (typeof RESOLUTION_STRATEGIES)[number]

/** One write to one cell; `del: true` is a tombstone. */
export interface CellWrite {
  readonly cell: string
  readonly value?: JsonValue
  readonly del?: true
}

/** What an event does, once its payload has been validated. */
export type PayloadAction =
  | { kind: 'cells'; writes: CellWrite[] }
  | { kind: 'yjs'; update: Uint8Array }
  | { kind: 'resolve'; conflictId: string; strategy: ResolutionStrategy; writes: CellWrite[] }
  | { kind: 'rollback'; toTime?: string; toEvent?: string; writes: CellWrite[] }

const bad = (type: EventType, why: string): never => {
  throw new InvalidPayloadError(`${type} payload: ${why}`)
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Depth of a JSON value, iteratively (no recursion on untrusted input). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  // Two parallel stacks instead of a [value, depth] pair per node: every event's payload goes
  // through here, and a rebuild parses a million of them.
  const values: unknown[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const v = values.pop()
    const d = depths.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d > max) return true
    if (Array.isArray(v)) {
      for (const child of v) {
        values.push(child)
        depths.push(d + 1)
      }
    } else {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue
        values.push((v as Record<string, unknown>)[k])
        depths.push(d + 1)
      }
    }
  }
  return false
}

/**
 * Why a JSON value cannot be taken, or undefined: nested deeper than `max`, or a string (value
 * or key) with a lone surrogate, which has no UTF-8 form and no canonical JSON (RFC 8785): it
 * would fail the event's encoding after it was accepted. Iterative; the path of the culprit is
 * worked out only when there is one.
 */
export function jsonProblem(value: unknown, max: number): string | undefined {
  const values: unknown[] = [value]
  const depths: number[] = [1]
  let found = false
  while (values.length > 0 && !found) {
    const v = values.pop()
    const d = depths.pop()!
    if (typeof v === 'string') {
      if (!v.isWellFormed()) found = true
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (d > max) return `nested deeper than ${max}`
    if (Array.isArray(v)) {
      for (const child of v) {
        values.push(child)
        depths.push(d + 1)
      }
    } else {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue
        if (!k.isWellFormed()) {
          found = true
          break
        }
        values.push((v as Record<string, unknown>)[k])
        depths.push(d + 1)
      }
    }
  }
  return found ? `${loneSurrogatePath(value)} holds a lone surrogate (not valid Unicode)` : undefined
}

/** The path (`fields.a[2]`, `key "x\ud800"`) of the first lone surrogate in a value. */
function loneSurrogatePath(value: unknown): string {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }]
  while (stack.length > 0) {
    const { v, path } = stack.pop()!
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return path === '' ? 'the value' : path
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: `${path}[${i}]` })
    } else
      for (const k of Object.keys(v)) {
        if (!k.isWellFormed()) return `the name of a field in ${path === '' ? 'the value' : path}`
        stack.push({ v: (v as Record<string, unknown>)[k], path: path === '' ? k : `${path}.${k}` })
      }
  }
  return 'a string'
}

function checkName(type: EventType, what: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0) return bad(type, `${what} must be a non-empty string`)
  // A string of n UTF-16 units has at most 3n UTF-8 bytes: short names need no encoding.
  if (v.length * 3 > max && utf8(v).byteLength > max) return bad(type, `${what} is longer than ${max} bytes`)
  return v
}

function onlyKeys(type: EventType, p: JsonObject, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!allowed.includes(k))
      bad(type, `unknown field ${JSON.stringify(k).slice(0, 60)} for op ${JSON.stringify(p.op)}`)
  }
}

export function edgeCell(from: string, label: string, to: string): string {
  return `edge:${JSON.stringify([from, label, to])}`
}

export function propCell(from: string, label: string, to: string, key: string): string {
  return `prop:${JSON.stringify([from, label, to, key])}`
}

const CELL_RE = /^(value|content|field:.+|edge:\[.+\]|prop:\[.+\])$/s

function parseCellWrites(type: EventType, raw: JsonValue | undefined): CellWrite[] {
  if (!Array.isArray(raw) || raw.length === 0) return bad(type, 'cells must be a non-empty array')
  if (raw.length > CELLS_PER_EVENT_MAX) return bad(type, `at most ${CELLS_PER_EVENT_MAX} cells`)
  const seen = new Set<string>()
  return raw.map((w, i) => {
    if (!isObject(w)) return bad(type, `cells[${i}] must be an object`)
    const cell = w.cell
    if (typeof cell !== 'string' || !CELL_RE.test(cell))
      return bad(type, `cells[${i}].cell is not a cell name`)
    if (seen.has(cell)) return bad(type, `cell ${cell} is written twice`)
    seen.add(cell)
    if (w.del === true) {
      if ('value' in w) bad(type, `cells[${i}] has both value and del`)
      return { cell, del: true }
    }
    if (!('value' in w)) return bad(type, `cells[${i}] needs a value or del: true`)
    return { cell, value: w.value }
  })
}

function yjsUpdate(type: EventType, p: JsonObject): Uint8Array {
  onlyKeys(type, p, ['op', 'update'])
  if (typeof p.update !== 'string') return bad(type, 'update must be base64 text')
  const bytes = fromBase64(p.update)
  if (bytes === undefined || bytes.byteLength === 0)
    return bad(type, 'update is not non-empty canonical base64')
  return bytes
}

/** Validates a payload against its type's schema and returns what it does. */
export function parsePayload(type: EventType, p: JsonObject): PayloadAction {
  const problem = jsonProblem(p, JSON_DEPTH_MAX)
  if (problem !== undefined) bad(type, problem)
  const op = p.op
  if (typeof op !== 'string') return bad(type, 'op must be a string')
  if (op === 'resolve') {
    onlyKeys(type, p, ['op', 'conflict_id', 'strategy', 'cells'])
    if (typeof p.conflict_id !== 'string' || !/^[0-9a-f]{64}$/.test(p.conflict_id))
      bad(type, 'conflict_id must be a hex id')
    if (!(RESOLUTION_STRATEGIES as readonly unknown[]).includes(p.strategy)) bad(type, 'unknown strategy')
    return {
      kind: 'resolve',
      conflictId: p.conflict_id as string,
      strategy: p.strategy as ResolutionStrategy,
      writes: parseCellWrites(type, p.cells),
    }
  }
  if (op === 'rollback') {
    onlyKeys(type, p, ['op', 'to_time', 'to_event', 'cells'])
    if (p.to_time !== undefined && typeof p.to_time !== 'string') bad(type, 'to_time must be a string')
    if (p.to_event !== undefined && typeof p.to_event !== 'string') bad(type, 'to_event must be a string')
    return {
      kind: 'rollback',
      toTime: p.to_time as string | undefined,
      toEvent: p.to_event as string | undefined,
      writes: parseCellWrites(type, p.cells),
    }
  }
  switch (type) {
    case 'vector_update':
      return vectorPayload(p, op)
    case 'persona_update':
      return personaPayload(p, op)
    case 'document_update':
      return documentPayload(p, op)
    case 'graph_update':
      return graphPayload(p, op)
  }
}

function vectorPayload(p: JsonObject, op: string): PayloadAction {
  const t = 'vector_update'
  if (op === 'delete') {
    onlyKeys(t, p, ['op'])
    return { kind: 'cells', writes: [{ cell: 'value', del: true }] }
  }
  if (op !== 'upsert') return bad(t, `op must be upsert or delete, got ${JSON.stringify(op).slice(0, 40)}`)
  onlyKeys(t, p, ['op', 'values', 'metadata'])
  let values = p.values
  if (typeof values === 'string') {
    // Base64 of packed little-endian float32: 4 bytes a value, a third smaller than the JSON.
    const unpacked = float32FromBase64(values)
    if (unpacked === undefined)
      return bad(t, 'values as text must be canonical base64 of little-endian float32 (4 bytes each)')
    values = unpacked
  }
  if (!Array.isArray(values) || values.length === 0 || values.length > VECTOR_DIMENSIONS_MAX) {
    return bad(t, `values must be an array of 1..${VECTOR_DIMENSIONS_MAX} numbers (or base64 float32)`)
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(t, `values[${i}] must be a finite number`)
    if (!Number.isFinite(Math.fround(v as number)))
      bad(t, `values[${i}] = ${v} is outside the float32 range (vectors are stored as float32)`)
  }
  if (p.metadata !== undefined && !isObject(p.metadata)) bad(t, 'metadata must be an object')
  // Stored and sent as float32: the cell holds the values as they read back.
  const f32 = values.map((v) => Math.fround(v as number))
  return { kind: 'cells', writes: [{ cell: 'value', value: { values: f32, metadata: p.metadata ?? {} } }] }
}

function personaPayload(p: JsonObject, op: string): PayloadAction {
  const t = 'persona_update'
  if (op === 'yjs') return { kind: 'yjs', update: yjsUpdate(t, p) }
  if (op === 'set') {
    onlyKeys(t, p, ['op', 'fields'])
    const fields = p.fields
    if (!isObject(fields)) return bad(t, 'fields must be an object of field -> value')
    const names = Object.keys(fields)
    if (names.length === 0 || names.length > FIELDS_PER_EVENT_MAX)
      bad(t, `set 1..${FIELDS_PER_EVENT_MAX} fields`)
    return {
      kind: 'cells',
      writes: names.map((n) => ({
        cell: `field:${checkName(t, 'field name', n, FIELD_NAME_BYTES_MAX)}`,
        value: fields[n],
      })),
    }
  }
  if (op === 'unset') {
    onlyKeys(t, p, ['op', 'fields'])
    const fields = p.fields
    if (!Array.isArray(fields) || fields.length === 0 || fields.length > FIELDS_PER_EVENT_MAX) {
      return bad(t, `fields must be an array of 1..${FIELDS_PER_EVENT_MAX} names`)
    }
    const cells = fields.map((n) => `field:${checkName(t, 'field name', n, FIELD_NAME_BYTES_MAX)}`)
    if (new Set(cells).size !== cells.length) bad(t, 'a field is named twice')
    return { kind: 'cells', writes: cells.map((cell) => ({ cell, del: true as const })) }
  }
  return bad(t, `op must be set, unset or yjs, got ${JSON.stringify(op).slice(0, 40)}`)
}

function documentPayload(p: JsonObject, op: string): PayloadAction {
  const t = 'document_update'
  if (op === 'yjs') return { kind: 'yjs', update: yjsUpdate(t, p) }
  if (op === 'delete') {
    onlyKeys(t, p, ['op'])
    return { kind: 'cells', writes: [{ cell: 'content', del: true }] }
  }
  if (op !== 'put') return bad(t, `op must be put, delete or yjs, got ${JSON.stringify(op).slice(0, 40)}`)
  onlyKeys(t, p, ['op', 'content', 'content_type'])
  if (typeof p.content !== 'string') bad(t, 'content must be a string')
  if (p.content_type !== undefined && typeof p.content_type !== 'string')
    bad(t, 'content_type must be a string')
  return {
    kind: 'cells',
    writes: [
      { cell: 'content', value: { content: p.content, content_type: p.content_type ?? 'text/plain' } },
    ],
  }
}

function graphPayload(p: JsonObject, op: string): PayloadAction {
  const t = 'graph_update'
  const from = checkName(t, 'from', p.from, GRAPH_ID_BYTES_MAX)
  const to = checkName(t, 'to', p.to, GRAPH_ID_BYTES_MAX)
  const label = checkName(t, 'label', p.label, GRAPH_ID_BYTES_MAX)
  const props = (raw: JsonValue | undefined, required: boolean): CellWrite[] => {
    if (raw === undefined && !required) return []
    if (!isObject(raw)) return bad(t, 'properties must be an object')
    const keys = Object.keys(raw)
    if (keys.length > FIELDS_PER_EVENT_MAX) bad(t, `at most ${FIELDS_PER_EVENT_MAX} properties`)
    return keys.map((k) => ({
      cell: propCell(from, label, to, checkName(t, 'property name', k, FIELD_NAME_BYTES_MAX)),
      value: raw[k],
    }))
  }
  if (op === 'add_edge') {
    onlyKeys(t, p, ['op', 'from', 'to', 'label', 'properties'])
    return {
      kind: 'cells',
      writes: [{ cell: edgeCell(from, label, to), value: true }, ...props(p.properties, false)],
    }
  }
  if (op === 'remove_edge') {
    onlyKeys(t, p, ['op', 'from', 'to', 'label'])
    return { kind: 'cells', writes: [{ cell: edgeCell(from, label, to), del: true }] }
  }
  if (op === 'set_edge_properties') {
    onlyKeys(t, p, ['op', 'from', 'to', 'label', 'properties', 'unset'])
    const writes = props(p.properties, p.unset === undefined)
    if (p.unset !== undefined) {
      if (!Array.isArray(p.unset) || p.unset.length > FIELDS_PER_EVENT_MAX)
        bad(t, 'unset must be an array of property names')
      for (const k of p.unset as JsonValue[]) {
        writes.push({
          cell: propCell(from, label, to, checkName(t, 'property name', k, FIELD_NAME_BYTES_MAX)),
          del: true,
        })
      }
    }
    if (writes.length === 0) bad(t, 'set_edge_properties changes nothing')
    if (new Set(writes.map((w) => w.cell)).size !== writes.length) bad(t, 'a property is both set and unset')
    return { kind: 'cells', writes }
  }
  return bad(
    t,
    `op must be add_edge, remove_edge or set_edge_properties, got ${JSON.stringify(op).slice(0, 40)}`,
  )
}

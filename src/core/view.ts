/**
 * What a target's state reads as (its merged value) and its hash. The hash covers every
 * deterministic part of the state: cell winners and frontiers, heads, missing parents,
 * resolutions and the Yjs document's content, so two nodes with equal hashes hold equal state.
 */
import * as Y from 'yjs'
import { sha256Hex } from '../util/crypto.ts'
import type { CellState, TargetState } from './target-state.ts'
import type { ConflictId, Digest, JsonObject, JsonValue } from './types.ts'

/** Root names inside Yjs documents: persona -> Y.Map 'persona', document -> Y.Text 'content'. */
export const YJS_PERSONA_MAP = 'persona'
export const YJS_DOCUMENT_TEXT = 'content'

/** The document of a whole state: its snapshot and every update of its log, merged first
 *  (`Y.mergeUpdates` takes them in any order; applied one by one in digest order, an update
 *  whose dependencies come later would be parked and retried on every later apply). */
function yjsDoc(state: TargetState): Y.Doc | undefined {
  const parts: Uint8Array[] = []
  if (state.yjs !== undefined) parts.push(new Uint8Array(Buffer.from(state.yjs, 'base64')))
  for (const d of Object.keys(state.yjsLog ?? {}).sort())
    parts.push(new Uint8Array(Buffer.from(state.yjsLog![d as Digest], 'base64')))
  if (parts.length === 0) return undefined
  const doc = new Y.Doc()
  Y.applyUpdate(doc, parts.length === 1 ? parts[0] : Y.mergeUpdates(parts))
  return doc
}

/** The Yjs document's JSON, or undefined when the target has none. */
export function crdtView(state: TargetState): JsonValue | undefined {
  const doc = yjsDoc(state)
  if (doc === undefined) return undefined
  try {
    if (state.type === 'document_update') return doc.getText(YJS_DOCUMENT_TEXT).toString()
    // Y.Map.toJSON() assigns into a plain object, where a "__proto__" key would vanish.
    const out: JsonObject = {}
    for (const [k, v] of doc.getMap(YJS_PERSONA_MAP).entries())
      setOwn(out, k, (v instanceof Y.AbstractType ? v.toJSON() : v) as JsonValue)
    return out
  } finally {
    doc.destroy()
  }
}

/**
 * `o[k] = v`, except that a key "__proto__" becomes an own property (plain assignment would set
 * the object's prototype and the field would vanish from the answer). Other names such as
 * "constructor" are ordinary own properties already.
 */
export function setOwn(o: JsonObject, k: string, v: JsonValue): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

function parseCell(cell: string, prefix: string): string[] {
  return JSON.parse(cell.slice(prefix.length)) as string[]
}

/** The merged value of a target (shape per type in docs/EVENTS.md). */
export function valueView(state: TargetState): JsonValue {
  const live = Object.entries(state.cells).filter(([, c]) => c.w.del !== true)
  switch (state.type) {
    case 'vector_update':
    case 'document_update': {
      const cell = state.type === 'vector_update' ? 'value' : 'content'
      const c = state.cells[cell]
      return c === undefined || c.w.del === true ? null : (c.w.v as JsonValue)
    }
    case 'persona_update': {
      const fields: JsonObject = {}
      for (const [cell, c] of live.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        if (cell.startsWith('field:')) setOwn(fields, cell.slice(6), c.w.v as JsonValue)
      }
      return fields
    }
    case 'graph_update': {
      const edges: JsonObject[] = []
      const props = new Map<string, JsonObject>()
      for (const [cell, c] of live) {
        if (!cell.startsWith('prop:')) continue
        const [from, label, to, key] = parseCell(cell, 'prop:')
        const k = JSON.stringify([from, label, to])
        const p = props.get(k) ?? {}
        setOwn(p, key, c.w.v as JsonValue)
        props.set(k, p)
      }
      for (const [cell] of live.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        if (!cell.startsWith('edge:')) continue
        const [from, label, to] = parseCell(cell, 'edge:')
        edges.push({
          from,
          label,
          to,
          properties: props.get(JSON.stringify([from, label, to])) ?? {},
        })
      }
      return { edges }
    }
  }
}

/**
 * sha256 (hex) of one cell's deterministic content: the canonical JSON (RFC 8785) of
 * `[cell, winner digest, [frontier digests...]]`. A target's `cellSum` is the sum of these mod
 * 2^256 over its cells, so a merge updates it for the cells it wrote (subtract the old hash, add
 * the new) without looking at the others, and it does not depend on the order cells were written.
 */
export function cellHash(cell: string, c: CellState): string {
  const q = JSON.stringify
  let f = ''
  for (const e of c.f) f += f === '' ? q(e.d) : `,${q(e.d)}`
  return sha256Hex(`[${q(cell)},${q(c.w.d)},[${f}]]`)
}

/** cellSum recomputed from every cell of a (whole) state: what the merge keeps up to date. */
export function cellSumOf(cells: Readonly<Record<string, CellState>>): string {
  let sum = EMPTY_STATE_HASH
  for (const [cell, c] of Object.entries(cells)) sum = addHash(sum, cellHash(cell, c))
  return sum
}

/**
 * sha256 (hex) of the deterministic content of a target's state: the canonical JSON (RFC 8785)
 * of `{v: 2, type, target, cells: cellSum, heads, missing, resolved: {conflict: digest}, crdt}`,
 * where `cellSum` (64 hex) is the sum of every cell's cellHash() mod 2^256 (kept by the merge)
 * and `crdt` the Yjs fingerprint `yjsSum` (the sum of the digests of the Yjs updates applied,
 * 64 hex) or null: the document is never decoded to hash it.
 * It costs the same for a target of one cell and of a million: adding an edge to a big graph
 * rehashes the edge and the target's small parts only (issue 12).
 *
 * Written out directly rather than through canonicalJson: keys are emitted in sorted order and
 * every leaf is a string from a validated event (well-formed UTF-16, so JSON.stringify escapes
 * it exactly as RFC 8785 does). A unit test checks the bytes against canonicalJson of the
 * object above.
 */
export function targetHash(state: TargetState): string {
  const q = JSON.stringify
  let resolved = ''
  for (const k of Object.keys(state.resolved).sort())
    resolved += `${resolved === '' ? '' : ','}${q(k)}:${q(state.resolved[k as ConflictId].d)}`
  return sha256Hex(
    `{"cells":${q(state.cellSum)},"crdt":${q(state.yjsSum ?? null)},"heads":${q(state.heads)},` +
      `"missing":${q(state.missing)},"resolved":{${resolved}},"target":${q(state.target)},` +
      `"type":${q(state.type)},"v":2}`,
  )
}

const MOD = 1n << 256n

/** The node's state hash is the sum of its targets' hashes mod 2^256: order-free and updatable. */
export function addHash(sum: string, add: string, sub?: string): string {
  let v = BigInt(`0x${sum || '0'}`) + BigInt(`0x${add}`)
  if (sub !== undefined) v -= BigInt(`0x${sub}`)
  return hexSum(v)
}

/** `v` mod 2^256 as 64 hex digits (the form of every hash sum). */
export function hexSum(v: bigint): string {
  return (((v % MOD) + MOD) % MOD).toString(16).padStart(64, '0')
}

export const EMPTY_STATE_HASH = '0'.repeat(64)

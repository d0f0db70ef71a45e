/**
 * A vector target's stored state does not repeat its vector. The winning write of the `value`
 * cell names its event (`w.d`), and that event, stored beside the state in the same commit, holds
 * the values packed as float32 (docs/PROTOCOL.md); the state on disk keeps everything but
 * `values` and reads them back from the event. A 768-dimension vector is then ~3 KB on disk once
 * (in its event) instead of ~3 KB in the event plus ~13 KB of JSON digits in the state.
 *
 * The state in memory, hashed and served is unchanged: the strip happens only when the `value`
 * cell is encoded for the `state` sublevel, the restore when it is decoded.
 */
import { decodeSigned } from '../core/event-codec.ts'
import { parsePayload } from '../core/payload.ts'
import type { StoredEvent } from '../core/records.ts'
import type { CellState } from '../core/target-state.ts'
import type { Digest, EventType, JsonValue } from '../core/types.ts'
import { StorageCorruptionError } from './errors.ts'

/** Marker of a stored cell value whose `values` are read from the winning event. */
const FROM_EVENT = 'values_from_event'

type VectorValue = { values?: JsonValue; metadata?: JsonValue; [FROM_EVENT]?: true }

const isVectorValue = (v: unknown): v is VectorValue =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as VectorValue).values)

/** A cell as it goes to disk: a vector target's `value` cell without its `values`. */
export function stripVectorCell(type: EventType, name: string, cell: CellState): CellState {
  if (type !== 'vector_update' || name !== 'value') return cell
  const v = cell.w.v
  if (!isVectorValue(v)) return cell
  const { values: _values, ...rest } = v
  return { ...cell, w: { ...cell.w, v: { ...rest, [FROM_EVENT]: true } } }
}

/** Whether a decoded cell needs its vector read from an event, and which. */
export function vectorEventOfCell(type: EventType, name: string, cell: CellState): Digest | undefined {
  if (type !== 'vector_update' || name !== 'value') return undefined
  const v = cell.w.v as VectorValue | undefined
  return v !== undefined && v !== null && typeof v === 'object' && v[FROM_EVENT] === true
    ? cell.w.d
    : undefined
}

/** Puts the vector back into a decoded cell from its winning event (in place). */
export function restoreVectorCell(cell: CellState, event: StoredEvent | undefined, describe: string): void {
  const w = cell.w
  const corrupt = (why: string) =>
    new StorageCorruptionError(`${describe}: the vector's event ${w.d.slice(0, 16)}... ${why}`)
  if (event === undefined) throw corrupt('is not in the store')
  const fields = decodeSigned(event.signed, true)
  const action = parsePayload(fields.type, fields.payload)
  const write = 'writes' in action ? action.writes.find((x) => x.cell === 'value') : undefined
  const written = write?.value
  if (!isVectorValue(written)) throw corrupt('does not write a vector to the value cell')
  const { [FROM_EVENT]: _marker, ...rest } = w.v as VectorValue
  ;(w as { v?: JsonValue }).v = { values: written.values, ...rest } as JsonValue
}

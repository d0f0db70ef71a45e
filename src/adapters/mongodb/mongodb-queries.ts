/**
 * MongoDB write builders (pure, unit-tested): a persona is one document
 * `{ _id, fields: {...}, crdt }` updated field by field, `$set` for what is new or changed and
 * `$unset` for what went away; a document is `{ _id, content, content_type, crdt }`.
 *
 * Field names go into dotted paths (`fields.<name>`). A name that a path cannot hold (empty,
 * containing "." or starting with "$") makes the builder set the whole `fields` object instead,
 * which MongoDB 5+ stores as given.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts'
import type { TargetProjection } from '../index.ts'

export interface UpdateOp {
  readonly updateOne: {
    readonly filter: { _id: string }
    readonly update: { $set: Record<string, JsonValue>; $unset?: Record<string, ''> }
    readonly upsert: true
  }
}
export interface DeleteOp {
  readonly deleteOne: { readonly filter: { _id: string } }
}

const pathSafe = (name: string) => name !== '' && !name.includes('.') && !name.startsWith('$')

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The update of one persona, given the fields its stored document holds (undefined: none). */
export function personaWrite(
  id: string,
  stored: JsonObject | undefined,
  next: Extract<TargetProjection, { type: 'persona_update' }> | undefined,
): UpdateOp | DeleteOp | undefined {
  if (next === undefined) return stored === undefined ? undefined : { deleteOne: { filter: { _id: id } } }
  const names = [...Object.keys(stored ?? {}), ...Object.keys(next.fields)]
  const $set: Record<string, JsonValue> = { crdt: next.crdt }
  const $unset: Record<string, ''> = {}
  if (stored === undefined || !names.every(pathSafe)) {
    $set.fields = next.fields
  } else {
    for (const [k, v] of Object.entries(next.fields)) if (!sameJson(stored[k], v)) $set[`fields.${k}`] = v
    for (const k of Object.keys(stored)) if (!(k in next.fields)) $unset[`fields.${k}`] = ''
  }
  const update = Object.keys($unset).length > 0 ? { $set, $unset } : { $set }
  return { updateOne: { filter: { _id: id }, update, upsert: true } }
}

export function documentWrite(
  id: string,
  next: Extract<TargetProjection, { type: 'document_update' }> | undefined,
): UpdateOp | DeleteOp {
  if (next === undefined) return { deleteOne: { filter: { _id: id } } }
  return {
    updateOne: {
      filter: { _id: id },
      update: { $set: { content: next.content, content_type: next.contentType, crdt: next.crdt } },
      upsert: true,
    },
  }
}

/**
 * Request validation: turns untrusted JSON bodies, query strings and path parameters into the
 * core's request types, or throws `BadRequestError` naming the field and what it must be.
 * Unknown fields are refused, so a typo (`last_sync_tme`) is not silently ignored.
 */

import type { DataTypeFilter, PullRequest, ResolveRequest, RollbackRequest } from '../core/api.ts'
import { JSON_DEPTH_MAX, PULL_LIMIT_MAX } from '../core/constants.ts'
import { targetIdProblem } from '../core/ids.ts'
import { jsonProblem, RESOLUTION_STRATEGIES } from '../core/payload.ts'
import type { ConflictRecord } from '../core/records.ts'
import { EVENT_TYPE_NAMES, type EventType, eventTypeOf, type JsonValue } from '../core/types.ts'
import { msFromIso } from '../util/time.ts'
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from './constants.ts'
import { BadRequestError } from './errors.ts'

type Fields = Record<string, unknown>

const TYPE_NAMES = EVENT_TYPE_NAMES
const CURSOR_CHARS_MAX = 256
/** A manual-merge value sits three levels down in its event's payload
 *  (`{cells: [{value: ...}]}`), so it may nest this deep. */
export const RESOLVE_VALUE_DEPTH_MAX = JSON_DEPTH_MAX - 3
const CONFLICT_STATUSES = ['open', 'resolved', 'superseded', 'all'] as const
const bad = (message: string): never => {
  throw new BadRequestError(message)
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** A JSON object body with only the allowed fields; an absent body counts as `{}` when allowed. */
export function objectBody(body: unknown, allowed: readonly string[], what: string, emptyOk = false): Fields {
  if (body === undefined && emptyOk) return {}
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return bad(`${what} body must be a JSON object with ${allowed.join(', ')}`)
  }
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) bad(`unknown field ${show(k)}; ${what} takes ${allowed.join(', ')}`)
  }
  return body as Fields
}

export function eventType(v: unknown, field: string): EventType {
  const type = eventTypeOf(v)
  if (type !== undefined) return type
  return bad(`${field} must be one of ${TYPE_NAMES.join(', ')} (got ${show(v)})`)
}

export function isoTime(v: unknown, field: string): string {
  if (typeof v !== 'string' || msFromIso(v) === undefined) {
    bad(`${field} must be an ISO 8601 date-time with a zone, e.g. 2026-01-01T00:00:00.000Z (got ${show(v)})`)
  }
  return v as string
}

export function intIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`${field} must be an integer ${min}..${max} (got ${show(v)})`)
  }
  return v as number
}

/** An integer from a query string or header: decimal digits only. */
export function intText(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === '') return fallback
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v))
    return bad(`${field} must be an integer ${min}..${max} (got ${show(v)})`)
  return intIn(Number(v), field, min, max)
}

export interface PullBody {
  req: PullRequest
  stream: boolean
}

export function pullBody(body: unknown): PullBody {
  const b = objectBody(body, ['last_sync_time', 'data_types', 'cursor', 'limit', 'stream'], 'pull', true)
  const req: PullRequest = {}
  if (b.last_sync_time !== undefined) req.last_sync_time = isoTime(b.last_sync_time, 'last_sync_time')
  if (b.data_types !== undefined) {
    if (
      !Array.isArray(b.data_types) ||
      b.data_types.length === 0 ||
      b.data_types.length > TYPE_NAMES.length
    ) {
      bad(`data_types must be a non-empty array of event types (${TYPE_NAMES.join(', ')})`)
    }
    req.data_types = (b.data_types as unknown[]).map(
      (t, i) => eventType(t, `data_types[${i}]`) as DataTypeFilter,
    )
  }
  if (b.cursor !== undefined) {
    if (typeof b.cursor !== 'string' || b.cursor.length === 0 || b.cursor.length > CURSOR_CHARS_MAX) {
      bad(`cursor must be the next_cursor string of a previous pull (got ${show(b.cursor)})`)
    }
    req.cursor = b.cursor as string
  }
  if (b.limit !== undefined) req.limit = intIn(b.limit, 'limit', 1, PULL_LIMIT_MAX)
  if (b.stream !== undefined && typeof b.stream !== 'boolean')
    bad(`stream must be true or false (got ${show(b.stream)})`)
  return { req, stream: b.stream === true }
}

export function resolveBody(body: unknown): ResolveRequest {
  const b = objectBody(body, ['conflictId', 'resolutionStrategy', 'value', 'deleted'], 'resolve-conflict')
  if (typeof b.conflictId !== 'string' || !/^[0-9a-f]{64}$/.test(b.conflictId)) {
    bad(`conflictId must be a conflict id (64 lowercase hex digits) (got ${show(b.conflictId)})`)
  }
  if (!(RESOLUTION_STRATEGIES as readonly unknown[]).includes(b.resolutionStrategy)) {
    bad(
      `resolutionStrategy must be one of ${RESOLUTION_STRATEGIES.join(', ')} (got ${show(b.resolutionStrategy)})`,
    )
  }
  if (b.deleted !== undefined && typeof b.deleted !== 'boolean')
    bad(`deleted must be true or false (got ${show(b.deleted)})`)
  if ('value' in b && b.deleted === true)
    bad('give either value (the merged value) or deleted: true (resolve to absent), not both')
  if ('value' in b) {
    // The value becomes a cell of the resolution's payload (payload.cells[0].value).
    const problem = jsonProblem(b.value, RESOLVE_VALUE_DEPTH_MAX)
    if (problem !== undefined) bad(`value: ${problem}`)
  }
  const req: ResolveRequest = {
    conflictId: b.conflictId as string,
    resolutionStrategy: b.resolutionStrategy as ResolveRequest['resolutionStrategy'],
  }
  if ('value' in b) req.value = b.value as JsonValue
  if (b.deleted !== undefined) req.deleted = b.deleted as boolean
  return req
}

export function rollbackBody(body: unknown): RollbackRequest {
  const b = objectBody(body, ['event_type', 'target_id', 'to_time', 'to_event'], 'rollback')
  const req: RollbackRequest = {
    event_type: eventType(b.event_type, 'event_type'),
    target_id: targetId(b.target_id, 'target_id'),
  }
  if ((b.to_time === undefined) === (b.to_event === undefined))
    bad('give exactly one of to_time (ISO 8601) or to_event (an event digest)')
  if (b.to_time !== undefined) req.to_time = isoTime(b.to_time, 'to_time')
  if (b.to_event !== undefined) {
    if (typeof b.to_event !== 'string' || !/^[0-9a-f]{64}$/.test(b.to_event)) {
      bad(`to_event must be an event digest (64 lowercase hex digits) (got ${show(b.to_event)})`)
    }
    req.to_event = b.to_event as string
  }
  return req
}

/** A target id, by the one rule every path uses (src/core/ids.ts). */
export function targetId(v: unknown, field: string): string {
  const problem = targetIdProblem(v)
  if (problem !== undefined) bad(`${field} ${problem}`)
  return v as string
}

export function conflictsQuery(q: Fields): { status: ConflictRecord['status'] | 'all'; limit: number } {
  const status = q.status ?? 'open'
  if (!(CONFLICT_STATUSES as readonly unknown[]).includes(status)) {
    bad(`status must be one of ${CONFLICT_STATUSES.join(', ')} (got ${show(status)})`)
  }
  return {
    status: status as ConflictRecord['status'] | 'all',
    limit: intText(q.limit, 'limit', 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT),
  }
}

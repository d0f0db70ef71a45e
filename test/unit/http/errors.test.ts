import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as core from '../../../src/core/errors.ts'
import { errorAnswer } from '../../../src/http/index.ts'

describe('the error table', () => {
  const expected: Array<[Error, number, string]> = [
    [new core.MalformedEventError('m'), 400, 'malformed'],
    [new core.UnknownEventTypeError('m'), 400, 'unknown_type'],
    [new core.PayloadTooLargeError('m'), 400, 'payload_too_large'],
    [new core.InvalidPayloadError('m'), 400, 'invalid_payload'],
    [new core.BadSignatureError('m'), 400, 'bad_signature'],
    [new core.UnknownAuthorError('m'), 400, 'unknown_author'],
    [new core.ClockDriftError('m'), 400, 'clock_drift'],
    [new core.EquivocationError('m'), 400, 'equivocation'],
    [new core.UnsafeCrdtUpdateError('m'), 400, 'unsafe_crdt_update'],
    [new core.ConflictNotFoundError('m'), 404, 'conflict_not_found'],
    [new core.InvalidResolutionError('m'), 400, 'invalid_resolution'],
    [new core.InvalidRollbackError('m'), 400, 'invalid_rollback'],
    [new core.InvalidRequestError('m'), 400, 'invalid_request'],
  ]
  for (const [err, status, code] of expected) {
    it(`${err.name} -> ${status} ${code}, with its own message`, () => {
      assert.deepEqual(errorAnswer(err, 1), {
        status,
        body: { error: code, message: 'm' },
        headers: undefined,
        internal: false,
      })
    })
  }

  it('a core error class the table does not know yet is still a 400', () => {
    class NewRejection extends core.EventRejectedError {
      override readonly name = 'NewRejection'
      readonly code = 'new_rejection'
    }
    assert.deepEqual(errorAnswer(new NewRejection('why'), 1).body, { error: 'new_rejection', message: 'why' })
    assert.equal(errorAnswer(new NewRejection('why'), 1).status, 400)
  })

  it('node errors: busy and stopped are 503, storage is a logged 500 with a fixed message', () => {
    const named = (name: string, code: string) =>
      Object.assign(new Error('/var/lib/gkm: EIO'), { name, code })
    const busy = errorAnswer(named('IngestBusyError', 'busy'), 1)
    assert.equal(busy.status, 503)
    assert.deepEqual(busy.headers, { 'retry-after': '1' })
    assert.equal(errorAnswer(named('NodeStoppedError', 'stopped'), 1).status, 503)
    const storage = errorAnswer(named('StorageWriteError', 'storage_error'), 1)
    assert.equal(storage.status, 500)
    assert.equal(storage.internal, true)
    assert.doesNotMatch(storage.body.message, /EIO/)
  })

  it('storage faults: 507 for a full disk, 503 for a damaged store, named, logged, no paths', () => {
    const named = (name: string, code: string) =>
      Object.assign(new Error('/var/lib/gkm/000005.ldb: No space left on device'), { name, code })
    const full = errorAnswer(named('StorageFullError', 'storage_full'), 1)
    assert.equal(full.status, 507)
    assert.equal(full.body.error, 'storage_full')
    assert.equal(full.internal, true)
    assert.deepEqual(full.headers, { 'retry-after': '30' })
    assert.doesNotMatch(full.body.message, /var\/lib/)
    const damaged = errorAnswer(named('StorageDamagedError', 'storage_damaged'), 1)
    assert.equal(damaged.status, 503)
    assert.match(damaged.body.message, /gkm-sync repair/)
    const corrupt = errorAnswer(named('StorageCorruptionError', 'storage_corruption'), 1)
    assert.equal(corrupt.status, 500)
    assert.equal(corrupt.body.error, 'storage_corruption')
    assert.equal(errorAnswer(named('StoreNotOpenError', 'store_not_open'), 1).status, 503)
  })

  it('anything else is a 500 that does not leak its message', () => {
    const a = errorAnswer(new Error('secret path /x'), 1)
    assert.equal(a.status, 500)
    assert.equal(a.internal, true)
    assert.deepEqual(a.body, {
      error: 'internal',
      message: 'the node failed to handle the request; see its log',
    })
    assert.equal(errorAnswer('a string', 1).status, 500)
    // A name from the table without a code is not trusted.
    assert.equal(errorAnswer(Object.assign(new Error('x'), { name: 'InvalidRequestError' }), 1).status, 500)
  })

  it("fastify's body errors", () => {
    const tooLarge = errorAnswer(
      Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
      1234,
    )
    assert.deepEqual(tooLarge.body, {
      error: 'body_too_large',
      message: 'request body is larger than 1234 bytes (http.bodyBytesMax); split the request',
    })
    assert.equal(
      errorAnswer(
        Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }),
        1,
      ).status,
      415,
    )
  })
})

// Generated from src/wire/pb/sync.proto by protons and test/unit/wire/pb-generate.ts (erasable-syntax rewrite). Do not edit.
/* eslint-disable */
import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Event {
  signed: Uint8Array
  signature: Uint8Array
}

export const Event = (() => {
  let _codec: Codec<Event, Partial<Event>>

  const codec = (): Codec<Event, Partial<Event>> => {
    if (_codec == null) {
      _codec = message<Event, Partial<Event>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.signed != null && obj.signed.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.signed)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          signed: new Uint8Array(0),
          signature: new Uint8Array(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.signed = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.signed`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface EventSignedFieldEvent {
    field: '$.signed'
    value: Uint8Array
  }

  interface EventSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array
  }

  function encode (obj: Partial<Event>): Uint8Array {
    return encodeMessage(obj, Event.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Event>): Event {
    return decodeMessage(buf, Event.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Event>): Generator<EventSignedFieldEvent | EventSignatureFieldEvent> {
    return streamMessage(buf, Event.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Refusal {
  code: string
  message: string
}

export const Refusal = (() => {
  let _codec: Codec<Refusal, Partial<Refusal>>

  const codec = (): Codec<Refusal, Partial<Refusal>> => {
    if (_codec == null) {
      _codec = message<Refusal, Partial<Refusal>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface RefusalCodeFieldEvent {
    field: '$.code'
    value: string
  }

  interface RefusalMessageFieldEvent {
    field: '$.message'
    value: string
  }

  function encode (obj: Partial<Refusal>): Uint8Array {
    return encodeMessage(obj, Refusal.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Refusal {
    return decodeMessage(buf, Refusal.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Generator<RefusalCodeFieldEvent | RefusalMessageFieldEvent> {
    return streamMessage(buf, Refusal.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PushRequest {
  events: Event[]
}

export const PushRequest = (() => {
  let _codec: Codec<PushRequest, Partial<PushRequest>>

  const codec = (): Codec<PushRequest, Partial<PushRequest>> => {
    if (_codec == null) {
      _codec = message<PushRequest, Partial<PushRequest>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.events != null && obj.events.length > 0) {
          for (const value of obj.events) {
            w.uint32(10)
            Event.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          events: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.events != null && obj.events.length === opts.limits.events) {
                throw new MaxLengthError('Decode error - repeated field "events" had too many elements')
              }

              obj.events.push(Event.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.events$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          events: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.events != null && obj.events === opts.limits.events) {
                throw new MaxLengthError('Streaming decode error - repeated field "events" had too many elements')
              }

              for (const evt of Event.codec().stream(reader, reader.uint32(), `${prefix}.events[]`, {
                limits: opts.limits?.events$
              })) {
                yield {
                  ...evt,
                  index: obj.events
                }
              }

              obj.events++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface PushRequestEventsSignedFieldEvent {
    field: '$.events[].signed'
    value: Uint8Array
    index: number
  }

  interface PushRequestEventsSignatureFieldEvent {
    field: '$.events[].signature'
    value: Uint8Array
    index: number
  }

  function encode (obj: Partial<PushRequest>): Uint8Array {
    return encodeMessage(obj, PushRequest.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PushRequest>): PushRequest {
    return decodeMessage(buf, PushRequest.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PushRequest>): Generator<PushRequestEventsSignedFieldEvent | PushRequestEventsSignatureFieldEvent> {
    return streamMessage(buf, PushRequest.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Rejection {
  eventId: string
  error: string
  message: string
}

export const Rejection = (() => {
  let _codec: Codec<Rejection, Partial<Rejection>>

  const codec = (): Codec<Rejection, Partial<Rejection>> => {
    if (_codec == null) {
      _codec = message<Rejection, Partial<Rejection>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.eventId != null && obj.eventId !== '')) {
          w.uint32(10)
          w.string(obj.eventId)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(26)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          eventId: '',
          error: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.eventId = reader.string()
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.eventId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface RejectionEventIdFieldEvent {
    field: '$.eventId'
    value: string
  }

  interface RejectionErrorFieldEvent {
    field: '$.error'
    value: string
  }

  interface RejectionMessageFieldEvent {
    field: '$.message'
    value: string
  }

  function encode (obj: Partial<Rejection>): Uint8Array {
    return encodeMessage(obj, Rejection.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rejection>): Rejection {
    return decodeMessage(buf, Rejection.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rejection>): Generator<RejectionEventIdFieldEvent | RejectionErrorFieldEvent | RejectionMessageFieldEvent> {
    return streamMessage(buf, Rejection.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PushResponse {
  accepted: number
  duplicates: number
  rejected: Rejection[]
  digests: Uint8Array[]
  error?: Refusal
}

export const PushResponse = (() => {
  let _codec: Codec<PushResponse, Partial<PushResponse>>

  const codec = (): Codec<PushResponse, Partial<PushResponse>> => {
    if (_codec == null) {
      _codec = message<PushResponse, Partial<PushResponse>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.accepted != null && obj.accepted !== 0)) {
          w.uint32(8)
          w.uint32(obj.accepted)
        }

        if ((obj.duplicates != null && obj.duplicates !== 0)) {
          w.uint32(16)
          w.uint32(obj.duplicates)
        }

        if (obj.rejected != null && obj.rejected.length > 0) {
          for (const value of obj.rejected) {
            w.uint32(26)
            Rejection.codec().encode(value, w)
          }
        }

        if (obj.digests != null && obj.digests.length > 0) {
          for (const value of obj.digests) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.error != null) {
          w.uint32(42)
          Refusal.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          accepted: 0,
          duplicates: 0,
          rejected: [],
          digests: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.accepted = reader.uint32()
              break
            }
            case 2: {
              obj.duplicates = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.rejected != null && obj.rejected.length === opts.limits.rejected) {
                throw new MaxLengthError('Decode error - repeated field "rejected" had too many elements')
              }

              obj.rejected.push(Rejection.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.rejected$
              }))
              break
            }
            case 4: {
              if (opts.limits?.digests != null && obj.digests.length === opts.limits.digests) {
                throw new MaxLengthError('Decode error - repeated field "digests" had too many elements')
              }

              obj.digests.push(reader.bytes())
              break
            }
            case 5: {
              obj.error = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          rejected: 0,
          digests: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.duplicates`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.rejected != null && obj.rejected === opts.limits.rejected) {
                throw new MaxLengthError('Streaming decode error - repeated field "rejected" had too many elements')
              }

              for (const evt of Rejection.codec().stream(reader, reader.uint32(), `${prefix}.rejected[]`, {
                limits: opts.limits?.rejected$
              })) {
                yield {
                  ...evt,
                  index: obj.rejected
                }
              }

              obj.rejected++

              break
            }
            case 4: {
              if (opts.limits?.digests != null && obj.digests === opts.limits.digests) {
                throw new MaxLengthError('Streaming decode error - repeated field "digests" had too many elements')
              }

              yield {
                field: `${prefix}.digests[]`,
                index: obj.digests,
                value: reader.bytes()
              }

              obj.digests++

              break
            }
            case 5: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface PushResponseAcceptedFieldEvent {
    field: '$.accepted'
    value: number
  }

  interface PushResponseDuplicatesFieldEvent {
    field: '$.duplicates'
    value: number
  }

  interface PushResponseRejectedEventIdFieldEvent {
    field: '$.rejected[].eventId'
    value: string
    index: number
  }

  interface PushResponseRejectedErrorFieldEvent {
    field: '$.rejected[].error'
    value: string
    index: number
  }

  interface PushResponseRejectedMessageFieldEvent {
    field: '$.rejected[].message'
    value: string
    index: number
  }

  interface PushResponseDigestsFieldEvent {
    field: '$.digests[]'
    index: number
    value: Uint8Array
  }

  interface PushResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  interface PushResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  function encode (obj: Partial<PushResponse>): Uint8Array {
    return encodeMessage(obj, PushResponse.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PushResponse>): PushResponse {
    return decodeMessage(buf, PushResponse.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PushResponse>): Generator<PushResponseAcceptedFieldEvent | PushResponseDuplicatesFieldEvent | PushResponseRejectedEventIdFieldEvent | PushResponseRejectedErrorFieldEvent | PushResponseRejectedMessageFieldEvent | PushResponseDigestsFieldEvent | PushResponseErrorCodeFieldEvent | PushResponseErrorMessageFieldEvent> {
    return streamMessage(buf, PushResponse.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PullRequest {
  sinceMs?: number
  cursor: string
  types: string[]
  limit: number
  stream: boolean
  digests: Uint8Array[]
  frameBytesMax: number
}

export const PullRequest = (() => {
  let _codec: Codec<PullRequest, Partial<PullRequest>>

  const codec = (): Codec<PullRequest, Partial<PullRequest>> => {
    if (_codec == null) {
      _codec = message<PullRequest, Partial<PullRequest>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.sinceMs != null) {
          w.uint32(8)
          w.uint64Number(obj.sinceMs)
        }

        if ((obj.cursor != null && obj.cursor !== '')) {
          w.uint32(18)
          w.string(obj.cursor)
        }

        if (obj.types != null && obj.types.length > 0) {
          for (const value of obj.types) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.limit != null && obj.limit !== 0)) {
          w.uint32(32)
          w.uint32(obj.limit)
        }

        if ((obj.stream != null && obj.stream !== false)) {
          w.uint32(40)
          w.bool(obj.stream)
        }

        if (obj.digests != null && obj.digests.length > 0) {
          for (const value of obj.digests) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if ((obj.frameBytesMax != null && obj.frameBytesMax !== 0)) {
          w.uint32(56)
          w.uint32(obj.frameBytesMax)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cursor: '',
          types: [],
          limit: 0,
          stream: false,
          digests: [],
          frameBytesMax: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sinceMs = reader.uint64Number()
              break
            }
            case 2: {
              obj.cursor = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.types != null && obj.types.length === opts.limits.types) {
                throw new MaxLengthError('Decode error - repeated field "types" had too many elements')
              }

              obj.types.push(reader.string())
              break
            }
            case 4: {
              obj.limit = reader.uint32()
              break
            }
            case 5: {
              obj.stream = reader.bool()
              break
            }
            case 6: {
              if (opts.limits?.digests != null && obj.digests.length === opts.limits.digests) {
                throw new MaxLengthError('Decode error - repeated field "digests" had too many elements')
              }

              obj.digests.push(reader.bytes())
              break
            }
            case 7: {
              obj.frameBytesMax = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          types: 0,
          digests: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.sinceMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cursor`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.types != null && obj.types === opts.limits.types) {
                throw new MaxLengthError('Streaming decode error - repeated field "types" had too many elements')
              }

              yield {
                field: `${prefix}.types[]`,
                index: obj.types,
                value: reader.string()
              }

              obj.types++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.limit`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.stream`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              if (opts.limits?.digests != null && obj.digests === opts.limits.digests) {
                throw new MaxLengthError('Streaming decode error - repeated field "digests" had too many elements')
              }

              yield {
                field: `${prefix}.digests[]`,
                index: obj.digests,
                value: reader.bytes()
              }

              obj.digests++

              break
            }
            case 7: {
              yield {
                field: `${prefix}.frameBytesMax`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface PullRequestSinceMsFieldEvent {
    field: '$.sinceMs'
    value: number
  }

  interface PullRequestCursorFieldEvent {
    field: '$.cursor'
    value: string
  }

  interface PullRequestTypesFieldEvent {
    field: '$.types[]'
    index: number
    value: string
  }

  interface PullRequestLimitFieldEvent {
    field: '$.limit'
    value: number
  }

  interface PullRequestStreamFieldEvent {
    field: '$.stream'
    value: boolean
  }

  interface PullRequestDigestsFieldEvent {
    field: '$.digests[]'
    index: number
    value: Uint8Array
  }

  interface PullRequestFrameBytesMaxFieldEvent {
    field: '$.frameBytesMax'
    value: number
  }

  function encode (obj: Partial<PullRequest>): Uint8Array {
    return encodeMessage(obj, PullRequest.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullRequest>): PullRequest {
    return decodeMessage(buf, PullRequest.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullRequest>): Generator<PullRequestSinceMsFieldEvent | PullRequestCursorFieldEvent | PullRequestTypesFieldEvent | PullRequestLimitFieldEvent | PullRequestStreamFieldEvent | PullRequestDigestsFieldEvent | PullRequestFrameBytesMaxFieldEvent> {
    return streamMessage(buf, PullRequest.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PullResponse {
  events: Event[]
  nextCursor: string
  hasMore: boolean
  done: boolean
  error?: Refusal
}

export const PullResponse = (() => {
  let _codec: Codec<PullResponse, Partial<PullResponse>>

  const codec = (): Codec<PullResponse, Partial<PullResponse>> => {
    if (_codec == null) {
      _codec = message<PullResponse, Partial<PullResponse>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.events != null && obj.events.length > 0) {
          for (const value of obj.events) {
            w.uint32(10)
            Event.codec().encode(value, w)
          }
        }

        if ((obj.nextCursor != null && obj.nextCursor !== '')) {
          w.uint32(18)
          w.string(obj.nextCursor)
        }

        if ((obj.hasMore != null && obj.hasMore !== false)) {
          w.uint32(24)
          w.bool(obj.hasMore)
        }

        if ((obj.done != null && obj.done !== false)) {
          w.uint32(32)
          w.bool(obj.done)
        }

        if (obj.error != null) {
          w.uint32(42)
          Refusal.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          events: [],
          nextCursor: '',
          hasMore: false,
          done: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.events != null && obj.events.length === opts.limits.events) {
                throw new MaxLengthError('Decode error - repeated field "events" had too many elements')
              }

              obj.events.push(Event.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.events$
              }))
              break
            }
            case 2: {
              obj.nextCursor = reader.string()
              break
            }
            case 3: {
              obj.hasMore = reader.bool()
              break
            }
            case 4: {
              obj.done = reader.bool()
              break
            }
            case 5: {
              obj.error = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          events: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.events != null && obj.events === opts.limits.events) {
                throw new MaxLengthError('Streaming decode error - repeated field "events" had too many elements')
              }

              for (const evt of Event.codec().stream(reader, reader.uint32(), `${prefix}.events[]`, {
                limits: opts.limits?.events$
              })) {
                yield {
                  ...evt,
                  index: obj.events
                }
              }

              obj.events++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.nextCursor`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.hasMore`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.done`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface PullResponseEventsSignedFieldEvent {
    field: '$.events[].signed'
    value: Uint8Array
    index: number
  }

  interface PullResponseEventsSignatureFieldEvent {
    field: '$.events[].signature'
    value: Uint8Array
    index: number
  }

  interface PullResponseNextCursorFieldEvent {
    field: '$.nextCursor'
    value: string
  }

  interface PullResponseHasMoreFieldEvent {
    field: '$.hasMore'
    value: boolean
  }

  interface PullResponseDoneFieldEvent {
    field: '$.done'
    value: boolean
  }

  interface PullResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  interface PullResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  function encode (obj: Partial<PullResponse>): Uint8Array {
    return encodeMessage(obj, PullResponse.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullResponse>): PullResponse {
    return decodeMessage(buf, PullResponse.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PullResponse>): Generator<PullResponseEventsSignedFieldEvent | PullResponseEventsSignatureFieldEvent | PullResponseNextCursorFieldEvent | PullResponseHasMoreFieldEvent | PullResponseDoneFieldEvent | PullResponseErrorCodeFieldEvent | PullResponseErrorMessageFieldEvent> {
    return streamMessage(buf, PullResponse.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface ResolveRequest {
  conflictId: string
  strategy: string
  valueJson: string
  deleted: boolean
}

export const ResolveRequest = (() => {
  let _codec: Codec<ResolveRequest, Partial<ResolveRequest>>

  const codec = (): Codec<ResolveRequest, Partial<ResolveRequest>> => {
    if (_codec == null) {
      _codec = message<ResolveRequest, Partial<ResolveRequest>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.conflictId != null && obj.conflictId !== '')) {
          w.uint32(10)
          w.string(obj.conflictId)
        }

        if ((obj.strategy != null && obj.strategy !== '')) {
          w.uint32(18)
          w.string(obj.strategy)
        }

        if ((obj.valueJson != null && obj.valueJson !== '')) {
          w.uint32(26)
          w.string(obj.valueJson)
        }

        if ((obj.deleted != null && obj.deleted !== false)) {
          w.uint32(32)
          w.bool(obj.deleted)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          conflictId: '',
          strategy: '',
          valueJson: '',
          deleted: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.conflictId = reader.string()
              break
            }
            case 2: {
              obj.strategy = reader.string()
              break
            }
            case 3: {
              obj.valueJson = reader.string()
              break
            }
            case 4: {
              obj.deleted = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.conflictId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.strategy`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.valueJson`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.deleted`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface ResolveRequestConflictIdFieldEvent {
    field: '$.conflictId'
    value: string
  }

  interface ResolveRequestStrategyFieldEvent {
    field: '$.strategy'
    value: string
  }

  interface ResolveRequestValueJsonFieldEvent {
    field: '$.valueJson'
    value: string
  }

  interface ResolveRequestDeletedFieldEvent {
    field: '$.deleted'
    value: boolean
  }

  function encode (obj: Partial<ResolveRequest>): Uint8Array {
    return encodeMessage(obj, ResolveRequest.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResolveRequest>): ResolveRequest {
    return decodeMessage(buf, ResolveRequest.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResolveRequest>): Generator<ResolveRequestConflictIdFieldEvent | ResolveRequestStrategyFieldEvent | ResolveRequestValueJsonFieldEvent | ResolveRequestDeletedFieldEvent> {
    return streamMessage(buf, ResolveRequest.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface ResolveResponse {
  conflictId: string
  strategy: string
  event?: Event
  error?: Refusal
}

export const ResolveResponse = (() => {
  let _codec: Codec<ResolveResponse, Partial<ResolveResponse>>

  const codec = (): Codec<ResolveResponse, Partial<ResolveResponse>> => {
    if (_codec == null) {
      _codec = message<ResolveResponse, Partial<ResolveResponse>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.conflictId != null && obj.conflictId !== '')) {
          w.uint32(10)
          w.string(obj.conflictId)
        }

        if ((obj.strategy != null && obj.strategy !== '')) {
          w.uint32(18)
          w.string(obj.strategy)
        }

        if (obj.event != null) {
          w.uint32(26)
          Event.codec().encode(obj.event, w)
        }

        if (obj.error != null) {
          w.uint32(34)
          Refusal.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          conflictId: '',
          strategy: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.conflictId = reader.string()
              break
            }
            case 2: {
              obj.strategy = reader.string()
              break
            }
            case 3: {
              obj.event = Event.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.event
              })
              break
            }
            case 4: {
              obj.error = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.conflictId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.strategy`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * Event.codec().stream(reader, reader.uint32(), `${prefix}.event`, {
                limits: opts.limits?.event
              })

              break
            }
            case 4: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface ResolveResponseConflictIdFieldEvent {
    field: '$.conflictId'
    value: string
  }

  interface ResolveResponseStrategyFieldEvent {
    field: '$.strategy'
    value: string
  }

  interface ResolveResponseEventSignedFieldEvent {
    field: '$.event.signed'
    value: Uint8Array
  }

  interface ResolveResponseEventSignatureFieldEvent {
    field: '$.event.signature'
    value: Uint8Array
  }

  interface ResolveResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  interface ResolveResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  function encode (obj: Partial<ResolveResponse>): Uint8Array {
    return encodeMessage(obj, ResolveResponse.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResolveResponse>): ResolveResponse {
    return decodeMessage(buf, ResolveResponse.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResolveResponse>): Generator<ResolveResponseConflictIdFieldEvent | ResolveResponseStrategyFieldEvent | ResolveResponseEventSignedFieldEvent | ResolveResponseEventSignatureFieldEvent | ResolveResponseErrorCodeFieldEvent | ResolveResponseErrorMessageFieldEvent> {
    return streamMessage(buf, ResolveResponse.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface ReconRange {
  upper: Uint8Array
  mode: number
  fingerprint: Uint8Array
  ids: Uint8Array[]
  wanted: Uint8Array[]
}

export const ReconRange = (() => {
  let _codec: Codec<ReconRange, Partial<ReconRange>>

  const codec = (): Codec<ReconRange, Partial<ReconRange>> => {
    if (_codec == null) {
      _codec = message<ReconRange, Partial<ReconRange>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.upper != null && obj.upper.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.upper)
        }

        if ((obj.mode != null && obj.mode !== 0)) {
          w.uint32(16)
          w.uint32(obj.mode)
        }

        if ((obj.fingerprint != null && obj.fingerprint.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.fingerprint)
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.wanted != null && obj.wanted.length > 0) {
          for (const value of obj.wanted) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          upper: new Uint8Array(0),
          mode: 0,
          fingerprint: new Uint8Array(0),
          ids: [],
          wanted: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.upper = reader.bytes()
              break
            }
            case 2: {
              obj.mode = reader.uint32()
              break
            }
            case 3: {
              obj.fingerprint = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.wanted != null && obj.wanted.length === opts.limits.wanted) {
                throw new MaxLengthError('Decode error - repeated field "wanted" had too many elements')
              }

              obj.wanted.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ids: 0,
          wanted: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.upper`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.mode`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.fingerprint`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
              }

              yield {
                field: `${prefix}.ids[]`,
                index: obj.ids,
                value: reader.bytes()
              }

              obj.ids++

              break
            }
            case 5: {
              if (opts.limits?.wanted != null && obj.wanted === opts.limits.wanted) {
                throw new MaxLengthError('Streaming decode error - repeated field "wanted" had too many elements')
              }

              yield {
                field: `${prefix}.wanted[]`,
                index: obj.wanted,
                value: reader.bytes()
              }

              obj.wanted++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface ReconRangeUpperFieldEvent {
    field: '$.upper'
    value: Uint8Array
  }

  interface ReconRangeModeFieldEvent {
    field: '$.mode'
    value: number
  }

  interface ReconRangeFingerprintFieldEvent {
    field: '$.fingerprint'
    value: Uint8Array
  }

  interface ReconRangeIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array
  }

  interface ReconRangeWantedFieldEvent {
    field: '$.wanted[]'
    index: number
    value: Uint8Array
  }

  function encode (obj: Partial<ReconRange>): Uint8Array {
    return encodeMessage(obj, ReconRange.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReconRange>): ReconRange {
    return decodeMessage(buf, ReconRange.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReconRange>): Generator<ReconRangeUpperFieldEvent | ReconRangeModeFieldEvent | ReconRangeFingerprintFieldEvent | ReconRangeIdsFieldEvent | ReconRangeWantedFieldEvent> {
    return streamMessage(buf, ReconRange.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LogSummary {
  author: Uint8Array
  log: Uint8Array
  contiguous: bigint
  end: bigint
  root: Uint8Array
  forked: boolean
  holes: bigint[]
  holesMore: boolean
  fetching: boolean
}

export const LogSummary = (() => {
  let _codec: Codec<LogSummary, Partial<LogSummary>>

  const codec = (): Codec<LogSummary, Partial<LogSummary>> => {
    if (_codec == null) {
      _codec = message<LogSummary, Partial<LogSummary>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.author != null && obj.author.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.author)
        }

        if ((obj.log != null && obj.log.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.log)
        }

        if ((obj.contiguous != null && obj.contiguous !== 0n)) {
          w.uint32(24)
          w.uint64(obj.contiguous)
        }

        if ((obj.end != null && obj.end !== 0n)) {
          w.uint32(32)
          w.uint64(obj.end)
        }

        if ((obj.root != null && obj.root.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.root)
        }

        if ((obj.forked != null && obj.forked !== false)) {
          w.uint32(48)
          w.bool(obj.forked)
        }

        if (obj.holes != null && obj.holes.length > 0) {
          for (const value of obj.holes) {
            w.uint32(56)
            w.uint64(value)
          }
        }

        if ((obj.holesMore != null && obj.holesMore !== false)) {
          w.uint32(64)
          w.bool(obj.holesMore)
        }

        if ((obj.fetching != null && obj.fetching !== false)) {
          w.uint32(72)
          w.bool(obj.fetching)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          author: new Uint8Array(0),
          log: new Uint8Array(0),
          contiguous: 0n,
          end: 0n,
          root: new Uint8Array(0),
          forked: false,
          holes: [],
          holesMore: false,
          fetching: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.author = reader.bytes()
              break
            }
            case 2: {
              obj.log = reader.bytes()
              break
            }
            case 3: {
              obj.contiguous = reader.uint64()
              break
            }
            case 4: {
              obj.end = reader.uint64()
              break
            }
            case 5: {
              obj.root = reader.bytes()
              break
            }
            case 6: {
              obj.forked = reader.bool()
              break
            }
            case 7: {
              if (opts.limits?.holes != null && obj.holes.length === opts.limits.holes) {
                throw new MaxLengthError('Decode error - repeated field "holes" had too many elements')
              }

              obj.holes.push(reader.uint64())
              break
            }
            case 8: {
              obj.holesMore = reader.bool()
              break
            }
            case 9: {
              obj.fetching = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          holes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.author`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.log`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.contiguous`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.end`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.root`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.forked`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              if (opts.limits?.holes != null && obj.holes === opts.limits.holes) {
                throw new MaxLengthError('Streaming decode error - repeated field "holes" had too many elements')
              }

              yield {
                field: `${prefix}.holes[]`,
                index: obj.holes,
                value: reader.uint64()
              }

              obj.holes++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.holesMore`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.fetching`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface LogSummaryAuthorFieldEvent {
    field: '$.author'
    value: Uint8Array
  }

  interface LogSummaryLogFieldEvent {
    field: '$.log'
    value: Uint8Array
  }

  interface LogSummaryContiguousFieldEvent {
    field: '$.contiguous'
    value: bigint
  }

  interface LogSummaryEndFieldEvent {
    field: '$.end'
    value: bigint
  }

  interface LogSummaryRootFieldEvent {
    field: '$.root'
    value: Uint8Array
  }

  interface LogSummaryForkedFieldEvent {
    field: '$.forked'
    value: boolean
  }

  interface LogSummaryHolesFieldEvent {
    field: '$.holes[]'
    index: number
    value: bigint
  }

  interface LogSummaryHolesMoreFieldEvent {
    field: '$.holesMore'
    value: boolean
  }

  interface LogSummaryFetchingFieldEvent {
    field: '$.fetching'
    value: boolean
  }

  function encode (obj: Partial<LogSummary>): Uint8Array {
    return encodeMessage(obj, LogSummary.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogSummary>): LogSummary {
    return decodeMessage(buf, LogSummary.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogSummary>): Generator<LogSummaryAuthorFieldEvent | LogSummaryLogFieldEvent | LogSummaryContiguousFieldEvent | LogSummaryEndFieldEvent | LogSummaryRootFieldEvent | LogSummaryForkedFieldEvent | LogSummaryHolesFieldEvent | LogSummaryHolesMoreFieldEvent | LogSummaryFetchingFieldEvent> {
    return streamMessage(buf, LogSummary.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LogRange {
  author: Uint8Array
  log: Uint8Array
  from: bigint
  to: bigint
  runs: bigint[]
}

export const LogRange = (() => {
  let _codec: Codec<LogRange, Partial<LogRange>>

  const codec = (): Codec<LogRange, Partial<LogRange>> => {
    if (_codec == null) {
      _codec = message<LogRange, Partial<LogRange>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.author != null && obj.author.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.author)
        }

        if ((obj.log != null && obj.log.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.log)
        }

        if ((obj.from != null && obj.from !== 0n)) {
          w.uint32(24)
          w.uint64(obj.from)
        }

        if ((obj.to != null && obj.to !== 0n)) {
          w.uint32(32)
          w.uint64(obj.to)
        }

        if (obj.runs != null && obj.runs.length > 0) {
          for (const value of obj.runs) {
            w.uint32(40)
            w.uint64(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          author: new Uint8Array(0),
          log: new Uint8Array(0),
          from: 0n,
          to: 0n,
          runs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.author = reader.bytes()
              break
            }
            case 2: {
              obj.log = reader.bytes()
              break
            }
            case 3: {
              obj.from = reader.uint64()
              break
            }
            case 4: {
              obj.to = reader.uint64()
              break
            }
            case 5: {
              if (opts.limits?.runs != null && obj.runs.length === opts.limits.runs) {
                throw new MaxLengthError('Decode error - repeated field "runs" had too many elements')
              }

              obj.runs.push(reader.uint64())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          runs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.author`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.log`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.from`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.to`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              if (opts.limits?.runs != null && obj.runs === opts.limits.runs) {
                throw new MaxLengthError('Streaming decode error - repeated field "runs" had too many elements')
              }

              yield {
                field: `${prefix}.runs[]`,
                index: obj.runs,
                value: reader.uint64()
              }

              obj.runs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface LogRangeAuthorFieldEvent {
    field: '$.author'
    value: Uint8Array
  }

  interface LogRangeLogFieldEvent {
    field: '$.log'
    value: Uint8Array
  }

  interface LogRangeFromFieldEvent {
    field: '$.from'
    value: bigint
  }

  interface LogRangeToFieldEvent {
    field: '$.to'
    value: bigint
  }

  interface LogRangeRunsFieldEvent {
    field: '$.runs[]'
    index: number
    value: bigint
  }

  function encode (obj: Partial<LogRange>): Uint8Array {
    return encodeMessage(obj, LogRange.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogRange>): LogRange {
    return decodeMessage(buf, LogRange.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogRange>): Generator<LogRangeAuthorFieldEvent | LogRangeLogFieldEvent | LogRangeFromFieldEvent | LogRangeToFieldEvent | LogRangeRunsFieldEvent> {
    return streamMessage(buf, LogRange.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LogBucket {
  prefix: Uint8Array
  count: number
  fingerprint: Uint8Array
  mode: number
}

export const LogBucket = (() => {
  let _codec: Codec<LogBucket, Partial<LogBucket>>

  const codec = (): Codec<LogBucket, Partial<LogBucket>> => {
    if (_codec == null) {
      _codec = message<LogBucket, Partial<LogBucket>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.prefix != null && obj.prefix.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.prefix)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(16)
          w.uint32(obj.count)
        }

        if ((obj.fingerprint != null && obj.fingerprint.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.fingerprint)
        }

        if ((obj.mode != null && obj.mode !== 0)) {
          w.uint32(32)
          w.uint32(obj.mode)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          prefix: new Uint8Array(0),
          count: 0,
          fingerprint: new Uint8Array(0),
          mode: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.prefix = reader.bytes()
              break
            }
            case 2: {
              obj.count = reader.uint32()
              break
            }
            case 3: {
              obj.fingerprint = reader.bytes()
              break
            }
            case 4: {
              obj.mode = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.prefix`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.fingerprint`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mode`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface LogBucketPrefixFieldEvent {
    field: '$.prefix'
    value: Uint8Array
  }

  interface LogBucketCountFieldEvent {
    field: '$.count'
    value: number
  }

  interface LogBucketFingerprintFieldEvent {
    field: '$.fingerprint'
    value: Uint8Array
  }

  interface LogBucketModeFieldEvent {
    field: '$.mode'
    value: number
  }

  function encode (obj: Partial<LogBucket>): Uint8Array {
    return encodeMessage(obj, LogBucket.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogBucket>): LogBucket {
    return decodeMessage(buf, LogBucket.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogBucket>): Generator<LogBucketPrefixFieldEvent | LogBucketCountFieldEvent | LogBucketFingerprintFieldEvent | LogBucketModeFieldEvent> {
    return streamMessage(buf, LogBucket.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LogHead {
  author: Uint8Array
  log: Uint8Array
  length: bigint
  root: Uint8Array
  signature: Uint8Array
}

export const LogHead = (() => {
  let _codec: Codec<LogHead, Partial<LogHead>>

  const codec = (): Codec<LogHead, Partial<LogHead>> => {
    if (_codec == null) {
      _codec = message<LogHead, Partial<LogHead>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.author != null && obj.author.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.author)
        }

        if ((obj.log != null && obj.log.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.log)
        }

        if ((obj.length != null && obj.length !== 0n)) {
          w.uint32(24)
          w.uint64(obj.length)
        }

        if ((obj.root != null && obj.root.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.root)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          author: new Uint8Array(0),
          log: new Uint8Array(0),
          length: 0n,
          root: new Uint8Array(0),
          signature: new Uint8Array(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.author = reader.bytes()
              break
            }
            case 2: {
              obj.log = reader.bytes()
              break
            }
            case 3: {
              obj.length = reader.uint64()
              break
            }
            case 4: {
              obj.root = reader.bytes()
              break
            }
            case 5: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.author`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.log`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.length`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.root`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface LogHeadAuthorFieldEvent {
    field: '$.author'
    value: Uint8Array
  }

  interface LogHeadLogFieldEvent {
    field: '$.log'
    value: Uint8Array
  }

  interface LogHeadLengthFieldEvent {
    field: '$.length'
    value: bigint
  }

  interface LogHeadRootFieldEvent {
    field: '$.root'
    value: Uint8Array
  }

  interface LogHeadSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array
  }

  function encode (obj: Partial<LogHead>): Uint8Array {
    return encodeMessage(obj, LogHead.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogHead>): LogHead {
    return decodeMessage(buf, LogHead.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogHead>): Generator<LogHeadAuthorFieldEvent | LogHeadLogFieldEvent | LogHeadLengthFieldEvent | LogHeadRootFieldEvent | LogHeadSignatureFieldEvent> {
    return streamMessage(buf, LogHead.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface ReconcileFrame {
  type: string
  ranges: ReconRange[]
  fetch: Uint8Array[]
  events: Event[]
  done: boolean
  error?: Refusal
  stateHash: string
  accepted: number
  frameBytesMax: number
  logPhase: boolean
  logs: LogSummary[]
  logsMore: boolean
  logFetch: LogRange[]
  head?: LogHead
  logBuckets: LogBucket[]
}

export const ReconcileFrame = (() => {
  let _codec: Codec<ReconcileFrame, Partial<ReconcileFrame>>

  const codec = (): Codec<ReconcileFrame, Partial<ReconcileFrame>> => {
    if (_codec == null) {
      _codec = message<ReconcileFrame, Partial<ReconcileFrame>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.type != null && obj.type !== '')) {
          w.uint32(10)
          w.string(obj.type)
        }

        if (obj.ranges != null && obj.ranges.length > 0) {
          for (const value of obj.ranges) {
            w.uint32(18)
            ReconRange.codec().encode(value, w)
          }
        }

        if (obj.fetch != null && obj.fetch.length > 0) {
          for (const value of obj.fetch) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (obj.events != null && obj.events.length > 0) {
          for (const value of obj.events) {
            w.uint32(34)
            Event.codec().encode(value, w)
          }
        }

        if ((obj.done != null && obj.done !== false)) {
          w.uint32(40)
          w.bool(obj.done)
        }

        if (obj.error != null) {
          w.uint32(50)
          Refusal.codec().encode(obj.error, w)
        }

        if ((obj.stateHash != null && obj.stateHash !== '')) {
          w.uint32(58)
          w.string(obj.stateHash)
        }

        if ((obj.accepted != null && obj.accepted !== 0)) {
          w.uint32(64)
          w.uint32(obj.accepted)
        }

        if ((obj.frameBytesMax != null && obj.frameBytesMax !== 0)) {
          w.uint32(72)
          w.uint32(obj.frameBytesMax)
        }

        if ((obj.logPhase != null && obj.logPhase !== false)) {
          w.uint32(80)
          w.bool(obj.logPhase)
        }

        if (obj.logs != null && obj.logs.length > 0) {
          for (const value of obj.logs) {
            w.uint32(90)
            LogSummary.codec().encode(value, w)
          }
        }

        if ((obj.logsMore != null && obj.logsMore !== false)) {
          w.uint32(96)
          w.bool(obj.logsMore)
        }

        if (obj.logFetch != null && obj.logFetch.length > 0) {
          for (const value of obj.logFetch) {
            w.uint32(106)
            LogRange.codec().encode(value, w)
          }
        }

        if (obj.head != null) {
          w.uint32(114)
          LogHead.codec().encode(obj.head, w)
        }

        if (obj.logBuckets != null && obj.logBuckets.length > 0) {
          for (const value of obj.logBuckets) {
            w.uint32(122)
            LogBucket.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: '',
          ranges: [],
          fetch: [],
          events: [],
          done: false,
          stateHash: '',
          accepted: 0,
          frameBytesMax: 0,
          logPhase: false,
          logs: [],
          logsMore: false,
          logFetch: [],
          logBuckets: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.ranges != null && obj.ranges.length === opts.limits.ranges) {
                throw new MaxLengthError('Decode error - repeated field "ranges" had too many elements')
              }

              obj.ranges.push(ReconRange.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ranges$
              }))
              break
            }
            case 3: {
              if (opts.limits?.fetch != null && obj.fetch.length === opts.limits.fetch) {
                throw new MaxLengthError('Decode error - repeated field "fetch" had too many elements')
              }

              obj.fetch.push(reader.bytes())
              break
            }
            case 4: {
              if (opts.limits?.events != null && obj.events.length === opts.limits.events) {
                throw new MaxLengthError('Decode error - repeated field "events" had too many elements')
              }

              obj.events.push(Event.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.events$
              }))
              break
            }
            case 5: {
              obj.done = reader.bool()
              break
            }
            case 6: {
              obj.error = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 7: {
              obj.stateHash = reader.string()
              break
            }
            case 8: {
              obj.accepted = reader.uint32()
              break
            }
            case 9: {
              obj.frameBytesMax = reader.uint32()
              break
            }
            case 10: {
              obj.logPhase = reader.bool()
              break
            }
            case 11: {
              if (opts.limits?.logs != null && obj.logs.length === opts.limits.logs) {
                throw new MaxLengthError('Decode error - repeated field "logs" had too many elements')
              }

              obj.logs.push(LogSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.logs$
              }))
              break
            }
            case 12: {
              obj.logsMore = reader.bool()
              break
            }
            case 13: {
              if (opts.limits?.logFetch != null && obj.logFetch.length === opts.limits.logFetch) {
                throw new MaxLengthError('Decode error - repeated field "logFetch" had too many elements')
              }

              obj.logFetch.push(LogRange.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.logFetch$
              }))
              break
            }
            case 14: {
              obj.head = LogHead.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.head
              })
              break
            }
            case 15: {
              if (opts.limits?.logBuckets != null && obj.logBuckets.length === opts.limits.logBuckets) {
                throw new MaxLengthError('Decode error - repeated field "logBuckets" had too many elements')
              }

              obj.logBuckets.push(LogBucket.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.logBuckets$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ranges: 0,
          fetch: 0,
          events: 0,
          logs: 0,
          logFetch: 0,
          logBuckets: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.ranges != null && obj.ranges === opts.limits.ranges) {
                throw new MaxLengthError('Streaming decode error - repeated field "ranges" had too many elements')
              }

              for (const evt of ReconRange.codec().stream(reader, reader.uint32(), `${prefix}.ranges[]`, {
                limits: opts.limits?.ranges$
              })) {
                yield {
                  ...evt,
                  index: obj.ranges
                }
              }

              obj.ranges++

              break
            }
            case 3: {
              if (opts.limits?.fetch != null && obj.fetch === opts.limits.fetch) {
                throw new MaxLengthError('Streaming decode error - repeated field "fetch" had too many elements')
              }

              yield {
                field: `${prefix}.fetch[]`,
                index: obj.fetch,
                value: reader.bytes()
              }

              obj.fetch++

              break
            }
            case 4: {
              if (opts.limits?.events != null && obj.events === opts.limits.events) {
                throw new MaxLengthError('Streaming decode error - repeated field "events" had too many elements')
              }

              for (const evt of Event.codec().stream(reader, reader.uint32(), `${prefix}.events[]`, {
                limits: opts.limits?.events$
              })) {
                yield {
                  ...evt,
                  index: obj.events
                }
              }

              obj.events++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.done`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 7: {
              yield {
                field: `${prefix}.stateHash`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.frameBytesMax`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.logPhase`,
                value: reader.bool()
              }
              break
            }
            case 11: {
              if (opts.limits?.logs != null && obj.logs === opts.limits.logs) {
                throw new MaxLengthError('Streaming decode error - repeated field "logs" had too many elements')
              }

              for (const evt of LogSummary.codec().stream(reader, reader.uint32(), `${prefix}.logs[]`, {
                limits: opts.limits?.logs$
              })) {
                yield {
                  ...evt,
                  index: obj.logs
                }
              }

              obj.logs++

              break
            }
            case 12: {
              yield {
                field: `${prefix}.logsMore`,
                value: reader.bool()
              }
              break
            }
            case 13: {
              if (opts.limits?.logFetch != null && obj.logFetch === opts.limits.logFetch) {
                throw new MaxLengthError('Streaming decode error - repeated field "logFetch" had too many elements')
              }

              for (const evt of LogRange.codec().stream(reader, reader.uint32(), `${prefix}.logFetch[]`, {
                limits: opts.limits?.logFetch$
              })) {
                yield {
                  ...evt,
                  index: obj.logFetch
                }
              }

              obj.logFetch++

              break
            }
            case 14: {
              yield * LogHead.codec().stream(reader, reader.uint32(), `${prefix}.head`, {
                limits: opts.limits?.head
              })

              break
            }
            case 15: {
              if (opts.limits?.logBuckets != null && obj.logBuckets === opts.limits.logBuckets) {
                throw new MaxLengthError('Streaming decode error - repeated field "logBuckets" had too many elements')
              }

              for (const evt of LogBucket.codec().stream(reader, reader.uint32(), `${prefix}.logBuckets[]`, {
                limits: opts.limits?.logBuckets$
              })) {
                yield {
                  ...evt,
                  index: obj.logBuckets
                }
              }

              obj.logBuckets++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  interface ReconcileFrameTypeFieldEvent {
    field: '$.type'
    value: string
  }

  interface ReconcileFrameRangesUpperFieldEvent {
    field: '$.ranges[].upper'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameRangesModeFieldEvent {
    field: '$.ranges[].mode'
    value: number
    index: number
  }

  interface ReconcileFrameRangesFingerprintFieldEvent {
    field: '$.ranges[].fingerprint'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameRangesIdsFieldEvent {
    field: '$.ranges[].ids[]'
    index: number
    value: Uint8Array
  }

  interface ReconcileFrameRangesWantedFieldEvent {
    field: '$.ranges[].wanted[]'
    index: number
    value: Uint8Array
  }

  interface ReconcileFrameFetchFieldEvent {
    field: '$.fetch[]'
    index: number
    value: Uint8Array
  }

  interface ReconcileFrameEventsSignedFieldEvent {
    field: '$.events[].signed'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameEventsSignatureFieldEvent {
    field: '$.events[].signature'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameDoneFieldEvent {
    field: '$.done'
    value: boolean
  }

  interface ReconcileFrameErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  interface ReconcileFrameErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  interface ReconcileFrameStateHashFieldEvent {
    field: '$.stateHash'
    value: string
  }

  interface ReconcileFrameAcceptedFieldEvent {
    field: '$.accepted'
    value: number
  }

  interface ReconcileFrameFrameBytesMaxFieldEvent {
    field: '$.frameBytesMax'
    value: number
  }

  interface ReconcileFrameLogPhaseFieldEvent {
    field: '$.logPhase'
    value: boolean
  }

  interface ReconcileFrameLogsAuthorFieldEvent {
    field: '$.logs[].author'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogsLogFieldEvent {
    field: '$.logs[].log'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogsContiguousFieldEvent {
    field: '$.logs[].contiguous'
    value: bigint
    index: number
  }

  interface ReconcileFrameLogsEndFieldEvent {
    field: '$.logs[].end'
    value: bigint
    index: number
  }

  interface ReconcileFrameLogsRootFieldEvent {
    field: '$.logs[].root'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogsForkedFieldEvent {
    field: '$.logs[].forked'
    value: boolean
    index: number
  }

  interface ReconcileFrameLogsHolesFieldEvent {
    field: '$.logs[].holes[]'
    index: number
    value: bigint
  }

  interface ReconcileFrameLogsHolesMoreFieldEvent {
    field: '$.logs[].holesMore'
    value: boolean
    index: number
  }

  interface ReconcileFrameLogsFetchingFieldEvent {
    field: '$.logs[].fetching'
    value: boolean
    index: number
  }

  interface ReconcileFrameLogsMoreFieldEvent {
    field: '$.logsMore'
    value: boolean
  }

  interface ReconcileFrameLogFetchAuthorFieldEvent {
    field: '$.logFetch[].author'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogFetchLogFieldEvent {
    field: '$.logFetch[].log'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogFetchFromFieldEvent {
    field: '$.logFetch[].from'
    value: bigint
    index: number
  }

  interface ReconcileFrameLogFetchToFieldEvent {
    field: '$.logFetch[].to'
    value: bigint
    index: number
  }

  interface ReconcileFrameLogFetchRunsFieldEvent {
    field: '$.logFetch[].runs[]'
    index: number
    value: bigint
  }

  interface ReconcileFrameHeadAuthorFieldEvent {
    field: '$.head.author'
    value: Uint8Array
  }

  interface ReconcileFrameHeadLogFieldEvent {
    field: '$.head.log'
    value: Uint8Array
  }

  interface ReconcileFrameHeadLengthFieldEvent {
    field: '$.head.length'
    value: bigint
  }

  interface ReconcileFrameHeadRootFieldEvent {
    field: '$.head.root'
    value: Uint8Array
  }

  interface ReconcileFrameHeadSignatureFieldEvent {
    field: '$.head.signature'
    value: Uint8Array
  }

  interface ReconcileFrameLogBucketsPrefixFieldEvent {
    field: '$.logBuckets[].prefix'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogBucketsCountFieldEvent {
    field: '$.logBuckets[].count'
    value: number
    index: number
  }

  interface ReconcileFrameLogBucketsFingerprintFieldEvent {
    field: '$.logBuckets[].fingerprint'
    value: Uint8Array
    index: number
  }

  interface ReconcileFrameLogBucketsModeFieldEvent {
    field: '$.logBuckets[].mode'
    value: number
    index: number
  }

  function encode (obj: Partial<ReconcileFrame>): Uint8Array {
    return encodeMessage(obj, ReconcileFrame.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReconcileFrame>): ReconcileFrame {
    return decodeMessage(buf, ReconcileFrame.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReconcileFrame>): Generator<ReconcileFrameTypeFieldEvent | ReconcileFrameRangesUpperFieldEvent | ReconcileFrameRangesModeFieldEvent | ReconcileFrameRangesFingerprintFieldEvent | ReconcileFrameRangesIdsFieldEvent | ReconcileFrameRangesWantedFieldEvent | ReconcileFrameFetchFieldEvent | ReconcileFrameEventsSignedFieldEvent | ReconcileFrameEventsSignatureFieldEvent | ReconcileFrameDoneFieldEvent | ReconcileFrameErrorCodeFieldEvent | ReconcileFrameErrorMessageFieldEvent | ReconcileFrameStateHashFieldEvent | ReconcileFrameAcceptedFieldEvent | ReconcileFrameFrameBytesMaxFieldEvent | ReconcileFrameLogPhaseFieldEvent | ReconcileFrameLogsAuthorFieldEvent | ReconcileFrameLogsLogFieldEvent | ReconcileFrameLogsContiguousFieldEvent | ReconcileFrameLogsEndFieldEvent | ReconcileFrameLogsRootFieldEvent | ReconcileFrameLogsForkedFieldEvent | ReconcileFrameLogsHolesFieldEvent | ReconcileFrameLogsHolesMoreFieldEvent | ReconcileFrameLogsFetchingFieldEvent | ReconcileFrameLogsMoreFieldEvent | ReconcileFrameLogFetchAuthorFieldEvent | ReconcileFrameLogFetchLogFieldEvent | ReconcileFrameLogFetchFromFieldEvent | ReconcileFrameLogFetchToFieldEvent | ReconcileFrameLogFetchRunsFieldEvent | ReconcileFrameHeadAuthorFieldEvent | ReconcileFrameHeadLogFieldEvent | ReconcileFrameHeadLengthFieldEvent | ReconcileFrameHeadRootFieldEvent | ReconcileFrameHeadSignatureFieldEvent | ReconcileFrameLogBucketsPrefixFieldEvent | ReconcileFrameLogBucketsCountFieldEvent | ReconcileFrameLogBucketsFingerprintFieldEvent | ReconcileFrameLogBucketsModeFieldEvent> {
    return streamMessage(buf, ReconcileFrame.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

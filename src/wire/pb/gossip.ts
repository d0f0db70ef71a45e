// Generated from src/wire/pb/gossip.proto by protons and test/unit/wire/pb-generate.ts (erasable-syntax rewrite). Do not edit.
/* eslint-disable */
import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface GossipEvent {
  signed: Uint8Array
  signature: Uint8Array
}

export const GossipEvent = (() => {
  let _codec: Codec<GossipEvent, Partial<GossipEvent>>

  const codec = (): Codec<GossipEvent, Partial<GossipEvent>> => {
    if (_codec == null) {
      _codec = message<GossipEvent, Partial<GossipEvent>>((obj, w, opts = {}) => {
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

  interface GossipEventSignedFieldEvent {
    field: '$.signed'
    value: Uint8Array
  }

  interface GossipEventSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array
  }

  function encode (obj: Partial<GossipEvent>): Uint8Array {
    return encodeMessage(obj, GossipEvent.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GossipEvent>): GossipEvent {
    return decodeMessage(buf, GossipEvent.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GossipEvent>): Generator<GossipEventSignedFieldEvent | GossipEventSignatureFieldEvent> {
    return streamMessage(buf, GossipEvent.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Announce {
  digest: Uint8Array
  size: number
}

export const Announce = (() => {
  let _codec: Codec<Announce, Partial<Announce>>

  const codec = (): Codec<Announce, Partial<Announce>> => {
    if (_codec == null) {
      _codec = message<Announce, Partial<Announce>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.digest)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint32(obj.size)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: new Uint8Array(0),
          size: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.bytes()
              break
            }
            case 2: {
              obj.size = reader.uint32()
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
                field: `${prefix}.digest`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
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

  interface AnnounceDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array
  }

  interface AnnounceSizeFieldEvent {
    field: '$.size'
    value: number
  }

  function encode (obj: Partial<Announce>): Uint8Array {
    return encodeMessage(obj, Announce.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Announce {
    return decodeMessage(buf, Announce.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Generator<AnnounceDigestFieldEvent | AnnounceSizeFieldEvent> {
    return streamMessage(buf, Announce.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface GossipMessage {
  events: GossipEvent[]
  announce?: Announce
}

export const GossipMessage = (() => {
  let _codec: Codec<GossipMessage, Partial<GossipMessage>>

  const codec = (): Codec<GossipMessage, Partial<GossipMessage>> => {
    if (_codec == null) {
      _codec = message<GossipMessage, Partial<GossipMessage>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.events != null && obj.events.length > 0) {
          for (const value of obj.events) {
            w.uint32(10)
            GossipEvent.codec().encode(value, w)
          }
        }

        if (obj.announce != null) {
          w.uint32(18)
          Announce.codec().encode(obj.announce, w)
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

              obj.events.push(GossipEvent.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.events$
              }))
              break
            }
            case 2: {
              obj.announce = Announce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.announce
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

              for (const evt of GossipEvent.codec().stream(reader, reader.uint32(), `${prefix}.events[]`, {
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
              yield * Announce.codec().stream(reader, reader.uint32(), `${prefix}.announce`, {
                limits: opts.limits?.announce
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

  interface GossipMessageEventsSignedFieldEvent {
    field: '$.events[].signed'
    value: Uint8Array
    index: number
  }

  interface GossipMessageEventsSignatureFieldEvent {
    field: '$.events[].signature'
    value: Uint8Array
    index: number
  }

  interface GossipMessageAnnounceDigestFieldEvent {
    field: '$.announce.digest'
    value: Uint8Array
  }

  interface GossipMessageAnnounceSizeFieldEvent {
    field: '$.announce.size'
    value: number
  }

  function encode (obj: Partial<GossipMessage>): Uint8Array {
    return encodeMessage(obj, GossipMessage.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GossipMessage>): GossipMessage {
    return decodeMessage(buf, GossipMessage.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GossipMessage>): Generator<GossipMessageEventsSignedFieldEvent | GossipMessageEventsSignatureFieldEvent | GossipMessageAnnounceDigestFieldEvent | GossipMessageAnnounceSizeFieldEvent> {
    return streamMessage(buf, GossipMessage.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

// Generated from src/wire/pb/peers.proto by protons and test/unit/wire/pb-generate.ts (erasable-syntax rewrite). Do not edit.
/* eslint-disable */
import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface PeersRequest {
  limit: number
}

export const PeersRequest = (() => {
  let _codec: Codec<PeersRequest, Partial<PeersRequest>>

  const codec = (): Codec<PeersRequest, Partial<PeersRequest>> => {
    if (_codec == null) {
      _codec = message<PeersRequest, Partial<PeersRequest>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.limit != null && obj.limit !== 0)) {
          w.uint32(8)
          w.uint32(obj.limit)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          limit: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.limit = reader.uint32()
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
                field: `${prefix}.limit`,
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

  interface PeersRequestLimitFieldEvent {
    field: '$.limit'
    value: number
  }

  function encode (obj: Partial<PeersRequest>): Uint8Array {
    return encodeMessage(obj, PeersRequest.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeersRequest>): PeersRequest {
    return decodeMessage(buf, PeersRequest.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeersRequest>): Generator<PeersRequestLimitFieldEvent> {
    return streamMessage(buf, PeersRequest.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PeerRecord {
  peerId: string
  addrs: string[]
}

export const PeerRecord = (() => {
  let _codec: Codec<PeerRecord, Partial<PeerRecord>>

  const codec = (): Codec<PeerRecord, Partial<PeerRecord>> => {
    if (_codec == null) {
      _codec = message<PeerRecord, Partial<PeerRecord>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
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
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

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

  interface PeerRecordPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  interface PeerRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  function encode (obj: Partial<PeerRecord>): Uint8Array {
    return encodeMessage(obj, PeerRecord.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerRecord>): PeerRecord {
    return decodeMessage(buf, PeerRecord.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerRecord>): Generator<PeerRecordPeerIdFieldEvent | PeerRecordAddrsFieldEvent> {
    return streamMessage(buf, PeerRecord.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface PeersResponse {
  peers: PeerRecord[]
}

export const PeersResponse = (() => {
  let _codec: Codec<PeersResponse, Partial<PeersResponse>>

  const codec = (): Codec<PeersResponse, Partial<PeersResponse>> => {
    if (_codec == null) {
      _codec = message<PeersResponse, Partial<PeersResponse>>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.peers != null && obj.peers.length > 0) {
          for (const value of obj.peers) {
            w.uint32(10)
            PeerRecord.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peers: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.peers != null && obj.peers.length === opts.limits.peers) {
                throw new MaxLengthError('Decode error - repeated field "peers" had too many elements')
              }

              obj.peers.push(PeerRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.peers$
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
          peers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.peers != null && obj.peers === opts.limits.peers) {
                throw new MaxLengthError('Streaming decode error - repeated field "peers" had too many elements')
              }

              for (const evt of PeerRecord.codec().stream(reader, reader.uint32(), `${prefix}.peers[]`, {
                limits: opts.limits?.peers$
              })) {
                yield {
                  ...evt,
                  index: obj.peers
                }
              }

              obj.peers++

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

  interface PeersResponsePeersPeerIdFieldEvent {
    field: '$.peers[].peerId'
    value: string
    index: number
  }

  interface PeersResponsePeersAddrsFieldEvent {
    field: '$.peers[].addrs[]'
    index: number
    value: string
  }

  function encode (obj: Partial<PeersResponse>): Uint8Array {
    return encodeMessage(obj, PeersResponse.codec())
  }

  function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeersResponse>): PeersResponse {
    return decodeMessage(buf, PeersResponse.codec(), opts)
  }

  function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeersResponse>): Generator<PeersResponsePeersPeerIdFieldEvent | PeersResponsePeersAddrsFieldEvent> {
    return streamMessage(buf, PeersResponse.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

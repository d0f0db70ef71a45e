/**
 * Federation membership: an allow-list of Ed25519 public keys (hex), or none (open federation).
 * The same list gates connections (by the Noise-authenticated peer id, which is the key) and
 * authors (the node's event verification).
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { admittedAuthors } from '../core/authors.ts'
import { peerIdFromAuthorKey } from './peer-files.ts'

export class Membership {
  readonly #peerIds: ReadonlySet<string> | undefined
  readonly #authors: ReadonlySet<string> | undefined

  /** `members`: hex public keys; undefined = open federation. `selfKey`: the node's own key,
   *  admitted as an author by the node's one author rule (src/core/authors.ts). */
  constructor(members: readonly string[] | undefined, selfKey: string) {
    this.#authors = admittedAuthors(members, selfKey)
    if (members === undefined) return
    this.#peerIds = new Set(members.map((m) => peerIdFromAuthorKey(m.toLowerCase())))
  }

  get open(): boolean {
    return this.#peerIds === undefined
  }

  /** Authors admitted by event verification (members and the node itself); undefined when open. */
  get allowedAuthors(): ReadonlySet<string> | undefined {
    return this.#authors
  }

  get size(): number | 'open' {
    return this.#peerIds?.size ?? 'open'
  }

  isMember(peerId: string): boolean {
    return this.#peerIds === undefined || this.#peerIds.has(peerId)
  }

  /**
   * A libp2p connection gater refusing non-members: before dialling them, and once Noise has
   * authenticated the remote (inbound and outbound), so a peer cannot claim another's id.
   * `onDeny` counts refusals.
   */
  gater(onDeny: (peerId: string, where: string) => void): ConnectionGater {
    const deny =
      (where: string) =>
      (peerId: PeerId): boolean => {
        const id = peerId.toString()
        if (this.isMember(id)) return false
        onDeny(id, where)
        return true
      }
    return {
      denyDialPeer: deny('dial'),
      denyInboundEncryptedConnection: deny('inbound'),
      denyOutboundEncryptedConnection: deny('outbound'),
    }
  }
}

/**
 * Peers this node has known, kept in `<dataDir>/mesh-peers.json` across restarts: their listen
 * addresses (to redial) and, per peer, the pull cursor of its arrival log that we have caught up
 * to (so a reconnect pulls only what is new). Bounded (KNOWN_PEERS_MAX, KNOWN_PEER_ADDRS_MAX,
 * KNOWN_PEER_TTL_MS); written atomically (temp file + rename), at most once per
 * PEER_BOOK_SAVE_DEBOUNCE_MS and on stop.
 *
 * File format (version 1):
 *   { "version": 1, "peers": { "<peer id>": { "addrs": ["/ip4/.../tcp/7421"], "lastSeenMs": 0,
 *     "cursor": "s.42", "cursorTypes": "graph_update,vector_update" } } }
 * A cursor is only valid for the set of event types it was pulled with (`cursorTypes`).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  KNOWN_PEER_ADDRS_MAX,
  KNOWN_PEER_TTL_MS,
  KNOWN_PEERS_MAX,
  PEER_BOOK_SAVE_DEBOUNCE_MS,
} from './constants.ts'
import type { NetLogger } from './stats.ts'

export interface KnownPeer {
  addrs: string[]
  lastSeenMs: number
  cursor?: string
  cursorTypes?: string
}

export const PEER_BOOK_FILE = 'mesh-peers.json'

export class PeerBook {
  readonly #path: string
  readonly #now: () => number
  readonly #log: NetLogger
  readonly #peers = new Map<string, KnownPeer>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #writing: Promise<void> = Promise.resolve()

  constructor(dataDir: string, now: () => number, log: NetLogger) {
    this.#path = join(dataDir, PEER_BOOK_FILE)
    this.#now = now
    this.#log = log
  }

  get path(): string {
    return this.#path
  }

  /** Loads the file; a missing file is an empty book, a corrupt one is reported and ignored. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    try {
      const doc = JSON.parse(text) as { version?: unknown; peers?: Record<string, KnownPeer> }
      if (doc.version !== 1 || doc.peers === null || typeof doc.peers !== 'object')
        throw new Error('not a version 1 peer file')
      const cutoff = this.#now() - KNOWN_PEER_TTL_MS
      for (const [id, p] of Object.entries(doc.peers)) {
        if (!Array.isArray(p.addrs) || typeof p.lastSeenMs !== 'number' || p.lastSeenMs < cutoff) continue
        this.#peers.set(id, {
          addrs: p.addrs.filter((a) => typeof a === 'string').slice(0, KNOWN_PEER_ADDRS_MAX),
          lastSeenMs: p.lastSeenMs,
          cursor: typeof p.cursor === 'string' ? p.cursor : undefined,
          cursorTypes: typeof p.cursorTypes === 'string' ? p.cursorTypes : undefined,
        })
      }
      this.#evict()
    } catch (err) {
      this.#log.warn(`${this.#path} is unreadable (${(err as Error).message}); starting with no known peers`)
    }
  }

  get size(): number {
    return this.#peers.size
  }

  get(peerId: string): Readonly<KnownPeer> | undefined {
    return this.#peers.get(peerId)
  }

  entries(): Array<[string, Readonly<KnownPeer>]> {
    return [...this.#peers.entries()]
  }

  /** Records that a peer was seen, merging addresses (newest first, bounded). */
  touch(peerId: string, addrs: readonly string[] = []): void {
    const p = this.#peers.get(peerId) ?? { addrs: [], lastSeenMs: 0 }
    p.addrs = [...new Set([...addrs, ...p.addrs])].slice(0, KNOWN_PEER_ADDRS_MAX)
    p.lastSeenMs = this.#now()
    this.#peers.delete(peerId)
    this.#peers.set(peerId, p)
    this.#evict()
    this.#schedule()
  }

  /** Records addresses another peer told us about (peer exchange). A peer new to the book is
   *  added as seen now (so it expires KNOWN_PEER_TTL_MS after it was last learned or seen); a
   *  known one gets the addresses it lacks, after its own, and keeps its last-seen time: hearsay
   *  does not keep a peer that is never seen alive. */
  learn(peerId: string, addrs: readonly string[]): void {
    const p = this.#peers.get(peerId)
    if (p === undefined) {
      this.#peers.set(peerId, { addrs: addrs.slice(0, KNOWN_PEER_ADDRS_MAX), lastSeenMs: this.#now() })
      this.#evict()
    } else {
      p.addrs = [...new Set([...p.addrs, ...addrs])].slice(0, KNOWN_PEER_ADDRS_MAX)
    }
    this.#schedule()
  }

  /** The cursor we caught up to on this peer, if it was pulled with the same types. */
  cursor(peerId: string, types: string): string | undefined {
    const p = this.#peers.get(peerId)
    return p !== undefined && p.cursorTypes === types ? p.cursor : undefined
  }

  setCursor(peerId: string, types: string, cursor: string): void {
    const p = this.#peers.get(peerId) ?? { addrs: [], lastSeenMs: this.#now() }
    p.cursor = cursor
    p.cursorTypes = types
    this.#peers.set(peerId, p)
    this.#schedule()
  }

  #evict(): void {
    if (this.#peers.size <= KNOWN_PEERS_MAX) return
    const oldest = [...this.#peers.entries()].sort((a, b) => a[1].lastSeenMs - b[1].lastSeenMs)
    for (const [id] of oldest.slice(0, this.#peers.size - KNOWN_PEERS_MAX)) this.#peers.delete(id)
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.flush().catch((err: unknown) =>
        this.#log.warn(`saving ${this.#path} failed: ${(err as Error).message}`),
      )
    }, PEER_BOOK_SAVE_DEBOUNCE_MS)
    this.#timer.unref?.()
  }

  /** Writes the file now (after any write in progress). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    const doc = { version: 1, peers: Object.fromEntries(this.#peers) }
    const text = `${JSON.stringify(doc, null, 1)}\n`
    this.#writing = this.#writing
      .catch(() => {})
      .then(async () => {
        await mkdir(dirname(this.#path), { recursive: true })
        const tmp = `${this.#path}.tmp`
        await writeFile(tmp, text)
        await rename(tmp, this.#path)
      })
    await this.#writing
  }
}

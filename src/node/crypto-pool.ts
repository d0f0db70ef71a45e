/**
 * A pool of worker threads for Ed25519 over whole groups: signing a group of local writes and
 * verifying a push of signed events. One signature costs ~35 us and one verification ~90 us on
 * this machine's cores, more than everything else an event costs together; spreading a group over
 * the workers uses the second core instead of queueing it on the event loop.
 *
 * Small jobs (below `inlineMax` items) run on the calling thread: a round trip to a worker costs
 * more than a few signatures.
 */
import { Worker } from 'node:worker_threads'
import { type Signer, type VerifyItem, verifyEd25519 } from '../util/crypto.ts'

type CryptoRequest =
  | { id: number; op: 'sign'; messages: Uint8Array[] }
  | {
      id: number
      op: 'verify'
      items: Array<{ key: Uint8Array; message: Uint8Array; signature: Uint8Array }>
    }
type CryptoResponse = { id: number; signatures?: Uint8Array[]; valid?: boolean[]; error?: string }

/**
 * The worker, as plain JavaScript evaluated by the Worker: a TypeScript worker file would load
 * Node's type stripper into every worker (~30 MB each, measured) for these few lines.
 * Same DER framing as util/crypto.ts (RFC 8410 PKCS#8 / SPKI prefixes for raw Ed25519 keys).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPrivateKey, createPublicKey, sign, verify } = require('node:crypto')
const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(workerData.seed)]), format: 'der', type: 'pkcs8' })
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const keys = new Map()
const publicKey = (raw) => {
  const id = Buffer.from(raw).toString('latin1')
  let k = keys.get(id)
  if (k === undefined) {
    if (keys.size >= 4096) keys.delete(keys.keys().next().value)
    k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' })
    keys.set(id, k)
  }
  return k
}
const check = (it) => {
  if (it.key.byteLength !== 32 || it.signature.byteLength !== 64) return false
  try { return verify(null, it.message, publicKey(it.key), it.signature) } catch { return false }
}
parentPort.on('message', (req) => {
  try {
    if (req.op === 'sign') parentPort.postMessage({ id: req.id, signatures: req.messages.map((m) => new Uint8Array(sign(null, m, priv))) })
    else parentPort.postMessage({ id: req.id, valid: req.items.map(check) })
  } catch (err) {
    parentPort.postMessage({ id: req.id, error: String(err && err.message) })
  }
})
`

export interface CryptoPoolInit {
  /** Worker threads (default 2: the cores of this machine). */
  readonly workers?: number
  /** Jobs with fewer items than this run inline (default 16). */
  readonly inlineMax?: number
}

export interface CryptoPool {
  signMany(messages: readonly Uint8Array[]): Promise<Uint8Array[]>
  verifyMany(items: readonly VerifyItem[]): Promise<boolean[]>
  stop(): Promise<void>
}

interface Pending {
  resolve: (r: CryptoResponse) => void
  reject: (e: Error) => void
}

export function createCryptoPool(seed: Uint8Array, signer: Signer, init: CryptoPoolInit = {}): CryptoPool {
  const size = init.workers ?? 2
  const inlineMax = init.inlineMax ?? 16
  let workers: Worker[] | undefined
  let nextId = 1
  let stopped = false
  const pending = new Map<number, Pending>()

  const start = (): Worker[] => {
    if (workers !== undefined) return workers
    workers = Array.from({ length: size }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { seed } })
      w.unref()
      w.on('message', (res: CryptoResponse) => {
        const p = pending.get(res.id)
        if (p === undefined) return
        pending.delete(res.id)
        if (res.error !== undefined) p.reject(new Error(`crypto worker: ${res.error}`))
        else p.resolve(res)
      })
      w.on('error', (err) => {
        for (const [id, p] of pending) {
          pending.delete(id)
          p.reject(err)
        }
      })
      return w
    })
    return workers
  }

  const run = async <T>(
    list: readonly T[],
    make: (part: T[], id: number) => CryptoRequest,
  ): Promise<CryptoResponse[]> => {
    if (stopped) throw new Error('crypto pool is stopped')
    const ws = start()
    const per = Math.ceil(list.length / ws.length)
    const jobs: Promise<CryptoResponse>[] = []
    for (let i = 0, w = 0; i < list.length; i += per, w++) {
      const id = nextId++
      const req = make(list.slice(i, i + per), id)
      jobs.push(new Promise((resolve, reject) => pending.set(id, { resolve, reject })))
      ws[w].postMessage(req)
    }
    return Promise.all(jobs)
  }

  return {
    async signMany(messages) {
      if (messages.length < inlineMax) return messages.map((m) => signer.sign(m))
      const res = await run(messages, (part, id) => ({ id, op: 'sign', messages: part }))
      return res.flatMap((r) => r.signatures!)
    },
    async verifyMany(items) {
      if (items.length < inlineMax) return items.map((it) => verifyEd25519(it.key, it.message, it.signature))
      const res = await run(items, (part, id) => ({
        id,
        op: 'verify',
        items: part.map((p) => ({ key: p.key, message: p.message, signature: p.signature })),
      }))
      return res.flatMap((r) => r.valid!)
    },
    async stop() {
      stopped = true
      const ws = workers
      workers = undefined
      for (const [id, p] of pending) {
        pending.delete(id)
        p.reject(new Error('crypto pool stopped'))
      }
      if (ws !== undefined) await Promise.all(ws.map((w) => w.terminate()))
    },
  }
}

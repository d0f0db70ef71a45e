/**
 * Worker of the crypto pool: Ed25519 signs and verifies whole slices of a group through
 * node:crypto, so the main thread's event loop keeps serving while the second core signs.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { signerFromSeed, verifyEd25519 } from '../util/crypto.ts'

export type CryptoRequest =
  | { id: number; op: 'sign'; messages: Uint8Array[] }
  | {
      id: number
      op: 'verify'
      items: Array<{ key: Uint8Array; message: Uint8Array; signature: Uint8Array }>
    }
export type CryptoResponse = { id: number; signatures?: Uint8Array[]; valid?: boolean[]; error?: string }

const signer = signerFromSeed(new Uint8Array(workerData.seed as Uint8Array))
parentPort!.on('message', (req: CryptoRequest) => {
  try {
    if (req.op === 'sign')
      parentPort!.postMessage({
        id: req.id,
        signatures: req.messages.map((m) => signer.sign(m)),
      } satisfies CryptoResponse)
    else
      parentPort!.postMessage({
        id: req.id,
        valid: req.items.map((it) => verifyEd25519(it.key, it.message, it.signature)),
      } satisfies CryptoResponse)
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: (err as Error).message } satisfies CryptoResponse)
  }
})

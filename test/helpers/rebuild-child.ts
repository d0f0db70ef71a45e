/**
 * Child of test/unit/node/replay-scan.test.ts: rebuilds the state of the LevelDB store in DIR
 * with small pages and a small buffer (so the log is spilled to many files), tells its parent
 * when it has merged HOLD_AT events, and then holds there until it is killed.
 * Usage: node test/helpers/rebuild-child.ts DIR HOLD_AT
 */
import { Ingestor } from '../../src/core/ingest.ts'
import { EMPTY_STATE_HASH } from '../../src/core/view.ts'
import { trustedYjsMerger } from '../../src/core/yjs-merge.ts'
import { rebuildState } from '../../src/node/replay.ts'
import { createLevelStore } from '../../src/store/index.ts'
import { testSigner } from './events.ts'

const [dir, holdAt] = process.argv.slice(2)
const self = testSigner(50)
const store = createLevelStore(dir)
await store.open()
const ingestor = new Ingestor(
  { store, signer: self, crdt: trustedYjsMerger },
  { hlc: { wallMs: 0, counter: 0 }, stateHash: EMPTY_STATE_HASH, log: '00000000000000bb', logNext: 0 },
)
await rebuildState(store, ingestor, {
  selfKey: Buffer.from(self.publicKey).toString('hex'),
  now: () => Date.now(),
  force: true,
  bufferBytes: 32 * 1024,
  pageEvents: 40,
  onProgress: (done) => {
    if (done < Number(holdAt)) return
    process.send?.('held')
    return new Promise<void>(() => {})
  },
})
process.send?.('finished')

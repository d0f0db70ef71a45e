import { createMemoryStore } from '../../src/store/index.ts'
import { runStoreConformance } from './store-suite.ts'

runStoreConformance('memory', async () => {
  const store = createMemoryStore()
  return { store, cleanup: () => store.close() }
})

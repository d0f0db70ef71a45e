/**
 * Gives back to the system the memory a rebuild leaves behind, before the node serves. A rebuild
 * allocates and drops gigabytes over its run; V8 keeps the heap pages it grew to (and the
 * rebuild's read buffer until a major collection finds it), so a node that had just rebuilt a
 * million events sat at ~220–235 MB of RSS against ~157 MB after a plain restart
 * (docs/BENCHMARKS.md). One memory-reducing major collection (V8's `last-resort` flavour, what it
 * runs before an out-of-memory error: it compacts and releases the freed pages) brings it down.
 *
 * The collection is reached through V8's `gc` extension: when the process was not started with
 * `--expose-gc`, the flag is set at run time and the function taken from a new context (the
 * extension is installed in contexts created after the flag). It runs once, after a rebuild,
 * while the node does nothing else; a pause of a few hundred ms at start-up.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type Gc = (options?: { type?: string; execution?: string; flavor?: string }) => void

/** Runs a memory-reducing major collection; false when V8 offers no way to. */
export function releaseMemory(): boolean {
  let gc = (globalThis as { gc?: Gc }).gc
  if (typeof gc !== 'function') {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as Gc | undefined
  }
  if (typeof gc !== 'function') return false
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  return true
}

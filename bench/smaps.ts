/**
 * Splits a process's anonymous memory by where it comes from, from /proc/PID/smaps: glibc's main
 * arena (`[heap]`), V8's heap pages (anonymous mappings of exactly 256 KiB: V8 allocates its
 * pages that size, worker threads' isolates included), and the rest (other glibc arenas, thread
 * stacks, large objects, code space). For the memory benchmarks' reports.
 */
import { readFileSync } from 'node:fs'

export interface AnonSplit {
  /** glibc's main arena: native allocations of the main thread (LevelDB memtables and block
   *  cache, Buffers' backing stores, the allocator's free lists). */
  readonly mallocMainMb: number
  /** V8 heap pages (256 KiB mappings), of every isolate in the process. */
  readonly v8PagesMb: number
  /** Every other anonymous mapping: the second glibc arena (libuv's pool, LevelDB's background
   *  thread), thread stacks, V8's large objects and code space. */
  readonly otherAnonMb: number
}

export function anonSplit(pid: number | 'self' = 'self'): AnonSplit {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8')
  let main = 0
  let pages = 0
  let other = 0
  let size = 0
  let name = ''
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) {
      size = (Number.parseInt(head[2], 16) - Number.parseInt(head[1], 16)) / 1024
      name = head[3]
      continue
    }
    if (!line.startsWith('Anonymous:')) continue
    const kb = Number(line.split(/\s+/)[1])
    if (name === '[heap]') main += kb
    else if (name === '' && size === 256) pages += kb
    else other += kb
  }
  const mb = (kb: number) => Math.round(kb / 102.4) / 10
  return { mallocMainMb: mb(main), v8PagesMb: mb(pages), otherAnonMb: mb(other) }
}

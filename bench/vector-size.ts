/**
 * Vector sizes, this checkout beside the code at the start of the cost-per-event issue
 * (BENCH_BASE_REF, default 73ef879: vectors as JSON digits), in one run: what one 768-dimension
 * vector event is on the wire (signed bytes + signature) and what N of them take on disk after a
 * compaction, per event. Run: npm run bench -- vectors
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childJson } from './child-json.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./vector-size-child.ts', import.meta.url))
const N = Number(process.env.BENCH_VECTORS_N ?? 2_000)
const DIMS = Number(process.env.BENCH_VECTORS_DIMS ?? 768)
const BASE_REF = process.env.BENCH_BASE_REF ?? '73ef879'

function child(root: string): Promise<{ wireBytes: number; diskBytes: number; events: number }> {
  return childJson([CHILD, root, String(N), String(DIMS)], { what: 'vector-size child' })
}

export async function benchVectorSize(): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'gkm-bench-base-'))
  await rm(base, { recursive: true })
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', base, BASE_REF], { stdio: 'ignore' })
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'))
  try {
    const now = await child(ROOT)
    const then = await child(base)
    const perEvent = (r: { diskBytes: number; events: number }) => Math.round(r.diskBytes / r.events)
    console.log(
      `vector event of ${DIMS} dimensions: ${now.wireBytes} B on the wire vs ${BASE_REF} ${then.wireBytes} B; ` +
        `on disk ${perEvent(now)} B per event vs ${perEvent(then)} B (${N} events, compacted)`,
    )
    return {
      dims: DIMS,
      events: N,
      baseRef: BASE_REF,
      wireBytes: now.wireBytes,
      baseWireBytes: then.wireBytes,
      diskBytesPerEvent: perEvent(now),
      baseDiskBytesPerEvent: perEvent(then),
    }
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchVectorSize()

/**
 * Docs that run: every shell block of README.md and docs/API.md is run in bash, as written,
 * unless marked `<!-- not-run: why -->` (test/helpers/doc-blocks.ts has the markers).
 *
 * Per document: a temp directory is the blocks' working directory; a node of the document
 * (`gkm-sync start`, mDNS off, mesh on loopback) is started for the blocks that talk to "the"
 * node on 127.0.0.1:7420, and holds one open conflict (two authors' concurrent writes to
 * `persona-7`), as a node does after a partition, for the resolve example. Every loopback port
 * the blocks name (7420, 7501, ...) is replaced by a free one and `/tmp/` paths by the temp
 * directory, so the blocks run on a busy machine and in parallel with other tests.
 *
 * Each block runs in its own process group under `set -eo pipefail` with a deadline; whatever it
 * left running (background nodes) is stopped by signalling that group. `curl` fails on HTTP
 * errors (`--fail-with-body` unless the block asks for `-f` itself), so an example answered 4xx
 * fails the test; `npx gkm-sync` / `gkm-sync` run this checkout's bin; any other `npx` is
 * refused (no registry). A block that would change the system (sudo, systemctl, apt, /etc/, a
 * global npm install), start an mDNS-on node or talk to a non-loopback address is refused: such
 * blocks must be marked not-run.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventToJson } from '../../src/core/event.ts'
import { portsOf, type ShellBlock, shellBlocks, substitute, unsafeBecause } from '../helpers/doc-blocks.ts'
import { makeEvent, testSigner } from '../helpers/events.ts'
import {
  BIN,
  freePort,
  keep,
  REAL_CURL,
  ROOT,
  runBash,
  stopGroup,
  waitFor,
  writeShims,
} from '../helpers/shell-runner.ts'

const DOCS = ['README.md', 'docs/API.md']
/** A block's deadline: starting three nodes on a loaded 2-core machine takes a few seconds each. */
const BLOCK_DEADLINE_MS = 90_000
const NODE_START_DEADLINE_MS = 60_000
/** The document's node: the address the docs' examples use. */
const DOC_HTTP_PORT = 7420
const DOC_MESH_PORT = 7421

/** Two authors' concurrent writes of persona-7's name: one open conflict, as after a partition. */
async function seedConflict(url: string): Promise<void> {
  const now = Date.now()
  const events = [1, 2].map((n) =>
    eventToJson(
      makeEvent(testSigner(40 + n), {
        target: 'persona-7',
        payload: { op: 'set', fields: { name: n === 1 ? 'Ada' : 'Ada Lovelace' } },
        hlc: { wallMs: now - 10_000 + n, counter: 0 },
        eventId: `00000000-0000-4000-8000-00000000070${n}`,
      }),
    ),
  )
  const res = await fetch(`${url}/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  })
  const body = (await res.json()) as { accepted: number }
  assert.equal(body.accepted, 2, JSON.stringify(body))
}

function describeDoc(doc: string): void {
  const blocks = shellBlocks(readFileSync(join(ROOT, doc), 'utf8'))
  const runnable = blocks.filter((b) => b.notRun === undefined)

  describe(`shell blocks of ${doc} run as written`, {
    skip: REAL_CURL === undefined ? 'curl is not installed' : false,
  }, () => {
    let work: string
    let env: NodeJS.ProcessEnv
    const ports = new Map<number, number>()
    let node: ChildProcess | undefined
    const nodeLog = { out: '' }

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'gkm-docs-'))
      await writeShims(join(work, '.bin'))
      // The blocks see no GKM_* setting of the machine running the tests.
      env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GKM_')))
      env.PATH = `${join(work, '.bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`
      for (const p of [DOC_HTTP_PORT, DOC_MESH_PORT, ...runnable.flatMap((b) => portsOf(b.code))])
        if (!ports.has(p)) ports.set(p, await freePort())
      const http = ports.get(DOC_HTTP_PORT)!
      node = spawn(
        BIN,
        [
          'start',
          '--data-dir',
          join(work, 'doc-node'),
          '--http',
          `127.0.0.1:${http}`,
          '--listen',
          `/ip4/127.0.0.1/tcp/${ports.get(DOC_MESH_PORT)}`,
          '--no-mdns',
        ],
        { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      node.stdout?.on('data', (c: Buffer) => keep(nodeLog, c))
      node.stderr?.on('data', (c: Buffer) => keep(nodeLog, c))
      await waitFor(
        `the document's node on 127.0.0.1:${http}`,
        async () => (await fetch(`http://127.0.0.1:${http}/health`)).ok,
        NODE_START_DEADLINE_MS,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\nnode output:\n${nodeLog.out}`)
      })
      await seedConflict(`http://127.0.0.1:${http}`)
    })

    after(async () => {
      await stopGroup(node?.pid)
      if (work !== undefined) await rm(work, { recursive: true, force: true })
    })

    for (const block of blocks) {
      const first = block.code.split('\n')[0].slice(0, 60)
      it(`line ${block.line}: ${first}`, { skip: block.notRun && `not-run: ${block.notRun}` }, async () => {
        await runBlock(block)
      })
    }

    async function runBlock(block: ShellBlock): Promise<void> {
      const unsafe = unsafeBecause(block.code)
      assert.equal(
        unsafe,
        undefined,
        `${doc}:${block.line} cannot run here because ${unsafe}; mark it <!-- not-run: why -->`,
      )
      const code = substitute(block.code, ports, work)
      const ran = await runBash(code, work, env, block.runForMs ?? BLOCK_DEADLINE_MS)
      const report = () =>
        `${doc}:${block.line} ${ran.stillRunning ? `still running after ${block.runForMs ?? BLOCK_DEADLINE_MS} ms` : `exited ${ran.code ?? ran.signal}`}\n--- block as run ---\n${code}--- output ---\n${ran.out}\n--- the document's node ---\n${nodeLog.out.slice(-4000)}`
      if (block.runForMs !== undefined) {
        assert.ok(ran.stillRunning || ran.code === 0, report())
        assert.ok(ran.out.length > 0, `${report()}\n(no output)`)
      } else {
        assert.equal(ran.stillRunning, false, report())
        assert.equal(ran.code, 0, report())
      }
    }
  })
}

for (const doc of DOCS) describeDoc(doc)

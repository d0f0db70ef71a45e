import type { ChildProcess } from 'node:child_process'
/** Test helpers: real nodes in temp directories (mesh off, HTTP on an OS-picked loopback port). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.ts'
import {
  createLogger,
  type RunningNode,
  type StartOptions,
  silentLogger,
  startNode,
} from '../../src/node/index.ts'

export interface TestNode {
  node: RunningNode
  dir: string
  url: string
  restart(opts?: StartOptions): Promise<void>
  close(): Promise<void>
}

export async function testNode(
  opts: StartOptions & { dir?: string; env?: Record<string, string> } = {},
): Promise<TestNode> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'gkm-test-')))
  const config = () =>
    loadConfig({
      env: opts.env ?? {},
      flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
    })
  const t: TestNode = {
    node: await startNode(config(), { logger: testLogger(), ...opts }),
    dir,
    url: '',
    async restart(o?: StartOptions) {
      await t.node.stop()
      t.node = await startNode(config(), { logger: testLogger(), ...(o ?? opts) })
      t.url = `http://${t.node.http.host}:${t.node.http.port}`
    },
    async close() {
      await t.node.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
  t.url = `http://${t.node.http.host}:${t.node.http.port}`
  return t
}

/** Nodes in tests log nothing unless GKM_TEST_LOG names a level (`GKM_TEST_LOG=debug npm test`). */
export function testLogger() {
  const level = process.env.GKM_TEST_LOG
  return level === undefined || level === '' ? silentLogger() : createLogger({ level })
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

/** Resolves with a node process's HTTP URL once it prints its start-up line (`… | http URL | …`);
 *  rejects after 60 s, or when the process exits first, with its stderr. */
export function startupUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line in 60 s; stderr: ${stderr()}`)), 60_000)
    child.stdout?.on('data', (d) => {
      out += d
      const m = /\| http (http:\/\/127\.0\.0\.1:\d+) \|/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', () => reject(new Error(`the node exited before it served; stderr: ${stderr()}`)))
  })
}

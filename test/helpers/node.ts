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

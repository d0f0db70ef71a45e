/** Runs the example of docs/EMBEDDING.md as written, with its package imports pointed at the
 *  sources, in a child process (Node 24, a temp data dir), and checks what it prints. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

const root = new URL('../../../', import.meta.url)

test('the docs/EMBEDDING.md example runs and prints what the page says', async () => {
  const doc = await readFile(new URL('docs/EMBEDDING.md', root), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  assert.ok(code, 'the page has a ts example')
  const source = code
    .replace("from 'gkm-sync/config'", `from '${new URL('src/config/index.ts', root).href}'`)
    .replace("from 'gkm-sync'", `from '${new URL('src/node/index.ts', root).href}'`)
  assert.ok(!source.includes("'gkm-sync"), 'every package import was pointed at the sources')
  const dir = await mkdtemp(join(tmpdir(), 'gkm-embed-'))
  try {
    const file = join(dir, 'example.ts')
    await writeFile(file, source)
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, EXAMPLE_DATA_DIR: join(dir, 'data') },
      timeout: 60_000,
    })
    assert.equal(stdout, '1 1\ntrue\n')
    assert.match(doc, /Prints `1 1` and `true`/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

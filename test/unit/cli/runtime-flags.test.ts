import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { NODE_ENV, NODE_FLAGS } from '../../../src/cli/runtime-flags.ts'

const root = new URL('../../../', import.meta.url)
const expected = [...Object.entries(NODE_ENV).map(([k, v]) => `${k}=${v}`), 'node', ...NODE_FLAGS].join(' ')

test('npm start runs the node with the runtime flags and environment of runtime-flags.ts', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    scripts: { start: string; bench: string }
  }
  // `exec`: the shell npm runs the script in is replaced by the node, so a signal to npm (which
  // npm passes on to its child) reaches the node, and nothing is left orphaned.
  const [env, ...rest] = expected.split(' ')
  assert.ok(
    pkg.scripts.start.startsWith(`${env} exec ${rest.join(' ')} bin/gkm-sync.js start`),
    pkg.scripts.start,
  )
  // The ingest benchmark measures a node inside the bench process: same runtime.
  assert.ok(pkg.scripts.bench.startsWith(`${expected} `), pkg.scripts.bench)
})

test('the gkm-sync bin runs with the same runtime flags and environment', () => {
  const first = readFileSync(new URL('bin/gkm-sync.js', root), 'utf8').split('\n')[0]
  assert.equal(first, `#!/usr/bin/env -S ${expected}`)
})

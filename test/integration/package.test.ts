/**
 * The package installs and runs: `npm pack` (which builds dist/ with tsc), the tarball installed
 * into an empty directory from the local npm cache (offline: `npm ci` filled it), then the
 * installed `gkm-sync start` (loopback ports, mDNS off) and a `gkm-sync push` with the installed
 * copy, on the Node this repository pins (node_modules/.bin/node, first on PATH), and a SIGTERM
 * that stops the node cleanly. The installed copy holds no TypeScript sources (Node does not
 * strip types under node_modules), but it has type declarations: the docs/EMBEDDING.md example
 * type-checks against the installed package (strict, skipLibCheck off) and a wrong call does not.
 */

import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { startupUrl } from '../helpers/node.ts'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
/** The pinned Node first on PATH, for npm and the installed bin's `#!/usr/bin/env node`. */
const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH}` }

type LockEntry = { dev?: boolean; [k: string]: unknown }

/** An application's package.json and package-lock.json that install gkm-sync from `spec` with
 *  exactly the dependency versions of our lockfile (its runtime part). */
async function appFiles(spec: string): Promise<{ packageJson: string; lock: string }> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string
    dependencies: Record<string, string>
    engines: Record<string, string>
    bin: Record<string, string>
  }
  const ours = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number
    packages: Record<string, LockEntry>
  }
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { 'gkm-sync': spec } },
    'node_modules/gkm-sync': {
      version: pkg.version,
      resolved: spec,
      license: 'MIT',
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  }
  for (const [path, entry] of Object.entries(ours.packages)) {
    if (path === '' || entry.dev === true) continue
    // Our lockfile leaves out tarball URLs; without one npm asks the registry where the tarball
    // is. The registry's layout gives it, and the cache has the tarball under that URL.
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    const base = name.slice(name.lastIndexOf('/') + 1)
    packages[path] = {
      resolved: `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`,
      ...entry,
    }
  }
  const lock = { name: 'app', lockfileVersion: ours.lockfileVersion, requires: true, packages }
  return {
    packageJson: `${JSON.stringify({ name: 'app', private: true, dependencies: { 'gkm-sync': spec } }, null, 2)}\n`,
    lock: `${JSON.stringify(lock, null, 2)}\n`,
  }
}

/** The TypeScript of an application that uses the installed package: the docs/EMBEDDING.md
 *  example must type-check, a call with a wrong config must not. */
async function typeCheckAgainst(app: string): Promise<void> {
  const doc = await readFile(join(root, 'docs/EMBEDDING.md'), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  assert.ok(example !== undefined, 'docs/EMBEDDING.md has a ts example')
  assert.ok(example.includes("from 'gkm-sync'"), 'the example imports the package')
  await writeFile(join(app, 'example.mts'), example)
  await writeFile(
    join(app, 'wrong.mts'),
    "import { startNode } from 'gkm-sync'\nawait startNode({ dataDir: 42 })\n",
  )
  const tsconfig = (file: string) =>
    JSON.stringify({
      compilerOptions: {
        target: 'es2024',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        // The application has no @types/node of its own here (it installs offline).
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: [file],
    })
  await writeFile(join(app, 'tsconfig.example.json'), tsconfig('example.mts'))
  await writeFile(join(app, 'tsconfig.wrong.json'), tsconfig('wrong.mts'))
  const tsc = join(root, 'node_modules/.bin/tsc')
  await run(tsc, ['-p', 'tsconfig.example.json'], { cwd: app, env }).catch((err: { stdout?: string }) => {
    assert.fail(`the docs/EMBEDDING.md example does not type-check against the package:\n${err.stdout}`)
  })
  const wrong = await run(tsc, ['-p', 'tsconfig.wrong.json'], { cwd: app, env }).then(
    () => '',
    (err: { stdout?: string }) => err.stdout ?? '',
  )
  assert.match(wrong, /wrong\.mts\(2,\d+\): error TS2\d+/, 'a wrong config is a type error')
}

describe('the npm package', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  // npm pack (tsc twice: JavaScript, then declarations), npm ci, two type checks and a node: about
  // 50 s alone, more than the suite's default 120 s when the whole suite shares two CPUs.
  it('packs, installs offline into an empty directory, type-checks against it, starts, takes a push, and stops on SIGTERM', {
    timeout: 600_000,
  }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'gkm-pack-'))
    dirs.push(work)
    const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json'], {
      cwd: root,
      env,
      maxBuffer: 16 << 20,
    })
    const [{ filename, files }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
      filename: string
      files: Array<{ path: string }>
    }>
    const paths = files.map((f) => f.path)
    assert.ok(paths.includes('dist/cli/main.js'), 'compiled CLI in the package')
    assert.ok(paths.includes('bin/gkm-sync.js'))
    assert.ok(paths.includes('deploy/gkm-sync.service'))
    assert.deepEqual(
      paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')),
      [],
      'no TypeScript sources in the package',
    )
    for (const p of ['dist/node/index.d.ts', 'dist/config/index.d.ts', 'dist/wire/pb/sync.d.ts'])
      assert.ok(paths.includes(p), `${p} in the package`)

    const app = join(work, 'app')
    await mkdir(app)
    const { packageJson, lock } = await appFiles(`file:../${filename}`)
    await writeFile(join(app, 'package.json'), packageJson)
    await writeFile(join(app, 'package-lock.json'), lock)
    // `npm ci` of an application that depends on the tarball, with a lockfile made from ours:
    // every dependency comes from the npm cache that our own `npm ci` filled, no registry.
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, env, maxBuffer: 16 << 20 })
    assert.ok((await readdir(join(app, 'node_modules/gkm-sync/dist'))).includes('cli'))
    await typeCheckAgainst(app)

    const bin = join(app, 'node_modules/.bin/gkm-sync')
    const data = join(work, 'data')
    const child = spawn(
      bin,
      ['start', '--data-dir', data, '--http', '127.0.0.1:0', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'],
      { cwd: app, env: { ...env, GKM_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    let err = ''
    child.stderr.on('data', (d) => {
      err += d
    })
    try {
      const url = await startupUrl(child, () => err)
      const events = join(work, 'events.json')
      await writeFile(
        events,
        JSON.stringify([
          { event_type: 'persona_update', target_id: 'p1', payload: { op: 'set', fields: { a: 1 } } },
        ]),
      )
      const pushed = await run(bin, ['push', events, '--node', url, '--json'], { cwd: app, env })
      assert.equal(JSON.parse(pushed.stdout).accepted, 1)
      const status = await run(bin, ['status', '--node', url, '--json'], { cwd: app, env })
      assert.equal(JSON.parse(status.stdout).events, 1)
    } finally {
      child.kill('SIGTERM')
    }
    assert.equal(await exited, 0, `clean exit on SIGTERM; stderr: ${err}`)
    assert.match(err, /gkm-sync: stopped/)
  })
})

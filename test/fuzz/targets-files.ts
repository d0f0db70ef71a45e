/**
 * What a node reads besides requests: config files, identity key files, bootstrap and members
 * files, and Yjs updates (through the worker guard). Property: each is taken, or refused with its
 * named error (ConfigError, IdentityFileError, PeerFileFormatError, UnsafeCrdtUpdateError);
 * nothing else escapes, and the guard answers every update within its timeout.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as Y from 'yjs'
import { CONFIG_DEFAULTS, isConfigError, loadConfig } from '../../src/config/index.ts'
import { parseBootstrapFile, parseMembersFile } from '../../src/net/peer-files.ts'
import { createYjsGuard, type YjsGuard } from '../../src/node/yjs-guard.ts'
import { IdentityFileError, loadOrCreateIdentity } from '../../src/util/identity-file.ts'
import { bytesNear, nastyJson, nastyKey, nastyString } from './arbitraries.ts'
import { expect, type FuzzTarget } from './runner.ts'

function named(err: unknown, ok: boolean, what: string): void {
  expect(ok, `${what}: unnamed error ${(err as Error)?.name}: ${(err as Error)?.message}`)
}

type Tree = Record<string, unknown>

/** The defaults with one to three values replaced (or keys added) at random paths. */
const configText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.array(fc.oneof(fc.constantFrom(...allPaths(CONFIG_DEFAULTS)), nastyKey), {
            minLength: 1,
            maxLength: 2,
          }),
          nastyJson,
        ),
        {
          minLength: 1,
          maxLength: 3,
        },
      )
      .map((edits) => {
        const config = JSON.parse(JSON.stringify(CONFIG_DEFAULTS)) as Tree
        for (const [path, value] of edits) setPath(config, path.join('.').split('.'), value)
        return JSON.stringify(config)
      }),
  },
  { weight: 2, arbitrary: nastyJson.map((v) => JSON.stringify(v) ?? '') },
  { weight: 1, arbitrary: nastyString },
)

function allPaths(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => allPaths(v, prefix === '' ? k : `${prefix}.${k}`))
}

function setPath(o: Tree, path: readonly string[], value: unknown): void {
  let at = o
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(at, k) ? at[k] : undefined
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      Object.defineProperty(at, k, { value: {}, enumerable: true, writable: true, configurable: true })
    }
    at = at[k] as Tree
  }
  Object.defineProperty(at, path[path.length - 1], {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

/** A valid Yjs update of a few random map and text operations. */
const yjsUpdate: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.tuple(
      fc.constantFrom('map', 'text', 'array'),
      nastyKey,
      fc.oneof(fc.integer(), fc.boolean(), nastyString),
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((ops) => {
    const doc = new Y.Doc()
    for (const [kind, key, value] of ops) {
      if (kind === 'map') doc.getMap('persona').set(key, value)
      else if (kind === 'text') doc.getText('content').insert(0, key)
      else doc.getArray('a').push([value])
    }
    const update = Y.encodeStateAsUpdate(doc)
    doc.destroy()
    return update
  })

export async function fileTargets(): Promise<{ targets: FuzzTarget[]; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-fuzz-files-'))
  const guard: YjsGuard = createYjsGuard({ timeoutMs: 250 })
  const targets = [
    {
      name: 'config files',
      arbitrary: configText,
      async check(text) {
        const file = join(dir, 'config.json')
        await writeFile(file, text)
        try {
          loadConfig({ file, env: {}, cwd: dir })
        } catch (err) {
          named(err, isConfigError(err), 'config')
        }
      },
    } satisfies FuzzTarget<string>,
    {
      name: 'identity files',
      arbitrary: fc.tuple(
        bytesNear(fc.uint8Array({ minLength: 32, maxLength: 32 })),
        fc.constantFrom(0o600, 0o600, 0o644, 0o400),
      ),
      async check([bytes, mode]) {
        const home = join(dir, 'identity')
        await mkdir(home, { recursive: true, mode: 0o700 })
        await writeFile(join(home, 'identity.key'), bytes)
        await chmod(join(home, 'identity.key'), mode)
        try {
          const id = await loadOrCreateIdentity(home)
          expect(Buffer.from(id.seed).equals(Buffer.from(bytes)), 'identity: the key read is not the file')
        } catch (err) {
          named(err, err instanceof IdentityFileError, 'identity')
        }
      },
    } satisfies FuzzTarget<[Uint8Array, number]>,
    {
      name: 'bootstrap and members files',
      arbitrary: fc
        .array(
          fc.oneof(
            fc.constantFrom(
              '/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
              '# comment',
              '',
              'a'.repeat(64),
              '["' + 'b'.repeat(64) + '"]',
            ),
            nastyString,
          ),
          { maxLength: 5 },
        )
        .map((lines) => lines.join('\n')),
      async check(text) {
        for (const parse of [parseBootstrapFile, parseMembersFile]) {
          try {
            parse(text)
          } catch (err) {
            named(err, (err as Error)?.name === 'PeerFileFormatError', parse.name)
          }
        }
      },
    } satisfies FuzzTarget<string>,
    {
      name: 'Yjs updates (guard)',
      arbitrary: bytesNear(yjsUpdate),
      async check(update) {
        try {
          await guard.check(update)
        } catch (err) {
          const name = (err as Error)?.name
          named(err, name === 'UnsafeCrdtUpdateError' || name === 'YjsGuardUnavailableError', 'yjs guard')
        }
      },
    } satisfies FuzzTarget<Uint8Array>,
  ] as FuzzTarget[]
  return {
    targets,
    async close() {
      await guard.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The layering rule of docs/ARCHITECTURE.md, checked mechanically: each folder of src/ imports
 * only the folders and packages its row allows, and src/core (the pure, deterministic part) reads
 * no clock, randomness, timers or console.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'

const SRC = resolve(import.meta.dirname, '../../src')

/** Folders each folder may import, and the npm packages (prefixes) it may use. */
const RULES: Record<string, { folders: string[]; packages: RegExp }> = {
  core: { folders: ['core', 'wire', 'util'], packages: /^(yjs|canonicalize)$/ },
  wire: { folders: ['wire', 'util'], packages: /^(protons-runtime|uint8arraylist|uint8arrays)$/ },
  util: { folders: ['util'], packages: /^(node:|lru-cache$)/ },
  store: {
    folders: ['store', 'core', 'wire', 'util'],
    packages: /^(node:|level$|classic-level$|memory-level$|abstract-level$)/,
  },
  net: {
    folders: ['net', 'core', 'wire', 'util'],
    packages:
      /^(node:|libp2p$|@libp2p\/|@chainsafe\/|@multiformats\/|it-|uint8array|multiformats|datastore-|interface-datastore$|p-|multicast-dns$)/,
  },
  http: { folders: ['http', 'core', 'util'], packages: /^(node:|fastify$|@fastify\/)/ },
  config: { folders: ['config', 'util'], packages: /^(node:|zod$)/ },
  adapters: {
    folders: ['adapters', 'core', 'util'],
    packages: /^(node:|pg$|@lancedb\/lancedb$|apache-arrow$|mongodb$|neo4j-driver$)/,
  },
  node: {
    folders: ['node', 'core', 'wire', 'store', 'net', 'http', 'config', 'util', 'adapters'],
    packages: /^(node:|yjs$|@libp2p\/|prom-client$|pino$|pino-pretty$)/,
  },
  cli: { folders: ['cli', 'node', 'config', 'util'], packages: /^(node:|commander$)/ },
}

/** Calls banned in src/core, with what to use instead. */
const CORE_BANS: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'take `nowMs` as an argument'],
  [/\bnew Date\s*\(/, 'use util/time.ts conversions on a time passed in'],
  [/\bMath\.random\s*\(/, 'take ids/randomness as inputs'],
  [
    /\b(setTimeout|setInterval|setImmediate)\s*\(/,
    'return a deadline (poll*TimeoutMs) and let the caller run timers',
  ],
  [/\bperformance\.now\s*\(/, 'take the time as an argument'],
  [/\bconsole\./, 'return events/errors to the caller'],
  [/\bprocess\.(env|argv|exit)/, 'pass configuration in'],
  [/\brandomUUID|randomBytes\b/, 'pass ids in (util/random.ts is for outer layers)'],
]

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return files(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

function imports(text: string): string[] {
  const out: string[] = []
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3])
  return out
}

describe('layering', () => {
  for (const file of files(SRC)) {
    const folder = relative(SRC, file).split('/')[0]
    const rule = RULES[folder]
    it(`${relative(SRC, file)} imports only what ${folder}/ may`, () => {
      assert.ok(rule, `src/${folder} is not a known layer; add it to the architecture table first`)
      const text = readFileSync(file, 'utf8')
      for (const spec of imports(text)) {
        if (spec.startsWith('.')) {
          const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0]
          assert.ok(rule.folders.includes(target), `src/${folder} must not import src/${target} (${spec})`)
        } else {
          assert.match(spec, rule.packages, `src/${folder} must not import the package ${spec}`)
        }
      }
      if (folder === 'core') {
        const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
        for (const [re, instead] of CORE_BANS)
          assert.doesNotMatch(code, re, `src/core must not call ${re.source}: ${instead}`)
      }
    })
  }

  // The simulator drives the shipped core: it may import src/core, src/util and src/store only,
  // never the network, HTTP or node layers (nor libp2p).
  const SIMULATIONS = resolve(import.meta.dirname, '../../simulations')
  for (const file of files(SIMULATIONS)) {
    if (relative(SIMULATIONS, file).startsWith('real/')) continue
    it(`simulations/${relative(SIMULATIONS, file)} imports only src/core, src/util, src/store and the node's constants and defaults`, () => {
      const text = readFileSync(file, 'utf8')
      for (const spec of imports(text)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec)
          if (target.startsWith(SIMULATIONS)) continue
          const folder = relative(SRC, target).split('/')[0]
          // The node's limits and timings (pure values): the simulator schedules with the same ones.
          if (relative(SRC, target) === 'net/constants.ts') continue
          // The node's default config (pure values): the simulated nodes run with it.
          if (relative(SRC, target) === 'config/defaults.ts') continue
          assert.ok(
            ['core', 'util', 'store'].includes(folder) && !relative(SRC, target).startsWith('..'),
            `simulations must not import ${spec}`,
          )
        } else {
          assert.match(spec, /^node:/, `simulations must not import the package ${spec}`)
        }
      }
    })
  }

  // The real-node harness (simulations/real/) runs nodes as processes (bin/gkm-sync.js): it may
  // import the pure helpers it needs to configure them, never the node, HTTP or network layers.
  const REAL_ALLOWED = [
    'src/core/',
    'src/util/',
    'src/store/',
    'src/cli/runtime-flags.ts',
    'src/net/peer-files.ts',
  ]
  for (const file of files(join(SIMULATIONS, 'real'))) {
    it(`simulations/${relative(SIMULATIONS, file)} starts nodes as processes, not in-process`, () => {
      for (const spec of imports(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) {
          assert.match(spec, /^node:/, `simulations/real must not import the package ${spec}`)
          continue
        }
        const target = resolve(dirname(file), spec)
        if (target.startsWith(SIMULATIONS)) continue
        const rel = `src/${relative(SRC, target)}`
        assert.ok(
          REAL_ALLOWED.some((a) => rel.startsWith(a)),
          `simulations/real must not import ${spec}`,
        )
      }
    })
  }

  it('the rule can fail: a core file importing node:fs is caught', () => {
    assert.doesNotMatch('node:fs', RULES.core.packages)
    assert.match("import { x } from '../net/index.ts'", /from\s*['"]\.\.\/net/)
    assert.deepEqual(
      imports("import a from 'x'\nimport type { B } from '../y.ts'\nconst c = await import('z')"),
      ['x', '../y.ts', 'z'],
    )
  })
})

/**
 * Regenerates the protobuf codecs of src/wire/pb from their `.proto` sources:
 *
 *   npx node test/unit/wire/pb-generate.ts            # rewrite src/wire/pb/*.ts
 *   npx node test/unit/wire/pb-generate.ts --check    # exit 1 when a checked-in file is stale
 *
 * A development tool, never imported at run time (it lives outside src/ because src/wire may
 * import nothing but protons-runtime and uint8arraylist; generated.test.ts runs it). protons emits `export namespace X { ... }`,
 * which Node's type stripping refuses (namespaces are not erasable syntax), and imports
 * `uint8arrays/alloc`, which the wire layer may not use. `makeErasable` rewrites each namespace
 * into a `const X = (() => { ...; return { codec, encode, decode, stream } })()` with the same
 * members, so `X.encode` / `X.decode` / `X.codec()` work unchanged; the message interfaces stay
 * as generated. It also adapts the codec types from protons-runtime 7 (what protons 9 emits) to
 * the runtime 8 the project depends on. Enums would need more than this, so a `.proto` with an
 * enum is refused.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generate } from 'protons'

const HEADER = (proto: string): string =>
  `// Generated from ${proto} by protons and test/unit/wire/pb-generate.ts (erasable-syntax rewrite). Do not edit.\n` +
  '/* eslint-disable */\n'

/** Rewrites protons output into erasable TypeScript. Throws on a construct it does not know. */
export function makeErasable(source: string, proto: string): string {
  if (/^\s*(export\s+)?(const\s+)?enum\s/m.test(source)) {
    throw new Error(
      `${proto}: enums are not supported (they are not erasable syntax); use uint32 or string fields`,
    )
  }
  const lines = source
    .replace("import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'\n", '')
    .replaceAll('uint8ArrayAlloc(0)', 'new Uint8Array(0)')
    // protons 9 targets protons-runtime 7 (`Codec<T>`); runtime 8 splits the decoded and the
    // encodable type (`Codec<D, E>`). Encoders take partial objects (every field is null-checked).
    .replace(/\bCodec<(\w+)>/g, 'Codec<$1, Partial<$1>>')
    .replace(/\bmessage<(\w+)>\(/g, 'message<$1, Partial<$1>>(')
    // Fields typed Uint8Array<ArrayBuffer> refuse the Uint8Array<ArrayBufferLike> views the rest
    // of the code passes (Buffer slices, subarrays); the codec only reads them.
    .replaceAll('Uint8Array<ArrayBuffer>', 'Uint8Array')
    .split('\n')
  const out: string[] = []
  let inNamespace = false
  let members: string[] = []
  for (const line of lines) {
    const open = /^export namespace (\w+) \{$/.exec(line)
    if (open !== null) {
      if (inNamespace) throw new Error(`${proto}: nested namespace ${open[1]}`)
      inNamespace = true
      members = []
      out.push(`export const ${open[1]} = (() => {`)
      continue
    }
    if (inNamespace && line === '}') {
      inNamespace = false
      out.push(`  return { ${members.join(', ')} }`, '})()')
      continue
    }
    if (inNamespace) {
      const member = /^ {2}export (const|function|interface) (\w+)/.exec(line)
      if (member !== null) {
        if (member[1] !== 'interface') members.push(member[2])
        out.push(line.replace(/^ {2}export /, '  '))
        continue
      }
      if (/^ {2}export /.test(line)) throw new Error(`${proto}: unexpected namespace member: ${line.trim()}`)
    }
    out.push(line)
  }
  if (inNamespace) throw new Error(`${proto}: unterminated namespace`)
  const text = out.join('\n')
  if (/\bnamespace\b/.test(text.replace(/\/\/.*$/gm, '')))
    throw new Error(`${proto}: a namespace survived the rewrite`)
  if (text.includes('uint8arrays')) throw new Error(`${proto}: output still imports uint8arrays`)
  return HEADER(proto) + text
}

/** Generates the erasable `.ts` of one `.proto` into `outDir`; returns the output path. */
export async function generateOne(protoPath: string, outDir: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'gkm-protons-'))
  try {
    const staged = join(work, basename(protoPath))
    await copyFile(protoPath, staged)
    await generate(staged, { strict: true })
    const raw = await readFile(staged.replace(/\.proto$/, '.ts'), 'utf8')
    const target = join(outDir, basename(protoPath).replace(/\.proto$/, '.ts'))
    await writeFile(target, makeErasable(raw, `src/wire/pb/${basename(protoPath)}`))
    return target
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Where the `.proto` files and the generated code live. */
export const PB_DIR = fileURLToPath(new URL('../../../src/wire/pb/', import.meta.url))

/** The `.proto` files of src/wire/pb. */
export async function protoFiles(dir: string = PB_DIR): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => join(dir, f))
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const here = PB_DIR
  const outDir = check ? await mkdtemp(join(tmpdir(), 'gkm-protons-check-')) : here
  let stale = 0
  try {
    for (const proto of await protoFiles(here)) {
      const produced = await generateOne(proto, outDir)
      if (check) {
        const want = await readFile(produced, 'utf8')
        const have = await readFile(join(here, basename(produced)), 'utf8').catch(() => '')
        if (want !== have) {
          stale++
          process.stderr.write(
            `stale: src/wire/pb/${basename(produced)} (run: npx node test/unit/wire/pb-generate.ts)\n`,
          )
        }
      } else {
        process.stdout.write(`wrote ${produced}\n`)
      }
    }
  } finally {
    if (check) await rm(outDir, { recursive: true, force: true })
  }
  if (stale > 0) process.exitCode = 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main()

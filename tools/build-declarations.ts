/**
 * Emits the package's type declarations (`dist/**\/*.d.ts`, next to the JavaScript that
 * `tsc -p tsconfig.build.json` emits), run by `npm run build`:
 *
 *   node tools/build-declarations.ts
 *
 * tsc cannot emit declarations for the generated protobuf codecs in src/wire/pb as they are:
 * protons declares each message's stream-event interfaces inside the message's closure, and the
 * closure's exported value names them (TS4025, "has or is using private name"), so tsc emits no
 * `.d.ts` for those files and every declaration that reaches them would be broken. This script
 * compiles the declarations from a temporary copy of src/ in which those interfaces are moved to
 * the module's top level (same names, same members, still not exported); nothing else changes
 * and src/ is not touched. It can go once test/unit/wire/pb-generate.ts emits them there.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = new URL('../', import.meta.url).pathname

/** An interface declared inside a message's closure (two-space indent) and its body. */
const NESTED_INTERFACE = /^ {2}interface \w+ \{\n(?: {4}.*\n)*? {2}\}\n/gm

/** Moves every closure-level interface of a generated codec to the top level. Throws when the
 *  generated layout is not the one this expects, rather than emitting wrong declarations. */
export function hoistInterfaces(source: string, file: string): string {
  const hoisted: string[] = []
  const rest = source.replace(NESTED_INTERFACE, (block) => {
    hoisted.push(block.replace(/^ {2}/gm, ''))
    return ''
  })
  if (/^ {2}interface /m.test(rest)) throw new Error(`${file}: a nested interface this script cannot move`)
  return hoisted.length === 0 ? source : `${rest}\n${hoisted.join('\n')}`
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(root, '.declarations-'))
  try {
    await cp(join(root, 'src'), join(tmp, 'src'), { recursive: true })
    const pb = join(tmp, 'src/wire/pb')
    for (const name of await readdir(pb)) {
      if (!name.endsWith('.ts')) continue
      const file = join(pb, name)
      await writeFile(file, hoistInterfaces(await readFile(file, 'utf8'), `src/wire/pb/${name}`))
    }
    await writeFile(
      join(tmp, 'tsconfig.json'),
      JSON.stringify({
        extends: '../tsconfig.build.json',
        compilerOptions: {
          rootDir: 'src',
          outDir: join(root, 'dist'),
          declaration: true,
          emitDeclarationOnly: true,
          sourceMap: false,
        },
        include: ['src'],
      }),
    )
    // Inside the repository, so that node_modules and its @types resolve as for src/.
    await symlink(join(root, 'node_modules'), join(tmp, 'node_modules'), 'dir').catch(() => {})
    const tsc = join(root, 'node_modules/.bin/tsc')
    try {
      await run(tsc, ['-p', join(tmp, 'tsconfig.json')], { cwd: root, maxBuffer: 16 << 20 })
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      throw new Error(`tsc failed to emit the declarations:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

if (import.meta.main) await main()

/**
 * Entry point of the `gkm-sync` command (bin/gkm-sync.js, `npm start`). Runs one invocation and
 * exits with its code; an unref'd timer makes sure a finished command exits even if a library
 * left a handle open.
 */
import { runCli } from './program.ts'

/** How long a finished command may take to exit on its own before it is made to. */
const EXIT_GRACE_MS = 2_000

const code = await runCli(process.argv.slice(2))
process.exitCode = code
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref()

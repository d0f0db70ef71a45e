#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-old-space-size=256 --max-semi-space-size=16
// Runtime flags and environment: src/cli/runtime-flags.ts says why each is there (RSS).
// Entry point for the package's bin: the CLI is TypeScript run natively by Node >= 22.18 / 24.
import '../src/cli/main.ts'

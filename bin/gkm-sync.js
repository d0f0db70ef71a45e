#!/usr/bin/env node
// Entry point for the package's bin: the CLI is TypeScript run natively by Node >= 22.18 / 24.
import '../src/cli/main.ts'

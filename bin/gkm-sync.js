#!/usr/bin/env -S node --max-old-space-size=256
// The heap cap keeps V8 from growing its heap (and the node's RSS) far past the working set,
// which caches bound to a few tens of MB; see docs/BENCHMARKS.md (RSS).
// Entry point for the package's bin: the CLI is TypeScript run natively by Node >= 22.18 / 24.
import '../src/cli/main.ts'

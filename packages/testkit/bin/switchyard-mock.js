#!/usr/bin/env node
// The standalone mock upstream: runs dist/mock/main.js with plain Node; inside the repository, under
// `--conditions=@switchyard/source`, the TypeScript source through tsx (a workspace dev dependency).
const entry = import.meta.resolve("#mock-main")
if (entry.endsWith(".ts")) (await import("tsx/esm/api")).register()
await import(entry)

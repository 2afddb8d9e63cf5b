#!/usr/bin/env node
// The `switchyard` gateway: runs dist/cli.js (see run.js for the in-repository source mode).
import { run } from "./run.js"

await run(import.meta.resolve("#cli"))

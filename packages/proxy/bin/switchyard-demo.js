#!/usr/bin/env node
// `npm start`: the mock upstream and the gateway on examples/proxy-demo.yaml (see run.js).
import { run } from "./run.js"

await run(import.meta.resolve("#demo"))

#!/usr/bin/env node
// `npm start`: the mock upstream and the gateway on examples/proxy-demo.yaml, through tsx (no build step).
import "./requireNode.js"
import { register } from "tsx/esm/api"

register()
await import("../src/demo.ts")

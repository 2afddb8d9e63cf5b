#!/usr/bin/env node
// Runs the TypeScript entry of the gateway through tsx, so the package needs no build step.
import "./requireNode.js"
import { register } from "tsx/esm/api"

register()
await import("../src/cli.ts")

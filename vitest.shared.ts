/**
 * What every vitest project shares: workspace packages resolve to their TypeScript sources (the
 * `@switchyard/source` export condition), so tests need no build; the published exports point at dist.
 */
import { defaultServerConditions } from "vite"

/** The export condition that maps each workspace package to its `src/`. */
export const sourceCondition = "@switchyard/source"

// Processes the tests start (the CLIs, examples, fixtures) resolve the same way: Node reads the flag from
// NODE_OPTIONS, and the bins then load the sources through tsx.
if (!process.env.NODE_OPTIONS?.includes(`--conditions=${sourceCondition}`)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=${sourceCondition}`.trim()
}

// `module` points packages such as @smithy/core at bundler-only ESM (extensionless imports) that Node
// cannot load once vitest externalizes them.
const serverConditions = [sourceCondition, ...defaultServerConditions.filter((c) => c !== "module")]

/** vite's resolver, for the modules vitest transforms itself. */
export const sourceResolve = {
  resolve: { conditions: serverConditions },
  ssr: { resolve: { conditions: serverConditions } }
}

// Imports a bin's entry, named by the package's `imports` map: the built JavaScript (dist/) with plain
// Node; inside the repository, under `--conditions=@switchyard/source`, the TypeScript source through tsx
// (a dev dependency of the workspace only, never loaded from an installed package).
import "./requireNode.js"

/** Runs the entry `#name` resolves to. */
export const run = async (entry) => {
  if (entry.endsWith(".ts")) (await import("tsx/esm/api")).register()
  await import(entry)
}

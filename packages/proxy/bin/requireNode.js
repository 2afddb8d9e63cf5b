// undici 8 (under the providers) needs Node ≥ 22.19; say so instead of crashing deep inside it.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `switchyard needs Node >= 22.19, found ${process.version}. ` +
      "Run it through npx or npm (npx switchyard, npm start), which use the project's own Node 24."
  )
  process.exit(1)
}

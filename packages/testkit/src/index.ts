/** Switchyard testkit: scripted providers, sample payloads, and the HTTP mock upstream. */
export * from "./Samples.ts"
export * from "./ScriptedProvider.ts"
export * from "./Reference.ts"

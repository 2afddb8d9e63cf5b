/**
 * The HTTP mock upstream: a real server on 127.0.0.1 that speaks the vendors' wire formats and injects
 * faults. It answers with the testkit's REFERENCE_TEXT (exported by the testkit index, not here).
 */
export { Behave, MockBehavior, MockScript, ScriptFile, ScriptRequest } from "./Behavior.ts"
export {
  DEFAULT_MOCK_PORT,
  type MockCliOptions,
  mockUsage,
  parseMockArgs,
  readScriptFile,
  wantsMockHelp
} from "./Cli.ts"
export type { MockServer, MockServerOptions, RecordedRequest } from "./MockServer.ts"
export { MockUpstream, startMockUpstream, startMockUpstreamScoped } from "./MockUpstream.ts"
export { REFERENCE_CHUNKS, referencePrefix, wordChunks } from "./ReferenceText.ts"
export { countTokens, MOCK_CREATED, SPEECH_BYTES, SPEECH_PIECE_BYTES, speechAudio } from "./Replies.ts"
export { PREFILL_REFUSAL, refusesPrefill } from "./ClaudeRules.ts"
export type { GoogleAuthMock } from "./GoogleAuthMock.ts"
export { apiBaseOf, vertexBaseOf } from "./Routes.ts"
export { exceptionFrame } from "./Bedrock.ts"
export { MOCK_AWS_CREDENTIALS, MOCK_BEDROCK_API_KEY } from "./BedrockAuth.ts"

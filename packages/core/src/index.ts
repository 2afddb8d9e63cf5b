/** Switchyard core: the engine that compiles a LiteLLM-shaped config into one routing pipeline. */
export * from "./Config.ts"
export * from "./ConfigSalvage.ts"
export * from "./ContentFilter.ts"
export * from "./DeploymentFilter.ts"
export * from "./ModelResolution.ts"
export * from "./ProviderInference.ts"
export * from "./RequestControls.ts"
export * from "./RetryOverrides.ts"
export * from "./SettingsMerge.ts"
export * from "./Deployment.ts"
export * from "./Errors.ts"
export { operationNames, operations } from "./Operation.ts"
export type {
  ChunkOf,
  Operation,
  OperationName,
  Operations,
  RequestOf,
  ResponseOf,
  StreamSpec,
  TextStreamSpec
} from "./Operation.ts"
export * from "./Policy.ts"
export * from "./Prefill.ts"
export * from "./Provider.ts"
export * from "./Router.ts"
export * from "./Pipeline.ts"
export * from "./Splicer.ts"
export * from "./StreamFallback.ts"
export * from "./TextStreams.ts"
export * from "./Tokens.ts"
export * from "./RouterState.ts"
export * from "./Routing.ts"
export * as Health from "./Health.ts"
export * from "./Usage.ts"
export * as Wire from "./Wire.ts"

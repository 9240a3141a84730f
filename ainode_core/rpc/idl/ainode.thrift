/*
 * The AINode service as a real IoTDB 2.0.x DataNode / ConfigNode calls it (contract section 2).
 *
 * Method arguments deliberately carry NO explicit field id, exactly like IoTDB's own IDL: on the wire
 * they travel with Thrift's implicit id -1, and a peer generated from IoTDB's IDL only understands that.
 * The compiler warns about it; the warning is expected.
 */

include "common.thrift"

namespace py ainode_core.rpc.gen.ainode

struct TAIHeartbeatReq {
  1: required i64 heartbeatTimestamp
  2: required bool needSamplingLoad
  3: optional bool activated
}

struct TAIHeartbeatResp {
  1: required i64 heartbeatTimestamp
  2: required string status
  3: optional string statusReason
  4: optional common.TLoadSample loadSample
  5: optional string activateStatus
}

struct TShowModelsReq {
  1: optional string modelId
}

struct TShowModelsResp {
  1: required common.TSStatus status
  2: optional list<string> modelIdList
  3: optional map<string, string> modelTypeMap
  4: optional map<string, string> categoryMap
  5: optional map<string, string> stateMap
  // ainode extension (a high id no IoTDB IDL uses; DataNodes skip it): why a model is in its state,
  // e.g. fine-tuning progress "epoch 2/3 iteration 40/50 loss 0.0312" or the reason it failed.
  100: optional map<string, string> reasonMap
  // ainode extension: each model's task (forecast, anomaly_detection, classification)
  101: optional map<string, string> taskMap
}

struct TShowLoadedModelsReq {
  1: required list<string> deviceIdList
}

struct TShowLoadedModelsResp {
  1: required common.TSStatus status
  2: required map<string, map<string, i32>> deviceLoadedModelsMap
}

struct TShowAIDevicesResp {
  1: required common.TSStatus status
  2: required map<string, string> deviceIdMap
}

struct TDeleteModelReq {
  1: required string modelId
}

struct TRegisterModelReq {
  1: required string modelId
  2: required string uri
}

// Legacy; IoTDB never fills it, kept for wire compatibility.
struct TConfigs {
  1: required list<i32> input_shape
  2: required list<i32> output_shape
  3: required list<byte> input_type
  4: required list<byte> output_type
}

struct TRegisterModelResp {
  1: required common.TSStatus status
  2: optional TConfigs configs
  3: optional string attributes
}

struct TLoadModelReq {
  1: required string existingModelId
  2: required list<string> deviceIdList
}

struct TUnloadModelReq {
  1: required string modelId
  2: required list<string> deviceIdList
}

struct TInferenceReq {
  1: required string modelId
  2: required binary dataset
  3: optional map<string, string> inferenceAttributes
}

struct TInferenceResp {
  1: required common.TSStatus status
  2: optional list<binary> inferenceResult
}

struct TForecastReq {
  1: required string modelId
  2: required binary inputData
  3: required i32 outputLength
  4: optional string historyCovs
  5: optional string futureCovs
  6: optional bool autoAdapt
  7: optional map<string, string> options
}

struct TForecastResp {
  1: required common.TSStatus status
  2: optional list<binary> forecastResult
}

struct TClassifyReq {
  1: required string modelId
  2: required binary inputData
  3: optional map<string, string> options
}

struct TClassifyResp {
  1: required common.TSStatus status
  2: optional list<binary> classifyResult
}

struct IDataSchema {
  1: required string schemaName
  2: optional list<i64> timeRange
}

struct TTuningReq {
  1: required string dbType
  2: required string modelId
  3: required string existingModelId
  4: optional list<IDataSchema> targetDataSchema
  5: optional map<string, string> parameters
}

service IAINodeRPCService {
  common.TSStatus stopAINode()

  TAIHeartbeatResp getAIHeartbeat(TAIHeartbeatReq req)

  TShowAIDevicesResp showAIDevices()

  TShowModelsResp showModels(TShowModelsReq req)

  TShowLoadedModelsResp showLoadedModels(TShowLoadedModelsReq req)

  common.TSStatus deleteModel(TDeleteModelReq req)

  TRegisterModelResp registerModel(TRegisterModelReq req)

  common.TSStatus loadModel(TLoadModelReq req)

  common.TSStatus unloadModel(TUnloadModelReq req)

  TInferenceResp inference(TInferenceReq req)

  TForecastResp forecast(TForecastReq req)

  common.TSStatus createTuningTask(TTuningReq req)

  // Newest IDL (method 13); a DataNode that does not know it never calls it.
  TClassifyResp classify(TClassifyReq req)
}

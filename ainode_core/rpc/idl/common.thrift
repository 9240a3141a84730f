/*
 * Our own declarations of the IoTDB shared types the AINode service uses (contract section 2).
 * Field ids, types and requiredness match IoTDB's common.thrift, so these structs are byte-compatible
 * with `iotdb.thrift.common.ttypes` shipped in the apache-iotdb client.
 */

namespace py ainode_core.rpc.gen.common

struct TEndPoint {
  1: required string ip
  2: required i32 port
}

// Every AINode error travels in a TSStatus (never as a Thrift exception).
struct TSStatus {
  1: required i32 code
  2: optional string message
  3: optional list<TSStatus> subStatus
  4: optional TEndPoint redirectNode
  5: optional bool needRetry
  6: optional binary responseData
}

// Load figures sent back on a heartbeat when the ConfigNode asks for them.
struct TLoadSample {
  1: required double cpuUsageRate
  2: required double memoryUsageRate
  3: required double diskUsageRate
  4: required double freeDiskSpace
}

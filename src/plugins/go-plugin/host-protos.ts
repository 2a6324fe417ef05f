/**
 * The services the host calls on a go-plugin plugin, besides the plugin's
 * own: gRPC health, go-plugin's controller, gRPC server reflection, and
 * go-plugin's stdio stream where the plugin serves it (go-plugin 1.4 and later).
 * Only the messages and fields the host uses are declared (protobuf ignores
 * the rest on the wire); the full definitions are grpc's health.proto and
 * reflection.proto and go-plugin's grpc_controller.proto and grpc_stdio.proto
 * (whose google.protobuf.Empty is the same bytes as this Empty: none).
 */
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const HOST_PROTOS = `
syntax = "proto3";

package grpc.health.v1;

message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;

const CONTROLLER_PROTO = `
syntax = "proto3";

package plugin;

message Empty {}
service GRPCController { rpc Shutdown(Empty) returns (Empty); }
`;

const STDIO_PROTO = `
syntax = "proto3";

package plugin;

message Empty {}
message StdioData {
  enum Channel { INVALID = 0; STDOUT = 1; STDERR = 2; }
  Channel channel = 1;
  bytes data = 2;
}
service GRPCStdio { rpc StreamStdio(Empty) returns (stream StdioData); }
`;

const REFLECTION_PROTO = `
syntax = "proto3";

package grpc.reflection.v1alpha;

message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_containing_symbol = 4;
    string list_services = 7;
  }
}
message ServerReflectionResponse {
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
service ServerReflection { rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse); }
`;

const options: protoLoader.Options = { keepCase: true, enums: String, defaults: true, oneofs: true };

function load(source: string): protoLoader.PackageDefinition {
  return protoLoader.fromJSON(protobuf.parse(source, { keepCase: true }).root.toJSON(), options);
}

/** Method definitions by full path, e.g. /grpc.health.v1.Health/Check. */
export const hostMethods = (() => {
  const definitions = { ...load(HOST_PROTOS), ...load(CONTROLLER_PROTO), ...load(STDIO_PROTO), ...load(REFLECTION_PROTO) };
  const method = (service: string, name: string) => (definitions[service] as protoLoader.ServiceDefinition)[name]!;
  return {
    healthCheck: method('grpc.health.v1.Health', 'Check'),
    shutdown: method('plugin.GRPCController', 'Shutdown'),
    stdio: method('plugin.GRPCStdio', 'StreamStdio'),
    reflection: method('grpc.reflection.v1alpha.ServerReflection', 'ServerReflectionInfo'),
  };
})();

/** go-plugin registers its health status under this service name (GRPCServiceName). */
export const GO_PLUGIN_HEALTH_SERVICE = 'plugin';

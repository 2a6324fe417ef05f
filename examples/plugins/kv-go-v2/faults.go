package main

import (
	"context"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// newGRPCServer is go-plugin's default server plus the faults wfreload's
// own tests ask for through KV_FAULT (unset in normal use):
//
//	not-serving    health answers NOT_SERVING
//	exit-on-call   the process exits on the first KV call (a crash during the probe)
func newGRPCServer(options []grpc.ServerOption) *grpc.Server {
	fault := os.Getenv("KV_FAULT")
	if fault == "" {
		return grpc.NewServer(options...)
	}
	intercept := func(ctx context.Context, request interface{}, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (interface{}, error) {
		switch {
		case fault == "not-serving" && info.FullMethod == "/grpc.health.v1.Health/Check":
			return &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_NOT_SERVING}, nil
		case fault == "exit-on-call" && strings.HasPrefix(info.FullMethod, "/kv.KV/"):
			os.Exit(3)
		}
		return handler(ctx, request)
	}
	return grpc.NewServer(append(options, grpc.UnaryInterceptor(intercept))...)
}

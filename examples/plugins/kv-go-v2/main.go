// kv 2.0.0: a key/value store served as a hashicorp/go-plugin gRPC plugin,
// the way Terraform providers and Vault plugins are served. wfreload hosts
// it with "protocol": "go-plugin" (docs/plugins.md#go-plugin-plugins).
//
// Built by `npm run examples:install` from Debian's Go packages in GOPATH
// mode (no module downloads). kv.pb.go is generated from kv.proto with
//
//	protoc --go_out=plugins=grpc:. kv.proto
//
// The values live in $WFRELOAD_DATA_DIR/kv.json, which the host keeps
// across versions, so a swap from 1.0.0 keeps every key;
// 2.0.0 also answers each key's revision.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// The handshake the host's manifest must repeat: plugin.json's goPlugin section.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "KV_PLUGIN_COOKIE",
	MagicCookieValue: "5f0e3c6a-kv",
}

type server struct {
	store  *store
	logger hclog.Logger
}

func (s *server) Get(_ context.Context, request *GetRequest) (*GetResponse, error) {
	entry, found := s.store.get(request.Key)
	if !found {
		return nil, status.Errorf(codes.NotFound, "no key %q", request.Key)
	}
	return &GetResponse{Value: entry.Value, Revision: entry.Revision}, nil
}

func (s *server) Put(_ context.Context, request *PutRequest) (*PutResponse, error) {
	if request.Key == "" {
		return nil, status.Error(codes.InvalidArgument, "key must not be empty")
	}
	entry, err := s.store.put(request.Key, request.Value)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "cannot save: %v", err)
	}
	s.logger.Info("put", "key", request.Key, "revision", entry.Revision)
	fmt.Fprintf(stdout, "stored %q at revision %d\n", request.Key, entry.Revision)
	return &PutResponse{Revision: entry.Revision}, nil
}

// kvPlugin is the go-plugin side: it registers the KV service on the
// server go-plugin runs (which already serves grpc.health.v1.Health and
// plugin.GRPCController).
type kvPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl *server
}

func (p *kvPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	RegisterKVServer(s, p.impl)
	RegisterGRPCStdioServer(s, stdout)
	// Lets the host check the served methods against plugin.json before the swap.
	reflection.Register(s)
	return nil
}

func (p *kvPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, status.Error(codes.Unimplemented, "kv is served, not consumed, by this binary")
}

func main() {
	// hclog JSON on stderr, the format go-plugin hosts read; wfreload shows it in `wfctl plugin logs`.
	logger := hclog.New(&hclog.LoggerOptions{Name: "kv", Level: hclog.Info, Output: os.Stderr, JSONFormat: true})
	store, err := openStore(os.Getenv("WFRELOAD_DATA_DIR"))
	if err != nil {
		logger.Error("cannot open the store", "error", err)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake,
		Plugins:         plugin.PluginSet{"kv": &kvPlugin{impl: &server{store: store, logger: logger}}},
		GRPCServer:      newGRPCServer,
		Logger:          logger,
	})
}

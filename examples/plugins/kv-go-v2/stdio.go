package main

// What kv prints after its handshake, streamed to the host over
// plugin.GRPCStdio: go-plugin 1.4 and later do this with every plugin's
// os.Stdout and os.Stderr. Debian's go-plugin (1.0.1) sends them nowhere, so
// kv serves the service itself, for what it prints to `stdout`.
// grpc_stdio.pb.go is generated from grpc_stdio.proto with
//
//	protoc --go_out=plugins=grpc:. grpc_stdio.proto

import "sync"

type stdioStream struct {
	mu      sync.Mutex
	pending [][]byte
	ready   chan struct{}
}

// stdout is kv's os.Stdout after the handshake: what is written waits for
// the host's StreamStdio call (at most 1000 writes; older ones are dropped).
var stdout = &stdioStream{ready: make(chan struct{}, 1)}

func (s *stdioStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	if len(s.pending) == 1000 {
		s.pending = s.pending[1:]
	}
	s.pending = append(s.pending, append([]byte(nil), p...))
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *stdioStream) StreamStdio(_ *StdioEmpty, stream GRPCStdio_StreamStdioServer) error {
	for {
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, data := range batch {
			if err := stream.Send(&StdioData{Channel: StdioData_STDOUT, Data: data}); err != nil {
				return err
			}
		}
		select {
		case <-s.ready:
		case <-stream.Context().Done():
			return nil
		}
	}
}

package main

import (
	"encoding/json"
	"io/ioutil"
	"os"
	"path/filepath"
	"sync"
)

// entry is the stored form of one key, the same in every version of kv.
type entry struct {
	Value    string `json:"value"`
	Revision uint32 `json:"revision"`
}

// store keeps the keys in one JSON file, replaced atomically on each put.
type store struct {
	mu      sync.Mutex
	file    string
	entries map[string]entry
}

func openStore(dir string) (*store, error) {
	if dir == "" {
		dir = "."
	}
	s := &store{file: filepath.Join(dir, "kv.json"), entries: map[string]entry{}}
	data, err := ioutil.ReadFile(s.file)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	return s, json.Unmarshal(data, &s.entries)
}

func (s *store) get(key string) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, found := s.entries[key]
	return e, found
}

func (s *store) put(key, value string) (entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := entry{Value: value, Revision: s.entries[key].Revision + 1}
	s.entries[key] = e
	data, err := json.Marshal(s.entries)
	if err != nil {
		return e, err
	}
	temp := s.file + ".tmp"
	file, err := os.Create(temp)
	if err != nil {
		return e, err
	}
	if _, err = file.Write(data); err == nil {
		err = file.Sync()
	}
	if closeErr := file.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return e, err
	}
	return e, os.Rename(temp, s.file)
}

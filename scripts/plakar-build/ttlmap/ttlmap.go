// Package ttlmap stands in for go.omarpolo.com/ttlmap, which the Go module proxy here
// does not serve: a map whose entries expire after a fixed time to live.
package ttlmap

import (
	"sync"
	"time"
)

type entry[V any] struct {
	value   V
	expires time.Time
}

// Map is safe for concurrent use.
type Map[K comparable, V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[K]entry[V]
}

func New[K comparable, V any](ttl time.Duration) *Map[K, V] {
	return &Map[K, V]{ttl: ttl, entries: make(map[K]entry[V])}
}

// Add stores value under key for the map's time to live.
func (m *Map[K, V]) Add(key K, value V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = entry[V]{value: value, expires: time.Now().Add(m.ttl)}
}

// Get returns the value under key, unless it has expired.
func (m *Map[K, V]) Get(key K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// AutoExpire removes expired entries in the background, once per time to live.
func (m *Map[K, V]) AutoExpire() {
	go func() {
		for range time.Tick(m.ttl) {
			now := time.Now()
			m.mu.Lock()
			for k, e := range m.entries {
				if now.After(e.expires) {
					delete(m.entries, k)
				}
			}
			m.mu.Unlock()
		}
	}()
}

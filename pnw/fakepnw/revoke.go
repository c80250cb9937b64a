package fakepnw

// RevokeKey makes the game refuse key from now on, as when its owner
// regenerates it.
func (s *Server) RevokeKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}

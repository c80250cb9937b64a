package pnw

// CanMutate reports whether the client has a bot key (PNW_BOT_KEY), without
// which the game refuses every mutation.
func (c *Client) CanMutate() bool { return c.botKey != "" }

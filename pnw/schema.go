package pnw

import _ "embed"

//go:embed schema.graphql
var schemaSDL string

// Schema returns the game's GraphQL schema (SDL) the client is generated
// from; package fakepnw validates queries against it.
func Schema() string { return schemaSDL }

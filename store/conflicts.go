package store

// The constraints callers meet, named for what they mean, so that
// only this package knows the schema's constraint names.

// IsNationLinked reports whether err says the nation is already linked to
// another account (users.pnw_nation_id).
func IsNationLinked(err error) bool { return IsUniqueViolation(err, "users_pnw_nation_id_key") }

// IsSlugTaken reports whether err says another alliance has the page
// address (alliances.route_slug).
func IsSlugTaken(err error) bool { return IsUniqueViolation(err, "alliances_route_slug_key") }

// IsGuildTaken reports whether err says another alliance is bound to the
// Discord server (alliances.discord_guild_id).
func IsGuildTaken(err error) bool { return IsUniqueViolation(err, "alliances_discord_guild_id_key") }

// IsNotOfType reports whether err says an app_config value is not of its
// data_type.
func IsNotOfType(err error) bool { return IsCheckViolation(err, "app_config_value_matches_type") }

-- +goose Up
-- listed: SUPER_ADMIN_DISCORD_IDS names this user, which is what makes them
-- super_admin. granted_level: while listed, the level a command granted
-- them, what they keep once the list no longer names them (NULL: nothing).
ALTER TABLE system_admins
    ADD COLUMN listed boolean NOT NULL DEFAULT false,
    ADD COLUMN granted_level text CHECK (granted_level IN ('admin', 'super_admin')),
    ADD CONSTRAINT system_admins_listed_super CHECK (NOT listed OR level = 'super_admin'),
    ADD CONSTRAINT system_admins_granted_level_listed CHECK (listed OR granted_level IS NULL);
-- Until now only the list made super admins, and it set no granted_by.
UPDATE system_admins SET listed = true WHERE level = 'super_admin' AND granted_by IS NULL;

-- +goose Down
ALTER TABLE system_admins
    DROP CONSTRAINT system_admins_granted_level_listed,
    DROP CONSTRAINT system_admins_listed_super,
    DROP COLUMN granted_level,
    DROP COLUMN listed;

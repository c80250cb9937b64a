-- name: AuditReminderClaim :execrows
-- Records a reminder about rule to nation on day: 0 rows when it was sent.
INSERT INTO audit_reminders (rule_id, nation_id, day) VALUES (@rule_id, @nation_id, @day::date)
ON CONFLICT DO NOTHING;

-- name: AuditReminderPrune :execrows
DELETE FROM audit_reminders WHERE day < @before::date;

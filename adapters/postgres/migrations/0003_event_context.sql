-- The client's command id and W3C trace context (traceparent) of the command that appended an
-- event, so that the published event carries them (docs/nats.md). Nullable without a default:
-- adding them to the partitioned table rewrites and scans nothing (a CHECK would scan every
-- partition; the inbound adapter bounds their length instead). The append-only rules still apply:
-- they are written once, with the event.
ALTER TABLE wallet_events
  ADD COLUMN command_id text,
  ADD COLUMN trace_parent text;

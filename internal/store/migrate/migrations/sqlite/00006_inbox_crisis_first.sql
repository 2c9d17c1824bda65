-- Open crisis messages lead the staff inbox (invariant 9); this index
-- keeps finding them cheap however large the inbox grows. The WHERE is
-- written exactly as the query in sqlstore.ListInbox writes it.

-- +goose Up
CREATE INDEX inbound_messages_open_crisis ON inbound_messages (received_at DESC, seq DESC)
    WHERE kind = 'crisis' AND needs_staff AND NOT handled;

-- +goose Down
DROP INDEX inbound_messages_open_crisis;

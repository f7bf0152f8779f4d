"""Stage 6: the e-mail for an event and the durable outbox that sends it."""

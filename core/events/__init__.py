"""Domain events: written to the outbox table in the caller's transaction, relayed to RabbitMQ later."""

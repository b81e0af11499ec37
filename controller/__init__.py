"""The standalone controller: one leader (Redis lease) runs supervised loops that dispatch polling,
fire schedules, reconcile the ledger, watch workers, sample queues and relay events."""

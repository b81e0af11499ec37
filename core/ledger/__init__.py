"""The run ledger: job states, batched recording from workers, and reconciliation helpers."""

"""Jobs: search the run ledger, look at one run, retry, cancel and enqueue."""

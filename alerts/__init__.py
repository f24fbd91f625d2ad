"""Crisis alerts: pure rule types, a run loop over the store, lifecycle, and email with an outbox."""

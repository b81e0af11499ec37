"""Worker tuning: profiles, the active one, per-group overrides, preview and apply."""

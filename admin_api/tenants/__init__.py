"""CPI tenants: create, update, disable; the client secret is write-only."""

"""Alert rules (``alert_rule``): list, show, create, change, delete; channels redacted for viewers."""

"""Alerts: list and filter, detail with sample messages and their stored error text, acknowledge."""

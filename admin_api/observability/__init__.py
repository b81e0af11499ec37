"""Request statistics of the admin API itself."""

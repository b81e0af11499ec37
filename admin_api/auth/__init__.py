"""Bearer-token authentication, roles and the token store."""

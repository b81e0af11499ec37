"""Unit tests of the admin API that need no services (the app is built, never started)."""

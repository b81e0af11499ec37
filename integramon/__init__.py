"""The ``integramon`` console command: one entry point that launches every role."""

"""The operator console: server-rendered pages (Jinja) plus a small script for actions and charts."""

"""The seed system's console addresses, kept working as permanent redirects to our pages."""

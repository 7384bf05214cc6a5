"""Weight initialisation (filled in below)."""

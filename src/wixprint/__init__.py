"""wix-printer-service."""

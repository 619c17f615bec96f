"""wixprint.alerts."""

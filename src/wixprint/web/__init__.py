"""wixprint.web."""

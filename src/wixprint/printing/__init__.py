"""wixprint.printing."""

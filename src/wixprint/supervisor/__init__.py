"""wixprint.supervisor."""

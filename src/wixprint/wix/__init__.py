"""wixprint.wix."""

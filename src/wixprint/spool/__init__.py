"""wixprint.spool."""

"""wixprint.actors."""

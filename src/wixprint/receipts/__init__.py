"""wixprint.receipts."""

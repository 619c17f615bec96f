"""A fake Epson TM printer on loopback TCP (see ``printer.py``), with its own command reader."""

"""The operator's room: every ``wixprint`` command that is not the service itself.

``service`` talks to a running service over HTTP (check, status, orders, reprint, watch) and
dispatches the small local commands; ``configcheck``, ``testprint``, ``backup`` (and restore),
``demo`` and ``failmail`` (the systemd failure mail) act on the config, the printers and the
spool directly. ``cli`` only parses arguments and calls in here; nothing below the package
root imports this package.
"""

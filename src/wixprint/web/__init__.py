"""wixprint.web: the HTTP surface (status, metrics, webhook, reprint, live events, dashboard).

``create_app`` (``wixprint.web.app``) builds the quart-trio app from a ``WebDeps``
(``wixprint.web.deps``); ``serve_web`` (``wixprint.web.serve``) runs it on hypercorn in the
caller's nursery. Nothing is imported here, so ``wixprint.web.metrics`` stays cheap to import.
"""

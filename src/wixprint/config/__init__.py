"""The configuration: one TOML file, validated before anything starts.

``model`` holds the structs every other module reads; ``load`` reads the file and the secrets;
``walker`` reports every type error by key path; ``rules`` checks what no type can express.
Imports point one way: ``load`` → ``rules`` → ``walker``/``model``; nothing here imports
anything of the service above ``errors``.
"""

from __future__ import annotations

from wixprint.config.load import (
    CONFIG_PATH_ENV,
    DEFAULT_CONFIG_PATH,
    SECRET_SOURCES,
    load_config,
    load_config_text,
    resolve_config_path,
    secret_values,
    summarize,
)
from wixprint.config.model import (
    RECEIPT_KINDS,
    AlertsConfig,
    Config,
    ConnectivityConfig,
    HttpConfig,
    LayoutConfig,
    MonitorConfig,
    PrinterConfig,
    PrinterModel,
    ReceiptKind,
    ServiceConfig,
    SmtpConfig,
    WixConfig,
)

__all__ = [
    "CONFIG_PATH_ENV",
    "DEFAULT_CONFIG_PATH",
    "RECEIPT_KINDS",
    "SECRET_SOURCES",
    "AlertsConfig",
    "Config",
    "ConnectivityConfig",
    "HttpConfig",
    "LayoutConfig",
    "MonitorConfig",
    "PrinterConfig",
    "PrinterModel",
    "ReceiptKind",
    "ServiceConfig",
    "SmtpConfig",
    "WixConfig",
    "load_config",
    "load_config_text",
    "resolve_config_path",
    "secret_values",
    "summarize",
]

"""The configuration: one TOML file, validated before anything starts.

``model`` holds the structs every other module reads; ``load`` reads the file and the secrets;
``walker`` reports every type error by key path; ``rules`` checks what no type can express.
Imports point one way: ``load`` → ``rules`` → ``walker``/``model``; nothing here imports
anything of the service above ``errors``.
"""

from __future__ import annotations

from wixprint.config.advice import config_warnings, file_warnings
from wixprint.config.load import (
    CONFIG_PATH_ENV,
    CREDSTORE_ENV,
    DEFAULT_CONFIG_PATH,
    SECRET_SOURCES,
    load_config,
    load_config_text,
    resolve_config_path,
    secret_values,
    summarize,
)
from wixprint.config.model import (
    ALERT_LEVELS,
    RECEIPT_KINDS,
    AlertLevel,
    AlertsConfig,
    AlertWebhookConfig,
    Config,
    ConnectivityConfig,
    HttpConfig,
    LayoutConfig,
    MonitorConfig,
    NtfyConfig,
    PrinterConfig,
    PrinterModel,
    ReceiptKind,
    ServiceConfig,
    SmtpConfig,
    SmtpRouteConfig,
    WixConfig,
)

__all__ = [
    "ALERT_LEVELS",
    "CONFIG_PATH_ENV",
    "CREDSTORE_ENV",
    "DEFAULT_CONFIG_PATH",
    "RECEIPT_KINDS",
    "SECRET_SOURCES",
    "AlertLevel",
    "AlertWebhookConfig",
    "AlertsConfig",
    "Config",
    "ConnectivityConfig",
    "HttpConfig",
    "LayoutConfig",
    "MonitorConfig",
    "NtfyConfig",
    "PrinterConfig",
    "PrinterModel",
    "ReceiptKind",
    "ServiceConfig",
    "SmtpConfig",
    "SmtpRouteConfig",
    "WixConfig",
    "config_warnings",
    "file_warnings",
    "load_config",
    "load_config_text",
    "resolve_config_path",
    "secret_values",
    "summarize",
]

"""Alerts: pure rules (events + clock → mail actions), texts, quiet hours and the SMTP mailer."""

from wixprint.alerts.mailer import (
    MailRejected,
    SmtpDiagnosis,
    SmtpSettings,
    build_message,
    diagnose_smtp,
    retry_delay,
    send_mail,
    send_message_blocking,
)
from wixprint.alerts.messages import AlertFacts, MailText, compose, compose_test
from wixprint.alerts.problems import AlertAction, AlertStatistics, ProblemView
from wixprint.alerts.quiet import QuietHours
from wixprint.alerts.rules import AlertEngine

__all__ = [
    "AlertAction",
    "AlertEngine",
    "AlertFacts",
    "AlertStatistics",
    "MailRejected",
    "MailText",
    "ProblemView",
    "QuietHours",
    "SmtpDiagnosis",
    "SmtpSettings",
    "build_message",
    "compose",
    "compose_test",
    "diagnose_smtp",
    "retry_delay",
    "send_mail",
    "send_message_blocking",
]

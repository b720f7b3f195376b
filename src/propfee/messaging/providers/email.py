"""The e-mail backend: Django's mail system (SMTP in production, settings EMAIL_*), one
EmailMessage per outbox message with its Chinese subject and body in UTF-8.

SMTP gives no delivery report, so an accepted message stays 已发送 and there is no callback."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.http import HttpRequest

from propfee.messaging.providers.base import (
    CallbackRejected,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)


class EmailBackend:
    """Sends through `django.core.mail` (settings.EMAIL_BACKEND, SMTP by default)."""

    name = "smtp"

    def send(self, message: OutgoingMessage) -> SendResult:
        message_id = make_msgid(domain=getattr(settings, "PROPFEE_EMAIL_DOMAIN", None))
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id, "X-Propfee-Message": str(message.message_id)},
            connection=get_connection(fail_silently=False),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _reason in error.recipients.values()]
            return SendResult(
                accepted=False,
                error=f"收件地址被拒收：{error.recipients}",
                retryable=bool(codes) and all(400 <= code < 500 for code in codes),
            )
        except smtplib.SMTPResponseException as error:
            # 4xx: the server asks to try again later; 5xx: permanent refusal.
            return SendResult(
                accepted=False,
                error=f"邮件服务器拒绝：{error.smtp_code} {error.smtp_error!r}",
                retryable=400 <= error.smtp_code < 500,
            )
        except (smtplib.SMTPException, OSError) as error:
            return SendResult(accepted=False, error=f"无法连接邮件服务器：{error}", retryable=True)
        return SendResult(accepted=True, provider_id=message_id.strip("<>"))

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        raise CallbackRejected("SMTP has no delivery callbacks")

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "propfee.messaging"
    label = "messaging"
    verbose_name = "消息与通知"

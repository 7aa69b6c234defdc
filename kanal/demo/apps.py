from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kanal.demo"
    label = "demo"
    verbose_name = "Demo"

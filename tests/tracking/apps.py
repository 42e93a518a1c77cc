"""A test-only app: tracking-log events the platform mirror leaves out, as edx-platform emits them."""

from django.apps import AppConfig


class TrackingTestsConfig(AppConfig):
    name = "tracking"
    label = "aspects_sink_tracking_tests"

    def ready(self) -> None:
        from .platform_events import install

        install()

"""Small stand-ins for third-party pieces edx-platform models use (test-only).

``fields`` replaces django-model-utils' ``TimeStampedModel`` fields, which are not installed
here; names and behaviour match (``created`` set once, ``modified`` set on every save).
"""

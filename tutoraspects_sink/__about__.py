"""The single source of the distribution's version (read by hatchling and the image bundle)."""

__version__ = "0.1.0"

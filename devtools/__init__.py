"""Developer tools that run the project on this machine without Docker (``make quickstart``)."""

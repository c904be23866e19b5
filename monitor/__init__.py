"""govmon: the application package. Holds only the version, so the crawl child
that imports monitor.config and monitor.resolver pulls in nothing heavy."""

__version__ = "0.1.0"

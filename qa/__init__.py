"""qa: offline question answering over biomedical literature, with citations."""

__version__ = "0.1.0"

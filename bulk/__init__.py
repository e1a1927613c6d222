"""bulk: cancel Amazon orders in bulk from a shared spreadsheet."""

__version__ = "0.1.0"

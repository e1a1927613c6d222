"""The customer-message templates; installed as the package `bulk.templates` (README.md here)."""

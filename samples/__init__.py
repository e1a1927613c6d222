"""The sample sheet and the sandbox's demo order book; installed as the package `bulk.samples`."""

"""What the sample sheet and the demo order book lead to in a calm run, for the tests that run them."""

from __future__ import annotations

# Every row of samples/orders.xlsx and the status it ends in after `bulk submit --yes`.
EXPECTED = {
    2: "CANCELLED",
    3: "CANCELLED",
    4: "DEFERRED",
    5: "CANCELLED",
    6: "REJECTED",
    7: "ESCALATE",
    8: "CANCELLED",
    9: "HELD",
    10: "ESCALATE",
    11: "HELD",
    12: "CANCELLED",
    13: "CANCELLED",
    14: "REJECTED",
    15: "REJECTED",
    16: "REJECTED",
    17: "REJECTED",
}

# The orders whose customer message may be sent (Notify is Yes and the order is cancelled).
SENDABLE = {
    "112-0000001-0000001",
    "112-0000001-0000002",
    "112-0000001-0000004",
    "112-0000001-0000011",
    "112-0000001-0000012",
}
# Of those, the ones Amazon allows a message for (it allows none for ...12).
MESSAGED = SENDABLE - {"112-0000001-0000012"}

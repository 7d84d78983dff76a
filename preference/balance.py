"""Label balance of a KTO file, and the loss weights TRL recommends for it.

TRL's KTOTrainer (after Eq. 8 of the KTO paper) wants `desirable_weight * desirable /
(undesirable_weight * undesirable)` between 1 and 1.33, and warns outside that range. It
recommends either weight, the other left at 1; so do we, with the same rounding.
"""

from __future__ import annotations

from typing import Any


def kto_balance(desirable: int, rows: int) -> dict[str, Any]:
    """The balance of a KTO file of `rows` rows, `desirable` of them labelled so."""
    undesirable = rows - desirable
    balance: dict[str, Any] = {"desirable": desirable, "undesirable": undesirable,
                               "desirable_weight": None, "undesirable_weight": None, "warning": None}
    if not desirable or not undesirable:
        if rows:
            balance["warning"] = f"no {'desirable' if not desirable else 'undesirable'} rows: KTO needs both labels"
        return balance
    ratio = undesirable / desirable
    balance["desirable_weight"] = [round(ratio, 2), round(ratio * 1.33, 2)]  # with undesirable_weight 1
    balance["undesirable_weight"] = [round(1 / ratio / 1.33, 2), round(1 / ratio, 2)]  # or this, with desirable_weight 1
    return balance

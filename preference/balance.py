"""Label balance of a KTO file, and the loss weights TRL recommends for it.

TRL's KTOTrainer wants `desirable_weight * desirable / (undesirable_weight * undesirable)`
between 1 and 4/3 (it warns outside that range). With one weight kept at 1, that gives
the range of the other.
"""

from __future__ import annotations

from typing import Any


def kto_balance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    desirable = sum(1 for r in rows if r["label"])
    undesirable = len(rows) - desirable
    balance: dict[str, Any] = {"desirable": desirable, "undesirable": undesirable,
                               "desirable_weight": None, "undesirable_weight": None, "warning": None}
    if not desirable or not undesirable:
        if rows:
            missing = "desirable" if not desirable else "undesirable"
            balance["warning"] = f"no {missing} rows: KTO needs both labels"
        return balance
    if desirable <= undesirable:  # weigh the scarcer desirable rows up
        balance["desirable_weight"] = [round(undesirable / desirable, 2), round(4 * undesirable / (3 * desirable), 2)]
        balance["undesirable_weight"] = [1.0, 1.0]
    else:  # weigh the plentiful desirable rows' opposite down
        balance["desirable_weight"] = [1.0, 1.0]
        balance["undesirable_weight"] = [round(3 * desirable / (4 * undesirable), 2), round(desirable / undesirable, 2)]
    return balance

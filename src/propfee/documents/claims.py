"""What a demand claims (催缴金额): only the charges overdue on the demand's date — past their
due date and the contract's grace days — never a bill not yet due (民法典 art. 944: a demand
is for what the owner failed to pay on time). Bills not yet due are listed apart as
本期应缴（未到期）. The penalty claimed follows PROPFEE_DEMAND_PENALTY: "capped" at the
reasonableness bound (LPR × multiplier, the figure the unit page warns about) or the full
"contract" penalty. Pure: from a statement and a date, no database access."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from propfee.ledger.selectors import Statement, StatementLine, penalty_bound

#: PROPFEE_DEMAND_PENALTY values.
PENALTY_CAPPED = "capped"
PENALTY_CONTRACT = "contract"
PENALTY_MODES = (PENALTY_CAPPED, PENALTY_CONTRACT)


def demand_penalty_mode() -> str:
    mode = str(getattr(settings, "PROPFEE_DEMAND_PENALTY", PENALTY_CAPPED)).strip().lower()
    if mode not in PENALTY_MODES:
        raise ValueError(f"PROPFEE_DEMAND_PENALTY must be one of {PENALTY_MODES}: {mode!r}")
    return mode


@dataclass(frozen=True)
class Demand:
    """The figures a demand dated `on` claims from `statement` (amounts in fen)."""

    statement: Statement
    on: dt.date
    claimed: tuple[StatementLine, ...]
    not_due: tuple[StatementLine, ...]
    #: The penalty of the claimed charges as the contract computes it.
    penalty_contract_fen: int
    #: The penalty claimed (≤ the contract's; lower when capped at the bound).
    penalty_fen: int
    penalty_mode: str

    @property
    def principal_fen(self) -> int:
        return sum(line.position.principal_outstanding for line in self.claimed)

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.penalty_fen

    @property
    def penalty_reduction_fen(self) -> int:
        return self.penalty_contract_fen - self.penalty_fen

    @property
    def not_due_fen(self) -> int:
        return sum(line.position.principal_outstanding for line in self.not_due)

    @property
    def claimed_charge_ids(self) -> list[int]:
        return [line.charge_id for line in self.claimed]


def demand_for(statement: Statement, *, on: dt.date, penalty_mode: str | None = None) -> Demand:
    """The demand dated `on` made from `statement`: a charge is claimed when it is overdue on
    both the statement date and `on` (a statement dated later than the demand cannot make a
    bill due early). With "capped", the penalty claimed is at most the bound less the penalty
    already paid (the bound is on all the penalty the account charged)."""
    mode = demand_penalty_mode() if penalty_mode is None else penalty_mode
    cut = min(on, statement.as_of)
    claimed: list[StatementLine] = []
    not_due: list[StatementLine] = []
    for line in statement.lines:
        position = line.position
        if not (position.principal_outstanding or position.penalty_outstanding):
            continue
        if line.overdue_on(cut):
            claimed.append(line)
        elif position.principal_outstanding:
            not_due.append(line)
    contract = sum(line.position.penalty_outstanding for line in claimed)
    penalty = contract
    if mode == PENALTY_CAPPED:
        bound = penalty_bound(statement)
        paid = sum(line.position.penalty_paid for line in statement.lines)
        penalty = min(contract, max(0, bound.bound_fen - paid))
    return Demand(
        statement=statement,
        on=on,
        claimed=tuple(claimed),
        not_due=tuple(not_due),
        penalty_contract_fen=contract,
        penalty_fen=penalty,
        penalty_mode=mode,
    )

"""The daily collection run (催收批次, `propfee dunning run`).

For one company and one date the run, in a fixed number of queries whatever the number of
units:
1. reads every unit's overdue figures (one aggregate), the open cases, the policies, holds,
   promises, installment plans, last payments and the collectors' scopes and loads
   (`reading.py`);
2. plans (`planner.py`, `stages.py`): opens a case for each unit owing at least the policy's
   tolerance without an open case, closes the cases whose unit owes nothing (`cleared`) or less
   than the tolerance (`below_tolerance`), refreshes the snapshots, segment, risk score and
   priority, assigns a collector, decides promises (kept/broken) and installment plans (by
   `plans.installment_standings`: in good standing, defaulted or completed), and decides each
   case's next due action from its policy (enter the next stage — never skipping one —, repeat
   the stage, a segment-cadence task) or why it is skipped (a hold, a contact cap);
3. writes it all in bulk, once (`writing.py`): Action rows keyed "case:stage:step:YYYY-MM-DD"
   (a second run on the same day finds them and adds nothing), Tasks due in working days,
   CaseEvents, one audit row; then `plans.installment_plans_review` ends the plans found
   defaulted or completed, in the same transaction (`service.py`).
Messages and documents are handed to messaging and documents afterwards by `dunning_dispatch`
(one call each: rendering a PDF or passing the contact guard is per item by nature), so the
run holds its lock only for the set-based part. The lock, which a killed run does not leave
behind: `lock.py`. The report: `report.py`.
"""

from propfee.collection.run.lock import ReleasedRun, dunning_run_unlock
from propfee.collection.run.report import RunReport
from propfee.collection.run.service import (
    DunningError,
    DunningRunLocked,
    case_stage_approve,
    dunning_run,
    stage_requested_by,
)

__all__ = [
    "DunningError",
    "DunningRunLocked",
    "ReleasedRun",
    "RunReport",
    "case_stage_approve",
    "dunning_run",
    "dunning_run_unlock",
    "stage_requested_by",
]

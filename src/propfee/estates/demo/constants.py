"""The demo's fixed facts: its seed, company and developer names, the shared password, the
note on its audit rows, and the dates every generated event stays within."""

from __future__ import annotations

import datetime as dt

DEMO_SEED = 20261127
DEMO_COMPANY_CODE = "ANJIA"
DEMO_COMPANY_NAME = "安家物业服务有限公司"
DEMO_DEVELOPER_NAME = "阳光置业有限公司"
# A public password: the demo accounts are meant to be shared and are documented everywhere.
DEMO_PASSWORD = "propfee-demo"
DEMO_SUPERUSER = "root"
DEMO_SUPERUSER_EMAIL = "root@example.com"
DEMO_NOTE = "演示数据"
# No generated event (transfer, new tenancy) is later than this, so all dates stay in the past.
DEMO_LAST_EVENT = dt.date(2026, 9, 30)
# The first month of the 24 months of billing history that builds on this demo. The payer flag
# belongs to a whole occupancy, not to a period (a paying tenant clears the owner's flag), so
# every tenancy starts before this date: from here on, every unit has exactly one payer on
# every day. Transfers do fall inside the window; the closed row keeps its payer flag.
DEMO_HISTORY_START = dt.date(2024, 12, 1)

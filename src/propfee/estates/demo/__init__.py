"""The demo company (演示数据): 安家物业服务有限公司 with two Hangzhou estates, about 3,000 units,
their owners, co-owners, tenants and developer, and one staff login per role."""

from propfee.estates.demo.behaviours import BEHAVIOUR_WEIGHTS, Behaviour, demo_behaviour
from propfee.estates.demo.builder import DemoCompany, demo_plan
from propfee.estates.demo.constants import (
    DEMO_COMPANY_CODE,
    DEMO_COMPANY_NAME,
    DEMO_DEVELOPER_NAME,
    DEMO_HISTORY_START,
    DEMO_LAST_EVENT,
    DEMO_NOTE,
    DEMO_PASSWORD,
    DEMO_SEED,
    DEMO_SUPERUSER,
    DEMO_SUPERUSER_EMAIL,
)
from propfee.estates.demo.layout import BuildingLayout, EstateLayout, demo_layout
from propfee.estates.demo.load import (
    DemoCompanyExists,
    DemoError,
    demo_company_delete,
    demo_company_exists,
    demo_company_load,
)
from propfee.estates.demo.logins import DemoLogin, demo_logins

__all__ = [
    "BEHAVIOUR_WEIGHTS",
    "DEMO_COMPANY_CODE",
    "DEMO_COMPANY_NAME",
    "DEMO_DEVELOPER_NAME",
    "DEMO_HISTORY_START",
    "DEMO_LAST_EVENT",
    "DEMO_NOTE",
    "DEMO_PASSWORD",
    "DEMO_SEED",
    "DEMO_SUPERUSER",
    "DEMO_SUPERUSER_EMAIL",
    "Behaviour",
    "BuildingLayout",
    "DemoCompany",
    "DemoCompanyExists",
    "DemoError",
    "DemoLogin",
    "EstateLayout",
    "demo_behaviour",
    "demo_company_delete",
    "demo_company_exists",
    "demo_company_load",
    "demo_layout",
    "demo_logins",
    "demo_plan",
]

"""The Excel columns of each staff list (导出Excel), written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList
from propfee.web.audit_display import audit_changes_text, object_type_label
from propfee.web.prefetch import CURRENT_OCCUPANCIES, payer_of, phones_of

ESTATE_EXPORT = ExportList(
    name="项目列表",
    object_type="estates.estate",
    columns=[
        Column("项目编码", "code"),
        Column("项目名称", "name", width=24),
        Column("城市", "city"),
        Column("地址", "address", width=36),
        Column("楼栋数", "building_count", ColumnKind.NUMBER),
        Column("房屋数", "unit_count", ColumnKind.NUMBER),
        Column("创建时间", "created_at", ColumnKind.DATETIME),
    ],
)

BUILDING_EXPORT = ExportList(
    name="楼栋列表",
    object_type="estates.building",
    columns=[
        Column("项目编码", "estate.code"),
        Column("项目名称", "estate.name", width=24),
        Column("楼栋编码", "code"),
        Column("楼栋名称", "name"),
        Column("房屋数", "unit_count", ColumnKind.NUMBER),
    ],
)

UNIT_EXPORT = ExportList(
    name="房屋列表",
    object_type="estates.unit",
    columns=[
        Column("房屋编码", "code", width=18),
        Column("项目", "estate.name", width=20),
        Column("楼栋", "building.name"),
        Column("单元", "entrance"),
        Column("房号", "room"),
        Column("楼层", "floor", ColumnKind.NUMBER),
        Column("建筑面积(㎡)", "area_m2", ColumnKind.NUMBER, number_format="#,##0.00"),
        Column("房屋类型", "get_unit_type_display"),
        Column("状态", "get_status_display"),
        Column("交房日期", "handover_date", ColumnKind.DATE),
        Column("缴费人", lambda unit: getattr(payer_of(unit), "name", None)),
        Column("缴费人手机", lambda unit: phones_of(payer_of(unit)), ColumnKind.PHONE),
        Column(
            "当前住户",
            lambda unit: [
                f"{o.party.name}（{o.get_role_display()}）"
                for o in getattr(unit, CURRENT_OCCUPANCIES, ())
            ],
            width=30,
        ),
    ],
)

PARTY_EXPORT = ExportList(
    name="业主住户列表",
    object_type="estates.party",
    columns=[
        Column("姓名", "name", width=16),
        Column("单位", "is_organization"),
        Column("手机", lambda party: phones_of(party), ColumnKind.PHONE, width=28),
        Column("证件号", "id_number", ColumnKind.ID_NUMBER),
        Column("邮箱", "email", ColumnKind.EMAIL),
        Column(
            "当前房屋",
            lambda party: [
                f"{o.unit.code}（{o.get_role_display()}）"
                for o in getattr(party, CURRENT_OCCUPANCIES, ())
            ],
            width=30,
        ),
        Column("登记时间", "created_at", ColumnKind.DATETIME),
    ],
)

AUDIT_EXPORT = ExportList(
    name="操作日志",
    object_type="core.auditentry",
    columns=[
        Column("时间", "at", ColumnKind.DATETIME),
        Column("操作人", lambda entry: str(entry.actor) if entry.actor_id else "系统"),
        Column("操作", "get_action_display"),
        Column("对象类型", lambda entry: object_type_label(entry.object_type)),
        Column("对象", "object_repr", width=24),
        Column("说明", "note", width=30),
        Column("修改内容", audit_changes_text, width=60),
    ],
)

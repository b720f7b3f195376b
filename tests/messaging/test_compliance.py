"""The template compliance check: threats to cut water, power, heat or gas (民法典 art. 944)
in every spelling, marketing, third-party disclosure, unknown variables, missing deadline."""

from __future__ import annotations

import pytest

from propfee.messaging.compliance import template_problems
from propfee.messaging.constants import Audience, Channel
from propfee.messaging.defaults import DEFAULT_TEMPLATES

CLEAN = (
    "尊敬的{name}：截至{date}，您的房屋{unit}{periods}物业服务费尚有{amount}元未缴纳，"
    "请于{deadline}前缴纳。如有疑问，请致电物业服务中心，来电停车场入口处可咨询。{company}"
)


def problems(body: str, *, audience: str = Audience.PAYER, stage: str = "reminder", subject=""):
    return template_problems(
        channel=Channel.SMS if not subject else Channel.EMAIL,
        stage=stage,
        audience=audience,
        subject=subject,
        body=body,
    )


def codes(body: str, **kwargs) -> list[str]:
    return [p.code for p in problems(body, **kwargs)]


def test_a_clean_reminder_passes():
    assert problems(CLEAN) == []


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        ("逾期未缴将停水。", "停水"),
        ("逾期未缴将停电。", "停电"),
        ("逾期将停气。", "停气"),
        ("今冬将停暖。", "停暖"),
        ("将停止供热。", "停止供热"),
        ("将对您限电。", "限电"),
        ("逾期将断供。", "断供"),
        ("逾期将拉闸。", "拉闸"),
        ("届时将暂停供水。", "暂停供水"),
        ("届时将停止燃气供应。", "停止燃气"),
        ("水电将被切断。", "水电将被切断"),
        # spaces, punctuation and full-width characters in between
        ("逾期将停 水。", "停 水"),
        ("逾期将停　电。", "停　电"),
        ("逾期将停-水。", "停-水"),
        ("逾期将停．电。", "停．电"),
        ("逾期将断*电。", "断*电"),
        ("逾期将拉、闸。", "拉、闸"),
        ("逾期将 停 止 供 暖 。", "停 止 供 暖"),
    ],
)
def test_every_threat_to_cut_utilities_is_rejected_with_the_words_quoted(body, quoted):
    found = problems(CLEAN + body)
    assert [p.code for p in found] == ["utility_threat"]
    assert found[0].excerpt == quoted
    assert f"“{quoted}”" in found[0].message
    assert "第九百四十四条" in found[0].message


def test_each_threat_is_reported_once_with_its_own_words():
    found = problems(CLEAN + "逾期将断水断电。")
    assert [(p.code, p.excerpt) for p in found] == [
        ("utility_threat", "断水"),
        ("utility_threat", "断电"),
    ]


def test_a_threat_in_the_subject_is_rejected_too():
    assert codes("您好", subject="关于停电的通知") == ["utility_threat"]


@pytest.mark.parametrize(
    "body", ["逾期将停用您的电梯卡。", "门禁卡将被冻结。", "将限制车辆进出小区"]
)
def test_threats_to_block_lifts_gates_or_parking_are_rejected(body):
    assert codes(CLEAN + body) == ["access_threat"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("否则将曝光您的欠费。", "public_shaming"),
        ("将通知您的单位。", "third_party_disclosure"),
        ("将影响征信。", "false_legal_consequence"),
    ],
)
def test_intimidation_is_rejected_under_its_own_category(body, code):
    assert codes(CLEAN + body) == [code]


@pytest.mark.parametrize(
    "words",
    ["优惠", "促销", "抽奖", "广告", "点击领取", "退订回T", "退订回Ｔ", "回 T 退订", "红包"],
)
def test_marketing_is_rejected(words):
    found = problems(CLEAN + f"本月{words}活动。")
    assert {p.code for p in found} == {"marketing"}
    assert "营销" in found[0].message


def test_unknown_variables_and_stray_braces_are_reported():
    found = problems("尊敬的{name}：您欠{money}元，{amount.__class__}，{deadline")
    assert [p.code for p in found] == ["unknown_variable", "unknown_variable", "braces"]
    assert found[0].excerpt == "{money}"


def test_a_template_for_non_payers_may_not_disclose_the_debt():
    found = problems(
        "尊敬的住户：{unit}欠费{amount}元，期间{periods}。", audience=Audience.OCCUPANTS
    )
    assert [p.code for p in found] == ["third_party_disclosure"] * 3
    assert "{amount}" in found[0].message and "不得向缴费人以外的人披露" in found[0].message
    # The same text is fine for the payer; a neutral notice is fine for everyone.
    assert problems("尊敬的{name}：{unit}欠费{amount}元，期间{periods}。") == []
    assert (
        problems("尊敬的住户：本月物业服务中心开放时间为8:00—20:00。", audience="occupants") == []
    )


def test_a_final_demand_must_state_a_deadline():
    assert codes("尊敬的{name}：您尚欠{amount}元。", stage="final_demand") == ["deadline_missing"]
    assert codes("尊敬的{name}：请于{deadline}前缴纳{amount}元。", stage="final_demand") == []


def test_every_problem_is_reported_at_once():
    found = problems("停水！优惠！{money}")
    assert {p.code for p in found} == {"utility_threat", "marketing", "unknown_variable"}


def test_the_default_templates_pass_the_check():
    assert len(DEFAULT_TEMPLATES) >= 16
    for default in DEFAULT_TEMPLATES:
        assert (
            template_problems(
                channel=default.channel,
                stage=default.stage,
                audience=Audience.PAYER,
                subject=default.subject,
                body=default.body,
            )
            == []
        ), default.name
    final = next(d for d in DEFAULT_TEMPLATES if d.stage == "final_demand")
    assert "第九百四十四条" in final.body and "{deadline}" in final.body


def test_a_threat_in_traditional_characters_or_with_invisible_characters_is_rejected():
    found = problems(CLEAN + "如仍不繳納，本公司將停止供水供電。")
    assert [p.code for p in found] == ["utility_threat"]
    assert found[0].excerpt == "停止供水"
    assert codes(CLEAN + "门\u200b禁\u200b卡将于月底失效。") == ["access_threat"]


def test_each_category_names_itself_and_quotes_the_words_in_chinese():
    found = problems(CLEAN + "我们将联系您的工作单位协助催缴。")
    assert [p.code for p in found] == ["third_party_disclosure"]
    assert "“联系您的工作单位”" in found[0].message and "个人信息保护法" in found[0].message


def test_a_maintenance_notice_to_occupants_passes_but_a_cut_tied_to_the_debt_does_not():
    notice = "尊敬的住户：因主供水管道维修，3月15日9:00至17:00全小区停水，请提前储水。"
    assert problems(notice, audience=Audience.OCCUPANTS) == []
    threat = "尊敬的住户：逾期未缴物业费的住户，下周起停水。"
    assert "utility_threat" in codes(threat, audience=Audience.OCCUPANTS)

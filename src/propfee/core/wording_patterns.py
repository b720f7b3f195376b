"""The patterns of the wording guard (`propfee.core.wording_guard`), by category.

They run on the folded text: NFKC, lower case, simplified characters, and no spaces,
punctuation, symbols or invisible characters — "停 水", "停★水", "停\u200b水" and "停水" read
the same. A threat to cut or block is an ACTION within a few characters of an OBJECT, in
either order ("暂停对您家的供水", "燃气将于下周一停止供应"); the object-first order needs a
modal (将, 会, 已被…) or an explicit refusal (不予, 不再, 禁止…), so "来电停车场" is not
"电…停"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class WordingCategory(models.TextChoices):
    """The ways of pressing a debtor that the law forbids (催收禁用措辞)."""

    UTILITY = "utility_threat", _("以停水、停电、停气、停暖相要挟")
    ACCESS = "access_threat", _("以限制电梯、门禁、车辆、车位等服务相要挟")
    SHAMING = "public_shaming", _("公开曝光、黑名单")
    DISCLOSURE = "third_party_disclosure", _("向他人披露欠费")
    VIOLENCE = "violence_threat", _("威胁恐吓")
    INSULT = "insult", _("侮辱贬损")
    FALSE_LEGAL = "false_legal_consequence", _("不实的法律后果")
    IMPERSONATION = "impersonation", _("冒充司法机关或国家机关")
    MARKETING = "marketing", _("营销推广")


@dataclass(frozen=True)
class Rule:
    """One pattern of a category. `needs_context`: outside a dunning text, only a threat
    when a debt or payment word is in its own or a neighbouring sentence. A maintenance reason
    in its sentence (`maintenance_excuses`) or a judgment nearby (`judgment_excuses`) clears
    it; `object_negatable`: "不包含姓名" inside the match clears it."""

    category: str
    pattern: re.Pattern[str]
    needs_context: bool = True
    maintenance_excuses: bool = False
    judgment_excuses: bool = False
    object_negatable: bool = False


def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# --- cutting or limiting utilities ------------------------------------------------------------

_UTILITY_ACTION = _any(
    "停止", "暂停", "中止", "中断", "切断", "掐断", "关停", "关闭", "关掉", "锁定", "锁住",
    "锁死", "拆除", "拆掉", "作废", "失效", "限制", "限量", "限流", "限购", "冻结", "取消",
    "注销", "停供", "断供", "停掉", "断掉", "拉掉", "拉闸", "只供", "只在", "仅在", "仅供",
    "不给", "无法",
    "不予(?:开通|办理|供应|充值|开栓)?", "不再(?:提供|供应|办理|为您|为你)?",
)  # fmt: skip
# 停放 (park), 关于 (about), 期限 are not cuts.
_UTILITY_SHORT_ACTION = "(?:停(?![放车靠留])|关(?![于注心系键])|(?<!期)限(?!期)|[断切掐锁拆])"
_UTILITY_OBJECT = _any(
    "水电气暖", "水电气", "水电", "水暖", "供燃气", "供水", "供电", "供气", "供暖", "供热",
    "用水", "用电", "用气", "热水", "暖气片", "暖气", "地暖", "燃气卡", "燃气表", "燃气阀门",
    "燃气", "天然气", "煤气", "水表", "电表", "气表", "水阀", "阀门", "电闸", "总闸", "电卡",
    "水卡", "气卡", "购电", "买电", "电费充值", "充值", "开栓", "水龙头", "出水", "来水", "来电",
    "通电", "通水",
    "电(?![话子梯源脑视邮商影动池瓶线工器量费力网桩])", "水(?![平果泥管龙印准分费])",
    "气(?![候温味氛质])", "暖(?![心和])", "热(?![情线门心烈点])",
)  # fmt: skip
# Before an object-first action: "…将被", "…已", "…会".
_MODAL = _any("将被", "已被", "会被", "即将", "将会", "将", "会", "被", "已", "一律", "统一", "均")
_DONE = _any("拉了", "拉掉", "关了", "停了", "断了", "掐了", "关掉", "停掉", "断掉")
_EXPLICIT = _any(
    "停止", "暂停", "中止", "停用", "不予", "不再", "禁止", "不准", "不得", "无法", "不停靠",
    "不能", "别想", "不让", "失效", "作废", "拉黑", "注销", "冻结", "锁闭", "锁死", "锁住",
    "屏蔽", "不批", "禁入", "禁行", "下调为", "仅限", "另行出租", "收回",
)  # fmt: skip

# --- blocking lifts, doors, vehicles, services ------------------------------------------------

_ACCESS_ACTION = _any(
    "停用", "停止", "暂停", "中止", "取消", "注销", "冻结", "锁定", "锁闭", "锁死", "锁住",
    "锁了", "上锁", "失效", "作废", "关闭", "关掉", "禁止", "不准", "不得", "不予", "不再",
    "无法", "限制", "拉黑", "不停靠", "别想", "不能", "禁用", "屏蔽", "撤销", "不让", "不批",
    "不予批准", "不审批", "禁入", "禁行", "设为禁", "下调", "仅限", "降级", "另行出租", "收回",
)  # fmt: skip
_ACCESS_OBJECT = _any(
    "电梯卡", "电梯", "梯控", "门禁卡", "门禁", "门卡", "人脸识别", "人脸", "刷脸", "大门",
    "小区门", "单元门", "道闸", "车辆", "车牌", "车位", "地锁", "车库", "地库", "停车场",
    "入库", "驶入", "进出", "通行", "进入小区", "进场", "装修", "快递柜", "快递", "包裹",
    "访客", "充电桩", "储物间", "你的车", "您的车", "你家车", "车子",
)  # fmt: skip


def _action_object(action: str, obj: str, gap: int) -> str:
    return f"{action}.{{0,{gap}}}?{obj}"


def _object_action(obj: str, action: str) -> str:
    return f"{obj}.{{0,10}}?{_MODAL}.{{0,6}}?{action}"


_UTILITY = (
    re.compile(_action_object(_UTILITY_ACTION, _UTILITY_OBJECT, 8)),
    re.compile(_action_object(_UTILITY_SHORT_ACTION, _UTILITY_OBJECT, 4)),
    re.compile(_object_action(_UTILITY_OBJECT, _any(_UTILITY_ACTION, _UTILITY_SHORT_ACTION))),
    re.compile(f"{_UTILITY_OBJECT}.{{0,4}}?(?:{_EXPLICIT}|{_DONE})"),
    re.compile(
        f"对.{{0,6}}?{_UTILITY_OBJECT}.{{0,2}}?(?:采取|实行|实施|进行).{{0,4}}?"
        f"{_any(_UTILITY_ACTION, _UTILITY_SHORT_ACTION)}"
    ),
    # Refusing to open or restore: "不会为您家开通燃气", "不给您家通暖气".
    re.compile(
        r"(?:不会|不予|不给|不再|拒绝|拒不|无法|不能|暂不)(?:为|给|帮)?.{0,4}?"
        f"(?:开通|恢复|开栓|开启|通|办理|充).{{0,4}}?{_UTILITY_OBJECT}"
    ),
    # Last, so that "暂停供水" is quoted whole rather than as "停供".
    re.compile(r"拉闸|断供|停供|限供|关总闸|拉电闸"),
)
_ACCESS = (
    re.compile(r"人工核验|延迟放行|放行时间不少于|排队放行|慢放"),
    re.compile(r"(?:家|户|间|室)的?门.{0,3}?(?:锁了|上锁|锁上|锁死|焊死)|门口.{0,4}?加装锁"),
    re.compile(_action_object(_ACCESS_ACTION, _ACCESS_OBJECT, 8)),
    re.compile(_object_action(_ACCESS_OBJECT, _ACCESS_ACTION)),
    re.compile(f"{_ACCESS_OBJECT}.{{0,4}}?{_EXPLICIT}"),
)

# --- shaming -----------------------------------------------------------------------------------

_SHOW = _any(
    "公示", "公布", "公开", "张贴", "张榜", "贴在", "贴到", "贴于", "通报", "展示", "挂在",
    "挂到", "发布", "发到", "发在", "发至", "播放", "横幅", "点名", "晒", "写在", "写到", "登在",
    "贴出", "挂出", "公之于众", "出现在", "上墙", "显示在",
)  # fmt: skip
_SHOW_LOUD = _any(
    "张贴", "张榜", "贴在", "贴到", "播放", "横幅", "挂在", "挂到", "点名", "晒", "写在", "贴出",
)  # fmt: skip
_PERSONAL = _any(
    "姓名", "名字", "全名", "照片", "相片", "头像", "电话", "手机号?", "联系方式", "身份证",
    "名单", "欠费(?:情况|记录|信息|明细|金额)", "催费单",
)  # fmt: skip
_ROOM = _any("房号", "门牌号?", "户号")
_SHAMING_WORDS = re.compile(
    r"曝光|黑名单|老赖名单|失信业主|拉横幅|点名批评|点名通报|光荣榜|耻辱榜|欠费榜|红黑榜|示众"
)
_SHAMING_ROOM = re.compile(f"{_SHOW_LOUD}.{{0,10}}?{_ROOM}|{_ROOM}.{{0,8}}?{_SHOW_LOUD}")
_PUBLIC_PLACE = _any(
    "公告栏", "宣传栏", "告示栏", "业主群", "微信群", "电梯里", "电梯间", "电梯口", "大门口",
    "楼下", "大厅", "门口", "小区门口", "电子屏", "显示屏", "广播",
)  # fmt: skip
_SHAMING = (
    re.compile(f"{_PUBLIC_PLACE}.{{0,4}}?(?:点名|曝光|张贴|公布|通报|批评|示众)"),
    re.compile(r"(?:发到|发在|发布到|公布到|公布在|晒到|晒在|转发到)(?:小区)?(?:业主)?(?:微信)?群"),
    re.compile(r"让(?:大家|邻居们?|全小区|所有人).{0,4}?(?:评评理|看看|都知道|知道)|全小区都知道"),
    re.compile(f"{_SHOW}.{{0,10}}?{_PERSONAL}|{_PERSONAL}.{{0,8}}?{_SHOW}"),
)

# --- telling others ----------------------------------------------------------------------------

_TELL = _any(
    "通知(?![书单])", "告知", "告诉", "转告", "联系", "致电", "函告", "寄送至", "寄送到", "寄到",
    "送至", "发送给", "发给", "反映给", "反映到", "通报", "透露", "找", "打电话给", "电话给",
    "同步给", "抄送", "转给", "转发给",
)  # fmt: skip
_OTHERS = _any(
    "(?:您|你)(?:的)?(?:工作)?单位", "工作单位", "所在单位", "(?:您|你)所在的?公司", "贵公司",
    "领导", "上司", "同事", "家人", "家属", "亲属", "亲戚", "亲友", "父母", "爸妈", "子女",
    "孩子", "儿子", "女儿", "配偶", "爱人", "老公", "老婆", "邻居", "楼上楼下", "学校",
    "幼儿园", "紧急联系人", "朋友", "人事", "老板", "丈夫", "妻子", "公婆", "岳父母", "母亲",
    "父亲", "妈妈", "爸爸", "哥哥", "姐姐", "弟弟", "妹妹", "儿女", "居委会", "村委会",
    "上班的地方", "工作的地方", "所在的?(?:单位|公司|社区)",
)  # fmt: skip
_DISCLOSURE = (
    re.compile(f"{_TELL}.{{0,8}}?{_OTHERS}"),
    re.compile(f"{_OTHERS}.{{0,6}}?(?:催收|催缴|催讨|发函|当面催|协助催|找(?:您|你))"),
    re.compile(f"(?:请|让|叫)(?:您|你)的?{_OTHERS}.{{0,4}}?(?:做.{{0,2}}?工作|劝|督促)"),
    re.compile(
        f"(?:跟|和|与|向|给)(?:您|你)的?{_OTHERS}.{{0,4}}?"
        "(?:沟通|说明|说了|讲了|反映|通报|确认|打了?电话|发了?短信|发了?消息)"
    ),
)

# --- threats, insults -------------------------------------------------------------------------

_VIOLENCE = (
    re.compile(
        r"后果自负|后果自担|后果很严重|收拾你|收拾您|动手|人身安全|小心(?:你|您)(?:家|的)|"
        r"(?:砸|撬)了?(?:你|您)家?|吃不了兜着走|走着瞧|别怪我们|别想过|安生日子|上门堵|"
        r"堵(?:你|您)|守在.{0,4}?门口|(?:天天|每天|24小时).{0,10}?(?:上门|守在|堵|蹲守|蹲点|蹲着|守着)|"
        r"多(?:点|些)东西|有(?:你|您)好看|有(?:你|您)好受|"
        r"直到(?:你|您).{0,2}?(?:交钱|缴费|交清)为止|(?:任何|发生)的?冲突|不想要了|碎了别找|"
        r"知道(?:你|您).{0,4}?(?:孩子|子女|家人|父母|儿子|女儿).{0,4}?(?:在哪|学校|上学|住)|"
        r"有人上门处理|出了什么事|出什么事"
    ),
    re.compile(
        r"注意安全|不客气|识相|后悔|看好了|容易出事|(?:不会|不再)再?管.{0,6}?安全|小心(?:哪天|点|你|您|着)|当心(?:你|您|点)|迟早.{0,4}?(?:找|收拾|有人)|算账|"
        r"(?:车胎|轮胎|车|玻璃|门|窗).{0,3}?被(?:扎|砸|划|刮|撬|泼)"
    ),
)
_INSULT = re.compile(
    r"老赖|不要脸|无赖|厚脸皮|脸皮厚|脑子有病|(?:你|您)有病|有病吧|赖皮|没素质|素质低|死皮赖脸|"
    r"丢人现眼|(?:你|您|你们|全家)都?是骗子|垃圾(?:业主|人|东西)|(?:你|您)(?:这个?)?垃圾|废物|"
    r"白眼狼|穷就别|没钱就别|穷鬼|穷光蛋|人渣|混蛋|王八蛋|傻[逼bx]|滚出|滚蛋|也配住|不配住|刁民|"
    r"赖账|耍赖|都要赖|赖着不|(?:你|您)这种人|丢人|丢脸|寒碜|不嫌|没脸|充大款|装大款|蛀虫|寄生虫|败类|害群之马"
)

# --- false legal consequences, impersonation, marketing ----------------------------------------

_FALSE_LEGAL = re.compile(
    r"拘留|坐牢|判刑|入狱|蹲监狱|刑事|犯罪|涉嫌(?:诈骗|违法)|构成违法|属于违法|"
    r"(?:子女|孩子).{0,6}?(?:上学|入学|就业|考公|政审|考大学|高考|参军|升学)|考公务员|"
    r"影响.{0,6}?(?:贷款|出行|上学)|(?:公安|警方|派出所).{0,4}?(?:处理|抓|带走|传唤)|"
    r"房产证.{0,4}?注销|注销.{0,4}?房产证|贷款.{0,4}?(?:被拒|拒绝)|"
    r"(?:房子|房屋|房产).{0,6}?(?:收回|没收|查封|拍卖)|档案|出国|政审|扣押|扣车|扣留"
)
_FALSE_LEGAL_BEFORE_JUDGMENT = re.compile(
    r"(?:上|纳入|录入|报送|上报|进入|影响|列入|记入)(?:您的|你的)?(?:个人)?(?:征信|信用)|"
    r"征信系统|失信(?:人员|被执行人|名单)|"
    r"冻结.{0,4}?(?:银行卡|工资卡|信用卡|账户|帐户|存款|工资|微信|支付宝|财产|房产)|划扣|"
    r"(?:银行卡|工资卡|信用卡|账户|帐户|存款|工资|房产).{0,6}?冻结|上报银行|报告银行|"
    r"法院.{0,6}?(?:强制执行|拍卖|查封)|强制执行.{0,4}?(?:房产|房屋|财产|房子)|拍卖.{0,6}?房|"
    r"限制.{0,4}?(?:出境|出行|乘坐|飞机|高铁|高消费|消费)|限高"
)
# Calling the police over a civil debt; "请及时报警" (advice about fraud) is not a threat.
_POLICE_CALL = re.compile(r"(?<![请时可即])(?:报警|报案)")
_IMPERSONATION = (
    re.compile(r"^(?:人民)?法院(?:通知|传票|公告|提醒)"),
    re.compile(
        r"(?:我是|我们是|本人是|这里是).{0,8}?"
        r"(?:民警|警察|警官|法官|法院|检察|公安|派出所|司法局|执行局|执行庭|法庭)"
    ),
    re.compile(
        r"(?:公安|警方|派出所|检察院|检察|民警|司法局|法院|执行局)(?:机关|部门)?(?:已经|已)?"
        r"(?:介入|提醒|核实|通知|立案|提示|警告|责令)"
    ),
    re.compile(r"(?:法院|公安|警方)委托"),
    re.compile(
        r"(?:市场监管局|住建局|房管局|住建委|街道办|政府|城管|税务局).{0,6}?"
        r"(?:提醒|通知|联合|要求|责令)"
    ),
    re.compile(
        r"(?:法院|派出所|公安|警方|检察院|司法局).{0,4}?(?:协助|联合|共同|配合)(?:发送|催缴|催收)"
    ),
)
#: A sender in brackets at the start that is a court or the police: 【XX区人民法院】.
HEADER_RE = re.compile(
    r"^\s*[【\[〔(（][^】\]〕)）]{0,12}?(?:法院|法庭|执行局|公安|警|检察|司法局)[^】\]〕)）]{0,8}[】\]〕)）]"
)
_MARKETING = re.compile(
    r"优惠|促销|抽奖|大奖|特价|特惠|折扣|打折|[一二三四五六七八九]折|\d折|秒杀|返现|中奖|限时|"
    r"领券|团购|红包|礼品|赠送|送一个月|办卡|理财|年化|信用卡|免年费|首单|立减|包邮|佣金|退订|"
    r"回t|点击领取|免费领|(?<!小)广告|加购|活动仅限|新品|宽带|包年|仅需\d|获赠|加送|"
    r"送路由器|送.{0,2}?一[瓶份袋张盒]|转盘|幸运|会员|即送|话费|注册就?送|有礼|奖励\d|推荐新"
)

#: Words that make a text about a debt or a payment.
CONTEXT_RE = re.compile(
    r"欠|未缴|未交|不缴|不交|拒缴|拒交|缴清|交清|结清|交齐|缴齐|补缴|缴费|交费|交钱|缴纳|交纳|"
    r"物业费|管理费|逾期|催缴|催收|催费|缴款|还钱"
)
#: A reason that makes a cut or a closure a maintenance notice, not a threat.
MAINTENANCE_RE = re.compile(
    r"维修|检修|抢修|维护|维保|保养|年检|检验|检测|施工|改造|更换|升级|清洗|消毒|故障|演练|调试|"
    r"安检|市政|消防部门"
)
#: A judgment (or an equivalent title) after which enforcement and credit steps are lawful.
JUDGMENT_RE = re.compile(r"判决|裁定|调解书|生效")
NEGATION_BEFORE_RE = re.compile(
    r"不得(?!不)|不会|不能|不可|从不|从未|绝不|决不|不以|不因|无权|严禁|禁止以|不存在|并非|不允许|不应|"
    r"请勿|切勿|不要"
)
NEGATION_INSIDE_RE = re.compile(r"不包含|不含|不公开|不公布|不透露|不会|不涉及|隐去|除外")

RULES: tuple[Rule, ...] = (
    *(Rule(WordingCategory.UTILITY, p, maintenance_excuses=True) for p in _UTILITY),
    *(Rule(WordingCategory.ACCESS, p, maintenance_excuses=True) for p in _ACCESS),
    Rule(WordingCategory.SHAMING, _SHAMING_WORDS, needs_context=False),
    Rule(WordingCategory.SHAMING, _SHAMING_ROOM, needs_context=False, object_negatable=True),
    *(Rule(WordingCategory.SHAMING, p, object_negatable=True) for p in _SHAMING),
    *(Rule(WordingCategory.DISCLOSURE, p, object_negatable=True) for p in _DISCLOSURE),
    Rule(WordingCategory.VIOLENCE, _VIOLENCE[0], needs_context=False),
    Rule(WordingCategory.VIOLENCE, _VIOLENCE[1]),
    Rule(WordingCategory.INSULT, _INSULT, needs_context=False),
    Rule(WordingCategory.FALSE_LEGAL, _FALSE_LEGAL, needs_context=False),
    Rule(WordingCategory.FALSE_LEGAL, _FALSE_LEGAL_BEFORE_JUDGMENT, judgment_excuses=True),
    Rule(WordingCategory.FALSE_LEGAL, _POLICE_CALL),
    Rule(WordingCategory.IMPERSONATION, _IMPERSONATION[0], needs_context=False),
    *(Rule(WordingCategory.IMPERSONATION, p) for p in _IMPERSONATION[1:]),
    Rule(WordingCategory.MARKETING, _MARKETING, needs_context=False),
)

# --- pressure in general -----------------------------------------------------------------------
# A sentence that ties a harm to not paying ("再不缴费，门禁就刷不开了") is a threat whatever its
# words, unless the harm is a lawful step (违约金, 诉讼, 支付令…). Its category follows what it
# names: a utility, a service, else a threat.
PRESSURE_CONDITION_RE = re.compile(
    r"如不|如再|若不|若再|再不|还不|仍不|不交|不缴|不付|不结清|不处理|未缴|未交|欠费|欠款|拖欠|"
    r"逾期|否则|要是|拒不|拒缴|欠满|欠着|再拖|拖下去"
)
PRESSURE_HARM_RE = re.compile(
    r"别想|别指望|没人管|不管|不能|无法|不再|不予|不给|就会|会被|将被|强制|收回|后悔|刷不开|打不开|"
    r"进不了|出不了|用不了|开不了|不开了|不保证|难保|吃亏|好看|好受|等着|走着瞧|保不住|保不准|"
    r"出事|看好了"
)
LAWFUL_STEP_RE = re.compile(
    r"违约金|滞纳金|诉讼|起诉|仲裁|支付令|律师函|律师|法律|依法|催告|计收|分期|协商|核对|减免|"
    r"异议|暂缓|打扰|更正"
)
UTILITY_OBJECT_RE = re.compile(_UTILITY_OBJECT)
ACCESS_OBJECT_RE = re.compile(_ACCESS_OBJECT + "|门禁|单元门|车棚|垃圾|清运|维修|报修")

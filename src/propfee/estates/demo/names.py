"""Name pools the demo draws its people and shop tenants from: common surnames with pinyin
(for e-mail addresses), given names, and shop brands and trades."""

from __future__ import annotations

import re

# Common surnames with their pinyin (for e-mail addresses) and a rough frequency weight.
_SURNAME_TABLE = (
    "王wang7 李li7 张zhang7 刘liu5 陈chen6 杨yang4 黄huang3 赵zhao3 吴wu3 周zhou3 徐xu3 孙sun2 "
    "马ma2 朱zhu2 胡hu2 郭guo2 何he2 高gao2 林lin2 沈shen2 罗luo1 郑zheng1 梁liang1 谢xie1 "
    "宋song1 唐tang1 许xu1 韩han1 冯feng1 邓deng1 曹cao1 彭peng1 曾zeng1 肖xiao1 田tian1 "
    "董dong1 袁yuan1 潘pan1 蒋jiang1 蔡cai1 余yu1 杜du1 叶ye1 程cheng1 苏su1 魏wei1 吕lv1 "
    "丁ding1 姚yao1 陆lu1 钱qian1 顾gu1 金jin1 方fang1 汪wang1 范fan1 俞yu1 童tong1 应ying1 楼lou1"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = [(m[1], m[2], int(m[3])) for m in re.finditer(r"(\S)([a-z]+)(\d+)", _SURNAME_TABLE)]
MALE_GIVEN = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 宁 龙 林 阳 "
    "建华 建国 建军 志强 志明 海涛 国强 文斌 晓东 子豪 浩然 宇轩 俊杰 明辉 永刚 立新 家豪 振华 "
    "文博 天佑 国平 卫东 新民 建平 一鸣 嘉诚"
)
FEMALE_GIVEN = _words(
    "芳 娜 敏 静 丽 艳 娟 霞 玲 婷 雪 慧 颖 琳 倩 洁 燕 萍 红 秀英 桂英 玉兰 丽华 晓燕 欣怡 "
    "梓涵 雨涵 诗涵 佳怡 婉婷 雅琴 美玲 淑芬 慧敏 晓丽 春梅 海燕 丽娟 思琪 若曦 晓红 秀珍 "
    "文静 亚萍 彩霞"
)
SHOP_BRANDS = _words("味源 鑫达 安康 嘉禾 绿源 华联 悦颜 同仁 优品 启航 乐享 和顺 鲜果 金桥 宏运")
SHOP_TRADES = _words(
    "餐饮管理 便利店 大药房 美容美发 教育咨询 水果超市 洗衣服务 五金建材 烘焙食品 房产经纪 "
    "宠物用品 茶饮"
)

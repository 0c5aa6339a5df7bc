"""The site's words in English and Chinese. Indicator labels are not here: they are in
``data/indicators.yaml`` (``label``/``group``, ``zh``/``group_zh``, the original OSIR-LMTS
dashboard's headers); dimension names follow the original's Chinese README (数据、模型、系统、评测).
"""

LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

WORDS = {
    "title": ("Open-source influence ranking of the large-model technology stack",
              "大模型技术体系开源影响力榜单"),
    "intro": ("How much open-source influence organisations have across the large-model "
              "technology stack, month by month, by the OSIR-LMTS method: each dimension ranks "
              "them by the mean of its normalised indicators; the overall score weighs the "
              "dimension ranks ({weights}).",
              "各机构在大模型技术体系中的开源影响力，按 OSIR-LMTS 方法逐月排名：每个维度按其归一化"
              "指标的平均排名；总分按各维度排名加权（{weights}）。"),
    "short_title": ("OSIR-LMTS ranking", "开源影响力榜单"),
    "month": ("Month", "月份"),
    "months": ("Months", "月份"),
    "ranking": ("Ranking", "榜单"),
    "monthly": ("monthly", "当月"),
    "accumulated": ("accumulated", "累计"),
    "overall": ("Overall", "总榜"),
    "data": ("Data", "数据"),
    "model": ("Model", "模型"),
    "infra": ("Infrastructure", "系统"),
    "eval": ("Evaluation", "评测"),
    "rank": ("Rank", "排名"),
    "overall_rank": ("Overall rank", "总榜排名"),
    "delta_rank": ("Change", "排名变化"),
    "previous_rank": ("Previous rank", "上月排名"),
    "org": ("Organisation", "机构"),
    "score": ("Score", "得分"),
    "new": ("new", "新"),
    "changes": ("Change of each value since {previous}", "各指标自 {previous} 以来的变化"),
    "movers": ("Biggest movers", "排名变化最大的机构"),
    "reason": ("Why", "原因"),
    "rank_history": ("Overall rank per month", "各月总榜排名"),
    "scores_chart": ("Scores", "得分"),
    "history": ("History", "历史"),
    "breakdown": ("Why it ranks here", "排名构成"),
    "provenance": ("Where each value comes from", "数据来源"),
    "downloads": ("Downloads", "下载"),
    "download_all": ("Every table of this site, as CSV and Parquet", "本站所有表格（CSV 与 Parquet）"),
    "indicator": ("Indicator", "指标"),
    "group": ("Group", "类别"),
    "label": ("Label", "说明"),
    "raw": ("Value", "原始值"),
    "max": ("Max", "最大值"),
    "normalised": ("Normalised", "归一化"),
    "contribution": ("Contribution", "贡献"),
    "discount": ("g(rank)", "g(排名)"),
    "overall_weight": ("Weight", "权重"),
    "overall_term": ("Weight × g", "权重 × g"),
    "share": ("Share", "占比"),
    "dimension": ("Dimension", "维度"),
    "kind": ("Kind", "类型"),
    "source": ("Source", "来源"),
    "as_of": ("As of", "截至"),
    "flags": ("Flags", "标记"),
    "value": ("Value", "数值"),
    "table": ("Table", "表格"),
    "files": ("Files", "文件"),
    "all_months": ("All months", "全部月份"),
    "store": ("Store", "数据库"),
    "profile": ("Built with the {profile} profile of python -m scoring build, {built}.",
                "由 python -m scoring build 以 {profile} 口径生成，{built}。"),
    "first_month": ("The store's first month: no earlier month to compare ranks with.",
                    "这是数据库中的第一个月份：没有可比较的上月排名。"),
    "no_moves": ("No rank changed since {previous}.", "自 {previous} 以来排名没有变化。"),
    "compared_with": ("Changes against {previous}.", "与 {previous} 相比的变化。"),
    "new_orgs": ("New this month (no earlier rank): {orgs}.", "本月新上榜（无上月排名）：{orgs}。"),
    "others_moved": ("its own dimension ranks did not change: others moved past it",
                     "各维度排名未变，其他机构的变化使其名次变动"),
    "no_breakdown": ("No breakdown for this month.", "本月没有排名构成。"),
    "overall_formula": ("Overall score = Σ weight × g(rank), g(rank) = 1 / log2(rank + 1).",
                        "总分 = Σ 权重 × g(排名)，g(排名) = 1 / log2(排名 + 1)。"),
    "dimension_formula": ("Dimension score = mean of the normalised indicators (value / max).",
                          "维度得分 = 各指标归一化值（数值 / 最大值）的平均。"),
    "not_measured": ("Not measured in {month}: no organisation has a value, so each dimension's "
                     "mean leaves these out for every organisation alike:",
                     "{month} 未测量：没有任何机构有数值，各维度的平均对所有机构同样不计入这些指标："),
    "accumulated_values": ("Accumulated values", "累计数值"),
    "made_by": ("Built by python -m scoring site from the store {store} ({months}).",
                "由 python -m scoring site 从数据库 {store} 生成（{months}）。"),
    "crawl": ("crawled", "爬取"),
    "rule": ("counted by a rule", "规则计数"),
    "catalogue": ("catalogue", "目录"),
    "published": ("published file", "已发布数据"),
}


def word(key: str, lang: str, **fill) -> str:
    """The word for ``key`` in ``lang`` (the key itself when there is none), filled in."""
    pair = WORDS.get(key)
    text = key if pair is None else pair[LANGUAGES.index(lang)]
    return text.format(**fill) if fill else text


def dimension_name(dimension: str, lang: str) -> str:
    """``model-accumulated`` -> "Model (accumulated)" / "模型（累计）"."""
    base, _, acc = dimension.partition("-")
    name = word(base, lang)
    if not acc:
        return name
    return f"{name} ({word(acc, lang)})" if lang == "en" else f"{name}（{word(acc, lang)}）"


def indicator_label(labels: dict, dimension: str, indicator: str, lang: str) -> tuple[str, str]:
    """(group, label) of an indicator from data/indicators.yaml, in ``lang``."""
    entry = labels.get(dimension.partition("-")[0], {}).get(indicator) or {}
    if lang == "zh":
        return entry.get("group_zh") or entry.get("group") or "", entry.get("zh") or entry.get(
            "label") or indicator
    return entry.get("group") or "", entry.get("label") or indicator

"""The words of the region maps and of the workbook's headers in the language of
``outputs.maps.language``: ``en``, ``zh`` (Simplified Chinese) or ``both`` (the English, then
the Chinese).

A text is a :class:`Phrase`: an English template (the key of :data:`ZH`) and the values filled
into it, numbers, units, codes and region names as they are, or phrases of their own, each
rendered in the same language. A template without its Chinese is a programming error
(``tests/test_language.py`` renders every template of the maps in Chinese). Light on purpose:
no matplotlib, no pandas.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh", "both")

# The Chinese of every fixed text of a map: the quantities, periods, legend entries, class names
# and notes. Terms as Zhang et al. (2022) and the Chinese carbon-neutrality literature use them.
ZH: dict[str, str] = {
    # quantities
    "Ecosystem carbon sink (ECS)": "生态系统碳汇（ECS）",
    "Carbon emissions (CE)": "碳排放（CE）",
    "Carbon neutral capacity (CNC = ECS − CE)": "碳中和能力（CNC = ECS − CE）",
    "Carbon emission risk (CER = CE / ECS × Cv)": "碳排放风险（CER = CE / ECS × Cv）",
    "Rock-weathering carbon sink (RCS)": "岩石风化碳汇（RCS）",
    "carbon neutral capacity (CNC)": "碳中和能力（CNC）",
    "carbon emissions (CE)": "碳排放（CE）",
    "ecosystem carbon sink (ECS)": "生态系统碳汇（ECS）",
    "{quantity} per km²": "每平方公里{quantity}",
    "ratio": "比值",
    # periods
    "{year}": "{year}年",
    "{first}–{last}": "{first}–{last}年",
    "mean {first}–{last}": "{first}–{last}年平均",
    "each year {first}–{last} alike (from climatologies)": "{first}–{last}年各年相同（来自气候态）",
    # levels
    "county": "县",
    "city": "市",
    "province": "省",
    "district": "区",
    "prefecture": "地级市",
    "economic region": "经济区",
    "region": "区域",
    "basin": "流域",
    # titles and notes
    "{quantity}, {period}, by {level}": "{quantity}，{period}，按{level}",
    "{title} (per km²)": "{title}（每平方公里）",
    "(the period's CE / ECS, Shi et al. 2022 with Cv = 1: CE = ECS at 1)": (
        "（时段 CE / ECS，Shi 等 2022，Cv = 1：CE = ECS 时为 1）"
    ),
    "(the period's CE / ECS × mean Cv, Shi et al. 2022; Cv {low}–{high}: "
    "CE = ECS where CER = Cv, not at 1)": (
        "（时段 CE / ECS × 平均 Cv，Shi 等 2022；Cv {low}–{high}：CER = Cv 处 CE = ECS，而非 1 处）"
    ),
    "Probability of a surplus (CNC > 0), {period}, by {level}": (
        "碳盈余概率（CNC > 0），{period}，按{level}"
    ),
    '(uncertainty model: docs/method.md, "Uncertainty")': (
        "（不确定性模型：docs/method.md，“Uncertainty”）"
    ),
    "Trend class of the {quantity}, {period}, by {level}": (
        "{quantity}趋势类别，{period}，按{level}"
    ),
    "(OLS slope in Tg CO2 yr⁻²; Zhang et al. 2022)": "（OLS 斜率，Tg CO2 yr⁻²；Zhang 等 2022）",
    "(OLS slope in Tg CO2 yr⁻²; decrease limits {t1} and {t2}; Zhang et al. 2022)": (
        "（OLS 斜率，Tg CO2 yr⁻²；减少阈值 {t1} 与 {t2}；Zhang 等 2022）"
    ),
    "LISA clusters of the mean {quantity} by {level} (pseudo p < {p})": (
        "{quantity}均值的 LISA 聚类，按{level}（伪 p < {p}）"
    ),
    "Moran's I = {i} (pseudo p = {p}, {n} permutations)": (
        "Moran's I = {i}（伪 p = {p}，{n} 次置换）"
    ),
    "Getis–Ord Gi* hot and cold spots of the mean {quantity} by {level}": (
        "{quantity}均值的 Getis–Ord Gi* 冷热点，按{level}"
    ),
    "binary queen weights incl. self; z-score classes": "含自身的二元 queen 权重；按 z 值分类",
    "All {n} regions with a class: {cls}": "有类别的 {n} 个区域均为：{cls}",
    # legend entries
    "{label} ({n})": "{label}（{n}）",
    "+inf: ECS ≤ 0": "+inf：ECS ≤ 0",
    "no value": "无数据",
    "sink known on < {pct} % of the area": "碳汇已知面积 < {pct} %",
    "sink known on {low}–{high} % of the area": "碳汇已知面积 {low}–{high} %",
    "CE known on < {pct} % of the area": "排放已知面积 < {pct} %",
    "{lo} to {hi}": "{lo} 至 {hi}",
    "> {lo} to {hi}": "> {lo} 至 {hi}",
    # classes: trends (Zhang et al. 2022), LISA, Gi*, P(CNC > 0)
    "increase": "增加",
    "no change": "无变化",
    "slight decrease": "轻微减少",
    "significant decrease": "显著减少",
    "sharp decrease": "急剧减少",
    "undetermined": "未定",
    "not computed": "未计算",
    "not significant": "不显著",
    "HH": "高-高",
    "HL": "高-低",
    "LH": "低-高",
    "LL": "低-低",
    "hot spot 99%": "热点 99%",
    "hot spot 95%": "热点 95%",
    "hot spot 90%": "热点 90%",
    "cold spot 90%": "冷点 90%",
    "cold spot 95%": "冷点 95%",
    "cold spot 99%": "冷点 99%",
    "< 2.5 %: deficit, robust": "< 2.5 %：赤字，稳健",
    "2.5 – 5 %": "2.5 – 5 %",
    "5 – 50 %: deficit more likely": "5 – 50 %：赤字可能性较大",
    "50 – 95 %: surplus more likely": "50 – 95 %：盈余可能性较大",
    "95 – 97.5 %": "95 – 97.5 %",
    "≥ 97.5 %: surplus, robust": "≥ 97.5 %：盈余，稳健",
    "{source} against the emission table, {period}, by {level}": (
        "{source}与排放清单之比较，{period}，按{level}"
    ),
    "((second − table) / table, over the years both have)": (
        "（（第二来源 − 清单）/ 清单，两者均有数据的年份）"
    ),
    "population (raises CE)": "人口（增加排放）",
    "affluence (raises CE)": "人均 GDP（增加排放）",
    "intensity (raises CE)": "排放强度（增加排放）",
    "population (lowers CE)": "人口（减少排放）",
    "affluence (lowers CE)": "人均 GDP（减少排放）",
    "intensity (lowers CE)": "排放强度（减少排放）",
    "urbanisation (raises CE)": "城镇化（增加排放）",
    "urbanisation (lowers CE)": "城镇化（减少排放）",
    "GDP per urban resident (raises CE)": "城镇人均 GDP（增加排放）",
    "GDP per urban resident (lowers CE)": "城镇人均 GDP（减少排放）",
    "industry share (raises CE)": "第二产业占比（增加排放）",
    "industry share (lowers CE)": "第二产业占比（减少排放）",
    "industry intensity (raises CE)": "第二产业排放强度（增加排放）",
    "industry intensity (lowers CE)": "第二产业排放强度（减少排放）",
    "Main driver of the change of CE, {period}, by {level}": (
        "碳排放变化的主导因素，{period}，按{level}"
    ),
    "(the largest of the effects on CE; additive LMDI, Ang 2005)": (
        "（各效应中绝对值最大者；加法 LMDI，Ang 2005）"
    ),
}

# Where ``both`` says a text in one line rather than the English and the Chinese one after the
# other: a class of numbers needs its numbers once
BOTH = {
    "{lo} to {hi}": "{lo} to / 至 {hi}",
    "> {lo} to {hi}": "> {lo} to / 至 {hi}",
}


class Phrase:
    """An English ``template`` and the ``values`` filled into it (``str.format`` fields); a
    value that is a Phrase is rendered in the same language, any other as it is. Its Chinese
    template is ``ZH[template]``, or ``zh`` where given (a level named by the user, lines)."""

    __slots__ = ("template", "values", "zh")

    def __init__(self, template: str, /, *, zh: str | None = None, **values: object) -> None:
        self.template = template
        self.zh = zh
        self.values = values

    @classmethod
    def pair(cls, en: str, zh: str) -> Phrase:
        """A fixed text given in both languages (no lookup in :data:`ZH`)."""
        return cls(en, zh=zh)

    def render(self, language: str) -> str:
        """The text in ``en`` or ``zh``."""
        if language == "en":
            template = self.template
        elif language == "zh":
            template = self.zh if self.zh is not None else ZH[self.template]
        else:
            raise ValueError(f"a phrase renders in 'en' or 'zh', not {language!r}")
        if not self.values:  # a template without fields may hold braces of its own
            return template
        values = {
            k: v.render(language) if isinstance(v, Phrase) else v for k, v in self.values.items()
        }
        return template.format(**values)

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.values!r})"


def lines(*phrases: Phrase) -> Phrase:
    """Phrases on lines of their own (a title and its notes), each in the language asked for."""
    fields = {f"line{i}": phrase for i, phrase in enumerate(phrases)}
    template = "\n".join(f"{{{k}}}" for k in fields)
    return Phrase(template, zh=template, **fields)


def say(text: str | Phrase, language: str, sep: str = " / ") -> str:
    """``text`` (an English template of :data:`ZH` or a :class:`Phrase`) in ``language``:
    ``both`` gives the English and the Chinese joined by ``sep`` (a line break in a title), once
    when the two are the same ("2.5 – 5 %"), in one line where :data:`BOTH` has it."""
    if language not in LANGUAGES:
        raise ValueError(
            f"outputs.maps.language is one of {', '.join(LANGUAGES)}, not {language!r}"
        )
    phrase = text if isinstance(text, Phrase) else Phrase(text)
    if language == "both" and phrase.template in BOTH:
        return Phrase(BOTH[phrase.template], zh="", **phrase.values).render("en")
    if language == "both":
        en, zh = phrase.render("en"), phrase.render("zh")
        return en if en == zh else f"{en}{sep}{zh}"
    return phrase.render(language)


SERIES_LABELS = {
    "cnc_tgco2": ("CNC", "carbon neutral capacity"),
    "ce_tgco2": ("CE", "carbon emissions"),
    "ecs_tgco2": ("ECS", "ecosystem carbon sink"),
}


def quantity_phrase(column: str) -> Phrase:
    """A budget column as a title says it: 'carbon emissions (CE)' for ce_tgco2, 'carbon
    emissions (CE) per km²' for its density, any other column by its name."""
    if column in SERIES_LABELS:
        short, words = SERIES_LABELS[column]
        return Phrase(f"{words} ({short})")
    total = column.replace("_flux_tco2_km2", "_tgco2")
    if total != column and total in SERIES_LABELS:
        return Phrase("{quantity} per km²", quantity=quantity_phrase(total))
    return Phrase.pair(column, column)


def level_phrase(level: str) -> Phrase:
    """A level's name as a title says it ("economic region" for economic_region), in Chinese
    where :data:`ZH` knows it, else as it is in both languages (a level named by the user)."""
    name = level.replace("_", " ")
    return Phrase(name) if name in ZH else Phrase.pair(name, name)


def period_phrase(years, *, mean: bool = True, constant: bool = False) -> Phrase:
    """A period as a title says it: "mean 2006–2010", one year as "2010" (not "mean
    2010–2010"), and a quantity the same every year (its inputs are climatologies) as such,
    not as a mean of years it does not vary over."""
    first, last = int(min(years)), int(max(years))
    if first == last:
        return Phrase("{year}", year=first)
    if constant:
        return Phrase("each year {first}–{last} alike (from climatologies)", first=first, last=last)
    return Phrase("mean {first}–{last}" if mean else "{first}–{last}", first=first, last=last)

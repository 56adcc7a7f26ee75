"""One plain paragraph per allocation table or chart: what it shows and how to read it.

The workbook puts the paragraph above each sheet's table, the command line writes it beside
each chart, and a notebook can display it under the figure::

    from evalkit.allocation.explain import explain
    explain("monte_carlo", kappa=200, n_draws=10_000, seed=20210514)

Texts are written for a finance-bureau reader (Chinese) with an English version for researchers.
"""

from __future__ import annotations

from typing import Any

from .._shared.exceptions import EvalkitError

_TEXT: dict[str, dict[str, str]] = {
    "result": {
        "zh": "本表为{fund}{year}年度分配结果。先列县市区，再列开发区，各有小计；合计等于本次可分配额 "
              "{t_alloc:,} 万元（资金总额减预留）。金额为{money_zh}，分配方法与数据见附件2《测算说明》。",
        "en": "Allocation of {fund} for {year}: counties first, then development zones, each with a "
              "subtotal; the total equals the {t_alloc:,} 万元 allocated now (total less reserve). "
              "Amounts are {money_en}; the method and data are in annex 2.",
    },
    "detail": {
        "zh": "本表列出每个单位各因素按权重折算后的加权份额（各因素原始数据、数据状态和份额见“因素数据”表），"
              "以及综合份额、绩效系数、保底/上限、取整前金额和取整调整。用于核对计算过程。",
        "en": "Per unit: each factor's weighted share (raw values, status and shares are on the "
              "factor-data sheet), then the composite share, coefficient, floor/cap, the amount "
              "before rounding and the rounding adjustment. For checking the computation.",
    },
    "detail_awards": {
        "zh": "奖补列：“奖补依据”列为奖补所依据的数值；各奖补项目的金额中，奖励为正数、扣减为负数；因素法金额为"
              "（可分配额 − 奖补净额合计）按调整后份额分得的部分。未触及保底或上限的单位，取整前金额 = 基数 + "
              "奖补净额 + 因素法金额；触及保底或上限的单位以保底、上限为准。",
        "en": "Awards: the basis columns hold the values the awards measure; each award's amount is "
              "positive, each deduction's negative; the factor-method amount is the unit's share of "
              "the amount to allocate less the net awards. For a unit bound by no floor or cap, the "
              "amount before rounding = base + net awards + factor-method amount.",
    },
    "monte_carlo": {
        "zh": "本表回答“权重稍有不同，结果会变多少”。做法：围绕方案权重随机抽取 {n_draws:,} 组权重（狄利克雷分布，"
              "集中度 κ={kappa:g}，κ 越大抽到的权重越接近方案权重，κ=200 时每个权重大约上下浮动 3 个百分点；随机种子 "
              "{seed}，结果可重现），每组重新测算。P5 与 P95 表示 90% 的情形下该单位金额落在这两个数之间，区间越窄"
              "说明结果越稳定；P50 为中位数。“位次变化概率”是该单位金额排名与本方案不同的情形所占比例；"
              "“触及保底/上限概率”是被保底或上限约束的情形比例。",
        "en": "How much would amounts move if the weights were slightly different? {n_draws:,} weight "
              "vectors are drawn around the rule's weights (Dirichlet, concentration κ={kappa:g}; larger "
              "κ stays closer, κ=200 is about ±3 percentage points per weight; seed {seed}, "
              "reproducible) and the allocation is recomputed for each. P5 and P95 bracket 90% of the "
              "draws (narrower = more stable); P50 is the median. 'Probability of a rank change' is "
              "the share of draws in which the unit's rank differs from the rule's; the floor/cap "
              "probabilities are the shares of draws in which it is bound.",
    },
    "leave_one_out": {
        "zh": "“去掉某因素后增减”表示：不使用该因素、其余因素按原比例放大权重后，该单位金额比本方案增加（正数）或"
              "减少（负数）多少万元。数值大的因素对该单位影响大。",
        "en": "'Change without a factor': the unit's amount when that factor is dropped and the others "
              "are scaled up proportionally, minus the rule's amount (万元). Large values mark the "
              "factors that matter most for the unit.",
    },
    "perturb": {
        "zh": "本表逐一把每个因素的权重提高或降低 {delta:g} 个百分点（其余因素按原比例调整，使权重合计仍为 100%），"
              "列出各单位金额相对本方案的增减（万元）。正数表示增加。用于说明权重取值的影响。",
        "en": "Each factor's weight is raised or lowered by {delta:g} percentage points in turn (the "
              "others rescaled so the weights still add up to 100%); the cells are each unit's change "
              "in 万元 against the rule (positive = more).",
    },
    "shapley": {
        "zh": "本表把每个单位的金额分解为“均分基准 + 各因素贡献 + 绩效系数贡献 + 取整”。均分基准是把可分配额平均分给"
              "所有单位时每个单位得到的金额；某因素的贡献（Shapley 值）是把该因素加入测算后该单位金额的平均变化，"
              "对所有加入顺序取平均，因此与因素的先后顺序无关，各项之和恰好等于分配金额。正数表示该因素使该单位"
              "多于平均数，负数表示少于平均数。表中金额显示为整数万元，逐项相加可能与合计差 1 万元。",
        "en": "Each unit's amount split into 'equal split + factor contributions + coefficient "
              "contribution + rounding'. The equal split gives every unit the same amount; a factor's "
              "contribution (Shapley value) is the average change in the unit's amount when the "
              "factor is added, over every order of adding factors, so it does not depend on order "
              "and the parts add up exactly to the amount. Positive = the factor lifts the unit above "
              "the average. Shown in whole 万元; displayed parts may differ from the total by 1.",
    },
    "attribution_chart": {
        "zh": "图中每一行是一个单位，彩色条表示各因素（及绩效系数）使该单位金额高于（向右）或低于（向左）均分基准的"
              "万元数，黑色菱形为各项合计，即该单位金额与均分基准之差。",
        "en": "One row per unit; coloured bars show how far each factor (and the coefficient) moves "
              "the unit above (right) or below (left) the equal split, in 万元; the black diamond is "
              "the net difference from the equal split.",
    },
    "waterfall": {
        "zh": "瀑布图从左边的均分基准开始，依次加上（蓝色）或减去（红色）各因素的贡献、绩效系数和取整调整，"
              "最右边的绿色柱为最终分配金额（万元）。",
        "en": "The waterfall starts from the equal split on the left, adds (blue) or subtracts (red) "
              "each factor's contribution, the coefficient and rounding, and ends with the final "
              "amount (green), in 万元.",
    },
    "change": {
        "zh": "年度变动分解把该单位今年与上年金额之差拆成：资金规模变化、基数、权重调整、各因素数据变化、绩效系数、"
              "保底/上限和取整，各项之和恰好等于增减额（Shapley 分解，与先后顺序无关）。",
        "en": "The year-on-year change split into budget, base, weights, each factor's data, "
              "coefficients, floors/caps and rounding; the parts add up exactly to the change "
              "(Shapley decomposition, order-free).",
    },
    "range_chart": {
        "zh": "图中横线为各单位在权重随机扰动下金额的 P5–P95 区间（90% 的情形落在其中），圆点为本方案金额。"
              "横线越短，该单位的金额对权重越不敏感。",
        "en": "Horizontal lines: each unit's P5–P95 range of amounts under random weight changes "
              "(90% of draws); dots: the rule's amount. Shorter lines = less sensitive to the weights.",
    },
    "metrics": {
        "zh": "公平与集中度指标：基尼系数（0 表示完全平均，越大越集中）、泰尔指数（可分解为县市区与开发区之间和"
              "组内两部分）、HHI（0–10000，越大越集中）和有效受益单位数（HHI 的倒数，相当于多少个单位平分）。"
              "“上年”“纯产出基准”“纯人口基准”列供比较。",
        "en": "Fairness and concentration: Gini (0 = equal), Theil (split into between counties and "
              "zones and within), HHI (0–10,000, higher = more concentrated) and the effective "
              "number of recipients (1/HHI). Last year and pure-output / pure-population benchmarks "
              "for comparison.",
    },
    "audit": {
        "zh": "审计表列出计算的每一步中间结果：综合份额、绩效系数、调整后份额、基数、保底、上限、取整前金额、"
              "取整时的整数部分、余数及其排序、取整补足额和最终金额，可据此逐项复核。",
        "en": "Every intermediate step: composite share, coefficient, adjusted share, base, floor, "
              "cap, amount before rounding, its whole part, remainder and its rank, the rounding "
              "addition and the final amount.",
    },
    "compare": {
        "zh": "方案对比：A 为基准方案，B 为比较方案；“B−A”为两方案金额之差（万元），“增减(%)”为差额占 A 的百分比。"
              "县市区和开发区分别小计，合计为两方案各自的可分配额。",
        "en": "Scenario comparison: A is the reference, B the alternative; 'B−A' is the difference "
              "in 万元 and '%' the difference as a percentage of A, with subtotals for counties and "
              "development zones.",
    },
    "years": {
        "zh": "多年对比：本年金额与此前各年实际分配金额并列，并给出本年相对上年和相对前几年平均值的增减。",
        "en": "Several years: this year's amounts beside the previous years', with the change against "
              "last year and against the average of the earlier years.",
    },
}


def topics() -> list[str]:
    """Names of the tables and charts that have an explanation."""
    return sorted(_TEXT)


def explain(topic: str, language: str = "zh", **numbers: Any) -> str:
    """Paragraph explaining one table or chart.

    Parameters
    ----------
    topic : str
        One of :func:`topics` (``monte_carlo``, ``shapley``, ``perturb`` ...).
    language : {"zh", "en"}
    **numbers
        Values the text quotes (``kappa``, ``n_draws``, ``seed``, ``delta``, ``fund``, ``year``,
        ``t_alloc``); each topic names what it needs.

    Returns
    -------
    str

    Examples
    --------
    >>> explain("perturb", delta=5)[:12]
    '本表逐一把每个因素的权重'
    """
    if topic not in _TEXT:
        raise EvalkitError(f"Invalid argument topic={topic!r}. Expecting one of {tuple(topics())}.")
    if language not in ("zh", "en"):
        raise EvalkitError(f"Invalid argument language={language!r}. Expecting one of ('zh', 'en').")
    try:
        return _TEXT[topic][language].format(**numbers)
    except KeyError as exc:
        raise EvalkitError(f"explain({topic!r}) needs the number {exc.args[0]}=...") from None

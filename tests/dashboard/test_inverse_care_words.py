"""AppTest of what the Inverse care and Overview pages say: gaps in words, the funnel on the
chosen indicator, the overdispersion method named, one comparison rule with the briefing."""

from __future__ import annotations

import re

from streamlit.proto.Metric_pb2 import Metric

from tests.dashboard.test_dashboard_pages import open_page, texts


def test_gaps_are_words_and_the_funnel_waits_for_a_related_indicator():
    at = open_page("inverse_care", "E08000010", need="imd2025_score",
                   prov="iod2025_gps_per_100k_patients")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Slope index of inequality (SII)"] == "15.6 lower"
    assert metrics["Relative index of inequality (RII)"] == "1.41 times"
    text = texts(at)
    assert ("provision is 15.6 FTE GPs per 100,000 patients higher at the least deprived end "
            "than at the most deprived end") in text
    assert "observed average is 39.3 FTE GPs per 100,000 patients" in text
    readings = [m.value for m in at.markdown if m.value.startswith("**Reading:**")]
    # no signed statistic in the sentences: "(SII −148)" and "-0.0054" stay in the methods box
    assert readings and not any("(SII" in r or re.search(r"[-−]\d", r) for r in readings)
    assert at.selectbox(key="funnel").value == ""  # not "Disabled under the Equality Act"
    assert "have no numerator and denominator, so they have no funnel plot" in text


def test_funnel_opens_on_the_chosen_need_and_names_its_method():
    at = open_page("inverse_care", "E54000057", need="census2021_disabled_pct",
                   prov="iod2025_gps_per_100k_patients")
    assert at.selectbox(key="funnel").value == "census2021_disabled_pct"
    text = texts(at)
    assert "overdispersion-adjusted control limits (Spiegelhalter 2005" in text
    assert "widened by the between-area variation" in text
    assert "shown as [c] in the table and downloads" in text


def test_funnel_chosen_in_the_link_is_drawn():
    at = open_page("inverse_care", "E08000010", need="imd2025_score",
                   prov="iod2025_gps_per_100k_patients", funnel="stroke_admissions_per_1000")
    assert at.selectbox(key="funnel").value == "stroke_admissions_per_1000"
    assert "control limits" in texts(at)


def test_overview_labels_fit_and_the_comparison_follows_the_shared_rule():
    at = open_page("overview", "E08000010")
    for metric in at.metric:
        assert len(metric.label) <= 40, metric.label
    provision = next(m for m in at.metric if m.label.startswith("Qualified GPs within reach"))
    # Wigan: 55.6 qualified GPs within reach per 100,000 against 64.5 nationally, −13.8%:
    # beyond the 5% rule, and lower capacity is worse, so red (the briefing says the same)
    assert "−13.8% vs national 64.5 (lower)" in provision.proto.delta
    assert provision.proto.color == Metric.MetricColor.RED

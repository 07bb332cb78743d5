"""Personal-data screening: NHS numbers by their modulus-11 check digit, dates of birth,
UK phone numbers, e-mail addresses, full postcodes refused with what and where; names
warned about; ordinary aggregate text passes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.learning import PersonalDataError, check_personal_data, nhs_check_digit_ok
from analysis.learning.screening import screen_text

VALID_NHS = ["9434765919", "4010232137", "9999999999", "4505577104"]
INVALID_NHS = ["9434765918", "4010232138", "1234567890", "9434765910"]


def _check_digit(nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


@pytest.mark.parametrize("number", VALID_NHS)
def test_valid_nhs_numbers_pass_the_check(number):
    assert nhs_check_digit_ok(number)


@pytest.mark.parametrize("number", INVALID_NHS)
def test_invalid_check_digits_fail(number):
    assert not nhs_check_digit_ok(number)


def test_a_check_digit_of_ten_is_never_valid():
    # 1 2 3 4 5 6 7 8 1: sum 10+18+24+28+30+30+28+24+2 = 194, 194 mod 11 = 7, 11-7 = 4
    assert nhs_check_digit_ok("1234567814")
    nine = next(f"{n:09d}" for n in range(10**8, 10**9) if _check_digit(f"{n:09d}") is None)
    assert not any(nhs_check_digit_ok(nine + str(d)) for d in range(10))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_or_none_is_valid(nine):
    valid = [d for d in range(10) if nhs_check_digit_ok(nine + str(d))]
    expected = _check_digit(nine)
    assert valid == ([] if expected is None else [expected])


@pytest.mark.parametrize("written", ["943 476 5919", "9434765919", "943-476-5919"])
def test_an_nhs_number_is_refused_spaced_or_not(written):
    text = f"Seen at the clinic, NHS no {written}, about transport."
    with pytest.raises(PersonalDataError) as caught:
        check_personal_data({"text": text})
    message = str(caught.value)
    assert "contains an NHS number" in message
    start = text.index(written) + 1
    assert f"characters {start}–{start + len(written) - 1}" in message
    assert written not in message and "5919" not in message.replace("19)", "")
    assert caught.value.findings[0].field == "text"


@pytest.mark.parametrize("written", ["943 476 5918", "1234567890", "401 023 2138"])
def test_ten_digits_with_a_wrong_check_digit_are_not_an_nhs_number(written):
    assert check_personal_data({"text": f"Reference {written} in the minutes."}) == []


@pytest.mark.parametrize(("text", "what"), [
    ("Her DOB: 12/03/1950, lives nearby", "a date of birth"),
    ("date of birth 1950-03-12", "a date of birth"),
    ("he was born on 3 March 1950", "a date of birth"),
    ("call 07700 900123 for details", "a phone number"),
    ("ring +44 (0)20 7946 0958", "a phone number"),
    ("office 0161 496 0000", "a phone number"),
    ("write to jo.bloggs@example.org", "an e-mail address"),
    ("lives at M1 1AE now", "a full postcode"),
    ("the flat at SW1A 1AA", "a full postcode"),
])
def test_personal_details_are_refused_with_what_was_found(text, what):
    with pytest.raises(PersonalDataError) as caught:
        check_personal_data({"text": text})
    assert f"contains {what}" in str(caught.value)
    assert "aggregate learning" in str(caught.value)


def test_the_field_is_named_when_it_is_not_the_text():
    with pytest.raises(PersonalDataError, match="the source contains an e-mail address"):
        check_personal_data({"text": "fine", "source": "a@b.org"})


@pytest.mark.parametrize("text", [
    "Mrs Smith said the bus is late", "Dr. Patel runs the clinic", "my name is Joan"])
def test_likely_names_are_warned_about_not_refused(text):
    warnings = check_personal_data({"text": text})
    assert warnings and not warnings[0].refuse
    assert "may name a person" in warnings[0].describe()


@pytest.mark.parametrize("text", [
    "E01000001 and E54000057 differ by 12.5 per 1,000",
    "Budget £1,234,567,890 for 2024-25; meeting on 2024-03-12",
    "The M6 corridor, the SW1A district and postcode sector M1 1",
    "Survey of 1,200 residents, 2023 to 2024; 47% said access was poor",
    "<b>bold</b> and **markdown** are text",
])
def test_aggregate_text_passes(text):
    assert screen_text(text) == []

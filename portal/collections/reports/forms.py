"""The overdue report's filter form (a GET form: no CSRF), parsed into ``OverdueFilters``.

A value that is not valid is left out of the filters, marked with a message next to its field,
and kept in the form as typed; the other filters still apply.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectChoice, SelectField, StringField

from portal.collections.labels import bucket_label, stage_label
from portal.collections.reports.overdue import SORTS, OverdueFilters
from portal.converters import id_or_none
from portal.forms import MAX_WHOLE_NUMBER, strip
from portal.money import InvalidAmount, parse_amount

MAX_DPD_DIGITS = 6
MAX_AMOUNT_MINOR = 10**15  # far above any loan; keeps the bound inside BIGINT everywhere
UNASSIGNED = "none"


class OverdueFilterForm(Form):
    """Fields keep exactly what was typed; ``parse()`` turns them into filters and messages."""

    bucket = SelectField(_l("Bucket"), validate_choice=False, default="")
    min_dpd = StringField(_l("Days past due from"), filters=[strip])
    max_dpd = StringField(_l("Days past due to"), filters=[strip])
    stage = SelectField(_l("Stage"), validate_choice=False, default="")
    collector = SelectField(_l("Collector"), validate_choice=False, default="")
    currency = SelectField(_l("Currency"), validate_choice=False, default="")
    min_amount = StringField(_l("Overdue from"), filters=[strip])
    max_amount = StringField(_l("Overdue to"), filters=[strip])
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("dpd", _l("Days past due")),
            SelectChoice("amount", _l("Amount overdue")),
        ],
        validate_choice=False,
        default="dpd",
    )
    order = SelectField(
        _l("Order"),
        choices=[
            SelectChoice("desc", _l("Largest first")),
            SelectChoice("asc", _l("Smallest first")),
        ],
        validate_choice=False,
        default="desc",
    )
    page = StringField(filters=[strip], default="1")

    def __init__(
        self,
        formdata,
        *,
        buckets: list[str],
        collectors: list[tuple[int, str]],
        currencies: list[str],
        default_currency: str,
    ):
        super().__init__(formdata)
        self.default_currency = default_currency
        self.bucket.choices = [
            SelectChoice("", _l("Any bucket")),
            *(SelectChoice(b, bucket_label(b)) for b in buckets),
        ]
        self.stage.choices = [
            SelectChoice("", _l("Any stage")),
            *[SelectChoice(str(n), stage_label(n)) for n in (1, 2, 3, 4)],
        ]
        self.collector.choices = [
            SelectChoice("", _l("Anyone")),
            SelectChoice(UNASSIGNED, _l("Not assigned")),
            *[SelectChoice(str(user_id), name) for user_id, name in collectors],
        ]
        self.currency.choices = [
            SelectChoice("", _l("Any currency")),
            *map(SelectChoice, sorted({*currencies, default_currency})),
        ]
        for field in self:
            field.errors = []

    def _choice(self, field) -> str | None:
        """The chosen value if it is one of the field's choices; a message otherwise."""
        value = field.data or ""
        if value == "":
            return None
        if value not in {choice.value for choice in field.choices}:
            field.errors = [_l("That choice is not available; it was ignored.")]
            return None
        return value

    def _whole(self, field) -> int | None:
        value = field.data or ""
        if value == "":
            return None
        if not (value.isascii() and value.isdigit()) or len(value) > MAX_DPD_DIGITS:
            field.errors = [_l("Enter a whole number of days, such as 30.")]
            return None
        return int(value)

    def _amount(self, field, currency: str) -> int | None:
        value = field.data or ""
        if value == "":
            return None
        try:
            amount = parse_amount(value, currency)
        except InvalidAmount:
            field.errors = [
                _l("Enter an amount in %(currency)s, such as 1000.50.", currency=currency)
            ]
            return None
        if amount < 0:
            field.errors = [_l("Enter an amount of 0 or more.")]
            return None
        if amount > MAX_AMOUNT_MINOR:
            field.errors = [_l("That amount is too large.")]
            return None
        return amount

    def parse(self) -> tuple[OverdueFilters, int]:
        """The filters and page number; fields that were not valid carry an error."""
        min_dpd, max_dpd = self._whole(self.min_dpd), self._whole(self.max_dpd)
        if min_dpd is not None and max_dpd is not None and min_dpd > max_dpd:
            self.max_dpd.errors = [_l("“To” must not be less than “from”; it was ignored.")]
            max_dpd = None
        currency = self._choice(self.currency)
        # Amounts are read in the chosen currency, and then only cases of that currency match.
        amount_currency = currency or self.default_currency
        min_amount = self._amount(self.min_amount, amount_currency)
        max_amount = self._amount(self.max_amount, amount_currency)
        if min_amount is not None and max_amount is not None and min_amount > max_amount:
            self.max_amount.errors = [_l("“To” must not be less than “from”; it was ignored.")]
            max_amount = None
        if currency is None and (min_amount is not None or max_amount is not None):
            currency = amount_currency
        collector = self._choice(self.collector)
        stage = self._choice(self.stage)
        sort = self.sort.data if self.sort.data in SORTS else "dpd"
        page_text = self.page.data or "1"
        page = min(id_or_none(page_text) or 1, MAX_WHOLE_NUMBER)
        filters = OverdueFilters(
            bucket=self._choice(self.bucket),
            min_dpd=min_dpd,
            max_dpd=max_dpd,
            stage=int(stage) if stage else None,
            collector_id=int(collector) if collector and collector != UNASSIGNED else None,
            unassigned=collector == UNASSIGNED,
            currency=currency,
            min_amount=min_amount,
            max_amount=max_amount,
            sort=sort,
            descending=self.order.data != "asc",
        )
        return filters, max(page, 1)

    @property
    def invalid_fields(self) -> list:
        return [field for field in self if field.errors]

    def query(self) -> dict[str, str]:
        """The valid, non-empty parameters, to carry into page links and the CSV link."""
        return {
            field.name: field.data
            for field in self
            if field.name != "page"
            and field.data
            and field.data != field.default
            and not field.errors
        }

"""The returns dashboard: a few grouped queries, charts drawn as inline SVG.

What counts as a *return* here: an RMA that was not rejected, cancelled or expired, and its
*returned units* are the received quantity once the parcel arrived, else the requested one.
Returns per day, reasons and items follow the RMA's creation date; the return rate of a
department compares the units sold on orders placed in the period with the returned
units of those same orders (a cohort, so the rate cannot exceed 100 %); the same cohort
gives the rates by item and by reason.

Money follows the RMAs *resolved* in the period, per currency (stores may sell in several):
refunds, store credit and exchanges (the value paid for the exchanged units, less any
difference refunded). Retained revenue is exchange + store credit, its share is of the whole
resolved value. The time to refund runs from the request to the refund: the provider's
success when a refund went through the payment provider, else the resolution that recorded
it. Label spend is the carriers' rate of the labels issued in the period (0 when the
service reports none), less labels the carrier refunded.

Every figure keeps to the stores the user may see (`scoping.stores_for`), and the page
makes the same number of queries whatever the data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from labels.models import RefundStatus as LabelRefundStatus
from labels.models import ReturnLabel
from payments.models import RefundStatus
from payments.money import format_money
from rma.models import OrderLine, OrderStatus, Resolution, Rma, RmaLine, RmaStatus, Store
from rma.policy import StorePolicy
from rma.selectors import RELEASED_STATUSES

from .scoping import store_ids_for, stores_for

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10


class DashboardForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.all(), required=False, empty_label=_("All stores")
    )

    def __init__(self, *args, today: dt.date, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Only the user's stores: another store's id is "not one of the choices".
        self.fields["store"].queryset = stores_for(user)

    def clean(self):
        cleaned = super().clean()
        date_to = cleaned.get("date_to") or self.today
        date_from = cleaned.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most a year."))
        cleaned.update(date_from=date_from, date_to=date_to)
        return cleaned


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date
    zone: dt.tzinfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.zone)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: midnight after the last day."""
        return dt.datetime.combine(
            self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone
        )

    def days(self) -> list[dt.date]:
        count = (self.date_to - self.date_from).days + 1
        return [self.date_from + dt.timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class Rate:
    """Returned units per unit sold, for one department, item or reason of the cohort."""

    key: str
    sold_units: int
    returned_units: int
    title: str = ""

    @property
    def rate_percent(self) -> Decimal:
        return percent(self.returned_units, self.sold_units)

    @property
    def department(self) -> str:  # the department table's name for the key
        return self.key


# The department table was the first rate; its name stays.
DepartmentRate = Rate


def percent(part, whole) -> Decimal:
    if not whole:
        return Decimal("0.0")
    rate = Decimal(part) * 100 / Decimal(whole)
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


CENTS = Decimal("0.01")


@dataclass(frozen=True)
class OutcomeRow:
    outcome: str
    units: int
    value: Decimal

    @property
    def label(self) -> str:
        return Resolution(self.outcome).label if self.outcome in Resolution.values else self.outcome


@dataclass(frozen=True)
class Money:
    """The resolved value of one currency, split by outcome."""

    currency: str
    refunded: Decimal
    store_credit: Decimal
    exchanged: Decimal
    outcomes: list[OutcomeRow]

    @property
    def resolved_value(self) -> Decimal:
        return self.refunded + self.store_credit + self.exchanged

    @property
    def retained(self) -> Decimal:
        return self.store_credit + self.exchanged

    @property
    def retained_percent(self) -> Decimal:
        return percent(self.retained, self.resolved_value)


@dataclass(frozen=True)
class Durations:
    """Request to refund, in hours: how many refunds, the median and the 90th percentile."""

    count: int
    median_hours: Decimal | None
    p90_hours: Decimal | None


@dataclass(frozen=True)
class DashboardData:
    returns_per_day: list[tuple[dt.date, int]]
    top_reasons: list[dict]
    top_items: list[dict]
    departments: list[Rate]
    item_rates: list[Rate] = field(default_factory=list)
    reason_rates: list[Rate] = field(default_factory=list)
    money: list[Money] = field(default_factory=list)
    time_to_refund: Durations = Durations(0, None, None)
    # (currency, amount, labels) per currency of the carriers' rates.
    label_spend: list[tuple[str, Decimal, int]] = field(default_factory=list)

    @property
    def total_returns(self) -> int:
        return sum(count for _, count in self.returns_per_day)

    @property
    def sold_units(self) -> int:
        return sum(rate.sold_units for rate in self.departments)


def returned_units():
    return Sum(Coalesce("received_quantity", "quantity"))


def _in_stores(path: str, store_ids) -> dict:
    """Filter keyword for `store_ids` (None: every store)."""
    return {} if store_ids is None else {f"{path}__in": sorted(store_ids)}


def dashboard_data(*, period: Period, store_ids=None) -> DashboardData:
    """Every figure of the dashboard in a fixed number of grouped queries.

    `store_ids`: the stores to count (None: every store).
    """
    rmas = Rma.objects.filter(
        created_at__gte=period.start,
        created_at__lt=period.end,
        **_in_stores("store", store_ids),
    ).exclude(status__in=RELEASED_STATUSES)
    per_day = dict(
        rmas.annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .order_by()
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    lines = RmaLine.objects.filter(
        rma__created_at__gte=period.start,
        rma__created_at__lt=period.end,
        **_in_stores("rma__store", store_ids),
    ).exclude(rma__status__in=RELEASED_STATUSES)
    top_reasons = list(
        lines.values("reason_code")
        .annotate(units=returned_units(), returns=Count("rma", distinct=True))
        .order_by("-units", "reason_code")[:TOP]
    )
    top_items = list(
        lines.values("order_line__item_id")
        .annotate(units=returned_units(), title=Max("order_line__title"))
        .order_by("-units", "order_line__item_id")[:TOP]
    )
    departments, item_rates, reason_rates = _cohort_rates(period=period, store_ids=store_ids)
    return DashboardData(
        returns_per_day=[(day, per_day.get(day, 0)) for day in period.days()],
        top_reasons=top_reasons,
        top_items=top_items,
        departments=departments,
        item_rates=item_rates,
        reason_rates=reason_rates,
        money=_money(period=period, store_ids=store_ids),
        time_to_refund=_time_to_refund(period=period, store_ids=store_ids),
        label_spend=_label_spend(period=period, store_ids=store_ids),
    )


def _cohort_rates(*, period: Period, store_ids) -> tuple[list[Rate], list[Rate], list[Rate]]:
    """Return rates of the orders placed in the period: by department, item and reason."""
    placed = {
        "order__placed_at__gte": period.start,
        "order__placed_at__lt": period.end,
        **_in_stores("order__store", store_ids),
    }
    sold_rows = list(
        OrderLine.objects.filter(**placed)
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by()
        .values("department", "item_id")
        .annotate(units=Sum("quantity"), title=Max("title"))
        .values_list("department", "item_id", "units", "title")
    )
    returned_rows = list(
        RmaLine.objects.filter(**{f"order_line__{key}": value for key, value in placed.items()})
        .exclude(rma__status__in=RELEASED_STATUSES)
        .exclude(order_line__order__status=OrderStatus.CANCELLED)
        .order_by()
        .values("order_line__department", "order_line__item_id", "reason_code")
        .annotate(units=returned_units())
        .values_list("order_line__department", "order_line__item_id", "reason_code", "units")
    )
    sold_by_department: dict[str, int] = defaultdict(int)
    sold_by_item: dict[str, int] = defaultdict(int)
    titles: dict[str, str] = {}
    for department, item_id, units, title in sold_rows:
        sold_by_department[department] += units
        sold_by_item[item_id] += units
        titles.setdefault(item_id, title or "")
    returned_by_department: dict[str, int] = defaultdict(int)
    returned_by_item: dict[str, int] = defaultdict(int)
    returned_by_reason: dict[str, int] = defaultdict(int)
    for department, item_id, reason_code, units in returned_rows:
        returned_by_department[department] += units or 0
        returned_by_item[item_id] += units or 0
        returned_by_reason[reason_code] += units or 0
    sold_total = sum(sold_by_department.values())

    def ranked(rates: list[Rate], limit: int | None = None) -> list[Rate]:
        rates.sort(key=lambda rate: (-rate.rate_percent, -rate.returned_units, rate.key))
        return rates[:limit] if limit else rates

    departments = ranked(
        [
            Rate(key, sold, returned_by_department.get(key, 0))
            for key, sold in sold_by_department.items()
        ]
    )
    items = ranked(
        [
            Rate(key, sold_by_item[key], returned, titles.get(key, ""))
            for key, returned in returned_by_item.items()
        ],
        TOP,
    )
    reasons = ranked(
        [Rate(key, sold_total, returned) for key, returned in returned_by_reason.items()], TOP
    )
    return departments, items, reasons


def _line_paid_value():
    """What the shopper paid for a line's returned units (price, less discount, plus tax)."""
    units = Coalesce("received_quantity", "quantity")
    return ExpressionWrapper(
        F("order_line__unit_price") * units
        + (F("order_line__tax") - F("order_line__discount")) * units / F("order_line__quantity"),
        output_field=DecimalField(max_digits=16, decimal_places=4),
    )


def _money(*, period: Period, store_ids) -> list[Money]:
    rows = (
        RmaLine.objects.filter(
            rma__status=RmaStatus.RESOLVED,
            rma__resolved_at__gte=period.start,
            rma__resolved_at__lt=period.end,
            **_in_stores("rma__store", store_ids),
        )
        .exclude(outcome="")
        .order_by()
        .values("rma__store__currency", "outcome")
        .annotate(
            units=Coalesce(Sum(Coalesce("received_quantity", "quantity")), 0),
            refunded=Sum("refund_amount"),
            credit=Sum("store_credit_amount"),
            paid=Sum(_line_paid_value()),
        )
    )
    by_currency: dict[str, dict] = {}
    for row in rows:
        money = by_currency.setdefault(
            row["rma__store__currency"],
            {"refunded": Decimal(0), "credit": Decimal(0), "exchanged": Decimal(0), "rows": []},
        )
        refunded = Decimal(row["refunded"] or 0)
        credit = Decimal(row["credit"] or 0)
        if row["outcome"] in (Resolution.EXCHANGE, Resolution.REPLACEMENT):
            # The goods kept by the shopper in exchange; a cheaper variant's difference was
            # refunded and counts as refunded.
            exchanged = max(Decimal(row["paid"] or 0) - refunded, Decimal(0)).quantize(CENTS)
            value = exchanged
        else:
            exchanged = Decimal(0)
            value = refunded + credit
        money["refunded"] += refunded
        money["credit"] += credit
        money["exchanged"] += exchanged
        money["rows"].append(OutcomeRow(row["outcome"], row["units"], value))
    return [
        Money(
            currency=currency,
            refunded=values["refunded"],
            store_credit=values["credit"],
            exchanged=values["exchanged"],
            outcomes=sorted(values["rows"], key=lambda row: (-row.value, row.outcome)),
        )
        for currency, values in sorted(by_currency.items())
    ]


def _time_to_refund(*, period: Period, store_ids) -> Durations:
    """Request to refund for the RMAs resolved in the period with money refunded."""
    refunded = (
        Rma.objects.filter(
            status=RmaStatus.RESOLVED,
            resolved_at__gte=period.start,
            resolved_at__lt=period.end,
            **_in_stores("store", store_ids),
        )
        .filter(pk__in=RmaLine.objects.filter(refund_amount__gt=0).values("rma_id"))
        # A refund still pending or failed at the provider has not reached the shopper.
        .exclude(refund__status__in=[RefundStatus.PENDING, RefundStatus.FAILED])
        .order_by()
        .values_list("created_at", "resolved_at", "refund__succeeded_at")
    )
    hours = sorted(
        Decimal(str(((succeeded or resolved) - created).total_seconds())) / 3600
        for created, resolved, succeeded in refunded.iterator()
    )
    if not hours:
        return Durations(0, None, None)
    one = Decimal("0.1")
    return Durations(
        len(hours),
        percentile(hours, 50).quantize(one, rounding=ROUND_HALF_UP),
        percentile(hours, 90).quantize(one, rounding=ROUND_HALF_UP),
    )


def percentile(values: list[Decimal], p: int) -> Decimal:
    """The p-th percentile of sorted `values`, interpolated between ranks (as numpy does)."""
    position = Decimal(len(values) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _label_spend(*, period: Period, store_ids) -> list[tuple[str, Decimal, int]]:
    rows = (
        ReturnLabel.objects.filter(
            issued_at__gte=period.start,
            issued_at__lt=period.end,
            **_in_stores("rma__store", store_ids),
        )
        .exclude(refund_status=LabelRefundStatus.REFUNDED)
        .order_by()
        .values("rate_currency", "rma__store__currency")
        .annotate(amount=Coalesce(Sum("rate"), Decimal(0)), labels=Count("pk"))
    )
    spend: dict[str, list] = {}
    for row in rows:
        # A label without a currency is priced (if at all) in the store's.
        currency = row["rate_currency"] or row["rma__store__currency"]
        total = spend.setdefault(currency, [Decimal(0), 0])
        total[0] += Decimal(row["amount"])
        total[1] += row["labels"]
    return [(currency, amount, count) for currency, (amount, count) in sorted(spend.items())]


# Charts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float
    # What the bar stands for when the label is words (a reason code); else the label.
    key: str = ""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    # Labels of the horizontal axis (column charts): (x, text).
    ticks: list[tuple[float, str]]
    label_width: int = 0
    # The largest value: the top of a column chart's scale.
    top: float = 0
    baseline: float = 0


def horizontal_bar_chart(rows, *, width=560, label_width=180, bar_height=20, gap=8) -> Chart:
    """rows: (label, value, text shown after the bar), or (key, label, value, text) when the
    label is words for a code (the key is kept for the page's data attributes); bar lengths
    scale to the largest value. Every bar prints its label and value: no colour needed."""
    rows = [row if len(row) == 4 else (row[0], *row) for row in rows]
    top = max((float(row[2]) for row in rows), default=0) or 1
    plot_width = width - label_width - 60
    bars = [
        Bar(
            key=str(key),
            label=str(label),
            value=float(value),
            text=str(text),
            x=label_width,
            y=index * (bar_height + gap),
            width=round(plot_width * max(float(value), 0) / top, 1),
            height=bar_height,
        )
        for index, (key, label, value, text) in enumerate(rows)
    ]
    return Chart(
        width=width,
        height=max(len(rows) * (bar_height + gap), bar_height),
        bars=bars,
        ticks=[],
        label_width=label_width,
    )


def column_chart(points, *, width=720, height=200, axis=24) -> Chart:
    """points: (date, count) per day; about eight date labels along the bottom."""
    points = list(points)
    top = max((count for _, count in points), default=0) or 1
    slot = width / max(len(points), 1)
    plot_height = height - axis
    bars, ticks = [], []
    every = max(len(points) // 8, 1)
    for index, (day, count) in enumerate(points):
        bar_height = round(plot_height * count / top, 1)
        x = round(index * slot, 1)
        bars.append(
            Bar(
                key=day.isoformat(),
                label=day.isoformat(),
                value=count,
                text=str(count),
                x=x + 1,
                y=round(plot_height - bar_height, 1),
                width=round(max(slot - 2, 1), 1),
                height=bar_height,
            )
        )
        if index % every == 0:
            ticks.append((x, day.strftime("%b %d")))
    return Chart(width=width, height=height, bars=bars, ticks=ticks, top=top, baseline=plot_height)


def dashboard_filters(request) -> tuple[DashboardForm, Period, Store | None, frozenset | None]:
    """The dashboard's (and its CSV export's) form, period, chosen store and store ids.

    Empty fields take the defaults (the last 30 days, every store of the user) in clean();
    an invalid form shows its errors over the default figures.
    """
    today = timezone.localdate()
    user = request.user
    form = DashboardForm(request.GET, today=today, user=user)
    if form.is_valid():
        cleaned = form.cleaned_data
        shown = DashboardForm(initial=cleaned, today=today, user=user)
    else:
        defaults = DashboardForm({}, today=today, user=user)
        defaults.is_valid()
        cleaned, shown = defaults.cleaned_data, form
    store = cleaned.get("store")
    zone = ZoneInfo(store.timezone) if store else timezone.get_current_timezone()
    period = Period(cleaned["date_from"], cleaned["date_to"], zone)
    scope = store_ids_for(user)
    store_ids = frozenset({store.pk}) if store else scope
    return shown, period, store, store_ids


def reason_words(store_ids, *, language: str = "") -> dict[str, str]:
    """Each configured reason code of the stores in words (one query for the stores).

    A code several stores configure takes the words of a store in the agent's `language`
    first, then of a store with no language of its own, then of the others (by code): a
    German store's "Zu klein" does not label an English agent's chart.
    """
    stores = Store.objects.order_by("code")
    if store_ids is not None:
        stores = stores.filter(pk__in=sorted(store_ids))
    wanted = language.split("-")[0].lower()

    def preference(store: Store) -> int:
        store_language = store.language.split("-")[0].lower()
        return 0 if store_language == wanted else 1 if not store_language else 2

    words: dict[str, str] = {}
    for store in sorted(stores, key=preference):  # stable: by code within each rank
        for reason in StorePolicy.of(store).reasons:
            words.setdefault(reason.code, reason.description)
    return words


def dashboard_view(model_admin):
    def view(request):
        if not request.user.has_perm("rma.view_dashboard"):
            raise PermissionDenied
        form, period, store, store_ids = dashboard_filters(request)
        data = dashboard_data(period=period, store_ids=store_ids)
        words = reason_words(store_ids, language=get_language() or "")

        def reason(code: str) -> str:
            return words.get(code, code)

        locale = to_locale(get_language() or "en")  # amounts in the agent's language

        for row in data.top_reasons:
            row["reason"] = reason(row["reason_code"])
        data.reason_rates[:] = [replace(rate, title=reason(rate.key)) for rate in data.reason_rates]

        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": _("Returns dashboard"),
            "form": form,
            "period": period,
            "store": store,
            "data": data,
            "export_query": request.GET.urlencode(),
            "per_day_chart": column_chart(data.returns_per_day),
            "reasons_chart": horizontal_bar_chart(
                (row["reason_code"], reason(row["reason_code"]), row["units"], row["units"])
                for row in data.top_reasons
            ),
            "items_chart": horizontal_bar_chart(
                (row["order_line__item_id"], row["units"], row["units"]) for row in data.top_items
            ),
            "departments_chart": horizontal_bar_chart(
                (
                    rate.department or _("(no department)"),
                    rate.rate_percent,
                    f"{rate.rate_percent} %",
                )
                for rate in data.departments
            ),
            "item_rates_chart": horizontal_bar_chart(
                (rate.key, rate.rate_percent, f"{rate.rate_percent} %") for rate in data.item_rates
            ),
            "reason_rates_chart": horizontal_bar_chart(
                (rate.key, reason(rate.key), rate.rate_percent, f"{rate.rate_percent} %")
                for rate in data.reason_rates
            ),
            "money_charts": [
                (
                    money,
                    horizontal_bar_chart(
                        (
                            row.outcome,
                            row.label,
                            row.value,
                            f"{format_money(row.value, money.currency, locale)} ({row.units})",
                        )
                        for row in money.outcomes
                    ),
                )
                for money in data.money
            ],
        }
        return TemplateResponse(request, "admin/rma/dashboard.html", context)

    return view
